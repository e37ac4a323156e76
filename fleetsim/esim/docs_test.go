package esim

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

func TestDocs_IfSeqNoMismatch_409VersionConflict(t *testing.T) {
	c := newCluster(t, nil, Config{})
	first := c.must(t, 201, "PUT", "/fleetform-lease/_doc/leader?refresh=wait_for", map[string]any{"holder": "a"})
	if first["result"] != "created" || first["_seq_no"] != 0.0 || first["_primary_term"] != 1.0 || first["_version"] != 1.0 {
		t.Fatalf("create: %v", first)
	}
	second := c.must(t, 200, "PUT", "/fleetform-lease/_doc/leader?if_seq_no=0&if_primary_term=1", map[string]any{"holder": "b"})
	if second["result"] != "updated" || second["_seq_no"] != 1.0 || second["_version"] != 2.0 {
		t.Fatalf("conditional update: %v", second)
	}
	tests := []struct {
		name, path, reason string
	}{
		{"stale seq_no", "/fleetform-lease/_doc/leader?if_seq_no=0&if_primary_term=1",
			"[leader]: version conflict, required seqNo [0], primary term [1]. current document has seqNo [1] and primary term [1]"},
		{"wrong primary term", "/fleetform-lease/_doc/leader?if_seq_no=1&if_primary_term=2",
			"[leader]: version conflict, required seqNo [1], primary term [2]. current document has seqNo [1] and primary term [1]"},
		{"missing document", "/fleetform-lease/_doc/other?if_seq_no=3&if_primary_term=1",
			"[other]: version conflict, required seqNo [3], primary term [1]. but no document was found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(t, "PUT", tt.path, map[string]any{"holder": "c"}, superuser)
			typ, reason := errOf(t, r)
			if r.status != 409 || typ != "version_conflict_engine_exception" || reason != tt.reason {
				t.Errorf("got %d %s %q, want 409 %q", r.status, typ, reason, tt.reason)
			}
			if get(r.body, "error", "index") != "fleetform-lease" || get(r.body, "error", "shard") != "0" {
				t.Errorf("metadata: %s", r.raw)
			}
		})
	}
	if d, _ := c.GetDoc("fleetform-lease", "leader"); string(d.Source) != `{"holder":"b"}` {
		t.Errorf("a failed write changed the document: %s", d.Source)
	}
}

func TestDocs_CreateOfExistingID_409DocumentAlreadyExists(t *testing.T) {
	c := newCluster(t, nil, Config{})
	c.must(t, 201, "PUT", "/idx/_doc/1", map[string]any{"a": 1})
	c.must(t, 200, "PUT", "/idx/_doc/1", map[string]any{"a": 2})
	want := "[1]: version conflict, document already exists (current version [2])"
	for _, tt := range []struct{ method, path string }{
		{"PUT", "/idx/_create/1"},
		{"POST", "/idx/_create/1"},
		{"PUT", "/idx/_doc/1?op_type=create"},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := c.do(t, tt.method, tt.path, map[string]any{"a": 3}, superuser)
			if typ, reason := errOf(t, r); r.status != 409 || typ != "version_conflict_engine_exception" || reason != want {
				t.Errorf("got %d %s %q", r.status, typ, reason)
			}
		})
	}
	if r := c.do(t, "PUT", "/idx/_create/2", map[string]any{"a": 1}, superuser); r.status != 201 || r.body["result"] != "created" {
		t.Errorf("create new id: %d %s", r.status, r.raw)
	}
}

func TestDocs_GetMissing_404FoundFalseAndMissingIndex_404IndexNotFound(t *testing.T) {
	c := newCluster(t, nil, Config{})
	c.must(t, 201, "PUT", "/idx/_doc/1", map[string]any{"a": 1})
	r := c.do(t, "GET", "/idx/_doc/2", nil, superuser)
	if r.status != 404 || r.body["found"] != false || r.body["_id"] != "2" || r.body["_index"] != "idx" {
		t.Errorf("missing doc: %d %s", r.status, r.raw)
	}
	r = c.do(t, "GET", "/nope/_doc/1", nil, superuser)
	typ, reason := errOf(t, r)
	if r.status != 404 || typ != "index_not_found_exception" || reason != "no such index [nope]" || get(r.body, "error", "resource.id") != "nope" {
		t.Errorf("missing index: %d %s", r.status, r.raw)
	}
	if r := c.do(t, "HEAD", "/idx/_doc/1", nil, superuser); r.status != 200 {
		t.Errorf("HEAD existing doc: %d", r.status)
	}
	if r := c.do(t, "HEAD", "/idx/_doc/9", nil, superuser); r.status != 404 || len(r.raw) != 0 {
		t.Errorf("HEAD missing doc: %d %q", r.status, r.raw)
	}
}

func TestDocs_Delete_BumpsVersionAndSeqNoThen404NotFound(t *testing.T) {
	c := newCluster(t, nil, Config{})
	c.must(t, 201, "PUT", "/idx/_doc/1", map[string]any{"a": 1})
	del := c.must(t, 200, "DELETE", "/idx/_doc/1?refresh=true", nil)
	if del["result"] != "deleted" || del["_version"] != 2.0 || del["_seq_no"] != 1.0 {
		t.Errorf("delete: %v", del)
	}
	r := c.do(t, "DELETE", "/idx/_doc/1", nil, superuser)
	if r.status != 404 || r.body["result"] != "not_found" {
		t.Errorf("delete again: %d %s", r.status, r.raw)
	}
	again := c.must(t, 201, "PUT", "/idx/_doc/1", map[string]any{"a": 2})
	if again["_version"] != 3.0 {
		t.Errorf("re-create keeps counting versions like ES: %v", again)
	}
	r = c.do(t, "DELETE", "/idx/_doc/1?if_seq_no=0&if_primary_term=1", nil, superuser)
	if typ, _ := errOf(t, r); r.status != 409 || typ != "version_conflict_engine_exception" {
		t.Errorf("conditional delete: %d %s", r.status, r.raw)
	}
}

func TestDocs_BadParameters_400(t *testing.T) {
	c := newCluster(t, nil, Config{})
	tests := []struct {
		name, method, path string
		body               any
		typ                string
	}{
		{"refresh value", "PUT", "/idx/_doc/1?refresh=soon", map[string]any{}, "illegal_argument_exception"},
		{"if_seq_no not a number", "PUT", "/idx/_doc/1?if_seq_no=x&if_primary_term=1", map[string]any{}, "illegal_argument_exception"},
		{"if_seq_no without term", "PUT", "/idx/_doc/1?if_seq_no=1", map[string]any{}, "action_request_validation_exception"},
		{"body not an object", "PUT", "/idx/_doc/1", "[1]", "mapper_parsing_exception"},
		{"op_type", "PUT", "/idx/_doc/1?op_type=upsert", map[string]any{}, "illegal_argument_exception"},
		{"index name upper case", "PUT", "/Idx/_doc/1", map[string]any{}, "invalid_index_name_exception"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(t, tt.method, tt.path, tt.body, superuser)
			if typ, _ := errOf(t, r); r.status != 400 || typ != tt.typ {
				t.Errorf("got %d %s, want 400 %s", r.status, typ, tt.typ)
			}
		})
	}
}

func TestDocs_PostWithoutID_GeneratesID(t *testing.T) {
	c := newCluster(t, nil, Config{})
	body := c.must(t, 201, "POST", "/idx/_doc", map[string]any{"a": 1})
	id, _ := body["_id"].(string)
	if len(id) != 20 {
		t.Fatalf("generated id %q", id)
	}
	if d, ok := c.GetDoc("idx", id); !ok || string(d.Source) != `{"a":1}` {
		t.Errorf("doc not stored: %+v", d)
	}
}

func TestIndices_CreateExisting_400ResourceAlreadyExists(t *testing.T) {
	c := newCluster(t, nil, Config{})
	created := c.must(t, 200, "PUT", "/fleet-synced-integrations", map[string]any{
		"settings": map[string]any{"auto_expand_replicas": "0-1"},
		"mappings": map[string]any{"dynamic": false},
	})
	if created["acknowledged"] != true || created["index"] != "fleet-synced-integrations" {
		t.Fatalf("create: %v", created)
	}
	r := c.do(t, "PUT", "/fleet-synced-integrations", nil, superuser)
	typ, reason := errOf(t, r)
	uuid := get(c.must(t, 200, "GET", "/fleet-synced-integrations", nil), "fleet-synced-integrations", "settings", "index", "uuid")
	if r.status != 400 || typ != "resource_already_exists_exception" || reason != fmt.Sprintf("index [fleet-synced-integrations/%s] already exists", uuid) {
		t.Errorf("got %d %s %q", r.status, typ, reason)
	}
	if err := c.CreateIndex("fleet-synced-integrations", nil); err == nil {
		t.Errorf("CreateIndex of an existing index succeeded")
	}
}

func TestIndices_ExistsGetDelete(t *testing.T) {
	c := newCluster(t, nil, Config{})
	c.must(t, 200, "PUT", "/a1", nil)
	if r := c.do(t, "HEAD", "/a1", nil, superuser); r.status != 200 {
		t.Errorf("HEAD existing: %d", r.status)
	}
	if r := c.do(t, "HEAD", "/b1", nil, superuser); r.status != 404 || len(r.raw) != 0 {
		t.Errorf("HEAD missing: %d %q", r.status, r.raw)
	}
	if r := c.do(t, "DELETE", "/a*", nil, superuser); r.status != 400 {
		t.Errorf("wildcard delete must be refused (destructive_requires_name): %d", r.status)
	}
	c.must(t, 200, "DELETE", "/a1", nil)
	r := c.do(t, "DELETE", "/a1", nil, superuser)
	if typ, _ := errOf(t, r); r.status != 404 || typ != "index_not_found_exception" {
		t.Errorf("delete missing: %d %s", r.status, r.raw)
	}
	if got := c.must(t, 200, "GET", "/zz*", nil); len(got) != 0 {
		t.Errorf("GET of a pattern without matches must be {}: %v", got)
	}
}

func TestIndices_HiddenIndices_OnlyWithExpandWildcardsOrDotPattern(t *testing.T) {
	c := newCluster(t, nil, Config{})
	c.must(t, 200, "PUT", "/.fleet-secrets-x", map[string]any{"settings": map[string]any{"index": map[string]any{"hidden": true}}})
	c.must(t, 200, "PUT", "/fleet-synced-integrations-ccr-main", map[string]any{"settings": map[string]any{"index.hidden": "true"}})
	c.must(t, 200, "PUT", "/visible", nil)
	tests := []struct {
		path string
		want []string
	}{
		{"/*", []string{"visible"}},
		{"/*?expand_wildcards=all", []string{".fleet-secrets-x", "fleet-synced-integrations-ccr-main", "visible"}},
		{"/fleet-synced-integrations-ccr-*", nil},
		{"/fleet-synced-integrations-ccr-*?expand_wildcards=all", []string{"fleet-synced-integrations-ccr-main"}},
		{"/fleet-synced-integrations-ccr-*?expand_wildcards=open,hidden", []string{"fleet-synced-integrations-ccr-main"}},
		{"/.fleet-*", []string{".fleet-secrets-x"}},
		{"/fleet-synced-integrations-ccr-main", []string{"fleet-synced-integrations-ccr-main"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var got []string
			for name := range c.must(t, 200, "GET", tt.path, nil) {
				got = append(got, name)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if got := c.ResolveIndices("*", false); !slices.Equal(got, []string{"visible"}) {
		t.Errorf("ResolveIndices(*, false) = %v", got)
	}
	if got := c.ResolveIndices("fleet-synced-integrations-ccr-*", true); !slices.Equal(got, []string{"fleet-synced-integrations-ccr-main"}) {
		t.Errorf("ResolveIndices(ccr-*, true) = %v", got)
	}
	if r := c.do(t, "GET", "/*?expand_wildcards=sometimes", nil, superuser); r.status != 400 {
		t.Errorf("bad expand_wildcards: %d", r.status)
	}
}

func seedPolicies(t *testing.T, c *testCluster) {
	t.Helper()
	docs := []map[string]any{
		{"name": "nginx", "version": "2.0.0", "status": "installed", "tags": []string{"web", "proxy"}, "count": 3},
		{"name": "system", "version": "1.5.0", "status": "installed", "tags": []string{"os"}, "count": 10},
		{"name": "apache", "version": "1.0.0", "status": "not_installed", "tags": []string{"web"}, "count": 1},
		{"name": "fleet_server", "version": "1.6.0", "status": "installed", "meta": map[string]any{"managed": true}, "count": 7},
	}
	for i, d := range docs {
		raw, _ := json.Marshal(d)
		if _, err := c.IndexDoc("pkgs", fmt.Sprint(i+1), raw); err != nil {
			t.Fatal(err)
		}
	}
}

func hitIDs(body map[string]any) []string {
	var ids []string
	for _, h := range get(body, "hits", "hits").([]any) {
		ids = append(ids, h.(map[string]any)["_id"].(string))
	}
	return ids
}

func TestSearch_QueriesSizeAndSort(t *testing.T) {
	c := newCluster(t, nil, Config{})
	seedPolicies(t, c)
	tests := []struct {
		name  string
		body  any
		want  []string
		total float64
	}{
		{"match_all in insertion order", map[string]any{"query": map[string]any{"match_all": map[string]any{}}}, []string{"1", "2", "3", "4"}, 4},
		{"no body", nil, []string{"1", "2", "3", "4"}, 4},
		{"term", map[string]any{"query": map[string]any{"term": map[string]any{"status": "installed"}}}, []string{"1", "2", "4"}, 3},
		{"term long form", map[string]any{"query": map[string]any{"term": map[string]any{"name": map[string]any{"value": "apache"}}}}, []string{"3"}, 1},
		{"term on array field", map[string]any{"query": map[string]any{"term": map[string]any{"tags": "web"}}}, []string{"1", "3"}, 2},
		{"term on nested field", map[string]any{"query": map[string]any{"term": map[string]any{"meta.managed": true}}}, []string{"4"}, 1},
		{"term on _id", map[string]any{"query": map[string]any{"term": map[string]any{"_id": "2"}}}, []string{"2"}, 1},
		{"terms", map[string]any{"query": map[string]any{"terms": map[string]any{"name": []string{"nginx", "apache", "zzz"}}}}, []string{"1", "3"}, 2},
		{"bool filter", map[string]any{"query": map[string]any{"bool": map[string]any{"filter": []any{
			map[string]any{"term": map[string]any{"status": "installed"}},
			map[string]any{"terms": map[string]any{"tags": []string{"web", "os"}}},
		}}}}, []string{"1", "2"}, 2},
		{"bool must_not and should", map[string]any{"query": map[string]any{"bool": map[string]any{
			"must_not": map[string]any{"term": map[string]any{"name": "system"}},
			"should":   []any{map[string]any{"term": map[string]any{"tags": "proxy"}}, map[string]any{"term": map[string]any{"name": "fleet_server"}}},
		}}}, []string{"1", "4"}, 2},
		{"numeric term", map[string]any{"query": map[string]any{"term": map[string]any{"count": 10}}}, []string{"2"}, 1},
		{"range", map[string]any{"query": map[string]any{"range": map[string]any{"count": map[string]any{"gte": 3, "lt": 10}}}}, []string{"1", "4"}, 2},
		{"exists", map[string]any{"query": map[string]any{"exists": map[string]any{"field": "meta"}}}, []string{"4"}, 1},
		{"ids", map[string]any{"query": map[string]any{"ids": map[string]any{"values": []string{"3", "9"}}}}, []string{"3"}, 1},
		{"size", map[string]any{"size": 2}, []string{"1", "2"}, 4},
		{"from", map[string]any{"from": 3}, []string{"4"}, 4},
		{"size 0", map[string]any{"size": 0}, nil, 4},
		{"sort asc by keyword", map[string]any{"sort": []any{map[string]any{"name": map[string]any{"order": "asc"}}}}, []string{"3", "4", "1", "2"}, 4},
		{"sort desc short form", map[string]any{"sort": []any{map[string]any{"count": "desc"}}}, []string{"2", "4", "1", "3"}, 4},
		{"sort by bare field name", map[string]any{"sort": "name"}, []string{"3", "4", "1", "2"}, 4},
		{"search_after", map[string]any{"sort": []any{"name"}, "search_after": []any{"fleet_server"}}, []string{"1", "2"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := c.must(t, 200, "POST", "/pkgs/_search", tt.body)
			if got := hitIDs(body); !slices.Equal(got, tt.want) {
				t.Errorf("hits %v, want %v", got, tt.want)
			}
			if got := get(body, "hits", "total", "value"); got != tt.total {
				t.Errorf("total %v, want %v", got, tt.total)
			}
		})
	}
	if got := hitIDs(c.must(t, 200, "GET", "/pkgs/_search?size=1&sort=count:desc", nil)); !slices.Equal(got, []string{"2"}) {
		t.Errorf("size/sort query params: %v", got)
	}
}

func TestSearch_HitsCarrySeqNoWhenAskedAndSortValues(t *testing.T) {
	c := newCluster(t, nil, Config{})
	seedPolicies(t, c)
	body := c.must(t, 200, "POST", "/pkgs/_search", map[string]any{"seq_no_primary_term": true, "size": 1, "sort": []any{map[string]any{"count": "asc"}}})
	hit := get(body, "hits", "hits", 0).(map[string]any)
	if hit["_seq_no"] != 2.0 || hit["_primary_term"] != 1.0 || get(hit, "sort", 0) != 1.0 || hit["_score"] != nil {
		t.Errorf("hit: %v", hit)
	}
	if get(hit, "_source", "name") != "apache" {
		t.Errorf("source: %v", hit["_source"])
	}
}

func TestSearch_Errors(t *testing.T) {
	c := newCluster(t, nil, Config{})
	seedPolicies(t, c)
	tests := []struct {
		name, path string
		body       any
		status     int
		typ        string
	}{
		{"unknown query", "/pkgs/_search", map[string]any{"query": map[string]any{"fuzzy_thing": map[string]any{}}}, 400, "parsing_exception"},
		{"unknown body key", "/pkgs/_search", map[string]any{"qurey": map[string]any{}}, 400, "parsing_exception"},
		{"missing concrete index", "/nope/_search", nil, 404, "index_not_found_exception"},
		{"result window", "/pkgs/_search", map[string]any{"from": 9999, "size": 2}, 400, "illegal_argument_exception"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(t, "POST", tt.path, tt.body, superuser)
			if typ, _ := errOf(t, r); r.status != tt.status || typ != tt.typ {
				t.Errorf("got %d %s, want %d %s", r.status, typ, tt.status, tt.typ)
			}
		})
	}
	if body := c.must(t, 200, "POST", "/nope/_search?ignore_unavailable=true", nil); get(body, "hits", "total", "value") != 0.0 {
		t.Errorf("ignore_unavailable: %v", body)
	}
	if body := c.must(t, 200, "POST", "/nope*/_search", nil); get(body, "hits", "total", "value") != 0.0 {
		t.Errorf("pattern without match: %v", body)
	}
}

func TestCount_CountsMatchingDocuments(t *testing.T) {
	c := newCluster(t, nil, Config{})
	seedPolicies(t, c)
	for _, tt := range []struct {
		body any
		want float64
	}{
		{nil, 4},
		{map[string]any{"query": map[string]any{"term": map[string]any{"status": "installed"}}}, 3},
	} {
		if got := c.must(t, 200, "POST", "/pkgs/_count", tt.body)["count"]; got != tt.want {
			t.Errorf("count(%v) = %v, want %v", tt.body, got, tt.want)
		}
	}
	if r := c.do(t, "POST", "/pkgs/_count", map[string]any{"size": 1}, superuser); r.status != 400 {
		t.Errorf("count with size: %d", r.status)
	}
}

func TestSearchDocs_GoAPI(t *testing.T) {
	c := newCluster(t, nil, Config{})
	seedPolicies(t, c)
	docs, err := c.SearchDocs("pk*", false)
	if err != nil || len(docs) != 4 || docs[0].ID != "1" {
		t.Fatalf("SearchDocs = %v, %v", docs, err)
	}
	if _, err := c.SearchDocs("missing", false); err == nil {
		t.Errorf("SearchDocs of a missing concrete index succeeded")
	}
	if !c.DeleteDoc("pkgs", "1") || c.DeleteDoc("pkgs", "1") {
		t.Errorf("DeleteDoc must report existence")
	}
}

func TestDocs_AutoCreateIndexFalse_404IndexNotFound(t *testing.T) {
	c := newCluster(t, nil, Config{})
	c.must(t, 200, "PUT", "/_cluster/settings", map[string]any{"persistent": map[string]any{"action.auto_create_index": false}})
	r := c.do(t, "PUT", "/fresh/_doc/1", map[string]any{"a": 1}, superuser)
	if typ, reason := errOf(t, r); r.status != 404 || typ != "index_not_found_exception" || reason != "no such index [fresh] and [action.auto_create_index] is [false]" {
		t.Errorf("got %d %s %q", r.status, typ, reason)
	}
	c.must(t, 200, "PUT", "/fresh", nil)
	c.must(t, 201, "PUT", "/fresh/_doc/1", map[string]any{"a": 1})
}

func TestSource_FilteringOnGetAndSearch(t *testing.T) {
	c := newCluster(t, nil, Config{})
	c.must(t, 201, "PUT", "/idx/_doc/1", map[string]any{"kind": "output", "secrets": map[string]any{"hash": "h", "id": "s1"}, "extra": map[string]any{"a": 1}})
	tests := []struct {
		name, method, path string
		body               any
		want               string
	}{
		{"get _source=false", "GET", "/idx/_doc/1?_source=false", nil, ``},
		{"get includes", "GET", "/idx/_doc/1?_source_includes=kind,secrets.id", nil, `{"kind":"output","secrets":{"id":"s1"}}`},
		{"get excludes", "GET", "/idx/_doc/1?_source_excludes=secrets,extra", nil, `{"kind":"output"}`},
		{"get _source list", "GET", "/idx/_doc/1?_source=kind", nil, `{"kind":"output"}`},
		{"search false", "POST", "/idx/_search", map[string]any{"_source": false}, ``},
		{"search list", "POST", "/idx/_search", map[string]any{"_source": []string{"secrets.*"}}, `{"secrets":{"hash":"h","id":"s1"}}`},
		{"search object", "POST", "/idx/_search", map[string]any{"_source": map[string]any{"includes": []string{"*"}, "excludes": []string{"secrets.hash", "extra"}}}, `{"kind":"output","secrets":{"id":"s1"}}`},
		{"search whole object by name", "POST", "/idx/_search", map[string]any{"_source": "extra"}, `{"extra":{"a":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := c.must(t, 200, tt.method, tt.path, tt.body)
			src := body["_source"]
			if tt.method == "POST" {
				src = get(body, "hits", "hits", 0, "_source")
			}
			got := ""
			if src != nil {
				b, _ := json.Marshal(src)
				got = string(b)
			}
			if got != tt.want {
				t.Errorf("source %s, want %s", got, tt.want)
			}
		})
	}
}
