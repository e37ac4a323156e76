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
	// doc is b as one string, converted on the first string value: plain
	// strings are slices of it rather than an allocation each. (They keep
	// the whole document in memory while any of them lives: the values of
	// a list are used together.)
	doc string
	// keys interns object keys with copyStrings.
	keys map[string]string
	// sizes is the member count of the last object at each depth, a hint
	// (up to 64) for the next one: a list's items are alike.
	sizes [8]int
	// rawOf names a member of the top-level object whose text is kept in raw.
	rawOf string
	raw   []byte
	// copyStrings copies each string value on its own instead of slicing
	// doc: for a document most of whose bytes are skipped (a list page
	// whose inputs are kept as text), where one copy of it all would cost
	// more than the few strings read.
	copyStrings bool
	// floatRange makes skip refuse a number out of float64's range, as
	// encoding/json does decoding one into an `any`.
	floatRange bool
	// dup is set when an object repeated a key (parseJSONValue keeps the
	// last, as encoding/json does into an `any`; into a struct or a map
	// field encoding/json merges, so a typed decoder refuses such input).
	dup bool
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
	var m map[string]any
	if p.depth < len(p.sizes) {
		m = make(map[string]any, min(p.sizes[p.depth], 64))
	} else {
		m = make(map[string]any)
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		p.depth--
		return m, i + 1, true
	}
	members := 0
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, i, false
		}
		k, j, ok := p.key(i)
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
		m[k] = v
		members++
		if p.depth == 1 && p.rawOf != "" && k == p.rawOf {
			p.raw = b[start:j]
		}
		i = skipSpace(b, j)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			if p.depth < len(p.sizes) {
				p.sizes[p.depth] = len(m)
			}
			if members != len(m) {
				p.dup = true
			}
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

// key reads an object key: a slice of doc, or with copyStrings interned
// (a list repeats the same few).
func (p *valueParser) key(i int) (string, int, bool) {
	j, plain, ok := p.scanString(i)
	if !ok {
		return "", j, false
	}
	if !plain {
		s, ok := unquote(p.b[i:j])
		return s, j, ok
	}
	if !p.copyStrings {
		// A slice of doc, as string values are: no allocation.
		if p.doc == "" {
			p.doc = string(p.b)
		}
		return p.doc[i+1 : j-1], j, true
	}
	raw := p.b[i+1 : j-1]
	if k, ok := p.keys[string(raw)]; ok {
		return k, j, true
	}
	if p.keys == nil {
		p.keys = make(map[string]string)
	}
	k := string(raw)
	p.keys[k] = k
	return k, j, true
}

// str reads the string value starting at the quote b[i].
func (p *valueParser) str(i int) (any, int, bool) {
	s, j, ok := p.stringAt(i)
	if !ok {
		return nil, j, false
	}
	return s, j, true
}

// stringAt is str's string, unboxed.
func (p *valueParser) stringAt(i int) (string, int, bool) {
	j, plain, ok := p.scanString(i)
	if !ok {
		return "", j, false
	}
	if !plain {
		s, ok := unquote(p.b[i:j])
		return s, j, ok
	}
	if p.copyStrings {
		return string(p.b[i+1 : j-1]), j, true
	}
	if p.doc == "" {
		p.doc = string(p.b)
	}
	return p.doc[i+1 : j-1], j, true
}

// scanString returns the index after the string starting at the quote
// b[i], and whether it is plain: no escape, valid UTF-8, so its bytes are
// its value. Other strings are for unquote.
func (p *valueParser) scanString(i int) (int, bool, bool) {
	b := p.b
	plain, ascii := true, true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, plain && (ascii || utf8.Valid(b[i+1:j])), true
		case c == '\\':
			plain = false
			j++ // the escaped byte (encoding/json checks the escape)
		case c < 0x20:
			return j, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return len(b), false, false
}

// unquote decodes a quoted string with escapes or invalid UTF-8 as
// encoding/json does (invalid UTF-8 becomes U+FFFD).
func unquote(quoted []byte) (string, bool) {
	var s string
	err := json.Unmarshal(quoted, &s)
	return s, err == nil
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
	j, integer, ok := scanNumber(b, i)
	if !ok {
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

// scanNumber returns the index after the number of JSON's grammar starting
// at b[i], and whether it is an integer (no fraction, no exponent).
func scanNumber(b []byte, i int) (int, bool, bool) {
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
		return j, false, false
	}
	integer := true
	if j < len(b) && b[j] == '.' {
		integer = false
		j++
		if j >= len(b) || !isDigit(b[j]) {
			return j, false, false
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
			return j, false, false
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	// A value must end at a delimiter: "01" or "1x" are not numbers.
	if j < len(b) && !isValueEnd(b[j]) {
		return j, false, false
	}
	return j, integer, true
}

// skip returns the index after the value starting at b[i], checked
// against JSON's grammar as encoding/json checks a document, without
// building it: what encoding/json keeps as a json.RawMessage. Unlike
// value, a number out of float64's range is accepted (a RawMessage holds
// it as text).
func (p *valueParser) skip(i int) (int, bool) {
	b := p.b
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '{', c == '[':
		if p.depth++; p.depth > maxParseDepth {
			return i, false
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == end {
			p.depth--
			return i + 1, true
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return i, false
				}
				j, ok := p.skipString(i)
				if !ok {
					return j, false
				}
				if i = skipSpace(b, j); i >= len(b) || b[i] != ':' {
					return i, false
				}
				i = skipSpace(b, i+1)
			}
			j, ok := p.skip(i)
			if !ok {
				return j, false
			}
			i = skipSpace(b, j)
			switch {
			case i < len(b) && b[i] == ',':
				i = skipSpace(b, i+1)
			case i < len(b) && b[i] == end:
				p.depth--
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == '"':
		return p.skipString(i)
	case c == 't':
		return i + 4, len(b)-i >= 4 && string(b[i:i+4]) == "true"
	case c == 'f':
		return i + 5, len(b)-i >= 5 && string(b[i:i+5]) == "false"
	case c == 'n':
		return i + 4, len(b)-i >= 4 && string(b[i:i+4]) == "null"
	case c == '-' || '0' <= c && c <= '9':
		j, integer, ok := scanNumber(b, i)
		if ok && p.floatRange && !(integer && j-i <= 15) {
			_, err := strconv.ParseFloat(string(b[i:j]), 64)
			ok = err == nil
		}
		return j, ok
	}
	return i, false
}

// skipString is scanString with the escapes of a string that is not plain
// checked (invalid UTF-8 is valid JSON: encoding/json replaces it).
func (p *valueParser) skipString(i int) (int, bool) {
	j, plain, ok := p.scanString(i)
	if !ok || plain {
		return j, ok
	}
	s := p.b[i+1 : j-1]
	for k := 0; k < len(s); k++ {
		if s[k] != '\\' {
			continue
		}
		k++
		switch s[k] { // scanString saw a byte after every backslash
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		case 'u':
			if k+4 >= len(s) {
				return j, false
			}
			for _, h := range s[k+1 : k+5] {
				if !isDigit(h) && !('a' <= h && h <= 'f') && !('A' <= h && h <= 'F') {
					return j, false
				}
			}
			k += 4
		default:
			return j, false
		}
	}
	return j, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
