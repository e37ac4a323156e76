package reconciler

import (
	"reflect"
	"testing"
)

// TestDiffDeclared: diffDeclared gives what diffManaged gives.
func TestDiffDeclared(t *testing.T) {
	tests := []struct {
		name              string
		desired, observed map[string]any
	}{
		{"equal", map[string]any{"a": 1.0, "b": map[string]any{"c": "x"}}, map[string]any{"a": 1.0, "b": map[string]any{"c": "x", "d": 2.0}}},
		{"scalars differ", map[string]any{"b": "x", "a": 1.0, "c": nil}, map[string]any{"a": 2.0, "c": "y"}},
		{"nested differ", map[string]any{"i": map[string]any{"s": map[string]any{"n": map[string]any{"v": []any{"a"}, "w": true}}}},
			map[string]any{"i": map[string]any{"s": map[string]any{"n": map[string]any{"v": []any{"b"}}}}}},
		{"observed absent or null", map[string]any{"m": map[string]any{"k": "v"}, "n": map[string]any{}}, map[string]any{"m": nil}},
		{"observed not an object", map[string]any{"m": map[string]any{"k": "v"}}, map[string]any{"m": []any{"x"}}},
		{"desired not an object", map[string]any{"m": []any{"k"}}, map[string]any{"m": map[string]any{"k": "v"}}},
		{"deep path", map[string]any{"a": map[string]any{"b": map[string]any{"c": map[string]any{"d": map[string]any{"e": map[string]any{
			"f": map[string]any{"g": map[string]any{"h": map[string]any{"i": map[string]any{"j": 1.0, "k": 2.0}}}}}}}}}}, nil},
		{"many keys", map[string]any{"k1": 1.0, "k2": 2.0, "k3": 3.0, "k4": 4.0, "k5": 5.0, "k6": 6.0, "k7": 7.0, "k8": 8.0, "k9": 9.0, "k10": 10.0},
			map[string]any{"k3": 3.0, "k9": 0.0}},
		{"nothing declared", nil, map[string]any{"a": 1.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := diffDeclared(tt.desired, tt.observed), diffManaged("", tt.desired, tt.observed)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("diffDeclared %+v\ndiffManaged  %+v", got, want)
			}
		})
	}
}
