package e2e

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// buildBinary compiles cmd/ticketpager once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ticketpager")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/ticketpager").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// TestBinaryServe runs `ticketpager serve` as a user would on a fresh machine:
// the first start creates the SQLite file, a secret key and an admin token
// printed once; the API answers with that token; SIGTERM stops it cleanly.
func TestBinaryServe(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "TICKETPAGER_DATA_DIR="+dir, "TICKETPAGER_LISTEN="+addr)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill()

	tokenRe := regexp.MustCompile(`tp_[A-Za-z0-9_-]{43}`)
	tokens := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := tokenRe.FindString(sc.Text()); m != "" {
				tokens <- m
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var token string
	select {
	case token = <-tokens:
	case <-time.After(30 * time.Second):
		t.Fatalf("no admin token printed; stderr: %s", stderr.String())
	}
	base := "http://" + addr
	waitUp(t, base+"/readyz")

	req, _ := http.NewRequest("GET", base+"/api/v1/users", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)

	key, err := os.Stat(filepath.Join(dir, "secret.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), key.Mode().Perm())
	_, err = os.Stat(filepath.Join(dir, "ticketpager.db"))
	require.NoError(t, err)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "stderr: %s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	require.NotContains(t, stderr.String(), token, "the token is printed once on stdout, never logged")

	// A second start on the same data folder prints no new token; the old one still works.
	run := func(args ...string) string {
		c := exec.Command(bin, args...)
		c.Env = append(os.Environ(), "TICKETPAGER_DATA_DIR="+dir, "TICKETPAGER_LISTEN="+addr)
		out, err := c.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	require.Contains(t, run("migrate"), "up to date")
	newToken := strings.TrimSpace(run("token", "create", "--name", "script"))
	require.Regexp(t, tokenRe, newToken)
	require.Contains(t, run("source", "list"), "WEBHOOK URL")
}

func waitUp(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never answered 200", url)
}

// TestBinaryDemo runs `ticketpager demo`, the newcomer's first command.
func TestBinaryDemo(t *testing.T) {
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "demo").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, want := range []string{`"action":"CREATED"`, `"action":"UNCHANGED"`, `"action":"ACCEPTED"`, `"action":"RESOLVED"`,
		"TICKET_STATUS_NOT_ALERTABLE", "RESOLVED HIGH T2026", "Autotask API requests made"} {
		require.Contains(t, string(out), want)
	}
}
