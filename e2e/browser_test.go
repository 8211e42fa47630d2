package e2e

// Browser tests: the web UI in headless Chromium, driven by chromedp, against
// the whole real server with the fake Autotask. Screenshots of the main pages
// go to $TICKETPAGER_ARTIFACTS (CI sets it) or to a temporary folder.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/ticketpager/ticketpager/internal/harness"
)

// browserTimeout bounds each browser test, the browser's start included.
const browserTimeout = 90 * time.Second

// browserPassword is the password of the users the browser tests sign in as.
const browserPassword = "correct horse battery staple"

// browser is one headless Chromium tab of a test.
type browser struct {
	t      *testing.T
	ctx    context.Context
	base   string // the server's URL
	shots  string // folder of the screenshots
	prefix string // file name prefix of the screenshots
	n      int    // screenshots taken
}

// chromium finds the browser: skipped without it, unless CI is set.
func chromium(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if os.Getenv("CI") == "" {
		t.Skip("chromium is not installed (apt-get install chromium); CI installs it in .ci/run")
	}
	t.Fatal("chromium is not installed, and CI is set: .ci/run should have installed it")
	return ""
}

// newBrowser starts a headless Chromium with a window of width x height and a
// fresh profile; everything it does ends after browserTimeout.
func newBrowser(t *testing.T, base string, width, height int) *browser {
	t.Helper()
	path := chromium(t)
	shots := os.Getenv("TICKETPAGER_ARTIFACTS")
	if shots == "" {
		shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))
	profile := t.TempDir()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
	)
	timeout, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(timeout, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	// Cleanups run last first: the tab and the browser end before the
	// profile folder (registered above) is removed.
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelTimeout()
	})
	require.NoError(t, chromedp.Do(ctx), "start chromium")
	name := strings.ToLower(strings.TrimPrefix(t.Name(), "TestBrowser"))
	return &browser{t: t, ctx: ctx, base: base, shots: shots, prefix: "browser-" + name}
}

// do runs steps; what names the step in a failure.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, steps...), "browser: %s (page %s)", what, b.locationOrErr())
}

func (b *browser) locationOrErr() string {
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		return "unknown: " + err.Error()
	}
	return loc
}

// run runs one action that returns a value.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	require.NoError(b.t, err, "browser: %s (page %s)", what, b.locationOrErr())
	return v
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	return run(b, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

func (b *browser) location() string {
	b.t.Helper()
	return run(b, "location", chromedp.Location())
}

// text is the visible text of the first element that sel (a Search: XPath
// or CSS) finds, with its spaces collapsed.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.Join(strings.Fields(run(b, "text of "+sel, chromedp.Text(chromedp.Search(sel)))), " ")
}

// shot saves a full-page PNG screenshot.
func (b *browser) shot(name string) {
	b.t.Helper()
	png := run(b, "screenshot "+name, chromedp.FullScreenshot(100))
	b.n++
	file := filepath.Join(b.shots, fmt.Sprintf("%s-%02d-%s.png", b.prefix, b.n, name))
	require.NoError(b.t, os.WriteFile(file, png, 0o644))
	b.t.Logf("screenshot %s", file)
}

// signIn fills the sign-in form of the current page and submits it.
func (b *browser) signIn(email, password string) {
	b.t.Helper()
	b.do("sign in",
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`form.sign-in button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Incidents"]`)),
	)
}

// waitIncident reloads the incidents list until an incident with this
// summary is on it (the page itself only reloads every 30 seconds).
func (b *browser) waitIncident(summary string) {
	b.t.Helper()
	js := fmt.Sprintf(`[...document.querySelectorAll("a.summary")].some(a => a.textContent.trim() === %s)`, jsString(summary))
	deadline := time.Now().Add(20 * time.Second)
	for {
		b.do("open the incidents list",
			chromedp.Navigate(b.base+"/incidents"),
			chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Incidents"]`)))
		if eval[bool](b, js) {
			return
		}
		require.False(b.t, time.Now().After(deadline), "incident %q never appeared on /incidents", summary)
		select {
		case <-b.ctx.Done():
			b.t.Fatalf("waiting for incident %q: %v", summary, b.ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// noHorizontalScroll checks the page fits the window's width.
func (b *browser) noHorizontalScroll(page string) {
	b.t.Helper()
	var m struct {
		ScrollWidth int `json:"scrollWidth"`
		InnerWidth  int `json:"innerWidth"`
	}
	raw := eval[[]byte](b, `({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth})`)
	require.NoError(b.t, json.Unmarshal(raw, &m))
	require.LessOrEqual(b.t, m.ScrollWidth, m.InnerWidth,
		"%s scrolls sideways at width %d: the page is %d pixels wide", page, m.InnerWidth, m.ScrollWidth)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// navHrefs are the links of the header's navigation.
func (b *browser) navHrefs() []string {
	b.t.Helper()
	return eval[[]string](b, `[...document.querySelectorAll('header nav a')].map(a => a.getAttribute('href'))`)
}

// TestBrowserFlow is a new admin's first session: sign in, create an
// escalation policy and an Autotask alert source, copy the webhook URL, get a
// callout on it, accept the incident, read the log and the callout journal,
// test the connection, sign out.
func TestBrowserFlow(t *testing.T) {
	h := start(t, harness.Options{})
	const email = "grace@example.com"
	const policyName, sourceName = "Browser on-call", "Contoso Autotask"
	admin, _, err := h.App.CreateUser(context.Background(), "Grace Hopper", email, browserPassword, true)
	require.NoError(t, err)
	b := newBrowser(t, h.URL, 1280, 900)

	// Signed out, the incidents page sends to the sign-in page.
	b.do("open /incidents signed out",
		chromedp.Navigate(h.URL+"/incidents"),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Sign in to ticketpager"]`)))
	require.Equal(t, h.URL+"/sign-in?next=%2Fincidents", b.location())
	b.shot("sign-in")
	b.signIn(email, browserPassword)
	require.Equal(t, h.URL+"/incidents", b.location())
	require.Subset(t, b.navHrefs(), []string{"/incidents", "/sources", "/policies", "/users", "/tokens", "/profile"})
	require.Equal(t, "Grace Hopper", b.text(`//header//div[@class="me"]/a`))

	// An escalation policy: rule 1 pages the admin, escalates after 5 minutes.
	b.do("open the new policy form",
		chromedp.Click(chromedp.CSS(`header nav a[href="/policies"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/policies/new"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/policies/new"]`)),
		chromedp.WaitVisible(chromedp.ID("rule-0-timeout")))
	b.do("fill the policy form",
		chromedp.SendKeys(chromedp.ID("name"), policyName),
		chromedp.Clear(chromedp.ID("rule-0-timeout")),
		chromedp.SendKeys(chromedp.ID("rule-0-timeout"), "5"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="rule-0-users"][value="%d"]`, admin.ID))))
	require.Equal(t, "5", run(b, "timeout", chromedp.Value(chromedp.ID("rule-0-timeout"))))
	require.True(t, eval[bool](b, fmt.Sprintf(`document.querySelector('input[name="rule-0-users"][value="%d"]').checked`, admin.ID)))
	b.do("create the policy",
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Create escalation policy"]`)),
		chromedp.WaitVisible(chromedp.Search(`//td/a[normalize-space()="`+policyName+`"]`)))
	require.Equal(t, h.URL+"/policies?done=saved", b.location())
	require.Contains(t, b.text(`//tr[td/a[normalize-space()="`+policyName+`"]]`), "notify Grace Hopper; escalate after 5 min")
	b.shot("policies")

	// An Autotask alert source with the fake Autotask's API user and the new policy.
	b.do("open the new alert source form",
		chromedp.Click(chromedp.CSS(`header nav a[href="/sources"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/sources/new"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/sources/new"]`)),
		chromedp.WaitVisible(chromedp.ID("integrationCode")))
	policyOption := run(b, "policy option", chromedp.AttributeValue(
		chromedp.Search(`//select[@id="escalationPolicyId"]/option[normalize-space()="`+policyName+`"]`), "value"))
	require.True(t, policyOption.Exists)
	b.do("fill the alert source form",
		chromedp.SendKeys(chromedp.ID("name"), sourceName),
		chromedp.SetValue(chromedp.ID("integrationType"), "AUTOTASK"),
		chromedp.SendKeys(chromedp.ID("username"), harness.Username),
		chromedp.SendKeys(chromedp.ID("secret"), harness.Secret),
		chromedp.SendKeys(chromedp.ID("integrationCode"), harness.IntegrationCode),
		chromedp.SendKeys(chromedp.ID("webServer"), h.Fake.URL()),
		chromedp.SetValue(chromedp.ID("escalationPolicyId"), policyOption.Value))
	b.do("create the alert source",
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Create alert source"]`)),
		chromedp.WaitVisible(chromedp.ID("webhook-url")))
	m := regexp.MustCompile(`^` + regexp.QuoteMeta(h.URL) + `/sources/(\d+)\?done=created$`).FindStringSubmatch(b.location())
	require.NotNil(t, m, "after creating the source the browser is at %s", b.location())
	sourcePath := "/sources/" + m[1]
	require.Equal(t, sourceName, b.text(`//main/h1`))

	// The webhook URL: a readonly field with a Copy button, and in the Autotask steps.
	hook := run(b, "webhook URL", chromedp.Value(chromedp.ID("webhook-url")))
	require.True(t, strings.HasPrefix(hook, h.URL+"/api/v1/events/autotask/"), "webhook URL %q", hook)
	require.True(t, eval[bool](b, `document.getElementById("webhook-url").readOnly`))
	require.True(t, eval[bool](b, fmt.Sprintf(`[...document.querySelectorAll("ol.steps code")].some(c => c.textContent === %s)`, jsString(hook))),
		"the Autotask steps name the webhook URL")
	// Press Copy and read the clipboard back: the copied text is the URL.
	origin := strings.TrimSuffix(h.URL, "/")
	for _, perm := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: perm, AllowWithoutSanitization: true},
			Setting:    cdpbrowser.PermissionSettingGranted, Origin: origin})
		require.NoError(t, err, "grant %s", perm)
	}
	_, err = chromedp.Call(b.ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
	require.NoError(t, err)
	b.do("press Copy",
		chromedp.Click(chromedp.CSS(`button[data-copy="webhook-url"]`)),
		chromedp.WaitVisible(chromedp.Search(`//button[@data-copy="webhook-url" and normalize-space()="Copied"]`)))
	copied := run(b, "read the clipboard", chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	require.Equal(t, hook, copied, "the Copy button copies the webhook URL")
	b.shot("source")

	// Autotask calls the copied URL for a new ticket.
	tk := newTicket(h, "New", "High")
	resp, err := h.HTTP.PostForm(copied, url.Values{"TicketID": {fmt.Sprint(tk.ID)}})
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "callout answer %s", body)
	var a answer
	require.NoError(t, json.Unmarshal(body, &a), "callout answer %s", body)
	require.Equal(t, "CREATED", a.Action)
	summary := tk.Number + ": " + tk.Title

	// The incident appears on the list.
	b.waitIncident(summary)
	row := b.text(`//ul[@aria-label="Incidents"]/li[a[normalize-space()="` + summary + `"]]`)
	require.Contains(t, row, "PENDING")
	require.Contains(t, strings.ToLower(row), "high priority")
	require.Contains(t, row, sourceName)
	require.Contains(t, row, fmt.Sprintf("#%d", a.IncidentID))
	b.shot("incidents")

	// Open it and accept it.
	b.do("open the incident",
		chromedp.Click(chromedp.Search(`//a[@class="summary" and normalize-space()="`+summary+`"]`)),
		chromedp.WaitVisible(chromedp.Search(`//main/h1[normalize-space()="`+summary+`"]`)),
		chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()="Accept"]`)))
	require.Equal(t, fmt.Sprintf("%s/incidents/%d", h.URL, a.IncidentID), b.location())
	require.Equal(t, "PENDING", b.text(`//main/p[@class="meta"]/span[1]`))
	b.do("accept the incident",
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Accept"]`)),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(@class,"flash") and normalize-space()="Incident accepted."]`)))
	require.Equal(t, "ACCEPTED", b.text(`//main/p[@class="meta"]/span[1]`))
	require.False(t, eval[bool](b, `[...document.querySelectorAll("main button")].some(x => x.textContent.trim() === "Accept")`),
		"an accepted incident has no Accept button")
	var entries []struct {
		Kind string `json:"kind"`
		Text string `json:"text"`
	}
	raw := eval[[]byte](b, `[...document.querySelectorAll("ol.log > li")].map(li => ({kind: li.querySelector("strong").textContent, text: li.textContent.replace(/\s+/g, " ").trim()}))`)
	require.NoError(t, json.Unmarshal(raw, &entries))
	kinds := map[string]string{}
	for _, e := range entries {
		kinds[e.Kind] = e.Text
	}
	require.Contains(t, kinds, "CREATED", "log %+v", entries)
	require.Contains(t, kinds, "ACCEPTED", "log %+v", entries)
	require.Contains(t, kinds["ACCEPTED"], "Accepted by Grace Hopper")
	b.shot("incident")

	// The source's callout journal shows the callout and what it did.
	b.do("open the callout journal",
		chromedp.Click(chromedp.CSS(`dl.props a[href="`+sourcePath+`"]`)),
		chromedp.WaitVisible(chromedp.ID("webhook-url")),
		chromedp.Click(chromedp.CSS(`a.button[href="`+sourcePath+`/callouts"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Callout journal"]`)))
	var callouts []struct {
		ID, Method, Action, HTTP, Ticket, Incident, Body string
	}
	raw = eval[[]byte](b, `[...document.querySelectorAll("tr[id^=callout-]")].map(tr => {
		const cell = l => tr.querySelector('td[data-label="' + l + '"]').textContent.replace(/\s+/g, " ").trim();
		const pre = tr.nextElementSibling.querySelector("pre");
		return {ID: cell("Callout"), Method: cell("Method"), Action: cell("Action"), HTTP: cell("HTTP"),
			Ticket: cell("Ticket"), Incident: cell("Incident"), Body: pre ? pre.textContent : ""};
	})`)
	require.NoError(t, json.Unmarshal(raw, &callouts))
	require.Len(t, callouts, 1, "journal %+v", callouts)
	c := callouts[0]
	require.Equal(t, fmt.Sprint(a.CalloutID), c.ID)
	require.Equal(t, "POST", c.Method)
	require.Equal(t, "CREATED", c.Action)
	require.Equal(t, "201", c.HTTP)
	require.Contains(t, c.Ticket, tk.Number)
	require.Equal(t, fmt.Sprintf("#%d", a.IncidentID), c.Incident)
	require.Equal(t, fmt.Sprintf("TicketID=%d", tk.ID), c.Body)
	b.shot("callouts")

	// Test connection: the fake Autotask accepts the credentials.
	b.do("test the connection",
		chromedp.Click(chromedp.CSS(`main a[href="`+sourcePath+`"]`)),
		chromedp.WaitVisible(chromedp.ID("webhook-url")),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Test connection"]`)),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(@class,"flash") and starts-with(normalize-space(),"Connected:")]`)))
	require.Equal(t, h.URL+sourcePath+"/test", b.location())
	require.False(t, eval[bool](b, `!!document.querySelector("main .alert")`), "no error next to a successful test")
	b.shot("source-test")

	// Sign out: the incidents need signing in again.
	b.do("sign out",
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Sign out"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Sign in to ticketpager"]`)))
	require.Equal(t, h.URL+"/sign-in", b.location())
	b.do("open /incidents signed out again",
		chromedp.Navigate(h.URL+"/incidents"),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Sign in to ticketpager"]`)))
	require.Equal(t, h.URL+"/sign-in?next=%2Fincidents", b.location())
}

// TestBrowserResponder: a responder sees and opens incidents, has no admin
// links, and gets the "Not allowed" page on the admin pages.
func TestBrowserResponder(t *testing.T) {
	h := start(t, harness.Options{})
	const email = "linus@example.com"
	_, _, err := h.App.CreateUser(context.Background(), "Linus Responder", email, browserPassword, false)
	require.NoError(t, err)
	tk := newTicket(h, "New", "Medium")
	code, a := callout(t, h, tk.ID)
	require.Equal(t, http.StatusCreated, code)
	summary := tk.Number + ": " + tk.Title
	b := newBrowser(t, h.URL, 1280, 900)

	b.do("open the sign-in page", chromedp.Navigate(h.URL+"/incidents"))
	b.signIn(email, browserPassword)
	b.waitIncident(summary)
	hrefs := b.navHrefs()
	for _, admin := range []string{"/sources", "/policies", "/users", "/tokens"} {
		require.NotContains(t, hrefs, admin, "a responder's navigation has no admin links")
	}
	require.Contains(t, hrefs, "/incidents")
	require.Contains(t, hrefs, "/profile")
	require.Equal(t, "Linus Responder", b.text(`//header//div[@class="me"]/a`))
	b.shot("incidents")

	b.do("open the incident",
		chromedp.Click(chromedp.Search(`//a[@class="summary" and normalize-space()="`+summary+`"]`)),
		chromedp.WaitVisible(chromedp.Search(`//main/h1[normalize-space()="`+summary+`"]`)),
		chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()="Accept"]`)))
	require.Equal(t, fmt.Sprintf("%s/incidents/%d", h.URL, a.IncidentID), b.location())
	require.False(t, eval[bool](b, `!!document.querySelector('main a[href^="/sources/"], main a[href^="/policies/"]')`),
		"the incident page links no admin pages for a responder")

	for _, path := range []string{"/sources", "/users", "/policies", "/tokens", fmt.Sprintf("/sources/%d", h.SourceID)} {
		resp := run(b, "open "+path, chromedp.NavigateResponse(h.URL+path))
		require.EqualValues(t, http.StatusForbidden, resp.Status, path)
		require.Equal(t, "Not allowed", b.text(`//main/h1`), path)
		page := b.text(`//main`)
		require.Contains(t, page, "This page is for admins.", path)
		require.Contains(t, page, "Error 403.", path)
		for _, leak := range []string{"goroutine", "panic", ".go:", "runtime."} {
			require.NotContains(t, page, leak, "%s shows a stack trace", path)
		}
		require.Equal(t, "Go to the incidents", b.text(`//main//ul/li/a[@href="/incidents"]`), path)
		require.NotContains(t, b.navHrefs(), "/sources", path)
		if path == "/sources" {
			b.shot("forbidden")
		}
	}
}

// TestBrowserPhoneWidth: at 375x812 the sign-in form works with the keyboard
// alone and the pages fit the screen's width.
func TestBrowserPhoneWidth(t *testing.T) {
	h := start(t, harness.Options{})
	const email = "ada.admin@example.com"
	_, _, err := h.App.CreateUser(context.Background(), "Ada Admin", email, browserPassword, true)
	require.NoError(t, err)
	tk := newTicket(h, "New", "Critical")
	code, a := callout(t, h, tk.ID)
	require.Equal(t, http.StatusCreated, code)
	summary := tk.Number + ": " + tk.Title
	b := newBrowser(t, h.URL, 375, 812)
	b.do("emulate a phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))

	b.do("open the sign-in page",
		chromedp.Navigate(h.URL+"/incidents"),
		chromedp.WaitVisible(chromedp.ID("email")))
	require.Equal(t, 375, eval[int](b, `window.innerWidth`))
	b.noHorizontalScroll("the sign-in page")

	// Keyboard only: the email field, Tab to the password, Enter submits.
	b.do("focus the email field", chromedp.Focus(chromedp.ID("email")))
	require.Equal(t, "email", eval[string](b, `document.activeElement.id`))
	b.do("type the email and Tab", chromedp.KeyEvent(email), chromedp.KeyEvent(kb.Tab))
	require.Equal(t, "password", eval[string](b, `document.activeElement.id`), "Tab goes from the email to the password")
	b.do("type the password and press Enter",
		chromedp.KeyEvent(browserPassword),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Incidents"]`)))
	require.Equal(t, h.URL+"/incidents", b.location())

	b.waitIncident(summary)
	b.noHorizontalScroll("the incidents page")
	b.shot("incidents")

	// The pages an on-call admin opens from a phone fit the width too.
	for _, p := range []struct{ path, wait string }{
		{fmt.Sprintf("/incidents/%d", a.IncidentID), `//main/h1[normalize-space()="` + summary + `"]`},
		{fmt.Sprintf("/sources/%d", h.SourceID), `//input[@id="webhook-url"]`},
		{fmt.Sprintf("/sources/%d/callouts", h.SourceID), `//h1[normalize-space()="Callout journal"]`},
	} {
		b.do("open "+p.path, chromedp.Navigate(h.URL+p.path), chromedp.WaitVisible(chromedp.Search(p.wait)))
		b.noHorizontalScroll(p.path)
	}
}
