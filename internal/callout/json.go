package callout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// jsonVisitor receives the structure of a JSON document in order. key is the member
// name of the value (hasKey false for array elements and the document itself);
// start and end are byte offsets of the value.
type jsonVisitor interface {
	open(key string, hasKey bool, start int)
	close(end int)
	scalar(key string, hasKey bool, start, end int)
}

// walkJSON walks a document that json.Valid accepted. It is iterative (no recursion),
// so nesting cannot exhaust the stack; json.Valid itself refuses nesting beyond 10000.
func walkJSON(data []byte, v jsonVisitor) {
	inObject := make([]bool, 0, 16) // per open container: object (true) or array
	expectKey := false
	key, hasKey := "", false
	i := 0
	for i < len(data) {
		c := data[i]
		switch c {
		case ' ', '\t', '\n', '\r', ':':
			i++
		case ',':
			expectKey = len(inObject) > 0 && inObject[len(inObject)-1]
			i++
		case '{', '[':
			v.open(key, hasKey, i)
			inObject = append(inObject, c == '{')
			expectKey = c == '{'
			key, hasKey = "", false
			i++
		case '}', ']':
			v.close(i + 1)
			if len(inObject) > 0 {
				inObject = inObject[:len(inObject)-1]
			}
			expectKey = false
			i++
		case '"':
			end := jsonStringEnd(data, i)
			if expectKey {
				key, hasKey = jsonString(data[i:end]), true
				expectKey = false
			} else {
				v.scalar(key, hasKey, i, end)
				key, hasKey = "", false
			}
			i = end
		default: // number, true, false, null
			end := i + 1
			for end < len(data) && !isJSONDelim(data[end]) {
				end++
			}
			v.scalar(key, hasKey, i, end)
			key, hasKey = "", false
			i = end
		}
	}
}

func isJSONDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r', ':':
		return true
	}
	return false
}

// jsonStringEnd returns the offset just after the string literal starting at data[i].
func jsonStringEnd(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(data)
}

// jsonString decodes a string literal (quotes included).
func jsonString(lit []byte) string {
	if len(lit) < 2 {
		return ""
	}
	if bytes.IndexByte(lit, '\\') < 0 {
		return string(lit[1 : len(lit)-1])
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return string(lit[1 : len(lit)-1])
	}
	return s
}

// jsonSyntaxError describes why json.Valid refused data.
func jsonSyntaxError(data []byte) error {
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return errors.New("invalid JSON")
}

// pairNameKeys and pairValueKeys name the members of a {"name": "TicketID", "value": 5}
// style pair.
func isPairNameKey(k string) bool {
	return k == "name" || k == "key" || k == "field" || k == "fieldname"
}

func isPairValueKey(k string) bool { return k == "value" || k == "val" || k == "fieldvalue" }

type jsonFrame struct {
	scope     scope
	pairName  string
	pairValue string
	pairIsNum bool
	hasName   bool
	hasValue  bool
}

// jsonCollector feeds a collector from walkJSON.
type jsonCollector struct {
	c      *collector
	data   []byte
	frames []jsonFrame
	skip   int // containers open beyond maxDepth
}

func (j *jsonCollector) current() scope {
	if len(j.frames) == 0 {
		return scopeTop
	}
	return j.frames[len(j.frames)-1].scope
}

func (j *jsonCollector) open(key string, hasKey bool, _ int) {
	if j.skip > 0 || len(j.frames) >= maxDepth {
		j.skip++
		return
	}
	s := j.current()
	if hasKey {
		s = childScope(s, normKey(key))
	}
	j.frames = append(j.frames, jsonFrame{scope: s})
}

func (j *jsonCollector) close(int) {
	if j.skip > 0 {
		j.skip--
		return
	}
	if len(j.frames) == 0 {
		return
	}
	f := j.frames[len(j.frames)-1]
	j.frames = j.frames[:len(j.frames)-1]
	if f.hasName && f.hasValue {
		j.c.field(f.scope, f.pairName, f.pairValue, f.pairIsNum)
	}
}

func (j *jsonCollector) scalar(key string, hasKey bool, start, end int) {
	if j.skip > 0 {
		return
	}
	lit := j.data[start:end]
	isString := lit[0] == '"'
	if !isString && (lit[0] == 't' || lit[0] == 'f' || lit[0] == 'n') {
		return // true, false, null
	}
	var val string
	if isString {
		val = jsonString(lit)
	} else {
		val = string(lit)
	}
	if !hasKey {
		if isString {
			j.c.textString(val)
		}
		return
	}
	j.c.field(j.current(), key, val, !isString)
	if n := len(j.frames); n > 0 {
		f := &j.frames[n-1]
		k := normKey(key)
		switch {
		case isPairNameKey(k) && isString && !f.hasName:
			f.pairName, f.hasName = val, true
		case isPairValueKey(k) && !f.hasValue:
			f.pairValue, f.pairIsNum, f.hasValue = val, !isString, true
		}
	}
}

// fromJSON collects from a JSON body.
func (c *collector) fromJSON(body []byte) error {
	if !json.Valid(body) {
		return jsonSyntaxError(body)
	}
	walkJSON(body, &jsonCollector{c: c, data: body, frames: make([]jsonFrame, 0, 8)})
	return nil
}
