package notify

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"
	"unicode"
)

const (
	maxSubjectRunes = 180
	maxSummaryRunes = 300
	maxDetailsRunes = 2000

	confirmationNote = "The Accept and Resolve links open a confirmation page; nothing changes until you confirm there."
	footerNote       = "You receive this because you are on call in a ticketpager escalation policy."
)

// itemView is one Item prepared for display: every string is already cleaned
// of control characters and bounded in length.
type itemView struct {
	Headline     string // "Incident #7 escalated (rule 2): T20261127.0001: Mail server down"
	Lead         string // one sentence: what happened and what is expected of the reader
	IncidentID   int64
	Summary      string
	Priority     string
	Status       string
	TicketNumber string
	TicketStatus string
	TicketLink   string
	AlertSource  string
	Created      string
	When         string
	IncidentURL  string
	Details      string
	AcceptURL    string
	ResolveURL   string
}

type messageView struct {
	Subject  string
	Greeting string
	Intro    string // "3 incident updates:" for a bundle, "" for one item
	Bundle   bool
	Items    []itemView
	HasLinks bool
	Confirm  string
	Footer   string
}

// Render turns m into an email subject, a plain-text body and an HTML body.
// Every value that comes from outside (ticket titles, details, names) is
// cleaned of control characters; the HTML body escapes it.
func Render(m Message) (subject, text, html string, err error) {
	v, err := view(m)
	if err != nil {
		return "", "", "", err
	}
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, v); err != nil {
		return "", "", "", fmt.Errorf("render html: %w", err)
	}
	return v.Subject, renderText(v), b.String(), nil
}

func view(m Message) (messageView, error) {
	if len(m.Items) == 0 {
		return messageView{}, errors.New("render: message has no items")
	}
	v := messageView{
		Greeting: "Hello,",
		Bundle:   len(m.Items) > 1,
		Confirm:  confirmationNote,
		Footer:   footerNote,
	}
	if name := truncate(oneLine(m.To.Name), 100); name != "" {
		v.Greeting = "Hello " + name + ","
	}
	for i, it := range m.Items {
		iv, err := viewItem(it)
		if err != nil {
			return messageView{}, fmt.Errorf("render item %d: %w", i+1, err)
		}
		if iv.AcceptURL != "" || iv.ResolveURL != "" {
			v.HasLinks = true
		}
		v.Items = append(v.Items, iv)
	}

	tag := subjectPriority(m.Items)
	if tag != "" {
		tag = "[" + tag + "] "
	}
	if v.Bundle {
		v.Intro = fmt.Sprintf("%d incident updates:", len(m.Items))
		short := make([]string, len(m.Items))
		for i, it := range m.Items {
			short[i] = "#" + shortHeadline(it)
		}
		v.Subject = tag + fmt.Sprintf("%d incident updates: ", len(m.Items)) + strings.Join(short, ", ")
	} else {
		v.Subject = tag + v.Items[0].Headline
	}
	v.Subject = truncate(v.Subject, maxSubjectRunes)
	return v, nil
}

// subjectPriority is HIGH if any item is HIGH, otherwise the first priority given.
func subjectPriority(items []Item) string {
	first := ""
	for _, it := range items {
		p := strings.ToUpper(oneLine(it.Incident.Priority))
		if p == "HIGH" {
			return p
		}
		if first == "" {
			first = truncate(p, 10)
		}
	}
	return first
}

// shortHeadline is "7 created" / "7 escalated (rule 2)" / `7 accepted by "x"`.
func shortHeadline(it Item) string {
	s := fmt.Sprintf("%d %s", it.Incident.ID, eventVerb(it.Event))
	switch it.Event {
	case EventEscalated:
		s += fmt.Sprintf(" (rule %d)", max(it.Rule, 1))
	case EventAccepted, EventResolved:
		if a := truncate(oneLine(it.Actor), 60); a != "" {
			s += " by " + a
		}
	}
	return s
}

func eventVerb(e Event) string {
	switch e {
	case EventCreated:
		return "created"
	case EventEscalated:
		return "escalated"
	case EventAccepted:
		return "accepted"
	case EventResolved:
		return "resolved"
	}
	return string(e)
}

func viewItem(it Item) (itemView, error) {
	if !it.Event.Valid() {
		return itemView{}, fmt.Errorf("unknown event %q", it.Event)
	}
	inc := it.Incident
	v := itemView{
		IncidentID:   inc.ID,
		Summary:      truncate(oneLine(inc.Summary), maxSummaryRunes),
		Priority:     truncate(oneLine(inc.Priority), 20),
		Status:       truncate(oneLine(inc.Status), 20),
		TicketNumber: truncate(oneLine(inc.TicketNumber), 40),
		TicketStatus: truncate(oneLine(inc.TicketStatus), 60),
		TicketLink:   webURL(inc.TicketLink),
		AlertSource:  truncate(oneLine(inc.AlertSourceName), 100),
		Created:      formatTime(inc.CreatedAt),
		When:         formatTime(it.At),
		IncidentURL:  webURL(inc.URL),
		Details:      cleanDetails(inc.Details),
	}
	if it.Event == EventAccepted || it.Event == EventResolved {
		v.Details = "" // a short message: nobody needs to act on it
	}
	if it.Event == EventCreated || it.Event == EventEscalated {
		v.AcceptURL = webURL(it.AcceptURL)
		v.ResolveURL = webURL(it.ResolveURL)
	}

	actor := truncate(oneLine(it.Actor), 100)
	headline := fmt.Sprintf("Incident #%d %s", inc.ID, eventVerb(it.Event))
	switch it.Event {
	case EventCreated:
		v.Lead = "A new incident needs someone to accept it."
		if it.Rule > 0 {
			v.Lead += fmt.Sprintf(" You are paged by escalation rule %d.", it.Rule)
		}
	case EventEscalated:
		headline += fmt.Sprintf(" (rule %d)", max(it.Rule, 1))
		v.Lead = fmt.Sprintf("This incident is still pending and was escalated to you (rule %d).", max(it.Rule, 1))
	case EventAccepted, EventResolved:
		verb := eventVerb(it.Event)
		if actor != "" {
			headline += " by " + actor
			v.Lead = fmt.Sprintf("This incident was %s by %s; you do not need to act on it any more.", verb, actor)
		} else {
			v.Lead = fmt.Sprintf("This incident was %s; you do not need to act on it any more.", verb)
		}
	}
	parts := []string{v.TicketNumber, v.Summary}
	if v.TicketNumber != "" && strings.HasPrefix(v.Summary, v.TicketNumber) {
		parts = parts[1:] // the summary is "{ticketNumber}: {title}" already
	}
	for _, part := range parts {
		if part != "" {
			headline += ": " + part
		}
	}
	v.Headline = headline
	return v, nil
}

// webURL returns s if it is an absolute http or https URL, "" otherwise:
// a message never links anywhere else.
func webURL(s string) string {
	s = strings.TrimSpace(s)
	if strings.ContainsFunc(s, unicode.IsControl) {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}

// formatTime renders t in UTC, RFC 1123 form; "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC1123)
}

// cleanDetails keeps line breaks and tabs, drops other control characters,
// trims trailing blank space and bounds the length.
func cleanDetails(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r' || r == '\u2028' || r == '\u2029':
			return '\n'
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return truncate(strings.Join(lines, "\n"), maxDetailsRunes)
}

func renderText(v messageView) string {
	var b strings.Builder
	b.WriteString(v.Greeting + "\n\n")
	if v.Bundle {
		b.WriteString(v.Intro + "\n\n")
	}
	for i, it := range v.Items {
		if v.Bundle {
			fmt.Fprintf(&b, "%d. ", i+1)
		}
		b.WriteString(it.Headline + "\n")
		b.WriteString(it.Lead + "\n\n")
		field := func(label, value string) {
			if value != "" {
				fmt.Fprintf(&b, "  %-14s%s\n", label+":", value)
			}
		}
		field("Summary", it.Summary)
		field("Priority", it.Priority)
		field("Status", it.Status)
		ticket := it.TicketNumber
		if it.TicketStatus != "" {
			ticket = strings.TrimSpace(ticket + " (status: " + it.TicketStatus + ")")
		}
		field("Ticket", ticket)
		field("Ticket link", it.TicketLink)
		field("Alert source", it.AlertSource)
		field("Created", it.Created)
		field("When", it.When)
		field("Incident", it.IncidentURL)
		if it.Details != "" {
			b.WriteString("\n  Details:\n")
			for _, l := range strings.Split(it.Details, "\n") {
				if l == "" {
					b.WriteString("\n")
					continue
				}
				b.WriteString("    " + l + "\n")
			}
		}
		if it.AcceptURL != "" || it.ResolveURL != "" {
			b.WriteString("\n")
			field("Accept", it.AcceptURL)
			field("Resolve", it.ResolveURL)
		}
		b.WriteString("\n")
	}
	if v.HasLinks {
		b.WriteString(v.Confirm + "\n\n")
	}
	b.WriteString("-- \n" + v.Footer + "\n")
	return b.String()
}

var htmlTemplate = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:16px;font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#1f2933;background:#ffffff;">
<p>{{.Greeting}}</p>
{{- if .Bundle}}
<p><strong>{{.Intro}}</strong></p>
{{- end}}
{{- range .Items}}
<div style="border:1px solid #d9e2ec;border-radius:6px;padding:12px 16px;margin:0 0 16px 0;">
<h2 style="font-size:16px;margin:0 0 8px 0;">{{.Headline}}</h2>
<p style="margin:0 0 12px 0;">{{.Lead}}</p>
<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse;">
{{- if .Summary}}
<tr><th align="left" style="padding:2px 12px 2px 0;font-weight:bold;vertical-align:top;">Summary</th><td style="padding:2px 0;">{{.Summary}}</td></tr>
{{- end}}
{{- if .Priority}}
<tr><th align="left" style="padding:2px 12px 2px 0;font-weight:bold;vertical-align:top;">Priority</th><td style="padding:2px 0;">{{.Priority}}</td></tr>
{{- end}}
{{- if .Status}}
<tr><th align="left" style="padding:2px 12px 2px 0;font-weight:bold;vertical-align:top;">Status</th><td style="padding:2px 0;">{{.Status}}</td></tr>
{{- end}}
{{- if or .TicketNumber .TicketStatus}}
<tr><th align="left" style="padding:2px 12px 2px 0;font-weight:bold;vertical-align:top;">Ticket</th><td style="padding:2px 0;">
{{- if .TicketLink}}<a href="{{.TicketLink}}">{{or .TicketNumber "open in Autotask"}}</a>{{else}}{{.TicketNumber}}{{end}}
{{- if .TicketStatus}} (status: {{.TicketStatus}}){{end}}</td></tr>
{{- else if .TicketLink}}
<tr><th align="left" style="padding:2px 12px 2px 0;font-weight:bold;vertical-align:top;">Ticket</th><td style="padding:2px 0;"><a href="{{.TicketLink}}">open in Autotask</a></td></tr>
{{- end}}
{{- if .AlertSource}}
<tr><th align="left" style="padding:2px 12px 2px 0;font-weight:bold;vertical-align:top;">Alert source</th><td style="padding:2px 0;">{{.AlertSource}}</td></tr>
{{- end}}
{{- if .Created}}
<tr><th align="left" style="padding:2px 12px 2px 0;font-weight:bold;vertical-align:top;">Created</th><td style="padding:2px 0;">{{.Created}}</td></tr>
{{- end}}
{{- if .When}}
<tr><th align="left" style="padding:2px 12px 2px 0;font-weight:bold;vertical-align:top;">When</th><td style="padding:2px 0;">{{.When}}</td></tr>
{{- end}}
{{- if .IncidentURL}}
<tr><th align="left" style="padding:2px 12px 2px 0;font-weight:bold;vertical-align:top;">Incident</th><td style="padding:2px 0;"><a href="{{.IncidentURL}}">#{{.IncidentID}}</a></td></tr>
{{- end}}
</table>
{{- if .Details}}
<p style="margin:12px 0 4px 0;font-weight:bold;">Details</p>
<div style="white-space:pre-wrap;font-family:Menlo,Consolas,monospace;font-size:13px;background:#f5f7fa;padding:8px;border-radius:4px;">{{.Details}}</div>
{{- end}}
{{- if or .AcceptURL .ResolveURL}}
<p style="margin:16px 0 0 0;">
{{- if .AcceptURL}}<a href="{{.AcceptURL}}" style="display:inline-block;padding:8px 16px;margin:0 8px 0 0;background:#2563eb;color:#ffffff;text-decoration:none;border-radius:4px;font-weight:bold;">Accept</a>{{end}}
{{- if .ResolveURL}}<a href="{{.ResolveURL}}" style="display:inline-block;padding:8px 16px;background:#16a34a;color:#ffffff;text-decoration:none;border-radius:4px;font-weight:bold;">Resolve</a>{{end}}
</p>
{{- end}}
</div>
{{- end}}
{{- if .HasLinks}}
<p style="color:#52606d;">{{.Confirm}}</p>
{{- end}}
<p style="color:#7b8794;font-size:12px;">{{.Footer}}</p>
</body>
</html>
`))
