package esim

import (
	"fmt"
	"strconv"
	"testing"
)

// loadDocs writes n documents {"n": i} into index through the Go API (fast:
// no HTTP per document).
func loadDocs(t testing.TB, n *Node, index string, count int) {
	t.Helper()
	for i := range count {
		if _, err := n.IndexDoc(index, strconv.Itoa(i), []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSearch_TrackTotalHits follows Elasticsearch's search API
// (SearchContext.DEFAULT_TRACK_TOTAL_HITS_UP_TO = 10000,
// SearchSourceBuilder.trackTotalHitsUpTo, TotalHits.Relation): without
// track_total_hits hits.total counts to 10,000 and says "gte" beyond;
// true counts exactly; an integer sets the bound; false leaves total out.
func TestSearch_TrackTotalHits(t *testing.T) {
	c := newCluster(t, nil, Config{})
	const docs = 10_005
	loadDocs(t, c.Node, "many", docs)
	for _, tc := range []struct {
		name     string
		path     string
		body     map[string]any
		value    any // nil: no hits.total
		relation string
	}{
		{"default caps at 10000", "/many/_search", map[string]any{"size": 0}, 10000.0, "gte"},
		{"true is exact", "/many/_search", map[string]any{"size": 0, "track_total_hits": true}, float64(docs), "eq"},
		{"integer bound", "/many/_search", map[string]any{"size": 0, "track_total_hits": 5}, 5.0, "gte"},
		{"integer above the count", "/many/_search", map[string]any{"size": 0, "track_total_hits": 20000}, float64(docs), "eq"},
		{"false leaves it out", "/many/_search", map[string]any{"size": 0, "track_total_hits": false}, nil, ""},
		{"query parameter", "/many/_search?track_total_hits=true", map[string]any{"size": 0}, float64(docs), "eq"},
		{"under the cap is exact", "/many/_search", map[string]any{"size": 0, "query": map[string]any{"range": map[string]any{"n": map[string]any{"lt": 10}}}}, 10.0, "eq"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := c.must(t, 200, "POST", tc.path, tc.body)
			total := get(b, "hits", "total")
			if tc.value == nil {
				if total != nil {
					t.Fatalf("hits.total = %v, want none", total)
				}
				return
			}
			if get(total, "value") != tc.value || get(total, "relation") != tc.relation {
				t.Fatalf("hits.total = %v, want value %v relation %s", total, tc.value, tc.relation)
			}
		})
	}
	r := c.do(t, "POST", "/many/_search?rest_total_hits_as_int=true", map[string]any{"size": 0}, superuser)
	if r.status != 200 || get(r.body, "hits", "total") != float64(docs) {
		t.Errorf("rest_total_hits_as_int: %d %s, want the exact count as a number", r.status, r.raw)
	}
	r = c.do(t, "POST", "/many/_search", map[string]any{"track_total_hits": -2}, superuser)
	if typ, reason := errOf(t, r); r.status != 400 || typ != "illegal_argument_exception" || reason != "[track_total_hits] parameter must be positive or equals to -1, got -2" {
		t.Errorf("track_total_hits -2: %d %s", r.status, r.raw)
	}
}

// TestPIT_SearchAfterReadsEveryDocument follows Elasticsearch's paginate
// search results guide (point in time + search_after over _shard_doc) and
// RestSearchAction.preparePointInTime.
func TestPIT_SearchAfterReadsEveryDocument(t *testing.T) {
	c := newCluster(t, nil, Config{})
	const docs = 10_005
	loadDocs(t, c.Node, "many", docs)
	id, _ := c.must(t, 200, "POST", "/many/_pit?keep_alive=1m", nil)["id"].(string)
	if id == "" {
		t.Fatal("no pit id")
	}
	// A write after opening is not seen: the view is frozen.
	if _, err := c.IndexDoc("many", "late", []byte(`{"n":-1}`)); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var after []any
	for page := 0; ; page++ {
		body := map[string]any{"size": 4000, "pit": map[string]any{"id": id, "keep_alive": "1m"}, "sort": []any{map[string]any{"_shard_doc": "asc"}}}
		if after != nil {
			body["search_after"] = after
		}
		b := c.must(t, 200, "POST", "/_search", body)
		if b["pit_id"] != id {
			t.Fatalf("pit_id = %v", b["pit_id"])
		}
		hits, _ := get(b, "hits", "hits").([]any)
		for _, h := range hits {
			hid := get(h, "_id").(string)
			if seen[hid] {
				t.Fatalf("page %d: %s seen twice", page, hid)
			}
			seen[hid] = true
		}
		if len(hits) < 4000 {
			break
		}
		after, _ = get(hits[len(hits)-1], "sort").([]any)
	}
	if len(seen) != docs || seen["late"] {
		t.Fatalf("read %d documents (late seen: %v), want %d", len(seen), seen["late"], docs)
	}
	r := c.do(t, "POST", "/many/_search", map[string]any{"pit": map[string]any{"id": id}}, superuser)
	if typ, reason := errOf(t, r); r.status != 400 || typ != "action_request_validation_exception" ||
		reason != "Validation Failed: 1: [indices] cannot be used with point in time. Do not specify any index with point in time.;" {
		t.Errorf("index with pit: %d %s", r.status, r.raw)
	}
	c.must(t, 200, "DELETE", "/_pit", map[string]any{"id": id})
	r = c.do(t, "POST", "/_search", map[string]any{"pit": map[string]any{"id": id}}, superuser)
	if typ, _ := errOf(t, r); r.status != 404 || typ != "search_context_missing_exception" {
		t.Errorf("closed pit: %d %s", r.status, r.raw)
	}
	r = c.do(t, "POST", "/many/_pit?keep_alive=1m&bogus=1", nil, superuser)
	if r.status != 400 {
		t.Errorf("unknown parameter: %d", r.status)
	}
	r = c.do(t, "POST", "/missing/_pit?keep_alive=1m", nil, superuser)
	if typ, reason := errOf(t, r); r.status != 404 || typ != "index_not_found_exception" || reason != "no such index [missing]" {
		t.Errorf("missing index: %d %s", r.status, r.raw)
	}
}
