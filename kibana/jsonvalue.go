package kibana

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// A one-pass JSON parser for the lists a plan reads on every turn (2,000
// agent policies are 2 pages of ~1 MB): encoding/json validates a document
// before it decodes it, and a type with UnmarshalJSON inside a list has
// each item scanned again (skip, validate, decode) — four passes over every
// byte. parseJSONValue produces exactly what json.Unmarshal into an `any`
// produces (map[string]any, []any, float64, string, bool, nil; the last of
// repeated keys), or reports that it did not; the caller then decodes with
// encoding/json, which also gives the error. FuzzParseJSONValue holds it to
// encoding/json.

// maxParseDepth bounds the recursion; deeper documents (encoding/json
// allows 10,000 levels) are left to encoding/json.
const maxParseDepth = 500

type valueParser struct {
	b     []byte
	depth int
	// rawOf names a member of the top-level object whose text is kept in raw.
	rawOf string
	raw   []byte
}

// parseJSONValue returns json.Unmarshal(b, &v)'s v and true, or false when
// b is not valid JSON or holds what this parser leaves to encoding/json (a
// number out of float64's range, deep nesting).
func parseJSONValue(b []byte) (any, bool) {
	p := valueParser{b: b}
	v, i, ok := p.value(skipSpace(b, 0))
	if !ok || skipSpace(b, i) != len(b) {
		return nil, false
	}
	return v, true
}

// parseJSONObject is parseJSONValue for a document that must be an
// object; it also returns the text of member rawOf's value (of its last
// occurrence, nil when absent), for a caller that decodes it into a type
// other than parseJSONValue's.
func parseJSONObject(b []byte, rawOf string) (map[string]any, []byte, bool) {
	p := valueParser{b: b, rawOf: rawOf}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, nil, false
	}
	v, i, ok := p.object(i)
	if !ok || skipSpace(b, i) != len(b) {
		return nil, nil, false
	}
	return v.(map[string]any), p.raw, true
}

func (p *valueParser) value(i int) (any, int, bool) {
	if i >= len(p.b) {
		return nil, i, false
	}
	switch c := p.b[i]; {
	case c == '{':
		return p.object(i)
	case c == '[':
		return p.array(i)
	case c == '"':
		return p.str(i)
	case c == 't':
		return p.literal(i, "true", true)
	case c == 'f':
		return p.literal(i, "false", false)
	case c == 'n':
		return p.literal(i, "null", nil)
	case c == '-' || '0' <= c && c <= '9':
		return p.number(i)
	}
	return nil, i, false
}

func (p *valueParser) object(i int) (any, int, bool) {
	if p.depth++; p.depth > maxParseDepth {
		return nil, i, false
	}
	b := p.b
	m := make(map[string]any)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		p.depth--
		return m, i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, i, false
		}
		k, j, ok := p.str(i)
		if !ok {
			return nil, j, false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return nil, i, false
		}
		start := skipSpace(b, i+1)
		v, j, ok := p.value(start)
		if !ok {
			return nil, j, false
		}
		m[k.(string)] = v
		if p.depth == 1 && p.rawOf != "" && k.(string) == p.rawOf {
			p.raw = b[start:j]
		}
		i = skipSpace(b, j)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			p.depth--
			return m, i + 1, true
		default:
			return nil, i, false
		}
	}
}

func (p *valueParser) array(i int) (any, int, bool) {
	if p.depth++; p.depth > maxParseDepth {
		return nil, i, false
	}
	b := p.b
	a := make([]any, 0)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		p.depth--
		return a, i + 1, true
	}
	for {
		v, j, ok := p.value(i)
		if !ok {
			return nil, j, false
		}
		a = append(a, v)
		i = skipSpace(b, j)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == ']':
			p.depth--
			return a, i + 1, true
		default:
			return nil, i, false
		}
	}
}

// str reads the string starting at the quote b[i]. Plain ones (no escape,
// valid UTF-8) are copied; others are unquoted by encoding/json, which
// also replaces invalid UTF-8 as its decoder does.
func (p *valueParser) str(i int) (any, int, bool) {
	b := p.b
	plain, ascii := true, true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			if plain && (ascii || utf8.Valid(b[i+1:j])) {
				return string(b[i+1 : j]), j + 1, true
			}
			var s string
			if err := json.Unmarshal(b[i:j+1], &s); err != nil {
				return nil, j + 1, false
			}
			return s, j + 1, true
		case c == '\\':
			plain = false
			j++ // the escaped byte (encoding/json checks the escape)
		case c < 0x20:
			return nil, j, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, len(b), false
}

func (p *valueParser) literal(i int, word string, v any) (any, int, bool) {
	if len(p.b)-i < len(word) || string(p.b[i:i+len(word)]) != word {
		return nil, i, false
	}
	return v, i + len(word), true
}

// number reads a number of JSON's grammar as a float64, as encoding/json
// does (strconv.ParseFloat); an out-of-range one is left to it.
func (p *valueParser) number(i int) (any, int, bool) {
	b := p.b
	j := i
	if b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && '1' <= b[j] && b[j] <= '9':
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	default:
		return nil, j, false
	}
	integer := true
	if j < len(b) && b[j] == '.' {
		integer = false
		j++
		if j >= len(b) || !isDigit(b[j]) {
			return nil, j, false
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		integer = false
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) || !isDigit(b[j]) {
			return nil, j, false
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	// A value must end at a delimiter: "01" or "1x" are not numbers.
	if j < len(b) && !isValueEnd(b[j]) {
		return nil, j, false
	}
	digits := b[i:j]
	if digits[0] == '-' {
		digits = digits[1:]
	}
	if integer && len(digits) <= 15 {
		// Exact in a float64: what ParseFloat returns, without it.
		var n int64
		for _, c := range digits {
			n = n*10 + int64(c-'0')
		}
		f := float64(n)
		if b[i] == '-' {
			f = -f
		}
		return f, j, true
	}
	f, err := strconv.ParseFloat(string(b[i:j]), 64)
	if err != nil {
		return nil, j, false
	}
	return f, j, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
