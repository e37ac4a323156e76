package reconciler

import (
	"math"
	"reflect"
	"testing"
	"time"
)

// TestCanonicalVar: canonicalVar gives what canonical's JSON round trip
// gives, for the values a var holds and for those it leaves to canonical.
func TestCanonicalVar(t *testing.T) {
	tests := []any{
		nil, true, "s", "caf\u00e9 <&>", 1.5, -0.0, 3, -7, int64(1) << 53, int64(1)<<53 + 1, 1 << 60, uint8(4),
		math.NaN(), math.Inf(1), "bad \xff utf8",
		[]any{"a", 1, nil, map[string]any{"x": []any{2.5, false}}},
		map[string]any{"k": 1, "l": []any{"v"}},
		map[string]any{"bad \xff": 1},
		[]any{1, math.NaN()},
		map[string]any{"t": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		[]string{"typed"},
	}
	for _, v := range tests {
		want, got := canonical(v), canonicalVar(v)
		if !reflect.DeepEqual(got, want) && !(isNaN(got) && isNaN(want)) && !(isNaN(secondOf(got)) && isNaN(secondOf(want))) {
			t.Errorf("canonicalVar(%#v) = %#v, canonical %#v", v, got, want)
		}
	}
	// A new container, as canonical's: the bodies built from it are edited.
	in := []any{"a"}
	out := canonicalVar(in).([]any)
	out[0] = "b"
	if in[0] != "a" {
		t.Error("canonicalVar returned its argument's list")
	}
}

func isNaN(v any) bool { f, ok := v.(float64); return ok && math.IsNaN(f) }

// secondOf is the second element of a two-element list (where a NaN sits
// above), nil otherwise.
func secondOf(v any) any {
	if l, ok := v.([]any); ok && len(l) == 2 {
		return l[1]
	}
	return nil
}
