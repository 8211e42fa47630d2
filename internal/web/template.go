package web

import (
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/ticketpager/ticketpager/internal/incident"
)

// pageNames are the page templates; each is parsed with the layout.
var pageNames = []string{
	"error", "sign-in", "incidents", "incident", "sources", "source", "source-form", "callouts",
	"policies", "policy-form", "users", "user-form", "profile", "tokens", "confirm", "secret",
}

var funcs = template.FuncMap{
	"ago":        ago,
	"when":       when,
	"whenPtr":    whenPtr,
	"until":      until,
	"statusCSS":  statusCSS,
	"lower":      strings.ToLower,
	"add":        func(a, b int) int { return a + b },
	"invalid":    invalid,
	"add64":      func(a, b int64) int64 { return a + b },
	"rowCtx":     func(row incidentRow, now time.Time) rowContext { return rowContext{Row: row, Now: now} },
	"fieldError": fieldError,
	"contains": func(ids []int64, id int64) bool {
		for _, v := range ids {
			if v == id {
				return true
			}
		}
		return false
	},
}

// mustParse parses every page with the layout; a broken template is a bug, found by the tests.
func mustParse() map[string]*template.Template {
	pages, err := parsePages(templateFS)
	if err != nil {
		panic(err)
	}
	return pages
}

func parsePages(fsys fs.FS) (map[string]*template.Template, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if t, err = t.ParseFS(fsys, path.Join("templates", name+".html")); err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// ago says how long ago t was, at a glance: "just now", "12 min ago", "3 h ago", "2 days ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		h := int(d / time.Hour)
		if m := int(d%time.Hour) / int(time.Minute); h < 10 && m > 0 {
			return fmt.Sprintf("%d h %d min ago", h, m)
		}
		return fmt.Sprintf("%d h ago", h)
	default:
		return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
	}
}

// until says how long until t: "in 4 min", or "due now"; "" for none.
func until(now time.Time, t *time.Time) string {
	if t == nil {
		return ""
	}
	d := t.Sub(now)
	switch {
	case d <= 0:
		return "due now"
	case d < time.Minute:
		return "in less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("in %d min", int((d+time.Minute-1)/time.Minute))
	default:
		return fmt.Sprintf("in %d h %d min", int(d/time.Hour), int(d%time.Hour)/int(time.Minute))
	}
}

// when formats a time for people and machines alike (UTC).
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func whenPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return when(*t)
}

// statusCSS is the badge class of an incident status.
func statusCSS(status string) string {
	switch status {
	case incident.Pending:
		return "badge pending"
	case incident.Accepted:
		return "badge accepted"
	case incident.Resolved:
		return "badge resolved"
	default:
		return "badge"
	}
}

// invalid marks an input whose field has an error and ties the message to it.
func invalid(errs fieldErrors, field string) template.HTMLAttr {
	if errs[field] == "" {
		return ""
	}
	return template.HTMLAttr(`aria-invalid="true" aria-describedby="` + html.EscapeString(field) + `-error"`)
}

// fieldError is the message shown next to a field, or nothing.
func fieldError(errs fieldErrors, field string) template.HTML {
	msg := errs[field]
	if msg == "" {
		return ""
	}
	return template.HTML(`<p class="field-error" id="` + html.EscapeString(field) + `-error">` + html.EscapeString(msg) + `</p>`)
}

// rowContext is what the incident-row template gets: the row and the clock.
type rowContext struct {
	Row incidentRow
	Now time.Time
}
