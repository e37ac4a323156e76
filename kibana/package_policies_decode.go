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
				j, ok = p.internedField(i, &w.Namespace)
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
	b := p.b
	if i >= len(b) || b[i] != '[' {
		return i, false
	}
	out := make([]string, 0, 1)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		*into = out
		return i + 1, true
	}
	for {
		// An element that is not a string (null leaves "" in
		// encoding/json) is left to it.
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		s, j, ok := p.stringAt(i)
		if !ok {
			return j, false
		}
		out = append(out, s)
		i = skipSpace(b, j)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == ']':
			*into = out
			return i + 1, true
		default:
			return i, false
		}
	}
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

// packageField reads the package object: name and version (interned: a
// list repeats them), other members checked and skipped.
func (p *valueParser) packageField(i int, into *PackageRef) (int, bool) {
	if p.isNull(i) {
		return p.skip(i)
	}
	var seen [2]bool
	return p.members(i, func(k string, i int) (int, bool) {
		switch k {
		case "name":
			if seen[0] {
				return i, false
			}
			seen[0] = true
			return p.internedField(i, &into.Name)
		case "version":
			if seen[1] {
				return i, false
			}
			seen[1] = true
			return p.internedField(i, &into.Version)
		}
		if foldsOnto(k, "name", "version") {
			return i, false
		}
		return p.skip(i)
	})
}

// internedField is stringField for a value a list repeats (a namespace, a
// package name or version): one string per distinct value.
func (p *valueParser) internedField(i int, into *string) (int, bool) {
	if i >= len(p.b) || p.b[i] != '"' {
		return p.stringField(i, into) // null, or not a string: refused there
	}
	s, j, ok := p.key(i)
	if ok {
		*into = s
	}
	return j, ok
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
