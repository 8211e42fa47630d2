package callout

import (
	"fmt"
	"strings"
	"testing"
)

// benchBodies are about 1 KiB each, in each format.
func benchBodies() map[string]Request {
	pad := strings.Repeat("lorem ipsum dolor sit amet ", 24)
	return map[string]Request{
		"form": {Method: "POST", ContentType: "application/x-www-form-urlencoded",
			Body: []byte("Title=Printer+on+fire&Description=" + strings.ReplaceAll(pad, " ", "+") +
				"&CompanyID=174&Status=New&Priority=High&TicketID=29684001&TicketNumber=T20261127.0001")},
		"json": {Method: "POST", ContentType: "application/json",
			Body: []byte(fmt.Sprintf(`{"company":{"id":174,"name":"Contoso"},"ticket":{"title":"Printer on fire","description":%q,`+
				`"status":1,"priority":3,"queueID":29682833,"id":29684001,"ticketNumber":"T20261127.0001"}}`, pad))},
		"xml": {Method: "POST", ContentType: "application/xml",
			Body: []byte(`<?xml version="1.0"?><Ticket><Company id="174"><Name>Contoso</Name></Company><Title>Printer on fire</Title>` +
				`<Description>` + pad + `</Description><Status>1</Status><id>29684001</id><TicketNumber>T20261127.0001</TicketNumber></Ticket>`)},
	}
}

func BenchmarkParse(b *testing.B) {
	for name, req := range benchBodies() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(req.Body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRedact(b *testing.B) {
	for name, req := range benchBodies() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(req.Body)))
			b.ReportAllocs()
			for b.Loop() {
				_ = Redact(req.ContentType, req.Body)
			}
		})
	}
}
