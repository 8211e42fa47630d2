package callout

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

// readInput reads a testdata input: a header block (method, content-type, query),
// a blank line, then the body verbatim.
func readInput(t testing.TB, path string) Request {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	req, err := parseInput(raw)
	require.NoError(t, err, path)
	return req
}

func parseInput(raw []byte) (Request, error) {
	head, body, ok := bytes.Cut(raw, []byte("\n\n"))
	if !ok {
		head, body = raw, nil
	}
	req := Request{Body: body}
	for _, line := range strings.Split(string(head), "\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "method":
			req.Method = v
		case "content-type":
			req.ContentType = v
		case "query":
			q, err := url.ParseQuery(v)
			if err != nil {
				return req, err
			}
			req.Query = q
		}
	}
	return req, nil
}

func parseResult(ref Reference, err error) []byte {
	var out []byte
	if err != nil {
		out, _ = json.MarshalIndent(map[string]string{"error": err.Error()}, "", "  ")
	} else {
		out, _ = json.MarshalIndent(ref, "", "  ")
	}
	return append(out, '\n')
}

func compareGolden(t *testing.T, goldenPath string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(goldenPath, got, 0o644))
		return
	}
	want, err := os.ReadFile(goldenPath)
	require.NoError(t, err, "missing golden file; run go test -update")
	require.Equal(t, string(want), string(got))
}

func TestParseGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/parse/*.txt")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(inputs), 15)
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".txt")
		t.Run(name, func(t *testing.T) {
			ref, err := Parse(readInput(t, in))
			compareGolden(t, strings.TrimSuffix(in, ".txt")+".golden", parseResult(ref, err))
		})
	}
}

// TestRedactGolden redacts each testdata/redact/*.txt input (same header format; only
// content-type is used) into a .golden file holding the redacted body.
func TestRedactGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/redact/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, inputs)
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".txt")
		t.Run(name, func(t *testing.T) {
			req := readInput(t, in)
			got := Redact(req.ContentType, req.Body)
			compareGolden(t, strings.TrimSuffix(in, ".txt")+".golden", got)
			// Redacting is idempotent, and never leaks the test secrets.
			require.Equal(t, string(got), string(Redact(req.ContentType, got)))
			for _, secret := range []string{"hunter2", "s3cr3t", "tok-123", "abcdef0123"} {
				require.NotContains(t, string(got), secret)
			}
		})
	}
}
