package callout

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxLeafText is how much of an element's text is kept as its value.
const maxLeafText = 4096

// newXMLDecoder returns a strict decoder over body. It does not expand entities beyond
// XML's five and numeric references (encoding/xml never fetches external entities).
// Documents declaring a single-byte charset are read as Latin-1; other declared
// charsets are read as they stand (ids and ticket numbers are ASCII anyway).
func newXMLDecoder(body []byte, latin1 bool) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	d.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) {
		switch strings.ToLower(charset) {
		case "iso-8859-1", "latin1", "latin-1", "iso8859-1", "windows-1252", "cp1252", "us-ascii", "ascii":
			if latin1 {
				return latin1Reader{r: input}, nil
			}
		}
		return input, nil
	}
	return d
}

// latin1Reader converts ISO-8859-1 to UTF-8.
type latin1Reader struct{ r io.Reader }

func (l latin1Reader) Read(p []byte) (int, error) {
	if len(p) < 2 {
		return l.r.Read(p)
	}
	in := make([]byte, len(p)/2)
	n, err := l.r.Read(in)
	out := p[:0]
	for _, c := range in[:n] {
		out = utf8.AppendRune(out, rune(c))
	}
	return len(out), err
}

type xmlFrame struct {
	name     string // raw qualified name, to check the end tag
	local    string // normalised local name
	scope    scope  // scope of this element's children and attributes
	parent   scope  // scope this element sits in
	hasChild bool
	text     []byte
	nameAttr string // value of a name="..." attribute
	// a <Field><Name>TicketID</Name><Value>5</Value></Field> pair, from children
	pairName, pairValue string
	hasName, hasValue   bool
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// fromXML collects from an XML body: element text of leaf elements, attributes, name
// and value pairs, and ticket-number-shaped text anywhere.
func (c *collector) fromXML(body []byte) error {
	d := newXMLDecoder(body, true)
	frames := make([]xmlFrame, 0, 8)
	skip := 0 // elements open beyond maxDepth
	roots := 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("invalid XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if skip > 0 || len(frames) >= maxDepth {
				skip++
				continue
			}
			local := normKey(t.Name.Local)
			f := xmlFrame{name: qname(t.Name), local: local}
			if len(frames) == 0 {
				roots++
				f.parent = scopeTop
				f.scope = rootScope(local)
			} else {
				p := &frames[len(frames)-1]
				p.hasChild = true
				f.parent = p.scope
				f.scope = childScope(p.scope, local)
			}
			var valueAttr string
			var hasValueAttr bool
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				c.field(f.scope, a.Name.Local, a.Value, false)
				switch ak := normKey(a.Name.Local); {
				case isPairNameKey(ak):
					f.nameAttr = a.Value
				case isPairValueKey(ak):
					valueAttr, hasValueAttr = a.Value, true
				}
			}
			if f.nameAttr != "" && hasValueAttr {
				c.field(f.parent, f.nameAttr, valueAttr, false)
			}
			frames = append(frames, f)
		case xml.EndElement:
			if skip > 0 {
				skip--
				continue
			}
			if len(frames) == 0 {
				return fmt.Errorf("invalid XML: unexpected end element </%s>", qname(t.Name))
			}
			f := frames[len(frames)-1]
			frames = frames[:len(frames)-1]
			if f.name != qname(t.Name) {
				return fmt.Errorf("invalid XML: element <%s> closed by </%s>", f.name, qname(t.Name))
			}
			if f.hasName && f.hasValue {
				c.field(f.scope, f.pairName, f.pairValue, false)
			}
			if f.hasChild {
				continue
			}
			text := string(bytes.TrimSpace(f.text))
			c.field(f.parent, f.local, text, false)
			if f.nameAttr != "" {
				c.field(f.parent, f.nameAttr, text, false)
			}
			if len(frames) > 0 {
				p := &frames[len(frames)-1]
				switch {
				case isPairNameKey(f.local) && !p.hasName:
					p.pairName, p.hasName = text, true
				case isPairValueKey(f.local) && !p.hasValue:
					p.pairValue, p.hasValue = text, true
				}
			}
		case xml.CharData:
			if skip > 0 || len(frames) == 0 {
				continue
			}
			c.text(t)
			f := &frames[len(frames)-1]
			if room := maxLeafText - len(f.text); room > 0 {
				f.text = append(f.text, t[:min(len(t), room)]...)
			}
		}
	}
	if len(frames) > 0 || skip > 0 {
		return errors.New("invalid XML: unexpected end of document (unclosed elements)")
	}
	if roots == 0 {
		return errors.New("invalid XML: no root element")
	}
	return nil
}
