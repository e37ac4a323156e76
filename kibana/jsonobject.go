package kibana

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// Reading one member of a JSON object without decoding the others: a
// listed integration policy keeps its inputs object as JSON, and a plan
// reads one or two inputs of it (Input).

var errNotObject = errors.New("not a JSON object")

// objectMember returns the value of obj's member name (the last one when
// the key repeats, as a decoded map keeps it), obj being a valid JSON
// object (as encoding/json accepted it). An error means obj does not read
// as one; the caller decodes it instead.
func objectMember(obj []byte, name string) ([]byte, bool, error) {
	var (
		val   []byte
		found bool
	)
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false, errNotObject
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil, false, nil
	}
	for {
		if i >= len(obj) || obj[i] != '"' {
			return nil, false, errNotObject
		}
		end := skipString(obj, i)
		if end < 0 {
			return nil, false, errNotObject
		}
		key, err := objectKey(obj[i:end])
		if err != nil {
			return nil, false, err
		}
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, false, errNotObject
		}
		i = skipSpace(obj, i+1)
		vend := skipValue(obj, i)
		if vend < 0 {
			return nil, false, errNotObject
		}
		if key == name {
			val, found = obj[i:vend], true
		}
		i = skipSpace(obj, vend)
		switch {
		case i < len(obj) && obj[i] == ',':
			i = skipSpace(obj, i+1)
		case i < len(obj) && obj[i] == '}':
			return val, found, nil
		default:
			return nil, false, errNotObject
		}
	}
}

// objectKey is a quoted key as encoding/json decodes it.
func objectKey(quoted []byte) (string, error) {
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), nil
	}
	var k string
	err := json.Unmarshal(quoted, &k)
	return k, err
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] (a
// quote), -1 when it does not end.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at b[i], -1 when
// it does not end.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end := skipString(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && !isValueEnd(b[j]) {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// isValueEnd reports whether c ends a number or literal.
func isValueEnd(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}
