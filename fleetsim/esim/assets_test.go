package esim

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func init() {
	// The spec folder holds no cluster.*_component_template or ingest.*
	// files; the routes follow rest-api-spec cluster.put_component_template,
	// cluster.get_component_template, cluster.exists_component_template,
	// cluster.delete_component_template, ingest.put_pipeline,
	// ingest.get_pipeline and ingest.delete_pipeline.
	for _, key := range []string{
		"GET /_component_template", "GET /_component_template/{name}", "HEAD /_component_template/{name}",
		"PUT /_component_template/{name}", "POST /_component_template/{name}", "DELETE /_component_template/{name}",
	} {
		notInSpecs[key] = "cluster.*_component_template.json is not in the spec folder; Fleet's custom-asset sync reads *@custom templates"
	}
	for _, key := range []string{"GET /_ingest/pipeline", "GET /_ingest/pipeline/{id}", "PUT /_ingest/pipeline/{id}", "DELETE /_ingest/pipeline/{id}"} {
		notInSpecs[key] = "ingest.*_pipeline.json is not in the spec folder; Fleet's custom-asset sync reads *@custom pipelines"
	}
}

func TestComponentTemplates_HTTP(t *testing.T) {
	c := newCluster(t, nil, Config{License: "enterprise"})
	c.must(t, 200, "PUT", "/_component_template/logs-nginx.access@custom",
		`{"template":{"settings":{"number_of_replicas":2,"index.refresh_interval":"5s"},"mappings":{"properties":{"a":{"type":"keyword"}}}},"version":3,"_meta":{"by":"me"}}`)
	c.must(t, 200, "PUT", "/_component_template/other", `{"template":{}}`)

	got := c.must(t, 200, "GET", "/_component_template/logs-nginx.access@custom", nil)
	want := map[string]any{"component_templates": []any{map[string]any{
		"name": "logs-nginx.access@custom",
		"component_template": map[string]any{
			"template": map[string]any{
				"settings": map[string]any{"index": map[string]any{"number_of_replicas": "2", "refresh_interval": "5s"}},
				"mappings": map[string]any{"properties": map[string]any{"a": map[string]any{"type": "keyword"}}},
			},
			"version": 3.0, "_meta": map[string]any{"by": "me"},
		},
	}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("GET by name (-want +got):\n%s", d)
	}

	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		wantStatus int
		wantType   string
		wantReason string
		wantNames  []any
	}{
		{"wildcard matches", "GET", "/_component_template/*@custom", nil, 200, "", "", []any{"logs-nginx.access@custom"}},
		{"wildcard without match is empty, not 404", "GET", "/_component_template/*@nothing", nil, 200, "", "", []any{}},
		{"all", "GET", "/_component_template", nil, 200, "", "", []any{"logs-nginx.access@custom", "other"}},
		{"missing name", "GET", "/_component_template/nope", nil, 404, "resource_not_found_exception", "component template matching [nope] not found", nil},
		{"no template", "PUT", "/_component_template/x", `{"version":1}`, 400, "illegal_argument_exception", "Required [template]", nil},
		{"unknown field", "PUT", "/_component_template/x", `{"foo":1}`, 400, "x_content_parse_exception", "[1:2] [component_template] unknown field [foo]", nil},
		{"unknown field on line 2", "PUT", "/_component_template/x", "{\"template\":{},\n  \"bar\":1}", 400, "x_content_parse_exception", "[2:3] [component_template] unknown field [bar]", nil},
		{"no body", "PUT", "/_component_template/x", nil, 400, "parse_exception", "request body is required", nil},
		{"create over existing", "PUT", "/_component_template/other?create=true", `{"template":{}}`, 400, "illegal_argument_exception", "component template [other] already exists", nil},
		{"delete missing", "DELETE", "/_component_template/nope", nil, 404, "index_template_missing_exception", "index_template [nope] missing", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(t, tt.method, tt.path, tt.body, superuser)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.raw)
			}
			if tt.wantType != "" {
				typ, reason := errOf(t, r)
				if typ != tt.wantType || reason != tt.wantReason {
					t.Errorf("error %s %q, want %s %q", typ, reason, tt.wantType, tt.wantReason)
				}
				return
			}
			var names []any
			for _, e := range r.body["component_templates"].([]any) {
				names = append(names, get(e, "name"))
			}
			if names == nil {
				names = []any{}
			}
			if d := cmp.Diff(tt.wantNames, names); d != "" {
				t.Errorf("names (-want +got):\n%s", d)
			}
		})
	}

	if r := c.do(t, "HEAD", "/_component_template/other", nil, superuser); r.status != 200 {
		t.Errorf("HEAD existing: %d", r.status)
	}
	c.must(t, 200, "DELETE", "/_component_template/other", nil)
	if r := c.do(t, "HEAD", "/_component_template/other", nil, superuser); r.status != 404 || len(r.raw) != 0 {
		t.Errorf("HEAD deleted: %d %q", r.status, r.raw)
	}
}

func TestComponentTemplates_RoundTripIsStable(t *testing.T) {
	// What Fleet's remote side relies on: GET on one node, PUT the template
	// to another, GET there, and the two templates are deep-equal.
	a := New(Config{})
	b := New(Config{})
	if err := a.PutComponentTemplate("metrics-system.cpu@custom", json.RawMessage(`{"template":{"settings":{"index":{"number_of_shards":1}},"aliases":{"x":{}}}}`), false); err != nil {
		t.Fatal(err)
	}
	src, err := a.ComponentTemplates("*@custom")
	if err != nil || len(src) != 1 {
		t.Fatalf("ComponentTemplates: %v %v", src, err)
	}
	var body struct {
		Template json.RawMessage `json:"template"`
	}
	if err := json.Unmarshal(src[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if err := b.PutComponentTemplate(src[0].Name, json.RawMessage(`{"template":`+string(body.Template)+`}`), false); err != nil {
		t.Fatal(err)
	}
	dst, err := b.ComponentTemplates(src[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	if string(dst[0].Body) != string(src[0].Body) {
		t.Errorf("round trip changed the template:\n a: %s\n b: %s", src[0].Body, dst[0].Body)
	}
	var e *Error
	if _, err := b.ComponentTemplates("nope"); !asError(err, &e) || e.Status != http.StatusNotFound {
		t.Errorf("missing name: %v", err)
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

func TestPipelines_HTTP(t *testing.T) {
	c := newCluster(t, nil, Config{License: "enterprise"})
	body := `{"description":"d","version":2,"processors":[{"set":{"field":"a","value":"b"}}],"on_failure":[{"set":{"field":"err","value":"x"}}]}`
	c.must(t, 200, "PUT", "/_ingest/pipeline/logs-nginx.access@custom", body)
	c.must(t, 200, "PUT", "/_ingest/pipeline/my-pipeline", `{"processors":[]}`)

	got := c.must(t, 200, "GET", "/_ingest/pipeline/logs-nginx.access@custom", nil)
	var want map[string]any
	if err := json.Unmarshal([]byte(`{"logs-nginx.access@custom":`+body+`}`), &want); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("GET by id (-want +got):\n%s", d)
	}

	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		wantStatus int
		wantRaw    string // exact body, when set
		wantType   string
		wantReason string
		wantIDs    []string
	}{
		{"missing id is 404 with {}", "GET", "/_ingest/pipeline/nope", nil, 404, "{}", "", "", nil},
		{"wildcard without match is 404 with {}", "GET", "/_ingest/pipeline/*@nothing", nil, 404, "{}", "", "", nil},
		{"wildcard", "GET", "/_ingest/pipeline/*@custom", nil, 200, "", "", "", []string{"logs-nginx.access@custom"}},
		{"all", "GET", "/_ingest/pipeline", nil, 200, "", "", "", []string{"logs-nginx.access@custom", "my-pipeline"}},
		{"summary lists ids", "GET", "/_ingest/pipeline/my-pipeline?summary", nil, 200, `{"my-pipeline":{}}`, "", "", nil},
		{"comma list", "GET", "/_ingest/pipeline/my-pipeline,nope", nil, 200, "", "", "", []string{"my-pipeline"}},
		{"no processors", "PUT", "/_ingest/pipeline/x", `{"description":"d"}`, 400, "", "parse_exception", "[processors] required property is missing", nil},
		{"processors not a list", "PUT", "/_ingest/pipeline/x", `{"processors":"set"}`, 400, "", "parse_exception", "[processors] property isn't a list, but of type [java.lang.String]", nil},
		{"unknown key", "PUT", "/_ingest/pipeline/x", `{"processors":[],"foo":1,"bar":2}`, 400, "", "parse_exception", "pipeline [x] doesn't support one or more provided configuration parameters [bar, foo]", nil},
		{"delete missing", "DELETE", "/_ingest/pipeline/nope", nil, 404, "", "resource_not_found_exception", "pipeline [nope] is missing", nil},
		{"unknown query parameter", "GET", "/_ingest/pipeline/x?summary=true&sumary=1", nil, 400, "", "illegal_argument_exception", "request [/_ingest/pipeline/x] contains unrecognized parameter: [sumary] -> did you mean [summary]?", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(t, tt.method, tt.path, tt.body, superuser)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.raw)
			}
			switch {
			case tt.wantRaw != "":
				if string(r.raw) != tt.wantRaw {
					t.Errorf("body %s, want %s", r.raw, tt.wantRaw)
				}
			case tt.wantType != "":
				typ, reason := errOf(t, r)
				if typ != tt.wantType || reason != tt.wantReason {
					t.Errorf("error %s %q, want %s %q", typ, reason, tt.wantType, tt.wantReason)
				}
			default:
				if d := cmp.Diff(tt.wantIDs, sortedKeys(r.body)); d != "" {
					t.Errorf("ids (-want +got):\n%s", d)
				}
			}
		})
	}
	c.must(t, 200, "DELETE", "/_ingest/pipeline/my-pipeline", nil)
	if r := c.do(t, "GET", "/_ingest/pipeline/my-pipeline", nil, superuser); r.status != 404 {
		t.Errorf("deleted pipeline still there: %d %s", r.status, r.raw)
	}
}

func TestAssets_AuthorizationAndReset(t *testing.T) {
	c := newCluster(t, nil, Config{License: "enterprise"})
	c.must(t, 200, "POST", "/_security/api_key", `{"name":"pipelines","role_descriptors":{"r":{"cluster":["manage_pipeline"]}}}`)
	// A monitor-only principal may not read pipelines; manage_pipeline may write them.
	tests := []struct {
		cluster    []string
		method     string
		path       string
		body       string
		wantStatus int
	}{
		{[]string{"manage_pipeline"}, "PUT", "/_ingest/pipeline/p", `{"processors":[]}`, 200},
		{[]string{"manage_pipeline"}, "PUT", "/_component_template/t", `{"template":{}}`, 403},
		{[]string{"manage_index_templates"}, "PUT", "/_component_template/t", `{"template":{}}`, 200},
		{[]string{"read_pipeline"}, "GET", "/_ingest/pipeline/p", "", 200},
		{[]string{"monitor"}, "GET", "/_ingest/pipeline/p", "", 403},
	}
	for _, tt := range tests {
		key := c.must(t, 200, "POST", "/_security/api_key", map[string]any{"name": "k", "role_descriptors": map[string]any{"r": map[string]any{"cluster": tt.cluster}}})
		var body any
		if tt.body != "" {
			body = tt.body
		}
		r := c.do(t, tt.method, tt.path, body, "ApiKey "+key["encoded"].(string))
		if r.status != tt.wantStatus {
			t.Errorf("%v %s %s: %d, want %d: %s", tt.cluster, tt.method, tt.path, r.status, tt.wantStatus, r.raw)
		}
	}
	snap := c.Snapshot()
	c.Reset()
	if got := c.Pipelines("*"); len(got) != 0 {
		t.Errorf("Reset kept pipelines: %v", got)
	}
	if err := c.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if got := c.Pipelines("p"); len(got) != 1 {
		t.Errorf("Restore lost the pipeline: %v", got)
	}
}
