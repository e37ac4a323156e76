package state

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/kibana/retry"
	"github.com/fleetform/fleetform/secret"
)

// fakeES keeps one index of documents in a map and records every byte it
// receives, so tests can check what was written.
type fakeES struct {
	mu       sync.Mutex
	exists   bool
	mapping  json.RawMessage
	docs     map[string]json.RawMessage
	received bytes.Buffer // every request line and body, as sent
	log      []string
}

func (f *fakeES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.received.WriteString(r.Method + " " + r.URL.String() + "\n")
	f.received.Write(b)
	f.received.WriteString("\n")
	f.log = append(f.log, r.Method+" "+r.URL.EscapedPath()+"?"+r.URL.RawQuery)
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	parts := strings.SplitN(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/", 3)
	notFound := func() {
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [fleetform-state]"}],"type":"index_not_found_exception","reason":"no such index [fleetform-state]"},"status":404}`)
	}
	switch {
	case r.Method == "HEAD" && len(parts) == 1:
		if !f.exists {
			w.WriteHeader(404)
		}
	case r.Method == "PUT" && len(parts) == 1:
		f.exists, f.mapping = true, b
		_, _ = io.WriteString(w, `{"acknowledged":true,"shards_acknowledged":true,"index":"fleetform-state"}`)
	case r.Method == "PUT" && len(parts) == 3 && parts[1] == "_doc":
		if !f.exists { // ES would auto-create; the store must create it with the mapping first
			w.WriteHeader(500)
			return
		}
		id, _ := url.PathUnescape(parts[2])
		f.docs[id] = b
		_, _ = io.WriteString(w, `{"result":"created","_seq_no":1,"_primary_term":1}`)
	case r.Method == "DELETE" && len(parts) == 3:
		id, _ := url.PathUnescape(parts[2])
		if _, ok := f.docs[id]; !ok {
			w.WriteHeader(404)
			_, _ = io.WriteString(w, `{"result":"not_found"}`)
			return
		}
		delete(f.docs, id)
		_, _ = io.WriteString(w, `{"result":"deleted"}`)
	case r.Method == "POST" && len(parts) == 2 && parts[1] == "_pit":
		if !f.exists {
			notFound()
			return
		}
		_, _ = io.WriteString(w, `{"id":"pit-1","_shards":{"total":1,"successful":1,"skipped":0,"failed":0}}`)
	case r.Method == "DELETE" && r.URL.Path == "/_pit":
		_, _ = io.WriteString(w, `{"succeeded":true,"num_freed":1}`)
	case r.Method == "POST" && r.URL.Path == "/_search":
		// One page: the tests hold fewer documents than a page.
		if !strings.Contains(string(b), `"match_all"`) || !strings.Contains(string(b), `"pit":{"id":"pit-1"`) || strings.Contains(string(b), "search_after") {
			w.WriteHeader(400)
			return
		}
		var hits []any
		i := 0
		for id, src := range f.docs {
			hits = append(hits, map[string]any{"_id": id, "_seq_no": 1, "_primary_term": 1, "_source": json.RawMessage(src), "sort": []int{i}})
			i++
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"pit_id": "pit-1", "hits": map[string]any{"hits": hits}})
	default:
		w.WriteHeader(400)
	}
}

func newStore(t *testing.T, instance string) (*Store, *fakeES) {
	t.Helper()
	f := &fakeES{docs: map[string]json.RawMessage{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	es, err := elastic.New(srv.URL, elastic.Auth{}, elastic.WithRetryPolicy(retry.Policy{Attempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	return NewStore(es, "", instance), f
}

func TestStore_RoundTrip(t *testing.T) {
	ctx := context.Background()
	s, f := newStore(t, "prod")
	got, err := s.Load(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("Load of an absent index = %v, %v; want empty", got, err)
	}
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	entries := []Entry{
		{Kind: "output", ID: "remote-west", Cluster: "main", DesiredHash: "sha256:abc", Revision: "c0ffee", AppliedAt: at,
			Secrets: map[string]SecretRecord{"secrets.service_token": {Hash: "00:11", FleetSecretID: "sec-1", RefDescribe: "generate"}},
			Extra:   map[string]string{"service_token_name": "fleetform-remote-west"}},
		{Kind: "agent_policy", ID: "prod/linux", Cluster: "main", DesiredHash: "sha256:def", Revision: "c0ffee", AppliedAt: at},
		{Kind: "service_token", ID: "fleetform-remote-west", Cluster: "west", Revision: "c0ffee", AppliedAt: at},
	}
	for _, e := range entries {
		if err := s.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err = s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[Key]Entry{}
	for _, e := range entries {
		e.Instance = "prod"
		want[e.Key()] = e
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Load (-want +got):\n%s", d)
	}
	if err := s.Delete(ctx, Key{Cluster: "main", Kind: "agent_policy", ID: "prod/linux"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, Key{Cluster: "main", Kind: "agent_policy", ID: "never-was"}); err != nil {
		t.Errorf("Delete of a missing entry = %v, want nil", err)
	}
	got, _ = s.Load(ctx)
	if len(got) != 2 {
		t.Errorf("after delete: %d entries, want 2", len(got))
	}
	// Each load pages through a point in time (here one page) and closes it.
	load := []string{"POST /fleetform-state/_pit?keep_alive=1m", "POST /_search?seq_no_primary_term=true", "DELETE /_pit?"}
	wantLog := []string{
		"POST /fleetform-state/_pit?keep_alive=1m", // a missing index: no point in time to page or close
		"HEAD /fleetform-state?",
		"PUT /fleetform-state?",
		"PUT /fleetform-state/_doc/prod%2Fmain%2Foutput%2Fremote-west?refresh=wait_for",
		"PUT /fleetform-state/_doc/prod%2Fmain%2Fagent_policy%2Fprod%2Flinux?refresh=wait_for",
		"PUT /fleetform-state/_doc/prod%2Fwest%2Fservice_token%2Ffleetform-remote-west?refresh=wait_for",
		load[0], load[1], load[2],
		"DELETE /fleetform-state/_doc/prod%2Fmain%2Fagent_policy%2Fprod%2Flinux?refresh=wait_for",
		"DELETE /fleetform-state/_doc/prod%2Fmain%2Fagent_policy%2Fnever-was?refresh=wait_for",
		load[0], load[1], load[2],
	}
	if d := cmp.Diff(wantLog, f.log); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	var m struct {
		Settings struct {
			Index map[string]any `json:"index"`
		} `json:"settings"`
		Mappings struct {
			Dynamic    bool                      `json:"dynamic"`
			Properties map[string]map[string]any `json:"properties"`
		} `json:"mappings"`
	}
	if err := json.Unmarshal(f.mapping, &m); err != nil {
		t.Fatal(err)
	}
	if m.Settings.Index["hidden"] != true || m.Mappings.Dynamic || m.Mappings.Properties["instance"]["type"] != "keyword" ||
		m.Mappings.Properties["secrets"]["enabled"] != false {
		t.Errorf("index created with %s", f.mapping)
	}
	var doc map[string]any
	_ = json.Unmarshal(f.docs["prod/main/output/remote-west"], &doc)
	wantDoc := map[string]any{"kind": "output", "id": "remote-west", "cluster": "main", "instance": "prod", "desired_hash": "sha256:abc",
		"revision": "c0ffee", "applied_at": "2026-11-27T12:00:00Z", "extra": map[string]any{"service_token_name": "fleetform-remote-west"},
		"secrets": map[string]any{"secrets.service_token": map[string]any{"hash": "00:11", "fleet_secret_id": "sec-1", "ref": "generate"}}}
	if d := cmp.Diff(wantDoc, doc); d != "" {
		t.Errorf("stored document (-want +got):\n%s", d)
	}
}

func TestStore_InstancesAreSeparate(t *testing.T) {
	ctx := context.Background()
	a, f := newStore(t, "a")
	b := NewStore(a.es, "", "b")
	if err := a.Put(ctx, Entry{Kind: "output", ID: "x", Cluster: "main"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, Entry{Kind: "output", ID: "x", Cluster: "main"}); err != nil {
		t.Fatal(err)
	}
	if len(f.docs) != 2 {
		t.Errorf("docs = %d, want one per instance", len(f.docs))
	}
	got, err := b.Load(ctx)
	if err != nil || len(got) != 1 || got[Key{"main", "output", "x"}].Instance != "b" {
		t.Errorf("Load(b) = %v, %v", got, err)
	}
	if err := a.Put(ctx, Entry{Kind: "output"}); err == nil {
		t.Error("Put without id accepted")
	}
}

// TestStore_NeverWritesASecretValue hashes real secret values into entries
// and checks every byte sent to Elasticsearch.
func TestStore_NeverWritesASecretValue(t *testing.T) {
	ctx := context.Background()
	s, f := newStore(t, "default")
	secrets := []string{"AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyLXJlbW90ZS90b2tlbi0x", "kibana-api-key-value-Zm9vOmJhcg==", "-----BEGIN PRIVATE KEY-----MIIEvQ"}
	for i, v := range secrets {
		e := Entry{Kind: "output", ID: string(rune('a' + i)), Cluster: "main", Secrets: map[string]SecretRecord{
			"secrets.service_token": {Hash: HashSecret(secret.New(v)), FleetSecretID: "sec", RefDescribe: "env:TOKEN"}}}
		if err := s.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	loaded, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all := f.received.String()
	for _, v := range secrets {
		for _, form := range []string{v, url.QueryEscape(v), strings.Trim(mustJSON(v), `"`)} {
			if strings.Contains(all, form) {
				t.Errorf("a secret value (%q) was sent to Elasticsearch", v)
			}
		}
	}
	for i, v := range secrets {
		rec := loaded[Key{"main", "output", string(rune('a' + i))}].Secrets["secrets.service_token"]
		if !VerifySecret(secret.New(v), rec.Hash) {
			t.Errorf("stored hash of secret %d does not verify", i)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestHashSecret(t *testing.T) {
	v := secret.New("token-value")
	h1, h2 := HashSecret(v), HashSecret(v)
	if h1 == h2 {
		t.Error("two hashes of one value are equal: the salt is not random")
	}
	salt, key, ok := strings.Cut(h1, ":")
	if !ok || len(salt) != 32 || len(key) != 64 {
		t.Errorf("hash %q: want 16-byte salt hex and 32-byte key hex", h1)
	}
	tests := []struct {
		name string
		v    secret.Value
		hash string
		want bool
	}{
		{"same value, first hash", v, h1, true},
		{"same value, second hash", v, h2, true},
		{"other value", secret.New("token-valuE"), h1, false},
		{"empty value", secret.New(""), h1, false},
		{"no colon", v, strings.Replace(h1, ":", "", 1), false},
		{"bad hex", v, "zz:" + key, false},
		{"short key", v, salt + ":" + key[:62], false},
		{"empty", v, "", false},
		// fixed vector, computed with Python's hashlib.pbkdf2_hmac("sha256",
		// b"token-value", bytes(range(16)), 100000, 32)
		{"known vector", v, "000102030405060708090a0b0c0d0e0f:5fd5db4e22130c728ac99fd80e404ca0c6d4c5590f3d5ffd50f143ced1c9b5a0", true},
	}
	for _, tt := range tests {
		if got := VerifySecret(tt.v, tt.hash); got != tt.want {
			t.Errorf("%s: VerifySecret = %v, want %v", tt.name, got, tt.want)
		}
	}
}
