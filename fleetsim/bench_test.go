package fleetsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchCluster is a cluster with 200 outputs and 1,000 agent policies.
func benchCluster(b *testing.B) *Cluster {
	b.Helper()
	s := New(Options{})
	c, err := s.AddCluster(ClusterConfig{Name: "main"})
	if err != nil {
		b.Fatal(err)
	}
	h := c.KibanaHandler()
	for i := range 199 {
		body := fmt.Sprintf(`{"id":"out-%03d","name":"out %d","type":"elasticsearch","hosts":["https://es-%d.example:9200"],"config_yaml":"bulk_max_size: 100"}`, i, i, i)
		if rec := serve(h, "POST", "/api/fleet/outputs", body); rec.Code != 200 {
			b.Fatalf("create output: %d %s", rec.Code, rec.Body)
		}
	}
	var seeds []SeedAgentPolicy
	for i := range 1000 {
		out := fmt.Sprintf("out-%03d", i%199)
		seeds = append(seeds, SeedAgentPolicy{ID: fmt.Sprintf("policy-%04d", i), Name: fmt.Sprintf("Policy %d", i), Description: "benchmark policy", DataOutputID: &out, Agents: i % 7})
	}
	if err := s.Seed(&SeedFile{Clusters: map[string]*ClusterSeed{"main": {AgentPolicies: seeds}}}); err != nil {
		b.Fatal(err)
	}
	return c
}

func serve(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	var req *http.Request
	if body == "" {
		req = httptest.NewRequest(method, path, nil)
	} else {
		req = httptest.NewRequest(method, path, stringsReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth("elastic", "changeme")
	req.Header.Set("kbn-xsrf", "true")
	req.Header.Set("elastic-api-version", "2023-10-31")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func benchmarkGet(b *testing.B, path string, wantItems int) {
	c := benchCluster(b)
	h := c.KibanaHandler()
	rec := serve(h, "GET", path, "")
	if rec.Code != 200 {
		b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
	}
	if n := countItems(b, rec.Body.Bytes()); n != wantItems {
		b.Fatalf("%s: %d items, want %d", path, n, wantItems)
	}
	req := httptest.NewRequest("GET", path, nil)
	req.SetBasicAuth("elastic", "changeme")
	req.Header.Set("elastic-api-version", "2023-10-31")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.status, w.n = 0, 0
		h.ServeHTTP(w, req)
		if w.status != 200 || w.n == 0 {
			b.Fatal(w.status)
		}
	}
	b.ReportMetric(float64(w.n), "bytes/resp")
}

// BenchmarkListOutputs200 is GET /api/fleet/outputs with 200 outputs.
func BenchmarkListOutputs200(b *testing.B) { benchmarkGet(b, "/api/fleet/outputs", 200) }

// BenchmarkListAgentPolicies1000 is one page of 1,000 agent policies (perPage=1000, without full).
func BenchmarkListAgentPolicies1000(b *testing.B) {
	benchmarkGet(b, "/api/fleet/agent_policies?perPage=1000", 1000)
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

func countItems(tb testing.TB, raw []byte) int {
	tb.Helper()
	var body struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		tb.Fatal(err)
	}
	return len(body.Items)
}

// discardWriter is a ResponseWriter that keeps only the status and size, so
// the benchmark measures fleetsim rather than a recorder's buffer.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (d *discardWriter) Header() http.Header { return d.h }

func (d *discardWriter) WriteHeader(s int) { d.status = s }

func (d *discardWriter) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.status = 200
	}
	d.n += len(p)
	return len(p), nil
}
