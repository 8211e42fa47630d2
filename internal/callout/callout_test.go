package callout

import (
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/quick"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	const (
		jsonCT = "application/json"
		xmlCT  = "application/xml"
		formCT = "application/x-www-form-urlencoded"
	)
	tests := []struct {
		name    string
		ct      string
		query   string
		body    string
		want    Reference
		wantErr error
	}{
		// key variants
		{name: "query ticketid", query: "ticketid=1", want: Reference{TicketID: 1}},
		{name: "query ticket_id", query: "ticket_id=2", want: Reference{TicketID: 2}},
		{name: "query TicketID", query: "TicketID=3", want: Reference{TicketID: 3}},
		{name: "query ticketId", query: "ticketId=4", want: Reference{TicketID: 4}},
		{name: "query Ticket ID", query: "Ticket+ID=5", want: Reference{TicketID: 5}},
		{name: "query ticket-id", query: "ticket-id=6", want: Reference{TicketID: 6}},
		{name: "query ticket.id", query: "ticket.id=7", want: Reference{TicketID: 7}},
		{name: "query entityId", query: "entityId=8", want: Reference{TicketID: 8}},
		{name: "query bare id", query: "id=9", want: Reference{TicketID: 9}},
		{name: "query ticketNumber", query: "ticketNumber=T20261127.0001", want: Reference{TicketNumber: "T20261127.0001"}},
		{name: "query ticket_number", query: "ticket_number=T20261127.0002", want: Reference{TicketNumber: "T20261127.0002"}},
		{name: "query Ticket Number", query: "Ticket%20Number=T20261127.0003", want: Reference{TicketNumber: "T20261127.0003"}},
		{name: "query number", query: "number=T20261127.0004", want: Reference{TicketNumber: "T20261127.0004"}},
		{name: "keyed number of another shape", query: "TicketNumber=+ABC-42+", want: Reference{TicketNumber: "ABC-42"}},
		{name: "keyed number with text keeps the shaped part", query: "TicketNumber=Ticket+T20261127.0005+", want: Reference{TicketNumber: "T20261127.0005"}},
		{name: "query and body both", query: "TicketID=10", ct: jsonCT, body: `{"ticketNumber":"T20261127.0010"}`,
			want: Reference{TicketID: 10, TicketNumber: "T20261127.0010"}},
		{name: "query wins over body", query: "TicketID=10", ct: jsonCT, body: `{"ticketId":11}`, want: Reference{TicketID: 10}},

		// JSON
		{name: "json string id trimmed", ct: jsonCT, body: `{"TicketID":" 12 "}`, want: Reference{TicketID: 12}},
		{name: "json nested ticket", ct: jsonCT, body: `{"ticket":{"id":13}}`, want: Reference{TicketID: 13}},
		{name: "json nested ticket number", ct: jsonCT, body: `{"Ticket":{"Number":"T20261127.0013"}}`, want: Reference{TicketNumber: "T20261127.0013"}},
		{name: "json company id not taken", ct: jsonCT, body: `{"company":{"id":174}}`, wantErr: ErrNoTicketReference},
		{name: "json account contact resource ids not taken", ct: jsonCT,
			body: `{"account":{"id":1},"contact":{"id":2},"resource":{"id":3},"ticket":{"id":4}}`, want: Reference{TicketID: 4}},
		{name: "json ticket-specific key wins over bare id", ct: jsonCT, body: `{"id":1,"ticketId":2}`, want: Reference{TicketID: 2}},
		{name: "json id under ticket wins over top-level id", ct: jsonCT, body: `{"id":1,"ticket":{"id":2}}`, want: Reference{TicketID: 2}},
		{name: "json entityId wins over bare id", ct: jsonCT, body: `{"id":1,"entityId":3}`, want: Reference{TicketID: 3}},
		{name: "json keyed number wins over shaped text", ct: jsonCT,
			body: `{"title":"see T20261127.0001","ticketNumber":"T20261127.0002"}`, want: Reference{TicketNumber: "T20261127.0002"}},
		{name: "json REST item", ct: jsonCT, body: `{"item":{"id":100,"ticketNumber":"T20120604.0002","companyID":174}}`,
			want: Reference{TicketID: 100, TicketNumber: "T20120604.0002"}},
		{name: "json +json type", ct: "application/vnd.autotask+json", body: `{"ticketId":14}`, want: Reference{TicketID: 14}},
		{name: "json negative id ignored", ct: jsonCT, body: `{"ticketId":-1}`, wantErr: ErrNoTicketReference},
		{name: "json zero id ignored", ct: jsonCT, body: `{"ticketId":0}`, wantErr: ErrNoTicketReference},
		{name: "json fractional id ignored", ct: jsonCT, body: `{"ticketId":1.5}`, wantErr: ErrNoTicketReference},
		{name: "json exponent id ignored", ct: jsonCT, body: `{"ticketId":1e3}`, wantErr: ErrNoTicketReference},
		{name: "json huge id ignored", ct: jsonCT, body: `{"ticketId":9223372036854775808}`, wantErr: ErrNoTicketReference},
		{name: "json max int64 id", ct: jsonCT, body: `{"ticketId":9223372036854775807}`, want: Reference{TicketID: 9223372036854775807}},
		{name: "json invalid id then valid id", ct: jsonCT, body: `{"ticketId":"abc","entityId":15}`, want: Reference{TicketID: 15}},
		{name: "json escaped key", ct: jsonCT, body: `{"ticket\u0049d":16}`, want: Reference{TicketID: 16}},
		{name: "json number in free text", ct: jsonCT, body: `{"title":"Re: T20261127.0016 printer"}`, want: Reference{TicketNumber: "T20261127.0016"}},
		{name: "json number in array text", ct: jsonCT, body: `["x","T20261127.0017"]`, want: Reference{TicketNumber: "T20261127.0017"}},
		{name: "json bare number value not a number", ct: jsonCT, body: `{"number":42}`, wantErr: ErrNoTicketReference},
		{name: "json name value pair", ct: jsonCT, body: `[{"name":"TicketID","value":18}]`, want: Reference{TicketID: 18}},
		{name: "json BOM", ct: jsonCT, body: "\uFEFF{\"ticketId\":19}", want: Reference{TicketID: 19}},
		{name: "json malformed", ct: jsonCT, body: `{"ticketId":`, wantErr: ErrMalformedBody},
		{name: "json malformed but query has id", ct: jsonCT, query: "id=20", body: `{"ticketId":`, want: Reference{TicketID: 20}},
		{name: "json deeper than the bound is not looked into", ct: jsonCT,
			body: strings.Repeat("[", 70) + `{"ticketId":1}` + strings.Repeat("]", 70), wantErr: ErrNoTicketReference},
		{name: "json very deep is refused without a crash", ct: jsonCT, body: strings.Repeat("[", 100000), wantErr: ErrMalformedBody},

		// XML
		{name: "xml element", ct: xmlCT, body: `<Ticket><id>21</id></Ticket>`, want: Reference{TicketID: 21}},
		{name: "xml attribute", ct: xmlCT, body: `<ticket id="22"/>`, want: Reference{TicketID: 22}},
		{name: "xml company id not taken", ct: xmlCT, body: `<callout><Company><id>1</id></Company></callout>`, wantErr: ErrNoTicketReference},
		{name: "xml company root not taken", ct: xmlCT, body: `<Company id="1"><id>1</id></Company>`, wantErr: ErrNoTicketReference},
		{name: "xml top-level id under neutral root", ct: xmlCT, body: `<callout><id>23</id></callout>`, want: Reference{TicketID: 23}},
		{name: "xml namespaces", ct: "text/xml", body: `<a:Ticket xmlns:a="urn:x"><a:TicketNumber>T20261127.0024</a:TicketNumber></a:Ticket>`,
			want: Reference{TicketNumber: "T20261127.0024"}},
		{name: "xml field pairs", ct: xmlCT, body: `<Fields><Field><Name>Ticket ID</Name><Value>25</Value></Field></Fields>`, want: Reference{TicketID: 25}},
		{name: "xml param attributes", ct: xmlCT, body: `<Params><Param name="TicketID" value="26"/></Params>`, want: Reference{TicketID: 26}},
		{name: "xml field name attribute", ct: xmlCT, body: `<Params><Field name="TicketID">27</Field></Params>`, want: Reference{TicketID: 27}},
		{name: "xml latin1", ct: xmlCT, body: "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Ticket><Title>caf\xe9</Title><id>28</id></Ticket>",
			want: Reference{TicketID: 28}},
		{name: "xml external entity not expanded", ct: xmlCT,
			body: `<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><Ticket><id>&x;</id></Ticket>`, wantErr: ErrMalformedBody},
		{name: "xml mismatched tags", ct: xmlCT, body: `<Ticket><id>5</Ticket></id>`, wantErr: ErrMalformedBody},
		{name: "xml deeply nested is fine", ct: xmlCT,
			body: `<Ticket><id>29</id>` + strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000) + `</Ticket>`, want: Reference{TicketID: 29}},

		// forms and sniffing
		{name: "form bad escape is lenient", ct: formCT, body: `Title=50%+off&TicketID=30`, want: Reference{TicketID: 30}},
		{name: "form semicolons are not separators", ct: formCT, body: `TicketID=31;x=1`, wantErr: ErrNoTicketReference},
		{name: "form company id not a ticket id", ct: formCT, body: `CompanyID=174&AccountID=2`, wantErr: ErrNoTicketReference},
		{name: "sniff json", body: `{"ticketId":32}`, want: Reference{TicketID: 32}},
		{name: "sniff xml", ct: "text/plain; charset=utf-8", body: `<Ticket><id>33</id></Ticket>`, want: Reference{TicketID: 33}},
		{name: "sniff form", body: `TicketID=34`, want: Reference{TicketID: 34}},
		{name: "sniff text with number", ct: "text/plain", body: "Ticket T20261127.0035 was updated", want: Reference{TicketNumber: "T20261127.0035"}},
		{name: "sniffed json malformed", body: `{oops`, wantErr: ErrMalformedBody},
		{name: "garbled content type", ct: "application/json;;;=", body: `{"ticketId":36}`, want: Reference{TicketID: 36}},
		{name: "octet-stream text is sniffed", ct: "application/octet-stream", body: `TicketID=37`, want: Reference{TicketID: 37}},
		{name: "octet-stream binary", ct: "application/octet-stream", body: "\x00\x01\x02", wantErr: ErrUnsupportedMediaType},
		{name: "binary without type", body: "\x00\x01TicketID=5", wantErr: ErrUnsupportedMediaType},
		{name: "image with query id", ct: "image/png", query: "TicketID=38", body: "\x89PNG", want: Reference{TicketID: 38}},
		{name: "html is read as text", ct: "text/html", body: "<p>T20261127.0039</p>", want: Reference{TicketNumber: "T20261127.0039"}},
		{name: "multipart without boundary", ct: "multipart/form-data", body: "x", wantErr: ErrMalformedBody},
		{name: "nothing at all", wantErr: ErrNoTicketReference},

		// ticket-number shape
		{name: "shape needs word boundary before", body: "xT20261127.0001", ct: "text/plain", wantErr: ErrNoTicketReference},
		{name: "shape needs word boundary after", body: "T20261127.0001a", ct: "text/plain", wantErr: ErrNoTicketReference},
		{name: "shape needs four digits", body: "T20261127.001", ct: "text/plain", wantErr: ErrNoTicketReference},
		{name: "shape is case-sensitive", body: "t20261127.0001", ct: "text/plain", wantErr: ErrNoTicketReference},
		{name: "shape with long sequence", body: "(T20261127.123456)", ct: "text/plain", want: Reference{TicketNumber: "T20261127.123456"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			require.NoError(t, err)
			method := "POST"
			if tt.body == "" {
				method = "GET"
			}
			got, err := Parse(Request{Method: method, ContentType: tt.ct, Query: q, Body: []byte(tt.body)})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.Equal(t, Reference{}, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseErrorsAreDistinct(t *testing.T) {
	sentinels := []error{ErrNoTicketReference, ErrMalformedBody, ErrUnsupportedMediaType}
	for i, a := range sentinels {
		for j, b := range sentinels {
			require.Equal(t, i == j, errors.Is(a, b))
		}
	}
}

func TestReferenceJSON(t *testing.T) {
	b, err := json.Marshal(Reference{TicketID: 5, TicketNumber: "T20261127.0001"})
	require.NoError(t, err)
	require.JSONEq(t, `{"ticketId":5,"ticketNumber":"T20261127.0001"}`, string(b))
	b, err = json.Marshal(Reference{})
	require.NoError(t, err)
	require.Equal(t, `{}`, string(b))
}

var ticketNumberRE = regexp.MustCompile(`\bT\d{8}\.\d{4,}\b`)

// TestFindTicketNumberMatchesRegexp checks the hand-written matcher against the
// regexp it stands for.
func TestFindTicketNumberMatchesRegexp(t *testing.T) {
	check := func(s string) bool {
		i, j := findTicketNumber(s)
		loc := ticketNumberRE.FindStringIndex(s)
		if loc == nil {
			return i == -1
		}
		return i == loc[0] && j == loc[1]
	}
	for _, s := range []string{"", "T", "T20261127.0001", "aT20261127.0001", "T20261127.0001_", "T20261127.00012345",
		"T2026112.0001", "x T20261127.0001 y T20261127.0002", "TT20261127.0001", "T20261127.0001.5", "éT20261127.0001",
		"T20261127.000T20261127.0001", "-T20261127.0001-"} {
		require.True(t, check(s), s)
	}
	// Random strings over an alphabet that makes matches likely.
	gen := func(seed []byte) bool {
		const alpha = "T0123456789.Ta _é"
		var b strings.Builder
		for _, c := range seed {
			b.WriteByte(alpha[int(c)%len(alpha)])
		}
		return check(b.String())
	}
	require.NoError(t, quick.Check(gen, &quick.Config{MaxCount: 20000}))
}

func TestRedact(t *testing.T) {
	tests := []struct {
		name, ct, body, want string
	}{
		{"form", "application/x-www-form-urlencoded", "a=1&pass_word=x&API-KEY=y&username=u",
			"a=1&pass_word=[REDACTED]&API-KEY=[REDACTED]&username=u"},
		{"form empty secret kept", "application/x-www-form-urlencoded", "password=&a=1", "password=&a=1"},
		{"json depth", "application/json", `{"a":{"b":[{"Secret":"x"}]}}`, `{"a":{"b":[{"Secret":"[REDACTED]"}]}}`},
		{"json number value", "application/json", `{"pwd":1234}`, `{"pwd":"[REDACTED]"}`},
		{"json null kept", "application/json", `{"token":null}`, `{"token":null}`},
		{"json keeps whitespace", "application/json", "  {\"token\" : \"x\"}\n", "  {\"token\" : \"[REDACTED]\"}\n"},
		{"json escaped quote in text", "application/json", `{"d":"password=\"x y\""}`, `{"d":"password=\"[REDACTED]\""}`},
		{"xml attribute", "application/xml", `<a Password='x' b="y"/>`, `<a Password='[REDACTED]' b="y"/>`},
		{"xml nested secret", "application/xml", `<a><auth><u>x</u><p>y</p></auth></a>`, `<a><auth><u>[REDACTED]</u><p>[REDACTED]</p></auth></a>`},
		{"text authorization", "", "Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [REDACTED]"},
		{"text keeps username", "text/plain", "username: jdoe", "username: jdoe"},
		{"binary unchanged", "image/png", "\x89PNG\x00password", "\x89PNG\x00password"},
		{"empty", "application/json", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact(tt.ct, []byte(tt.body))
			require.Equal(t, tt.want, string(got))
		})
	}
}

func TestRedactDoesNotModifyInput(t *testing.T) {
	body := []byte(`{"password":"x"}`)
	_ = Redact("application/json", body)
	require.Equal(t, `{"password":"x"}`, string(body))
}

func TestRedactQuery(t *testing.T) {
	in := url.Values{"TicketID": {"5"}, "Password": {"x", ""}, "note": {"token=abc"}, "UserName": {"jdoe"}}
	got := RedactQuery(in)
	require.Equal(t, url.Values{"TicketID": {"5"}, "Password": {"[REDACTED]", ""}, "note": {"token=[REDACTED]"}, "UserName": {"jdoe"}}, got)
	require.Equal(t, []string{"x", ""}, in["Password"], "input unchanged")
	require.Nil(t, RedactQuery(nil))
}

func TestIsSecretKey(t *testing.T) {
	for _, k := range []string{"password", "Pass_Word", "PASSWD", "pwd", "secret", "clientSecret", "token", "accessToken",
		"apikey", "api_key", "API-Key", "Authorization", "auth", "key", "privateKey", "ApiIntegrationCode", "passwordHash"} {
		require.True(t, isSecretKey(normKey(k)), k)
	}
	for _, k := range []string{"username", "UserName", "TicketID", "ticketNumber", "title", "author", "id", "keyword"} {
		require.False(t, isSecretKey(normKey(k)), k)
	}
}

func TestRedactQuotedKeysInText(t *testing.T) {
	require.Equal(t, `{"d":"{\"password\": \"[REDACTED]\"}"}`,
		string(Redact("application/json", []byte(`{"d":"{\"password\": \"hunter2\"}"}`))))
	require.Equal(t, `{'token': '[REDACTED]', "id": 5`,
		string(Redact("application/json", []byte(`{'token': 'abc', "id": 5`))))
}
