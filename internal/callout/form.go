package callout

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
)

// splitPairs calls fn for each segment of a "Name Value Pair" body. Pairs are separated
// by '&' or line breaks (Autotask's format is unpublished; both are seen in the wild).
func splitPairs(body []byte, fn func(seg []byte, start int)) {
	start := 0
	for i := 0; i <= len(body); i++ {
		if i == len(body) || body[i] == '&' || body[i] == '\n' || body[i] == '\r' {
			if i > start {
				fn(body[start:i], start)
			}
			start = i + 1
		}
	}
}

// formUnescape decodes a form key or value; text that is not valid percent-encoding
// ("50% off") is taken as it stands, with '+' as space.
func formUnescape(b []byte) string {
	if bytes.IndexByte(b, '%') < 0 && bytes.IndexByte(b, '+') < 0 {
		return string(b)
	}
	s, err := url.QueryUnescape(string(b))
	if err != nil {
		return strings.ReplaceAll(string(b), "+", " ")
	}
	return s
}

// fromForm collects from a form body, leniently: it never fails.
func (c *collector) fromForm(body []byte) {
	splitPairs(body, func(seg []byte, _ int) {
		k, v, ok := bytes.Cut(seg, []byte{'='})
		if !ok {
			c.textString(formUnescape(seg))
			return
		}
		c.field(scopeTop, strings.TrimSpace(formUnescape(k)), formUnescape(v), false)
	})
}

// fromMultipart collects from a multipart/form-data body: each field is a top-level
// pair; a part that is itself JSON or XML is read as such.
func (c *collector) fromMultipart(body []byte, boundary string) error {
	if boundary == "" {
		return errors.New("multipart body without a boundary parameter")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for n := 0; n < maxParts; n++ {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			if n == 0 {
				return errors.New("multipart body without parts")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("multipart part %d: %w", n+1, err)
		}
		data, err := io.ReadAll(io.LimitReader(p, maxPartBytes))
		if err != nil {
			return fmt.Errorf("multipart part %d: %w", n+1, err)
		}
		pt, _ := mediaType(p.Header.Get("Content-Type"))
		switch {
		case pt == "application/json" || strings.HasSuffix(pt, "+json") ||
			pt == "application/xml" || pt == "text/xml" || strings.HasSuffix(pt, "+xml"):
			var sub collector
			if _, err := sub.fromBody(pt, data); err == nil {
				c.merge(sub)
			}
		case p.FormName() != "":
			c.field(scopeTop, p.FormName(), string(data), false)
		default:
			c.text(data)
		}
	}
	return nil
}

// merge takes sub's findings where they rank higher.
func (c *collector) merge(sub collector) {
	if sub.idRank > c.idRank {
		c.id, c.idRank = sub.id, sub.idRank
	}
	if sub.numRank > c.numRank {
		c.num, c.numRank = sub.num, sub.numRank
	}
}

// partName returns the form field name of a multipart part's header block.
func partName(header []byte) string {
	for _, line := range bytes.Split(header, []byte{'\n'}) {
		k, v, ok := bytes.Cut(bytes.TrimRight(line, "\r"), []byte{':'})
		if !ok || !strings.EqualFold(strings.TrimSpace(string(k)), "Content-Disposition") {
			continue
		}
		_, params, err := mime.ParseMediaType(strings.TrimSpace(string(v)))
		if err != nil {
			return ""
		}
		return params["name"]
	}
	return ""
}
