package callout

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/url"
	"slices"
	"strings"
)

// Redacted replaces the value of a credential-like field.
const Redacted = "[REDACTED]"

// secretSuffixes: a normalised key ending in one of these names a credential.
var secretSuffixes = []string{
	"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey",
	"authorization", "auth", "key", "credential", "credentials",
	"integrationcode", // Autotask's ApiIntegrationCode (tracking identifier)
}

// secretParts: a normalised key containing one of these names a credential too
// ("passwordHash", "tokenValue", "clientSecretId").
var secretParts = []string{"password", "passwd", "passphrase", "secret", "token", "apikey", "credential", "authorization"}

// isSecretKey reports whether a normalised key (see normKey) names a credential.
// "username" and other identifiers are kept.
func isSecretKey(k string) bool {
	for _, s := range secretSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	for _, s := range secretParts {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// Redact returns body with the values of credential-like fields (password, passwd,
// pwd, secret, token, apikey, authorization, auth, key ..., matched case-insensitively
// and ignoring _ - . and spaces) replaced by "[REDACTED]", for journaling.
//
// Form bodies keep their layout; JSON stays valid JSON (a credential holding an object
// or array is replaced whole); XML keeps its markup (element text and attribute values
// are replaced). Bodies that cannot be parsed are returned unchanged except that text
// like "password=..." or "token: ..." is masked. body itself is never modified; when
// nothing needs masking, body is returned as it is.
func Redact(contentType string, body []byte) []byte {
	kind, _, params, trimmed := classify(contentType, body)
	if kind == kindEmpty {
		return body
	}
	off := cap(body) - cap(trimmed) // trimmed is a sub-slice of body
	var out []byte
	switch kind {
	case kindJSON:
		out = redactJSONOrText(trimmed)
	case kindXML:
		out = redactXMLOrText(trimmed)
	case kindForm:
		out = maskText(redactForm(trimmed), true)
	case kindMultipart:
		out = redactMultipart(trimmed, params["boundary"])
	default:
		out = maskText(trimmed, true)
	}
	if len(out) == len(trimmed) && (len(out) == 0 || &out[0] == &trimmed[0]) {
		return body // unchanged
	}
	res := make([]byte, 0, off+len(out)+len(body)-off-len(trimmed))
	res = append(res, body[:off]...)
	res = append(res, out...)
	return append(res, body[off+len(trimmed):]...)
}

// RedactQuery returns a copy of v with the values of credential-like keys replaced by
// "[REDACTED]" and text like "password=..." masked in the other values.
func RedactQuery(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vals := range v {
		secret := isSecretKey(normKey(k))
		nv := make([]string, len(vals))
		for i, s := range vals {
			switch {
			case secret && s != "":
				nv[i] = Redacted
			case secret:
			default:
				nv[i] = string(maskText([]byte(s), true))
			}
		}
		out[k] = nv
	}
	return out
}

type span struct{ start, end int }

// replaceSpans returns data with each span replaced by repl. Spans may come in any
// order; a span starting inside an earlier one is dropped.
func replaceSpans(data []byte, spans []span, repl string) []byte {
	if len(spans) == 0 {
		return data
	}
	slices.SortFunc(spans, func(a, b span) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return b.end - a.end // longer first
	})
	out := make([]byte, 0, len(data))
	last := 0
	for _, s := range spans {
		if s.start < last || s.end > len(data) || s.start > s.end {
			continue
		}
		out = append(out, data[last:s.start]...)
		out = append(out, repl...)
		last = s.end
	}
	return append(out, data[last:]...)
}

// --- text ---------------------------------------------------------------------

func isKeyChar(c byte) bool {
	return isWordByte(c) || c == '-' || c == '.'
}

// maskText masks the value in text like "password=hunter2", "api_key = abc",
// "token: abc" (the last only when colon is set) and "Authorization: Bearer abc".
// The masked value never includes quotes, backslashes or markup characters, so JSON
// string literals and XML stay well formed.
func maskText(b []byte, colon bool) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' && !(colon && c == ':') {
			continue
		}
		e := i
		for e > 0 && i-e < 8 && (b[e-1] == ' ' || b[e-1] == '\t') {
			e--
		}
		var keyQuote byte
		escaped := false
		if e > 0 && (b[e-1] == '"' || b[e-1] == '\'') { // "password": "..." in broken JSON
			keyQuote = b[e-1]
			e--
			if e > 0 && b[e-1] == '\\' { // \"password\": \"...\" inside a JSON string
				escaped = true
				e--
			}
		}
		s := e
		for s > 0 && e-s < 64 && isKeyChar(b[s-1]) {
			s--
		}
		if keyQuote != 0 && (s == 0 || b[s-1] != keyQuote || escaped && (s < 2 || b[s-2] != '\\')) {
			continue
		}
		if s >= 6 && string(b[s-6:s]) == "xmlns:" {
			continue // a namespace prefix named like a credential
		}
		if s == e || s < last || !isSecretKey(normKey(string(b[s:e]))) {
			continue
		}
		v := i + 1
		for v < len(b) && (b[v] == ' ' || b[v] == '\t') {
			v++
		}
		var quote byte
		switch {
		case v < len(b) && (b[v] == '"' || b[v] == '\''):
			quote = b[v]
			v++
		case v+1 < len(b) && b[v] == '\\' && b[v+1] == '"': // inside a JSON string
			quote = '\\'
			v += 2
		}
		if keyQuote != 0 && quote == 0 {
			continue // "token": null, "token": 5: only string values are masked, keeping JSON valid
		}
		v = skipAuthScheme(b, v)
		if bytes.HasPrefix(b[v:], []byte(Redacted)) || bytes.HasPrefix(b[v:], []byte(`"`+Redacted)) {
			continue // already masked
		}
		end := v
		for end < len(b) && !isValueEnd(b[end], quote) {
			end++
		}
		if end == v {
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(b))
		}
		out = append(out, b[last:v]...)
		out = append(out, Redacted...)
		last = end
		i = end - 1
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// skipAuthScheme skips "Bearer " or "Basic " at b[v:], so the credential after it is masked.
func skipAuthScheme(b []byte, v int) int {
	for _, scheme := range []string{"bearer", "basic", "digest", "token"} {
		n := len(scheme)
		if v+n < len(b) && strings.EqualFold(string(b[v:v+n]), scheme) && (b[v+n] == ' ' || b[v+n] == '\t') {
			w := v + n
			for w < len(b) && (b[w] == ' ' || b[w] == '\t') {
				w++
			}
			return w
		}
	}
	return v
}

func isValueEnd(c, quote byte) bool {
	switch c {
	case '\\', '"', '\n', '\r', '<', '>':
		return true
	}
	if quote != 0 {
		return c == quote
	}
	switch c {
	case ' ', '\t', '&', ';', ',', '\'', ')', ']', '}':
		return true
	}
	return false
}

// --- form ---------------------------------------------------------------------

func redactForm(body []byte) []byte {
	var spans []span
	splitPairs(body, func(seg []byte, start int) {
		eq := bytes.IndexByte(seg, '=')
		if eq < 0 || eq == len(seg)-1 {
			return
		}
		if isSecretKey(normKey(strings.TrimSpace(formUnescape(seg[:eq])))) {
			spans = append(spans, span{start + eq + 1, start + len(seg)})
		}
	})
	return replaceSpans(body, spans, Redacted)
}

// --- multipart ----------------------------------------------------------------

// redactMultipart masks the content of parts whose field name is credential-like, and
// redacts JSON or XML parts as such. A body it cannot split is text-masked.
func redactMultipart(body []byte, boundary string) []byte {
	if boundary == "" {
		return maskText(body, true)
	}
	delim := []byte("--" + boundary)
	var out []byte
	pos := bytes.Index(body, delim)
	if pos < 0 {
		return maskText(body, true)
	}
	out = append(out, body[:pos]...)
	for n := 0; ; n++ {
		// body[pos:] starts with a delimiter.
		next := bytes.Index(body[pos+len(delim):], delim)
		if next < 0 || n >= maxParts {
			out = append(out, body[pos:]...)
			break
		}
		next += pos + len(delim)
		part := body[pos:next] // delimiter line, headers, blank line, content, CRLF
		hdrEnd, sepLen := bytes.Index(part, []byte("\r\n\r\n")), 4
		if hdrEnd < 0 {
			hdrEnd, sepLen = bytes.Index(part, []byte("\n\n")), 2
		}
		if hdrEnd < 0 {
			out = append(out, part...)
			pos = next
			continue
		}
		cStart := hdrEnd + sepLen
		cEnd := len(part)
		if bytes.HasSuffix(part, []byte("\r\n")) {
			cEnd -= 2
		} else if bytes.HasSuffix(part, []byte("\n")) {
			cEnd--
		}
		if cEnd < cStart {
			cEnd = cStart
		}
		header := part[:hdrEnd]
		content := part[cStart:cEnd]
		out = append(out, part[:cStart]...)
		switch {
		case isSecretKey(normKey(partName(header))) && len(content) > 0:
			out = append(out, Redacted...)
		default:
			pt, _ := mediaType(headerValue(header, "Content-Type"))
			if pt == "" || strings.HasPrefix(pt, "multipart/") {
				pt = "text/plain"
			}
			out = append(out, Redact(pt, content)...)
		}
		out = append(out, part[cEnd:]...)
		pos = next
	}
	return out
}

func headerValue(header []byte, name string) string {
	for _, line := range bytes.Split(header, []byte{'\n'}) {
		k, v, ok := bytes.Cut(bytes.TrimRight(line, "\r"), []byte{':'})
		if ok && strings.EqualFold(strings.TrimSpace(string(k)), name) {
			return strings.TrimSpace(string(v))
		}
	}
	return ""
}

// --- JSON ---------------------------------------------------------------------

func redactJSONOrText(body []byte) []byte {
	if !json.Valid(body) {
		return maskText(body, true)
	}
	r := &jsonRedactor{data: body}
	walkJSON(body, r)
	return maskText(replaceSpans(body, r.spans, `"`+Redacted+`"`), true)
}

type jrFrame struct {
	start       int
	secret      bool // this container is a credential: replaced whole
	suppressed  bool // inside a credential
	isPairValue bool // this container is the "value" of a name/value pair
	nameSecret  bool // a "name" member names a credential
	value       span
	hasValue    bool
}

type jsonRedactor struct {
	data   []byte
	frames []jrFrame
	spans  []span
}

func (r *jsonRedactor) top() *jrFrame {
	if len(r.frames) == 0 {
		return nil
	}
	return &r.frames[len(r.frames)-1]
}

func (r *jsonRedactor) open(key string, hasKey bool, start int) {
	f := jrFrame{start: start}
	if p := r.top(); p != nil && p.suppressed {
		f.suppressed = true
	} else if hasKey {
		k := normKey(key)
		f.secret = isSecretKey(k)
		f.suppressed = f.secret
		f.isPairValue = isPairValueKey(k)
	}
	r.frames = append(r.frames, f)
}

func (r *jsonRedactor) close(end int) {
	f := r.top()
	if f == nil {
		return
	}
	r.frames = r.frames[:len(r.frames)-1]
	if f.secret {
		r.spans = append(r.spans, span{f.start, end})
	}
	if f.nameSecret && f.hasValue {
		r.spans = append(r.spans, f.value)
	}
	if p := r.top(); p != nil && f.isPairValue && !p.hasValue {
		p.value, p.hasValue = span{f.start, end}, true
	}
}

func (r *jsonRedactor) scalar(key string, hasKey bool, start, end int) {
	f := r.top()
	if !hasKey || f == nil || f.suppressed {
		return
	}
	lit := r.data[start:end]
	if bytes.Equal(lit, []byte("null")) {
		return
	}
	k := normKey(key)
	if isSecretKey(k) {
		r.spans = append(r.spans, span{start, end})
	}
	if isPairNameKey(k) && lit[0] == '"' && isSecretKey(normKey(jsonString(lit))) {
		f.nameSecret = true
	}
	if isPairValueKey(k) && !f.hasValue {
		f.value, f.hasValue = span{start, end}, true
	}
}

// --- XML ----------------------------------------------------------------------

func redactXMLOrText(body []byte) []byte {
	out, ok := redactXML(body)
	if !ok {
		return maskText(body, true)
	}
	return maskText(out, false)
}

type xrFrame struct {
	name       string
	local      string
	secret     bool // text inside is a credential
	hasChild   bool
	text       []byte // leading text, for <Name>password</Name>
	textSpans  []span
	nameSecret bool
	valueSpans []span
}

// redactXML masks element text and attribute values of credentials, keeping every
// other byte. ok is false when body is not well-formed XML.
func redactXML(body []byte) (_ []byte, ok bool) {
	d := newXMLDecoder(body, false) // no charset conversion: offsets must stay byte offsets
	var frames []xrFrame
	var spans []span
	for {
		prev := int(d.InputOffset())
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false
		}
		off := int(d.InputOffset())
		switch t := tok.(type) {
		case xml.StartElement:
			f := xrFrame{name: qname(t.Name), local: normKey(t.Name.Local)}
			parentSecret := false
			if n := len(frames); n > 0 {
				frames[n-1].hasChild = true
				parentSecret = frames[n-1].secret
			}
			f.secret = parentSecret || isSecretKey(f.local)
			valueAttrSecret := false
			for _, a := range t.Attr {
				if isPairNameKey(normKey(a.Name.Local)) && isSecretKey(normKey(a.Value)) {
					f.secret, valueAttrSecret = true, true
				}
			}
			if off <= len(body) && prev < off {
				for _, a := range scanAttrs(body, prev, off) {
					nk := normKey(a.local)
					if isSecretKey(nk) || valueAttrSecret && isPairValueKey(nk) || parentSecret {
						if a.start < a.end {
							spans = append(spans, span{a.start, a.end})
						}
					}
				}
			}
			frames = append(frames, f)
		case xml.EndElement:
			n := len(frames)
			if n == 0 || frames[n-1].name != qname(t.Name) {
				return nil, false
			}
			f := frames[n-1]
			frames = frames[:n-1]
			if f.nameSecret {
				spans = append(spans, f.valueSpans...)
			}
			if n > 1 {
				p := &frames[n-2]
				switch {
				case isPairNameKey(f.local) && !f.hasChild && isSecretKey(normKey(string(bytes.TrimSpace(f.text)))):
					p.nameSecret = true
				case isPairValueKey(f.local):
					p.valueSpans = append(p.valueSpans, f.textSpans...)
				}
			}
		case xml.CharData:
			n := len(frames)
			if n == 0 || len(bytes.TrimSpace(t)) == 0 || off > len(body) {
				continue
			}
			f := &frames[n-1]
			sp := span{prev, off}
			if f.secret {
				spans = append(spans, sp)
			}
			f.textSpans = append(f.textSpans, sp)
			if len(f.text) < 256 {
				f.text = append(f.text, t[:min(len(t), 256)]...)
			}
		}
	}
	if len(frames) > 0 {
		return nil, false
	}
	return replaceSpans(body, spans, Redacted), true
}

type rawAttr struct {
	local      string
	start, end int // the value, without quotes
}

// scanAttrs lists the attributes of the start tag at body[from:to], which the XML
// decoder has already accepted.
func scanAttrs(body []byte, from, to int) []rawAttr {
	tag := body[from:to]
	i := bytes.IndexByte(tag, '<')
	if i < 0 {
		return nil
	}
	i++
	for i < len(tag) && !isXMLSpace(tag[i]) && tag[i] != '>' && tag[i] != '/' {
		i++
	}
	var attrs []rawAttr
	for i < len(tag) {
		for i < len(tag) && isXMLSpace(tag[i]) {
			i++
		}
		if i >= len(tag) || tag[i] == '>' || tag[i] == '/' {
			break
		}
		ns := i
		for i < len(tag) && tag[i] != '=' && !isXMLSpace(tag[i]) {
			i++
		}
		name := string(tag[ns:i])
		for i < len(tag) && (isXMLSpace(tag[i]) || tag[i] == '=') {
			i++
		}
		if i >= len(tag) || tag[i] != '"' && tag[i] != '\'' {
			break
		}
		q := tag[i]
		i++
		vs := i
		for i < len(tag) && tag[i] != q {
			i++
		}
		i++
		if name == "xmlns" || strings.HasPrefix(name, "xmlns:") {
			continue // namespace declarations are never credentials
		}
		if _, local, ok := strings.Cut(name, ":"); ok {
			name = local
		}
		attrs = append(attrs, rawAttr{local: name, start: from + vs, end: from + i - 1})
	}
	return attrs
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
