package esim

import (
	"bytes"
	"encoding/json"
	"strings"
)

// sourceFilter is the parsed _source option of get and search requests.
type sourceFilter struct {
	disabled bool
	includes []string
	excludes []string
}

func (f sourceFilter) active() bool { return len(f.includes) > 0 || len(f.excludes) > 0 }

// parseSourceBody reads the search body's _source: a bool, a field pattern,
// a list of them, or {"includes"/"excludes": …}.
func parseSourceBody(raw json.RawMessage) (sourceFilter, *Error) {
	raw = bytes.TrimSpace(raw)
	var f sourceFilter
	if len(raw) == 0 {
		return f, nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		f.disabled = !b
		return f, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		f.includes = []string{one}
		return f, nil
	}
	if json.Unmarshal(raw, &f.includes) == nil {
		return f, nil
	}
	var obj struct {
		Includes json.RawMessage `json:"includes"`
		Excludes json.RawMessage `json:"excludes"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return f, errParsing("[_source] malformed")
	}
	list := func(r json.RawMessage) ([]string, bool) {
		if len(r) == 0 {
			return nil, true
		}
		var s string
		if json.Unmarshal(r, &s) == nil {
			return []string{s}, true
		}
		var l []string
		return l, json.Unmarshal(r, &l) == nil
	}
	var ok1, ok2 bool
	f.includes, ok1 = list(obj.Includes)
	f.excludes, ok2 = list(obj.Excludes)
	if !ok1 || !ok2 {
		return f, errParsing("[_source] malformed")
	}
	return f, nil
}

// parseSourceParams reads the _source, _source_includes and _source_excludes
// query parameters; they override the body.
func (c *call) parseSourceParams(f sourceFilter) (sourceFilter, *Error) {
	split := func(s string) []string {
		var out []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	if v, ok := c.query["_source"]; ok {
		switch v[0] {
		case "", "true":
			f.disabled = false
		case "false":
			f.disabled = true
		default:
			f.includes = split(v[0])
		}
	}
	if v := c.query.Get("_source_includes"); v != "" {
		f.includes, f.disabled = split(v), false
	}
	if v := c.query.Get("_source_excludes"); v != "" {
		f.excludes = split(v)
	}
	return f, nil
}

// apply filters a source document; it returns nil when _source is disabled.
func (f sourceFilter) apply(raw json.RawMessage, decoded map[string]any) json.RawMessage {
	if f.disabled {
		return nil
	}
	if !f.active() {
		return raw
	}
	out := filterObject("", decoded, f)
	b, err := json.Marshal(out)
	if err != nil {
		return raw
	}
	return b
}

func filterObject(prefix string, m map[string]any, f sourceFilter) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		if matchesAny(f.excludes, path) {
			continue
		}
		if child, ok := v.(map[string]any); ok {
			// Keep descending while an include may match below this path.
			if len(f.includes) == 0 || matchesAny(f.includes, path) {
				out[k] = filterObject(path, child, sourceFilter{excludes: f.excludes})
				continue
			}
			if sub := filterObject(path, child, f); len(sub) > 0 {
				out[k] = sub
			}
			continue
		}
		if len(f.includes) == 0 || matchesAny(f.includes, path) {
			out[k] = v
		}
	}
	return out
}

// matchesAny reports whether a dotted path matches one of the patterns, or
// lies below one ("a" covers "a.b").
func matchesAny(patterns []string, path string) bool {
	for _, p := range patterns {
		if globMatch(p, path) || strings.HasPrefix(path, p+".") {
			return true
		}
	}
	return false
}
