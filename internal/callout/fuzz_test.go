package callout

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedInputs adds every golden input of dir to f via add.
func seedInputs(f *testing.F, dir string, add func(req Request)) {
	inputs, err := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, in := range inputs {
		raw, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		req, err := parseInput(raw)
		if err != nil {
			f.Fatal(err)
		}
		add(req)
	}
}

func FuzzParse(f *testing.F) {
	seedInputs(f, "parse", func(req Request) {
		f.Add(req.Method, req.ContentType, req.Query.Encode(), req.Body)
	})
	f.Fuzz(func(t *testing.T, method, contentType, rawQuery string, body []byte) {
		q, _ := url.ParseQuery(rawQuery) // keeps what it could parse
		ref, err := Parse(Request{Method: method, ContentType: contentType, Query: q, Body: body})
		if err != nil {
			if !errors.Is(err, ErrNoTicketReference) && !errors.Is(err, ErrMalformedBody) && !errors.Is(err, ErrUnsupportedMediaType) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			if ref != (Reference{}) {
				t.Fatalf("reference %+v returned with error %v", ref, err)
			}
			return
		}
		if ref.TicketID == 0 && ref.TicketNumber == "" {
			t.Fatal("no error and no reference")
		}
		if ref.TicketID < 0 {
			t.Fatalf("negative ticket id %d", ref.TicketID)
		}
		if ref.TicketNumber != "" && !isToken(ref.TicketNumber) {
			t.Fatalf("ticket number %q is not a token", ref.TicketNumber)
		}
		// Deterministic.
		again, err2 := Parse(Request{Method: method, ContentType: contentType, Query: q, Body: body})
		if err2 != nil || again != ref {
			t.Fatalf("second parse differs: %+v %v vs %+v", again, err2, ref)
		}
	})
}

func FuzzRedact(f *testing.F) {
	seedInputs(f, "redact", func(req Request) { f.Add(req.ContentType, req.Body) })
	seedInputs(f, "parse", func(req Request) { f.Add(req.ContentType, req.Body) })
	f.Add("application/json", []byte(`{"password":"pw-1","a":[{"token":{"x":"pw-2"}}],"name":"password","value":"pw-3"}`))
	f.Add("application/xml", []byte(`<a password="pw-1"><Password>pw-2</Password><f name="pwd" value="pw-3"/></a>`))
	f.Add("application/x-www-form-urlencoded", []byte(`password=pw-1&x=1`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		orig := bytes.Clone(body)
		out := Redact(contentType, body)
		if !bytes.Equal(body, orig) {
			t.Fatal("Redact modified its input")
		}
		kind, _, _, trimmed := classify(contentType, body)
		if kind == kindJSON && json.Valid(body) {
			if !json.Valid(out) {
				t.Fatalf("valid JSON became invalid:\n in: %q\nout: %q", body, out)
			}
			for _, secret := range jsonPasswordValues(t, trimmed) {
				if bytes.Contains(out, []byte(secret)) {
					t.Fatalf("password value %q survives in %q", secret, out)
				}
			}
		}
		if kind == kindForm {
			for _, secret := range formPasswordValues(trimmed) {
				if bytes.Contains(out, []byte(secret)) {
					t.Fatalf("password value %q survives in %q", secret, out)
				}
			}
		}
		// Idempotent: a redacted body has nothing left to redact (when it is read the
		// same way: masking binary junk can turn a body into text that sniffs as a form).
		if outKind, _, _, _ := classify(contentType, out); outKind != kind {
			return
		}
		if again := Redact(contentType, out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent:\n1: %q\n2: %q", out, again)
		}
	})
}

// jsonPasswordValues returns the string values held directly under a key normalising
// to "password" whose text is distinctive enough to search for (6+ characters that do
// not occur elsewhere as structure).
func jsonPasswordValues(t *testing.T, data []byte) []string {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil
	}
	var out []string
	var walk func(any, int)
	walk = func(v any, depth int) {
		if depth > 100 {
			return
		}
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				if s, ok := val.(string); ok && normKey(k) == "password" && distinctive(s, data) {
					out = append(out, s)
				}
				walk(val, depth+1)
			}
		case []any:
			for _, e := range x {
				walk(e, depth+1)
			}
		}
	}
	walk(v, 0)
	return out
}

func formPasswordValues(body []byte) []string {
	var out []string
	splitPairs(body, func(seg []byte, _ int) {
		k, v, ok := bytes.Cut(seg, []byte{'='})
		if ok && normKey(strings.TrimSpace(formUnescape(k))) == "password" && distinctive(string(v), body) {
			out = append(out, string(v))
		}
	})
	return out
}

// distinctive reports whether s can be searched for in a redacted body: long enough,
// plain characters, and found exactly once in the original (so that any occurrence in
// the output is a leak, not another field holding the same text).
func distinctive(s string, data []byte) bool {
	if len(s) < 6 || strings.Contains(Redacted, s) || strings.Contains(s, Redacted) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return bytes.Count(data, []byte(s)) == 1
}
