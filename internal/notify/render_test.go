package notify

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var (
	t0 = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	// A non-UTC zone, to prove messages show UTC.
	berlin = time.FixedZone("CET", 3600)
)

func testIncident(id int64) Incident {
	return Incident{
		ID:              id,
		Status:          "PENDING",
		Priority:        "HIGH",
		Summary:         "Mail server down",
		Details:         "Exchange does not answer on port 25.\r\nCustomer: Contoso Ltd.\n\nCalled in by phone.",
		TicketNumber:    "T20261127.0001",
		TicketStatus:    "New",
		TicketLink:      "https://ww5.autotask.net/Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail&TicketID=100",
		AlertSourceName: "Autotask production",
		CreatedAt:       t0,
		URL:             "https://pager.example.com/api/v1/incidents/" + itoa(id),
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func links(id int64) (accept, resolve string) {
	base := "https://pager.example.com/l/"
	return base + "accept/tok-" + itoa(id) + "-a", base + "resolve/tok-" + itoa(id) + "-r"
}

func createdItem(id int64) Item {
	a, r := links(id)
	return Item{Event: EventCreated, At: t0.Add(5 * time.Second).In(berlin), Incident: testIncident(id), Rule: 1, AcceptURL: a, ResolveURL: r}
}

func escalatedItem(id int64, rule int) Item {
	it := createdItem(id)
	it.Event = EventEscalated
	it.Rule = rule
	it.At = t0.Add(5 * time.Minute)
	return it
}

func acceptedItem(id int64, actor string) Item {
	inc := testIncident(id)
	inc.Status = "ACCEPTED"
	inc.TicketStatus = "In Progress"
	return Item{Event: EventAccepted, At: t0.Add(7 * time.Minute), Incident: inc, Actor: actor}
}

func resolvedItem(id int64, actor string) Item {
	inc := testIncident(id)
	inc.Status = "RESOLVED"
	inc.TicketStatus = "Complete"
	return Item{Event: EventResolved, At: t0.Add(time.Hour), Incident: inc, Actor: actor}
}

var ada = Recipient{UserID: 1, Name: "Ada Lovelace", Email: "ada@example.com"}

func goldenCases() map[string]Message {
	low := createdItem(8)
	low.Incident.Priority = "LOW"
	low.Incident.Summary = "Printer on floor 2 out of toner"
	low.Incident.TicketNumber = "T20261127.0002"
	low.Incident.TicketLink = ""
	low.Incident.Details = ""

	xss := createdItem(9)
	xss.Incident.Summary = `<script>alert("x")</script> & "quotes" 'too'`
	xss.Incident.Details = "<img src=x onerror=alert(1)>\n</div></body>"
	xss.Incident.AlertSourceName = "<b>bold</b>"
	xss.AcceptURL = `javascript:alert(1)`
	xss.Incident.TicketLink = `https://ww5.autotask.net/x?a="><script>`

	bundleLow := createdItem(10)
	bundleLow.Incident.Priority = "LOW"

	return map[string]Message{
		"created":      {ID: "d-created", To: ada, Items: []Item{createdItem(7)}},
		"escalated":    {ID: "d-escalated", To: ada, Items: []Item{escalatedItem(7, 2)}},
		"accepted":     {ID: "d-accepted", To: ada, Items: []Item{acceptedItem(7, `API token "x"`)}},
		"resolved":     {ID: "d-resolved", To: ada, Items: []Item{resolvedItem(7, "Grace Hopper")}},
		"bundle":       {ID: "d-bundle", To: ada, Items: []Item{bundleLow, escalatedItem(7, 2), acceptedItem(11, "ticket status \"In Progress\"")}},
		"low":          {ID: "d-low", To: ada, Items: []Item{low}},
		"html_escaped": {ID: "d-xss", To: Recipient{Name: "Eve\r\nBcc: x@evil.example", Email: "eve@example.com"}, Items: []Item{xss}},
	}
}

func TestRenderGolden(t *testing.T) {
	for name, m := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			subject, text, html, err := Render(m)
			require.NoError(t, err)
			checkGolden(t, name+".txt.golden", "Subject: "+subject+"\n\n"+text)
			checkGolden(t, name+".html.golden", html)
		})
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run TestRenderGolden -update to create it")
	require.Equal(t, string(want), got, "golden file %s differs (run with -update after checking the change)", path)
}

func TestRenderSubjects(t *testing.T) {
	cases := map[string]struct {
		m    Message
		want string
	}{
		"created":   {Message{Items: []Item{createdItem(7)}}, "[HIGH] Incident #7 created: T20261127.0001: Mail server down"},
		"escalated": {Message{Items: []Item{escalatedItem(7, 2)}}, "[HIGH] Incident #7 escalated (rule 2): T20261127.0001: Mail server down"},
		"accepted":  {Message{Items: []Item{acceptedItem(7, `API token "x"`)}}, `[HIGH] Incident #7 accepted by API token "x": T20261127.0001: Mail server down`},
		"resolved":  {Message{Items: []Item{resolvedItem(7, "")}}, `[HIGH] Incident #7 resolved: T20261127.0001: Mail server down`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			subject, _, _, err := Render(c.m)
			require.NoError(t, err)
			require.Equal(t, c.want, subject)
		})
	}

	t.Run("bundle is HIGH if any item is", func(t *testing.T) {
		lo := createdItem(1)
		lo.Incident.Priority = "LOW"
		subject, _, _, err := Render(Message{Items: []Item{lo, escalatedItem(2, 3), resolvedItem(3, "Bob")}})
		require.NoError(t, err)
		require.Equal(t, "[HIGH] 3 incident updates: #1 created, #2 escalated (rule 3), #3 resolved by Bob", subject)
	})
	t.Run("subject is one bounded line", func(t *testing.T) {
		it := createdItem(1)
		it.Incident.Summary = "line one\r\nBcc: victim@example.com\n" + strings.Repeat("long ", 200)
		subject, _, _, err := Render(Message{Items: []Item{it}})
		require.NoError(t, err)
		require.NotContains(t, subject, "\n")
		require.NotContains(t, subject, "\r")
		require.LessOrEqual(t, len([]rune(subject)), maxSubjectRunes)
		require.True(t, strings.HasSuffix(subject, "…"))
	})
}

func TestRenderErrors(t *testing.T) {
	_, _, _, err := Render(Message{ID: "x"})
	require.ErrorContains(t, err, "no items")

	_, _, _, err = Render(Message{Items: []Item{{Event: "incident.exploded"}}})
	require.ErrorContains(t, err, `unknown event "incident.exploded"`)
}

func TestRenderLinksOnlyForActionableEvents(t *testing.T) {
	it := acceptedItem(7, "Bob")
	it.AcceptURL, it.ResolveURL = links(7) // the engine should not set them; Render ignores them anyway
	_, text, html, err := Render(Message{Items: []Item{it}})
	require.NoError(t, err)
	require.NotContains(t, text, "accept/tok")
	require.NotContains(t, html, "accept/tok")
	require.NotContains(t, text, "confirmation page")
}

func TestRenderHTMLEscapes(t *testing.T) {
	_, text, html, err := Render(goldenCases()["html_escaped"])
	require.NoError(t, err)
	require.NotContains(t, html, "<script>")
	require.NotContains(t, html, "<img")
	require.NotContains(t, html, "<b>bold")
	require.NotContains(t, html, "javascript:")
	require.Contains(t, html, "&lt;script&gt;")
	// The plain-text part shows the text as it is: it is not markup.
	require.Contains(t, text, `<script>alert("x")</script>`)
	require.Contains(t, text, "Hello Eve Bcc: x@evil.example,")
}
