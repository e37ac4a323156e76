package esim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// matcher decides whether a document matches a query.
type matcher func(d *searchDoc) bool

// searchDoc is a document with its decoded source.
type searchDoc struct {
	Doc
	src  map[string]any
	sort []any // sort values, filled by sortHits
	// shardDoc is the document's position in a point in time (the
	// _shard_doc sort value); only PIT searches set it.
	shardDoc int64
}

// values returns every value of a field in the source: dotted paths descend
// into objects, arrays contribute each element, as ES indexes them.
func (d *searchDoc) values(field string) []any {
	return d.valuesAt(fieldPath(field))
}

// fieldPath splits a field name once, at query compile time.
func fieldPath(field string) []string { return strings.Split(field, ".") }

func (d *searchDoc) valuesAt(path []string) []any {
	var out []any
	d.eachValue(path, func(v any) bool { out = append(out, v); return false })
	return out
}

// eachValue calls fn for every value of the field until fn returns true,
// and reports whether it did. Top-level scalars, the common case, cost no
// allocation.
func (d *searchDoc) eachValue(path []string, fn func(any) bool) bool {
	if len(path) == 1 {
		switch path[0] {
		case "_id":
			return fn(d.ID)
		case "_index":
			return fn(d.Index)
		}
		if v, ok := d.src[path[0]]; ok {
			switch v.(type) {
			case string, float64, bool:
				return fn(v)
			}
		}
	}
	var out []any
	collect(d.src, path, &out)
	for _, v := range out {
		if fn(v) {
			return true
		}
	}
	return false
}

func collect(v any, path []string, out *[]any) {
	if len(path) == 0 {
		switch t := v.(type) {
		case []any:
			for _, e := range t {
				collect(e, nil, out)
			}
		case nil:
		default:
			*out = append(*out, t)
		}
		return
	}
	switch t := v.(type) {
	case map[string]any:
		// Keys may themselves contain dots ("a.b": 1), so try every split.
		for i := len(path); i >= 1; i-- {
			if child, ok := t[strings.Join(path[:i], ".")]; ok {
				collect(child, path[i:], out)
			}
		}
	case []any:
		for _, e := range t {
			collect(e, path, out)
		}
	}
}

// equalValue compares a query value with a field value the way a keyword,
// numeric or boolean field would.
func equalValue(q, v any) bool {
	switch qt := q.(type) {
	case string:
		switch vt := v.(type) {
		case string:
			return qt == vt
		case float64:
			return qt == fmt.Sprint(vt)
		case bool:
			return qt == fmt.Sprint(vt)
		}
	case float64:
		switch vt := v.(type) {
		case float64:
			return qt == vt
		case string:
			return fmt.Sprint(qt) == vt
		}
	case bool:
		switch vt := v.(type) {
		case bool:
			return qt == vt
		case string:
			return fmt.Sprint(qt) == vt
		}
	}
	return false
}

// compileQuery turns a query DSL object into a matcher. It supports
// match_all, match_none, term, terms, ids, exists, prefix, range, match (exact
// value or token), and bool with must/filter/should/must_not.
func compileQuery(raw json.RawMessage) (matcher, *Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return func(*searchDoc) bool { return true }, nil
	}
	var q map[string]json.RawMessage
	if err := json.Unmarshal(raw, &q); err != nil {
		return nil, errParsing("[_na] query malformed, must start with start_object")
	}
	if len(q) != 1 {
		if len(q) == 0 {
			return func(*searchDoc) bool { return true }, nil
		}
		return nil, errParsing("[%s] malformed query, expected [END_OBJECT] but found [FIELD_NAME]", sortedKeys(q)[0])
	}
	for kind, body := range q {
		switch kind {
		case "match_all":
			return func(*searchDoc) bool { return true }, nil
		case "match_none":
			return func(*searchDoc) bool { return false }, nil
		case "term":
			field, value, e := fieldValue(kind, body)
			if e != nil {
				return nil, e
			}
			path := fieldPath(field)
			return func(d *searchDoc) bool {
				return d.eachValue(path, func(v any) bool { return equalValue(value, v) })
			}, nil
		case "match":
			field, value, e := fieldValue(kind, body)
			if e != nil {
				return nil, e
			}
			return func(d *searchDoc) bool {
				return slices.ContainsFunc(d.values(field), func(v any) bool { return matchText(value, v) })
			}, nil
		case "prefix":
			field, value, e := fieldValue(kind, body)
			if e != nil {
				return nil, e
			}
			p, _ := value.(string)
			return func(d *searchDoc) bool {
				return slices.ContainsFunc(d.values(field), func(v any) bool { s, ok := v.(string); return ok && strings.HasPrefix(s, p) })
			}, nil
		case "terms":
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				return nil, errParsing("[terms] query malformed, no start_object after query name")
			}
			delete(m, "boost")
			if len(m) != 1 {
				return nil, errParsing("[terms] query does not support multiple fields")
			}
			for field, v := range m {
				list, ok := v.([]any)
				if !ok {
					return nil, errParsing("[terms] query does not support [%s]", field)
				}
				path := fieldPath(field)
				return func(d *searchDoc) bool {
					return d.eachValue(path, func(fv any) bool {
						return slices.ContainsFunc(list, func(q any) bool { return equalValue(q, fv) })
					})
				}, nil
			}
		case "ids":
			var b struct {
				Values []string `json:"values"`
			}
			if err := json.Unmarshal(body, &b); err != nil {
				return nil, errParsing("[ids] query malformed")
			}
			return func(d *searchDoc) bool { return slices.Contains(b.Values, d.ID) }, nil
		case "exists":
			var b struct {
				Field string `json:"field"`
			}
			if err := json.Unmarshal(body, &b); err != nil || b.Field == "" {
				return nil, errParsing("[exists] must be provided with a [field]")
			}
			return func(d *searchDoc) bool { return len(d.values(b.Field)) > 0 }, nil
		case "range":
			return compileRange(body)
		case "bool":
			return compileBool(body)
		default:
			return nil, errParsing("unknown query [%s]", kind)
		}
	}
	panic("unreachable")
}

// fieldValue reads {"field": value} or {"field": {"value": value}} (match: "query").
func fieldValue(kind string, body json.RawMessage) (string, any, *Error) {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || len(m) != 1 {
		return "", nil, errParsing("[%s] query doesn't support multiple fields, found [%d]", kind, len(m))
	}
	for field, v := range m {
		if obj, ok := v.(map[string]any); ok {
			key := "value"
			if kind == "match" {
				key = "query"
			}
			val, ok := obj[key]
			if !ok {
				return "", nil, errParsing("[%s] query does not support [%s]", kind, strings.Join(sortedKeys(obj), ","))
			}
			return field, val, nil
		}
		return field, v, nil
	}
	panic("unreachable")
}

// matchText approximates a match query: exact value, or any whitespace token
// of a text value equal to the query (case-insensitive).
func matchText(q, v any) bool {
	if equalValue(q, v) {
		return true
	}
	qs, ok1 := q.(string)
	vs, ok2 := v.(string)
	if !ok1 || !ok2 {
		return false
	}
	for _, tok := range strings.Fields(strings.ToLower(vs)) {
		for _, qt := range strings.Fields(strings.ToLower(qs)) {
			if tok == qt {
				return true
			}
		}
	}
	return false
}

func compileRange(body json.RawMessage) (matcher, *Error) {
	var m map[string]map[string]any
	if err := json.Unmarshal(body, &m); err != nil || len(m) != 1 {
		return nil, errParsing("[range] query doesn't support multiple fields")
	}
	for field, bounds := range m {
		return func(d *searchDoc) bool {
			return slices.ContainsFunc(d.values(field), func(v any) bool {
				for op, b := range bounds {
					c, ok := compareValues(v, b)
					if !ok {
						return false
					}
					switch op {
					case "gt":
						ok = c > 0
					case "gte":
						ok = c >= 0
					case "lt":
						ok = c < 0
					case "lte":
						ok = c <= 0
					default:
						ok = true
					}
					if !ok {
						return false
					}
				}
				return true
			})
		}, nil
	}
	panic("unreachable")
}

// compareValues orders two field values of the same kind.
func compareValues(a, b any) (int, bool) {
	switch at := a.(type) {
	case float64:
		if bt, ok := b.(float64); ok {
			switch {
			case at < bt:
				return -1, true
			case at > bt:
				return 1, true
			}
			return 0, true
		}
	case string:
		if bt, ok := b.(string); ok {
			return strings.Compare(at, bt), true
		}
	case bool:
		if bt, ok := b.(bool); ok {
			switch {
			case at == bt:
				return 0, true
			case !at:
				return -1, true
			}
			return 1, true
		}
	}
	return 0, false
}

func compileBool(body json.RawMessage) (matcher, *Error) {
	var b map[string]json.RawMessage
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, errParsing("[bool] query malformed, no start_object after query name")
	}
	clauses := map[string][]matcher{}
	minShould := -1
	for key, raw := range b {
		switch key {
		case "must", "filter", "should", "must_not":
			var list []json.RawMessage
			if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
				if err := json.Unmarshal(raw, &list); err != nil {
					return nil, errParsing("[bool] malformed [%s]", key)
				}
			} else {
				list = []json.RawMessage{raw}
			}
			for _, c := range list {
				m, e := compileQuery(c)
				if e != nil {
					return nil, e
				}
				clauses[key] = append(clauses[key], m)
			}
		case "minimum_should_match":
			if err := json.Unmarshal(raw, &minShould); err != nil {
				var s string
				if json.Unmarshal(raw, &s) != nil {
					return nil, errParsing("[bool] malformed [minimum_should_match]")
				}
				if _, err := fmt.Sscanf(s, "%d", &minShould); err != nil {
					return nil, errParsing("[bool] minimum_should_match [%s] is not simulated", s)
				}
			}
		case "boost", "_name":
		default:
			return nil, errParsing("[bool] query does not support [%s]", key)
		}
	}
	if minShould < 0 {
		minShould = 0
		if len(clauses["must"]) == 0 && len(clauses["filter"]) == 0 && len(clauses["should"]) > 0 {
			minShould = 1
		}
	}
	must := append(clauses["must"], clauses["filter"]...)
	mustNot, should := clauses["must_not"], clauses["should"]
	return func(d *searchDoc) bool {
		for _, m := range must {
			if !m(d) {
				return false
			}
		}
		for _, m := range mustNot {
			if m(d) {
				return false
			}
		}
		n := 0
		for _, m := range should {
			if m(d) {
				n++
			}
		}
		return n >= minShould
	}, nil
}

// sortKey is one compiled sort clause.
type sortKey struct {
	field string
	desc  bool
	path  []string
}

// parseSort reads a sort spec: "field", {"field":"desc"}, {"field":{"order":"asc"}} or a list of them.
func parseSort(raw json.RawMessage) ([]sortKey, *Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, nil
	}
	var list []json.RawMessage
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, errParsing("malformed sort")
		}
	} else {
		list = []json.RawMessage{raw}
	}
	var keys []sortKey
	for _, item := range list {
		var s string
		if json.Unmarshal(item, &s) == nil {
			keys = append(keys, sortKey{field: s, desc: s == "_score"})
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(item, &m); err != nil || len(m) != 1 {
			return nil, errParsing("malformed sort")
		}
		for field, spec := range m {
			order := ""
			if json.Unmarshal(spec, &order) != nil {
				var o struct {
					Order string `json:"order"`
				}
				if err := json.Unmarshal(spec, &o); err != nil {
					return nil, errParsing("malformed sort for [%s]", field)
				}
				order = o.Order
			}
			switch order {
			case "", "asc":
				keys = append(keys, sortKey{field: field, desc: order == "" && field == "_score"})
			case "desc":
				keys = append(keys, sortKey{field: field, desc: true})
			default:
				return nil, errIllegalArgument("Unknown SortOrder [%s]", order)
			}
		}
	}
	for i := range keys {
		keys[i].path = fieldPath(keys[i].field)
	}
	return keys, nil
}

// sortValue is the value a document sorts by for a field: the minimum for
// ascending and maximum for descending sorts over multi-valued fields.
func (d *searchDoc) sortValue(k sortKey) any {
	switch k.field {
	case "_doc":
		return float64(d.SeqNo)
	case "_shard_doc":
		return float64(d.shardDoc)
	case "_score":
		return 1.0
	}
	if k.path == nil {
		k.path = fieldPath(k.field)
	}
	var best any
	d.eachValue(k.path, func(v any) bool {
		if best == nil {
			best = v
		} else if c, ok := compareValues(v, best); ok && (c < 0 && !k.desc || c > 0 && k.desc) {
			best = v
		}
		return false
	})
	return best
}
