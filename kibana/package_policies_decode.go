package kibana

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Decoding a page of the integration-policy list: 4,000 policies are 4
// pages of ~1 MB on every plan. What a listed policy keeps is ipJSON's
// fields (see IntegrationPolicy: the update path echoes them back, the
// importer exports them), with inputs and vars as JSON text decoded on use.
//
// The one-pass decoder reads the page with valueParser: the top-level
// fields of each item are read into an ipJSON directly, inputs and vars are
// checked against JSON's grammar and kept as slices of the page (no copy),
// other members are checked and skipped. It gives exactly what
// encoding/json gives into ipJSON, or reports that it cannot: a key that
// differs from a field's only in case (encoding/json folds it onto the
// field), a repeated field (encoding/json merges into a struct), a value of
// another type than the field's (encoding/json's error is wanted), an item
// that is not an object. The page is then decoded by encoding/json as
// before. TestDecodeIntegrationPolicyPage and FuzzDecodeIntegrationPolicyPage
// hold it to encoding/json.

// decodeIntegrationPolicyPage decodes a page of the list (see above). A
// page that encoding/json does not decode into ipJSONs (a field of another
// type) is decoded again item by item, for the errors UnmarshalJSON gives.
func decodeIntegrationPolicyPage(b []byte, page *itemsResponse[IntegrationPolicy]) error {
	if fastIntegrationPolicyPage(b, page) {
		return nil
	}
	*page = itemsResponse[IntegrationPolicy]{}
	var slow itemsResponse[ipJSON]
	if err := json.Unmarshal(b, &slow); err != nil {
		return json.Unmarshal(b, page)
	}
	page.Total = slow.Total
	if slow.Items != nil {
		page.Items = make([]IntegrationPolicy, len(slow.Items))
	}
	for i := range slow.Items {
		page.Items[i] = slow.Items[i].policy()
	}
	return nil
}

// fastIntegrationPolicyPage is the one-pass decode; false leaves page
// untouched for encoding/json.
func fastIntegrationPolicyPage(b []byte, page *itemsResponse[IntegrationPolicy]) bool {
	p := valueParser{b: b, copyStrings: true}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	p.depth++
	var (
		out                itemsResponse[IntegrationPolicy]
		sawItems, sawTotal bool
		ok                 bool
		j                  int
	)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		*page = out
		return skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		var k string
		if k, j, ok = p.key(i); !ok {
			return false
		}
		if i = skipSpace(b, j); i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		switch {
		case k == "items":
			if sawItems {
				return false
			}
			sawItems = true
			if out.Items, j, ok = p.ipItems(i); !ok {
				return false
			}
		case k == "total":
			if sawTotal {
				return false
			}
			sawTotal = true
			if j, ok = p.intField(i, &out.Total); !ok {
				return false
			}
		case strings.EqualFold(k, "items") || strings.EqualFold(k, "total"):
			return false
		default:
			if j, ok = p.skip(i); !ok {
				return false
			}
		}
		i = skipSpace(b, j)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			if skipSpace(b, i+1) != len(b) {
				return false
			}
			*page = out
			return true
		default:
			return false
		}
	}
}

// ipItems reads the items array (null: nil, as encoding/json leaves it).
func (p *valueParser) ipItems(i int) ([]IntegrationPolicy, int, bool) {
	b := p.b
	if i < len(b) && b[i] == 'n' {
		j, ok := p.skip(i)
		return nil, j, ok
	}
	if i >= len(b) || b[i] != '[' {
		return nil, i, false
	}
	p.depth++
	// A capacity guess: an item of a real list is hundreds of bytes.
	out := make([]IntegrationPolicy, 0, min(len(b)/512, maxPackagePolicyPage))
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		p.depth--
		return out[:0:0], i + 1, true
	}
	for {
		var w ipJSON
		j, ok := p.ipItem(i, &w)
		if !ok {
			return nil, j, false
		}
		out = append(out, w.policy())
		i = skipSpace(b, j)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == ']':
			p.depth--
			return out, i + 1, true
		default:
			return nil, i, false
		}
	}
}

// ipFields are ipJSON's JSON names, in the order of the bits ipItem marks
// them seen with.
var ipFields = [...]string{"id", "name", "namespace", "description", "enabled", "policy_ids", "output_id", "package",
	"revision", "supports_agentless", "is_managed", "additional_datastreams_permissions", "secret_references", "vars", "inputs"}

// ipItem reads one item into w as encoding/json would (see the file's
// comment for what it refuses).
func (p *valueParser) ipItem(i int, w *ipJSON) (int, bool) {
	b := p.b
	if i >= len(b) || b[i] != '{' {
		return i, false
	}
	p.depth++
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		p.depth--
		return i + 1, true
	}
	var seen uint32
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
		i = skipSpace(b, i+1)
		field := -1
		for f, name := range ipFields {
			if k == name {
				field = f
				break
			}
		}
		if field < 0 {
			for _, name := range ipFields {
				if strings.EqualFold(k, name) {
					return i, false
				}
			}
			if j, ok = p.skip(i); !ok {
				return j, false
			}
		} else {
			if seen&(1<<field) != 0 {
				return i, false
			}
			seen |= 1 << field
			switch k {
			case "id":
				j, ok = p.stringField(i, &w.ID)
			case "name":
				j, ok = p.stringField(i, &w.Name)
			case "namespace":
				j, ok = p.stringField(i, &w.Namespace)
			case "description":
				j, ok = p.stringPtrField(i, &w.Description)
			case "output_id":
				j, ok = p.stringPtrField(i, &w.OutputID)
			case "enabled":
				j, ok = p.boolPtrField(i, &w.Enabled)
			case "supports_agentless":
				j, ok = p.boolPtrField(i, &w.SupportsAgentless)
			case "is_managed":
				j, ok = p.boolPtrField(i, &w.IsManaged)
			case "revision":
				j, ok = p.intField(i, &w.Revision)
			case "policy_ids":
				j, ok = p.stringsField(i, &w.PolicyIDs)
			case "package":
				j, ok = p.packageField(i, &w.Package)
			case "additional_datastreams_permissions":
				j, ok = p.anyListField(i, &w.AdditionalDatastreamsPermissions)
			case "secret_references":
				j, ok = p.secretRefsField(i, &w.SecretReferences)
			case "vars":
				j, ok = p.rawField(i, &w.Vars)
			case "inputs":
				j, ok = p.rawField(i, &w.Inputs)
			}
			if !ok {
				return j, false
			}
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

// isNull reports whether b[i:] starts with null (encoding/json leaves a
// field as it is for null, and sets a pointer or slice to nil).
func (p *valueParser) isNull(i int) bool {
	return i < len(p.b) && p.b[i] == 'n'
}

func (p *valueParser) stringField(i int, into *string) (int, bool) {
	if p.isNull(i) {
		return p.skip(i)
	}
	if i >= len(p.b) || p.b[i] != '"' {
		return i, false
	}
	v, j, ok := p.stringAt(i)
	if ok {
		*into = v
	}
	return j, ok
}

func (p *valueParser) stringPtrField(i int, into **string) (int, bool) {
	if p.isNull(i) {
		*into = nil
		return p.skip(i)
	}
	var s string
	j, ok := p.stringField(i, &s)
	if ok {
		*into = &s
	}
	return j, ok
}

func (p *valueParser) boolPtrField(i int, into **bool) (int, bool) {
	if p.isNull(i) {
		*into = nil
		return p.skip(i)
	}
	v, j, ok := p.value(i)
	t, isBool := v.(bool)
	if !ok || !isBool {
		return j, false
	}
	*into = &t
	return j, true
}

// intField reads an integer as encoding/json decodes one into an int: an
// integer literal only ("2.0" and "2e0" are errors there).
func (p *valueParser) intField(i int, into *int) (int, bool) {
	if p.isNull(i) {
		return p.skip(i)
	}
	if i >= len(p.b) || !(p.b[i] == '-' || isDigit(p.b[i])) {
		return i, false
	}
	j, integer, ok := scanNumber(p.b, i)
	if !ok || !integer {
		return j, false
	}
	n, err := strconv.ParseInt(string(p.b[i:j]), 10, 0)
	if err != nil {
		return j, false
	}
	*into = int(n)
	return j, true
}

func (p *valueParser) stringsField(i int, into *[]string) (int, bool) {
	if p.isNull(i) {
		*into = nil
		return p.skip(i)
	}
	v, j, ok := p.value(i)
	l, isList := v.([]any)
	if !ok || !isList {
		return j, false
	}
	out := make([]string, len(l))
	for n, e := range l {
		s, isStr := e.(string)
		if !isStr { // null leaves "" in encoding/json; not worth its own rule
			return j, false
		}
		out[n] = s
	}
	*into = out
	return j, true
}

func (p *valueParser) anyListField(i int, into *[]any) (int, bool) {
	if p.isNull(i) {
		*into = nil
		return p.skip(i)
	}
	dup := p.dup
	v, j, ok := p.value(i)
	l, isList := v.([]any)
	if !ok || !isList || p.dup != dup {
		return j, false
	}
	*into = l
	return j, true
}

// packageField reads the package object: name and version, other members
// skipped.
func (p *valueParser) packageField(i int, into *PackageRef) (int, bool) {
	if p.isNull(i) {
		return p.skip(i)
	}
	dup := p.dup
	v, j, ok := p.value(i)
	m, isObj := v.(map[string]any)
	if !ok || !isObj || p.dup != dup {
		return j, false
	}
	return j, stringMembers(m, map[string]*string{"name": &into.Name, "version": &into.Version})
}

// stringMembers sets the fields of m's string members as encoding/json
// decodes m into a struct of string fields named by fields; false for a
// member of another type, or a key differing from a field's only in case.
func stringMembers(m map[string]any, fields map[string]*string) bool {
	for k, v := range m {
		into, known := fields[k]
		if !known {
			for name := range fields {
				if strings.EqualFold(k, name) {
					return false
				}
			}
			continue
		}
		switch s := v.(type) {
		case nil:
		case string:
			*into = s
		default:
			return false
		}
	}
	return true
}

func (p *valueParser) secretRefsField(i int, into *[]struct{ ID string }) (int, bool) {
	if p.isNull(i) {
		*into = nil
		return p.skip(i)
	}
	dup := p.dup
	v, j, ok := p.value(i)
	l, isList := v.([]any)
	if !ok || !isList || p.dup != dup {
		return j, false
	}
	out := make([]struct{ ID string }, len(l))
	for n, e := range l {
		m, isObj := e.(map[string]any)
		if !isObj {
			return j, false
		}
		// An untagged field: every key equal to "ID" but for case is it,
		// the last in the document winning (which a map does not tell).
		folded := 0
		for k, v := range m {
			if !strings.EqualFold(k, "ID") {
				continue
			}
			if folded++; folded > 1 {
				return j, false
			}
			switch s := v.(type) {
			case nil:
			case string:
				out[n].ID = s
			default:
				return j, false
			}
		}
	}
	*into = out
	return j, true
}

// rawField keeps a value's text, as json.RawMessage does (a slice of the
// page rather than a copy: nothing writes to either).
func (p *valueParser) rawField(i int, into *json.RawMessage) (int, bool) {
	j, ok := p.skip(i)
	if ok {
		*into = p.b[i:j]
	}
	return j, ok
}

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
