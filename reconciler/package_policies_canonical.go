package reconciler

import (
	"math"
	"unicode/utf8"
)

// canonicalVar is canonical(v) — v as JSON would give it back, the form
// Kibana's answer is compared in — without the marshal round trip for the
// values a var holds in YAML (strings, numbers, booleans, null, lists and
// objects of them): a plan of 4,000 integration policies would otherwise
// marshal and unmarshal every declared var on every turn. Anything else
// (other types, NaN, integers beyond 2^53, invalid UTF-8) takes canonical's
// round trip. TestCanonicalVar holds it to canonical.
func canonicalVar(v any) any {
	if out, ok := canonicalFast(v); ok {
		return out
	}
	return canonical(v)
}

// canonicalFast is canonicalVar's direct path; false when v holds a value
// it leaves to canonical. Containers are new, as canonical's are.
func canonicalFast(v any) (any, bool) {
	switch t := v.(type) {
	case nil, bool:
		return t, true
	case string:
		return t, utf8.ValidString(t)
	case float64:
		return t, !math.IsNaN(t) && !math.IsInf(t, 0)
	case int:
		return float64(t), t >= -maxExactInt && t <= maxExactInt
	case int64:
		return float64(t), t >= -maxExactInt && t <= maxExactInt
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			c, ok := canonicalFast(e)
			if !ok {
				return nil, false
			}
			out[i] = c
		}
		return out, true
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			c, ok := canonicalFast(e)
			if !ok || !utf8.ValidString(k) {
				return nil, false
			}
			out[k] = c
		}
		return out, true
	}
	return nil, false
}

// maxExactInt bounds the integers converted directly: up to 2^53 a
// float64 holds every integer exactly.
const maxExactInt = 1 << 53
