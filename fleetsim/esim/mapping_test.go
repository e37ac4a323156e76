package esim

import (
	"encoding/json"
	"testing"
)

// TestGetMapping follows RestGetMappingAction / GetMappingsResponse: the
// answer is keyed by index name, each holding "mappings".
func TestGetMapping(t *testing.T) {
	c := newCluster(t, nil, Config{})
	c.must(t, 200, "PUT", "/mapped", map[string]any{"mappings": map[string]any{"dynamic": false, "properties": map[string]any{"kind": map[string]any{"type": "keyword"}}}})
	c.must(t, 200, "PUT", "/plain", nil)
	for _, tc := range []struct {
		path, want string
	}{
		{"/mapped/_mapping", `{"mapped":{"mappings":{"dynamic":false,"properties":{"kind":{"type":"keyword"}}}}}`},
		{"/plain/_mapping", `{"plain":{"mappings":{}}}`},
		{"/mapped,plain/_mapping", `{"mapped":{"mappings":{"dynamic":false,"properties":{"kind":{"type":"keyword"}}}},"plain":{"mappings":{}}}`},
		{"/_mapping", `{"mapped":{"mappings":{"dynamic":false,"properties":{"kind":{"type":"keyword"}}}},"plain":{"mappings":{}}}`},
		{"/nomatch-*/_mapping", `{}`},
	} {
		r := c.do(t, "GET", tc.path, nil, superuser)
		var got any
		if err := json.Unmarshal(r.raw, &got); err != nil || r.status != 200 {
			t.Fatalf("GET %s: %d %s", tc.path, r.status, r.raw)
		}
		if gb, _ := json.Marshal(got); string(gb) != mustCanon(t, tc.want) {
			t.Errorf("GET %s = %s, want %s", tc.path, gb, tc.want)
		}
	}
	r := c.do(t, "GET", "/missing/_mapping", nil, superuser)
	if typ, reason := errOf(t, r); r.status != 404 || typ != "index_not_found_exception" || reason != "no such index [missing]" {
		t.Errorf("missing index: %d %s", r.status, r.raw)
	}
	r = c.do(t, "GET", "/nomatch-*/_mapping?allow_no_indices=false", nil, superuser)
	if r.status != 404 {
		t.Errorf("allow_no_indices=false: %d %s", r.status, r.raw)
	}
}

func mustCanon(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
