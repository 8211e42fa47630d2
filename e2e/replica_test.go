package e2e

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/ticketpager/ticketpager/internal/autotask/autotasktest"
	"github.com/ticketpager/ticketpager/internal/harness"
	"github.com/ticketpager/ticketpager/internal/store/storetest"
)

// replica is one `ticketpager serve` process.
type replica struct {
	cmd    *exec.Cmd
	base   string
	stderr *bytes.Buffer
}

func startReplica(t *testing.T, bin string, env []string) *replica {
	t.Helper()
	addr := freeAddr(t)
	r := &replica{cmd: exec.Command(bin, "serve"), base: "http://" + addr, stderr: &bytes.Buffer{}}
	r.cmd.Env = append(append(os.Environ(), env...), "TICKETPAGER_LISTEN="+addr, "TICKETPAGER_DATA_DIR="+t.TempDir())
	r.cmd.Stderr = r.stderr
	require.NoError(t, r.cmd.Start())
	t.Cleanup(func() { _ = r.cmd.Process.Kill(); _ = r.cmd.Wait() })
	return r
}

// TestReplicas races callouts at two replicas of the real binary on one
// PostgreSQL database, then kills one with SIGKILL in the middle of a burst:
// one incident per ticket, one page per incident, and every callout ends.
func TestReplicas(t *testing.T) {
	if !slices.Contains(storetest.Backends(t), "postgres") {
		t.Skip("needs PostgreSQL: set " + storetest.EnvPostgres + " (CI does)")
	}
	bin := buildBinary(t)
	dbURL := storetest.URL(t, "postgres")
	fake := autotasktest.NewServer()
	defer fake.Close()
	fake.AddCredentials(harness.Username, harness.Secret, harness.IntegrationCode)
	fake.AddCompany(harness.CompanyID, "Contoso Ltd")
	fake.SetLatency(2 * time.Millisecond)
	token := "tp_replica-test-admin-token-0123456789"
	env := []string{"TICKETPAGER_DATABASE_URL=" + dbURL, "TICKETPAGER_ADMIN_TOKEN=" + token,
		"TICKETPAGER_SECRET_KEY=replicas share this secret key, 32+ chars", "TICKETPAGER_CALLOUT_RESCUE_AFTER=3s", "TICKETPAGER_CALLOUT_WAIT=2s"}
	a, b := startReplica(t, bin, env), startReplica(t, bin, env) // migrate at the same time
	waitUp(t, a.base+"/readyz")
	waitUp(t, b.base+"/readyz")

	api := func(method, path string, in, out any, want int) {
		t.Helper()
		body, _ := json.Marshal(in)
		req, _ := http.NewRequest(method, a.base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, want, resp.StatusCode)
		if out != nil {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
		}
	}
	var user, policy, src struct {
		ID         int64
		WebhookURL string
	}
	api("POST", "/api/v1/users", map[string]any{"name": "Ada", "email": "ada@example.com", "webhookUrl": "http://127.0.0.1:1/unreachable"}, &user, 201)
	api("POST", "/api/v1/escalation-policies", map[string]any{"name": "P", "repeatCount": 0,
		"rules": []any{map[string]any{"escalationTimeoutMinutes": 30, "userIds": []int64{user.ID}}}}, &policy, 201)
	api("POST", "/api/v1/alert-sources", map[string]any{"name": "Autotask", "integrationType": "AUTOTASK", "escalationPolicyId": policy.ID,
		"autotask": map[string]any{"username": harness.Username, "secret": harness.Secret, "integrationCode": harness.IntegrationCode,
			"webServer": fake.URL()}}, &src, 201)
	path := src.WebhookURL[strings.Index(src.WebhookURL, "/api/"):]

	db, err := sql.Open("pgx", dbURL)
	require.NoError(t, err)
	defer db.Close()
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		require.NoError(t, db.QueryRow(q, args...).Scan(&n))
		return n
	}

	// burst sends 10 callouts for each of 20 new tickets, alternating replicas,
	// all at once; kill (if set) is called after half of them have started.
	burst := func(kill func()) (codes map[int]int) {
		var tickets []int64
		for i := range 20 {
			tk := fake.AddTicket(autotasktest.Ticket{Title: fmt.Sprint("Burst ticket ", i), Status: fake.StatusValue("New"),
				Priority: fake.PriorityValue("High"), CompanyID: harness.CompanyID})
			tickets = append(tickets, tk.ID)
		}
		codes = map[int]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		gate := make(chan struct{})
		var started sync.WaitGroup
		started.Add(100)
		for k := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				base := a.base
				if k%2 == 1 {
					base = b.base
				}
				if k < 100 {
					defer started.Done()
				} else {
					started.Wait()
				}
				resp, err := http.PostForm(base+path, url.Values{"TicketID": {fmt.Sprint(tickets[k%20])}})
				code := 0 // the connection failed: Autotask would retry such a callout
				if err == nil {
					code = resp.StatusCode
					resp.Body.Close()
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}()
		}
		close(gate)
		if kill != nil {
			started.Wait()
			kill()
		}
		wg.Wait()
		return codes
	}

	// Autotask's limit of 3 requests in flight per tracking identifier is
	// shared by the replicas, so some callouts of a burst meet a 429 and are
	// answered 202 QUEUED; the retry job takes them to their end.
	finished := func() {
		t.Helper()
		require.Eventually(t, func() bool {
			return count(`SELECT COUNT(*) FROM callouts WHERE action IS NULL OR action = 'QUEUED'`) == 0
		}, 60*time.Second, 200*time.Millisecond, "every journaled callout reaches an end")
	}
	codes := burst(nil)
	require.Equal(t, 200, codes[200]+codes[201]+codes[202], "answers: %v", codes)
	require.LessOrEqual(t, codes[201], 20)
	finished()
	require.Equal(t, 20, count(`SELECT COUNT(*) FROM callouts WHERE action = 'CREATED'`))
	require.Equal(t, 20, count(`SELECT COUNT(*) FROM incidents`))
	require.Equal(t, 0, count(`SELECT COUNT(*) FROM (SELECT ticket_id FROM incidents GROUP BY ticket_id HAVING COUNT(*) > 1) d`))
	require.Equal(t, 200, count(`SELECT COUNT(*) FROM callouts WHERE action IN ('CREATED', 'UNCHANGED')`))
	require.Equal(t, 20, count(`SELECT COUNT(*) FROM notifications`), "step 0 ran once per incident: one page each")
	require.Equal(t, 20, count(`SELECT COUNT(*) FROM incident_log WHERE kind = 'ESCALATED'`))

	// SIGKILL replica b in the middle of the next burst.
	codes = burst(func() { require.NoError(t, b.cmd.Process.Signal(syscall.SIGKILL)) })
	require.Equal(t, 200, codes[0]+codes[200]+codes[201]+codes[202], "answers: %v", codes)
	finished() // on the survivor: the sweep takes the callouts b journaled but never answered
	require.Equal(t, 40, count(`SELECT COUNT(*) FROM incidents`))
	require.Equal(t, 0, count(`SELECT COUNT(*) FROM (SELECT ticket_id FROM incidents GROUP BY ticket_id HAVING COUNT(*) > 1) d`))
	require.Equal(t, 0, count(`SELECT COUNT(*) FROM callouts WHERE action NOT IN ('CREATED', 'UNCHANGED')`))
	require.Equal(t, 40, count(`SELECT COUNT(*) FROM notifications`))

	// SIGTERM on the survivor finishes the callouts in flight before it exits.
	fake.SetLatency(300 * time.Millisecond)
	tk := fake.AddTicket(autotasktest.Ticket{Title: "In flight", Status: fake.StatusValue("New"), CompanyID: harness.CompanyID})
	answers := make(chan int, 5)
	for range 5 {
		go func() {
			resp, err := http.PostForm(a.base+path, url.Values{"TicketID": {fmt.Sprint(tk.ID)}})
			if err != nil {
				answers <- 0
				return
			}
			resp.Body.Close()
			answers <- resp.StatusCode
		}()
	}
	time.Sleep(100 * time.Millisecond) // the requests are in flight, waiting on Autotask
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
	got := map[int]int{}
	for range 5 {
		got[<-answers]++
	}
	require.Zero(t, got[0], "no request in flight was cut off: %v", got)
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "stderr: %s", a.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("replica did not stop on SIGTERM")
	}
}

// TestReadyzFollowsTheDatabase: /readyz fails while PostgreSQL refuses the
// service's connections and recovers, without a restart, once it takes them again.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	if !slices.Contains(storetest.Backends(t), "postgres") {
		t.Skip("needs PostgreSQL: set " + storetest.EnvPostgres + " (CI does)")
	}
	dbURL := storetest.URL(t, "postgres")
	h := start(t, harness.Options{DatabaseURL: dbURL})
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	name := strings.TrimPrefix(u.Path, "/")
	admin, err := sql.Open("pgx", os.Getenv(storetest.EnvPostgres))
	require.NoError(t, err)
	defer admin.Close()
	ready := func() int {
		resp, err := http.Get(h.URL + "/readyz")
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, 200, ready())
	_, err = admin.Exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS false`)
	require.NoError(t, err)
	_, err = admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return ready() == http.StatusServiceUnavailable }, 20*time.Second, 100*time.Millisecond)
	_, err = admin.Exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS true`)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return ready() == 200 }, 20*time.Second, 100*time.Millisecond)
	require.NoError(t, h.Do("GET", "/api/v1/incidents", nil, 200, nil), "the API works again too")
}

// TestEscalationStepOnceAcrossReplicas: two replicas on one PostgreSQL
// database both run job workers; when the timeout passes, rule 2 is paged
// exactly once.
func TestEscalationStepOnceAcrossReplicas(t *testing.T) {
	if !slices.Contains(storetest.Backends(t), "postgres") {
		t.Skip("needs PostgreSQL: set " + storetest.EnvPostgres + " (CI does)")
	}
	dbURL := storetest.URL(t, "postgres")
	clock := harness.NewClock(t0)
	mbox := newMailbox(t)
	key := "two replicas share this secret key, 32+ characters"
	p := startPaging(t, harness.Options{DatabaseURL: dbURL, SecretKey: key, Mailbox: mbox}, clock, 0, true)
	second := start(t, harness.Options{DatabaseURL: dbURL, SecretKey: key, Mailbox: mbox, Fake: p.Fake, Now: clock.Now})
	var incidents []int64
	for i := range 5 {
		id, _ := p.open(t, fmt.Sprint("Outage ", i))
		incidents = append(incidents, id)
	}
	p.mails(t, 1) // Ada: one page, the rest bundled behind her throttle
	// The clock jumps minutes at once: let the first delivery record itself
	// before, or its row would look abandoned (SENDING for over 5 minutes)
	// and be sent again, as after a crash.
	p.waitLog(t, incidents[0], "NOTIFIED")
	clock.Advance(5 * time.Minute)
	clock.Advance(2 * time.Minute) // past every throttle window: all bundles go out
	ctx := t.Context()
	require.Eventually(t, func() bool {
		clock.Advance(10 * time.Second) // let throttled bundles go out
		for _, id := range incidents {
			notes, err := second.App.Store.IncidentNotifications(ctx, id)
			require.NoError(t, err)
			if len(notes) < 2 { // rule 2's step has not run yet
				return false
			}
			for _, n := range notes {
				if n.Status != "SENT" {
					return false
				}
			}
		}
		return true
	}, 30*time.Second, 50*time.Millisecond, "every page sent")
	time.Sleep(300 * time.Millisecond) // a duplicate step or delivery would show up now
	for _, id := range incidents {
		var escalated int
		for _, e := range p.log(t, id) {
			if e.Kind == "ESCALATED" && strings.Contains(e.Text, "rule 2") {
				escalated++
			}
		}
		require.Equal(t, 1, escalated, "incident %d: rule 2 paged once", id)
		notes, err := second.App.Store.IncidentNotifications(ctx, id)
		require.NoError(t, err)
		require.Len(t, notes, 2, "incident %d: one page to Ada, one to Bob", id)
		require.Equal(t, []string{"incident.created", "incident.escalated"}, []string{notes[0].Event, notes[1].Event})
	}
	var items int
	for _, m := range p.mbox.Messages() {
		items += max(1, strings.Count(mailText(t, m), "/actions/")/4) // accept+resolve links, text and HTML parts
	}
	require.Equal(t, 10, items, "ten pages in all, none twice: %v", subjects(p.mbox.Messages()))
}
