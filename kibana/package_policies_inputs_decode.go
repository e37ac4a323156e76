package kibana

import (
	"encoding/json"
	"strings"
)

// Decoding a listed integration policy's inputs and package vars, kept as
// JSON text by the list (package_policies_decode.go): in one pass with
// valueParser where it gives what encoding/json gives, by encoding/json
// otherwise. InputPart builds only the parts of an input a diff reads.

// decodeSimplifiedInput decodes one simplified input as json.Unmarshal
// into a SimplifiedInput does, in one pass when it can (an input is read
// from a listed policy for every declared input on every plan).
func decodeSimplifiedInput(b []byte) (SimplifiedInput, error) {
	if in, ok := fastSimplifiedInput(b); ok {
		return in, nil
	}
	var in SimplifiedInput
	err := json.Unmarshal(b, &in)
	return in, err
}

// fastSimplifiedInput is decodeSimplifiedInput's one pass; false for what
// it leaves to encoding/json: anything but an object or null, a repeated
// key (encoding/json merges a repeated vars or streams), a key differing
// from a field's only in case, a member of another type.
func fastSimplifiedInput(b []byte) (SimplifiedInput, bool) {
	p := valueParser{b: b}
	v, i, ok := p.value(skipSpace(b, 0))
	if !ok || skipSpace(b, i) != len(b) || p.dup {
		return SimplifiedInput{}, false
	}
	if v == nil {
		return SimplifiedInput{}, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return SimplifiedInput{}, false
	}
	var in SimplifiedInput
	for k, v := range m {
		switch k {
		case "enabled":
			if in.Enabled, ok = optBool(v); !ok {
				return SimplifiedInput{}, false
			}
		case "vars":
			if in.Vars, ok = optObject(v); !ok {
				return SimplifiedInput{}, false
			}
		case "streams":
			streams, ok := optObject(v)
			if !ok {
				return SimplifiedInput{}, false
			}
			if streams != nil {
				in.Streams = make(map[string]SimplifiedStream, len(streams))
			}
			for name, sv := range streams {
				if in.Streams[name], ok = simplifiedStreamOf(sv); !ok {
					return SimplifiedInput{}, false
				}
			}
		default:
			if foldsOnto(k, "enabled", "vars", "streams") {
				return SimplifiedInput{}, false
			}
		}
	}
	return in, true
}

func simplifiedStreamOf(v any) (SimplifiedStream, bool) {
	if v == nil {
		return SimplifiedStream{}, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return SimplifiedStream{}, false
	}
	var st SimplifiedStream
	for k, v := range m {
		switch k {
		case "enabled":
			if st.Enabled, ok = optBool(v); !ok {
				return SimplifiedStream{}, false
			}
		case "vars":
			if st.Vars, ok = optObject(v); !ok {
				return SimplifiedStream{}, false
			}
		default:
			if foldsOnto(k, "enabled", "vars") {
				return SimplifiedStream{}, false
			}
		}
	}
	return st, true
}

// optBool is a *bool field's value for v (null: nil).
func optBool(v any) (*bool, bool) {
	switch t := v.(type) {
	case nil:
		return nil, true
	case bool:
		return &t, true
	}
	return nil, false
}

// optObject is a map[string]any field's value for v (null: nil).
func optObject(v any) (map[string]any, bool) {
	switch t := v.(type) {
	case nil:
		return nil, true
	case map[string]any:
		return t, true
	}
	return nil, false
}

// foldsOnto reports whether encoding/json would match key k to one of the
// field names only by folding case.
func foldsOnto(k string, names ...string) bool {
	for _, n := range names {
		if k != n && strings.EqualFold(k, n) {
			return true
		}
	}
	return false
}

// decodeVars decodes a vars object as json.Unmarshal into a map[string]any
// does (a repeated key: the last, in both), in one pass when it can.
func decodeVars(b []byte) (map[string]any, error) {
	if v, ok := parseJSONValue(b); ok {
		switch t := v.(type) {
		case nil:
			return nil, nil
		case map[string]any:
			return t, nil
		}
	}
	var m map[string]any
	err := json.Unmarshal(b, &m)
	return m, err
}

// InputPart is Input with only the parts a diff of declared keys reads:
// the input's vars when vars is set (nil otherwise), and of its streams
// those for which stream is true (none when stream is nil; Streams is
// non-nil when the input has streams). It fails exactly when Input does,
// with Input's error: the rest of the input is checked, not built (an
// input lists every stream of the package with every var).
func (p *IntegrationPolicy) InputPart(name string, vars bool, stream func(string) bool) (SimplifiedInput, bool, error) {
	if p.Inputs == nil && p.rawInputs != nil {
		if b, ok, err := objectMember(p.rawInputs, name); err == nil {
			if !ok {
				return SimplifiedInput{}, false, nil
			}
			if in, ok := fastInputPart(b, vars, stream); ok {
				return in, true, nil
			}
		}
	}
	in, there, err := p.Input(name)
	return inputPart(in, vars, stream), there, err
}

// inputPart is in with only the parts InputPart keeps.
func inputPart(in SimplifiedInput, vars bool, stream func(string) bool) SimplifiedInput {
	if !vars {
		in.Vars = nil
	}
	if in.Streams != nil {
		kept := make(map[string]SimplifiedStream)
		for name, st := range in.Streams {
			if stream != nil && stream(name) {
				kept[name] = st
			}
		}
		in.Streams = kept
	}
	return in
}

// fastInputPart is InputPart's one pass over an input's text; false for
// what it leaves to Input (see fastSimplifiedInput), and for an input
// encoding/json would not decode.
func fastInputPart(b []byte, vars bool, stream func(string) bool) (SimplifiedInput, bool) {
	p := valueParser{b: b}
	i := skipSpace(b, 0)
	if i < len(b) && b[i] == 'n' {
		j, ok := p.skip(i)
		return SimplifiedInput{}, ok && skipSpace(b, j) == len(b)
	}
	in, j, ok := p.inputPart(i, vars, stream)
	return in, ok && skipSpace(b, j) == len(b)
}

func (p *valueParser) inputPart(i int, vars bool, stream func(string) bool) (SimplifiedInput, int, bool) {
	var in SimplifiedInput
	var seen [3]bool
	j, ok := p.members(i, func(k string, i int) (int, bool) {
		switch k {
		case "enabled":
			if seen[0] {
				return i, false
			}
			seen[0] = true
			return p.optBoolAt(i, &in.Enabled)
		case "vars":
			if seen[1] {
				return i, false
			}
			seen[1] = true
			if !vars {
				return p.checkVars(i)
			}
			return p.varsAt(i, &in.Vars)
		case "streams":
			if seen[2] {
				return i, false
			}
			seen[2] = true
			if p.isNull(i) {
				return p.skip(i)
			}
			in.Streams = map[string]SimplifiedStream{}
			return p.members(i, func(name string, i int) (int, bool) {
				if stream == nil || !stream(name) {
					return p.checkStream(i)
				}
				if _, dup := in.Streams[name]; dup {
					return i, false
				}
				var st SimplifiedStream
				j, ok := p.streamAt(i, &st)
				in.Streams[name] = st
				return j, ok
			})
		}
		if foldsOnto(k, "enabled", "vars", "streams") {
			return i, false
		}
		return p.skip(i)
	})
	return in, j, ok
}

// streamAt reads a wanted stream (null: the zero stream).
func (p *valueParser) streamAt(i int, st *SimplifiedStream) (int, bool) {
	if p.isNull(i) {
		return p.skip(i)
	}
	var seen [2]bool
	return p.members(i, func(k string, i int) (int, bool) {
		switch k {
		case "enabled":
			if seen[0] {
				return i, false
			}
			seen[0] = true
			return p.optBoolAt(i, &st.Enabled)
		case "vars":
			if seen[1] {
				return i, false
			}
			seen[1] = true
			return p.varsAt(i, &st.Vars)
		}
		if foldsOnto(k, "enabled", "vars") {
			return i, false
		}
		return p.skip(i)
	})
}

// checkStream checks a stream that is not kept as encoding/json would
// decode it into a SimplifiedStream: null or an object whose members
// matching enabled or vars (case folded) are of their types.
func (p *valueParser) checkStream(i int) (int, bool) {
	if p.isNull(i) {
		return p.skip(i)
	}
	return p.members(i, func(k string, i int) (int, bool) {
		switch {
		case strings.EqualFold(k, "enabled"):
			var b *bool
			return p.optBoolAt(i, &b)
		case strings.EqualFold(k, "vars"):
			return p.checkVars(i)
		}
		return p.skip(i)
	})
}

// members reads the object at b[i], calling member with each key and the
// index of its value; member returns the index after the value.
func (p *valueParser) members(i int, member func(k string, i int) (int, bool)) (int, bool) {
	b := p.b
	if i >= len(b) || b[i] != '{' {
		return i, false
	}
	if p.depth++; p.depth > maxParseDepth {
		return i, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		p.depth--
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		k, j, ok := p.key(i)
		if !ok {
			return j, false
		}
		if i = skipSpace(b, j); i >= len(b) || b[i] != ':' {
			return i, false
		}
		if j, ok = member(k, skipSpace(b, i+1)); !ok {
			return j, false
		}
		i = skipSpace(b, j)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			p.depth--
			return i + 1, true
		default:
			return i, false
		}
	}
}

// optBoolAt reads a *bool field (null: nil).
func (p *valueParser) optBoolAt(i int, into **bool) (int, bool) {
	v, j, ok := p.value(i)
	if !ok {
		return j, false
	}
	*into, ok = optBool(v)
	return j, ok
}

// varsAt reads a map[string]any field (null: nil). A repeated key inside
// is no concern: encoding/json keeps the last, as value does.
func (p *valueParser) varsAt(i int, into *map[string]any) (int, bool) {
	if i >= len(p.b) || p.b[i] != '{' && p.b[i] != 'n' {
		return i, false
	}
	v, j, ok := p.value(i)
	if !ok {
		return j, false
	}
	*into, ok = optObject(v)
	return j, ok
}

// checkVars checks, without building it, what varsAt would read.
func (p *valueParser) checkVars(i int) (int, bool) {
	if i >= len(p.b) || p.b[i] != '{' && p.b[i] != 'n' {
		return i, false
	}
	p.floatRange = true
	j, ok := p.skip(i)
	p.floatRange = false
	return j, ok
}
