package elastic

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fleetform/fleetform/kibana/retry"
	"github.com/fleetform/fleetform/secret"
)

const (
	testAPIKey   = "S3CRET-ES-API-KEY-do-not-leak"
	testPassword = "S3CRET-ES-PASSWORD-do-not-leak"
)

type seen struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

// fake is an httptest Elasticsearch: handle answers request n (1-based).
type fake struct {
	mu     sync.Mutex
	reqs   []seen
	handle func(w http.ResponseWriter, r *http.Request, n int)
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, seen{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(b)})
	n := len(f.reqs)
	f.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(b))
	w.Header().Set("X-Elastic-Product", "Elasticsearch") // go-elasticsearch checks it
	f.handle(w, r, n)
}

func (f *fake) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

type sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return nil
}

type env struct {
	c      *Client
	f      *fake
	sleeps *sleeps
	logs   *bytes.Buffer
}

func newEnv(t *testing.T, auth Auth, handle func(w http.ResponseWriter, r *http.Request, n int)) *env {
	t.Helper()
	f := &fake{handle: handle}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	s := &sleeps{}
	logs := &bytes.Buffer{}
	var mu sync.Mutex
	lg := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := retry.Policy{Attempts: 3, Base: 100 * time.Millisecond, Max: 5 * time.Second, Sleep: s.sleep, Rand: func() float64 { return 0 }}
	c, err := New(srv.URL, auth, WithRetryPolicy(p), WithLogger(lg))
	if err != nil {
		t.Fatal(err)
	}
	return &env{c: c, f: f, sleeps: s, logs: logs}
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

func apiKeyAuth() Auth { return Auth{APIKey: secret.New(testAPIKey)} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func esError(w http.ResponseWriter, status int, typ, reason string) {
	cause := map[string]any{"type": typ, "reason": reason}
	writeJSON(w, status, map[string]any{"error": map[string]any{"root_cause": []any{cause}, "type": typ, "reason": reason}, "status": status})
}

func TestAuthHeaders(t *testing.T) {
	tests := []struct {
		name string
		auth Auth
		want string
	}{
		{"api key", apiKeyAuth(), "ApiKey " + testAPIKey},
		{"basic", Auth{Username: "elastic", Password: secret.New(testPassword)}, "Basic " + base64.StdEncoding.EncodeToString([]byte("elastic:"+testPassword))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.auth, func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, 200, map[string]any{"cluster_name": "main", "version": map[string]any{"number": "9.3.0"}})
			})
			info, err := e.c.Info(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if info.ClusterName != "main" || info.Version.Number != "9.3.0" {
				t.Errorf("info = %+v", info)
			}
			if got := e.f.requests()[0].Header.Get("Authorization"); got != tt.want {
				t.Errorf("authorization = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := New("http://es:9200", Auth{APIKey: secret.New("k"), Username: "u"}); err == nil {
		t.Error("mixed auth accepted")
	}
	if _, err := New("http://u:"+testPassword+"@es:9200", Auth{}); err == nil || strings.Contains(err.Error(), testPassword) {
		t.Errorf("userinfo URL: err = %v", err)
	}
}

func TestErrorEnvelope(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		call     func(context.Context, *Client) error
		want     Error
		wantText string
	}{
		{
			name:   "index not found",
			status: 404,
			body:   `{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [x]","resource.type":"index_or_alias","resource.id":"x","index_uuid":"_na_","index":"x"}],"type":"index_not_found_exception","reason":"no such index [x]","resource.type":"index_or_alias","resource.id":"x","index_uuid":"_na_","index":"x"},"status":404}`,
			call:   func(ctx context.Context, c *Client) error { _, err := c.Search(ctx, "x", map[string]any{}); return err },
			want: Error{Method: "POST", Path: "/x/_search", Status: 404, Type: "index_not_found_exception", Reason: "no such index [x]",
				RootCause: []Cause{{Type: "index_not_found_exception", Reason: "no such index [x]"}}},
			wantText: "POST /x/_search: 404 index_not_found_exception: no such index [x]",
		},
		{
			name:   "already exists",
			status: 400,
			body:   `{"error":{"root_cause":[{"type":"resource_already_exists_exception","reason":"index [fruit/2-uwbMVcTWKYL3xkPRnH0Q] already exists","index":"fruit","index_uuid":"2-uwbMVcTWKYL3xkPRnH0Q"}],"type":"resource_already_exists_exception","reason":"index [fruit/2-uwbMVcTWKYL3xkPRnH0Q] already exists","index":"fruit","index_uuid":"2-uwbMVcTWKYL3xkPRnH0Q"},"status":400}`,
			call:   func(ctx context.Context, c *Client) error { return c.CreateIndex(ctx, "fruit", nil) },
			want: Error{Method: "PUT", Path: "/fruit", Status: 400, Type: "resource_already_exists_exception", Reason: "index [fruit/2-uwbMVcTWKYL3xkPRnH0Q] already exists",
				RootCause: []Cause{{Type: "resource_already_exists_exception", Reason: "index [fruit/2-uwbMVcTWKYL3xkPRnH0Q] already exists"}}},
			wantText: "PUT /fruit: 400 resource_already_exists_exception: index [fruit/2-uwbMVcTWKYL3xkPRnH0Q] already exists",
		},
		{
			name:   "version conflict",
			status: 409,
			body:   `{"error":{"root_cause":[{"type":"version_conflict_engine_exception","reason":"[lease]: version conflict, required seqNo [3], primary term [1]. current document has seqNo [4] and primary term [1]"}],"type":"version_conflict_engine_exception","reason":"[lease]: version conflict, required seqNo [3], primary term [1]. current document has seqNo [4] and primary term [1]"},"status":409}`,
			call: func(ctx context.Context, c *Client) error {
				seq, term := int64(3), int64(1)
				_, err := c.IndexDoc(ctx, "fleetform-lease", "lease", map[string]any{"holder": "a"}, IndexOptions{IfSeqNo: &seq, IfPrimaryTerm: &term})
				return err
			},
			want: Error{Method: "PUT", Path: "/fleetform-lease/_doc/lease", Status: 409, Type: "version_conflict_engine_exception",
				Reason:    "[lease]: version conflict, required seqNo [3], primary term [1]. current document has seqNo [4] and primary term [1]",
				RootCause: []Cause{{Type: "version_conflict_engine_exception", Reason: "[lease]: version conflict, required seqNo [3], primary term [1]. current document has seqNo [4] and primary term [1]"}}},
			wantText: "PUT /fleetform-lease/_doc/lease: 409 version_conflict_engine_exception: [lease]: version conflict, required seqNo [3], primary term [1]. current document has seqNo [4] and primary term [1]",
		},
		{
			name:     "security exception",
			status:   401,
			body:     `{"error":{"root_cause":[{"type":"security_exception","reason":"unable to authenticate with provided credentials and anonymous access is not allowed for this request"}],"type":"security_exception","reason":"unable to authenticate with provided credentials and anonymous access is not allowed for this request"},"status":401}`,
			call:     func(ctx context.Context, c *Client) error { _, err := c.Authenticate(ctx); return err },
			want:     Error{Method: "GET", Path: "/_security/_authenticate", Status: 401, Type: "security_exception", Reason: "unable to authenticate with provided credentials and anonymous access is not allowed for this request", RootCause: []Cause{{Type: "security_exception", Reason: "unable to authenticate with provided credentials and anonymous access is not allowed for this request"}}},
			wantText: "GET /_security/_authenticate: 401 security_exception: unable to authenticate with provided credentials and anonymous access is not allowed for this request",
		},
		{
			name:     "plain text body",
			status:   403,
			body:     "forbidden\n",
			call:     func(ctx context.Context, c *Client) error { _, err := c.License(ctx); return err },
			want:     Error{Method: "GET", Path: "/_license", Status: 403, Reason: "forbidden"},
			wantText: "GET /_license: 403 Forbidden: forbidden",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, apiKeyAuth(), func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			err := tt.call(context.Background(), e.c)
			var got *Error
			if !errors.As(err, &got) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if d := cmp.Diff(tt.want, *got); d != "" {
				t.Errorf("Error (-want +got):\n%s", d)
			}
			if err.Error() != tt.wantText {
				t.Errorf("text\n got %q\nwant %q", err.Error(), tt.wantText)
			}
			if StatusCode(err) != tt.status || ErrorType(err) != tt.want.Type {
				t.Errorf("StatusCode = %d, ErrorType = %q", StatusCode(err), ErrorType(err))
			}
			if n := len(e.f.requests()); n != 1 {
				t.Errorf("requests = %d; a %d is never retried", n, tt.status)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	seq, term := int64(1), int64(1)
	put := func(ctx context.Context, c *Client) error {
		_, err := c.IndexDoc(ctx, "i", "d", map[string]any{"a": 1}, IndexOptions{})
		return err
	}
	conditional := func(ctx context.Context, c *Client) error {
		_, err := c.IndexDoc(ctx, "i", "d", map[string]any{"a": 1}, IndexOptions{IfSeqNo: &seq, IfPrimaryTerm: &term})
		return err
	}
	create := func(ctx context.Context, c *Client) error {
		_, _, err := c.CreateAPIKey(ctx, "k", nil, nil)
		return err
	}
	search := func(ctx context.Context, c *Client) error { _, err := c.Search(ctx, "i", map[string]any{}); return err }
	follow := func(ctx context.Context, c *Client) error {
		_, err := c.CCRFollow(ctx, "f", "main", "l", "all")
		return err
	}
	tests := []struct {
		name     string
		call     func(context.Context, *Client) error
		statuses []int
		wantReqs int
		wantErr  bool
	}{
		{"PUT doc 503 retried", put, []int{503}, 2, false},
		{"PUT doc 502 retried", put, []int{502}, 2, false},
		{"PUT doc 500 not retried", put, []int{500}, 1, true},
		{"conditional PUT 502 not retried", conditional, []int{502}, 1, true},
		{"conditional PUT 429 retried", conditional, []int{429}, 2, false},
		{"create API key 504 not retried", create, []int{504}, 1, true},
		{"create API key 503 not retried", create, []int{503}, 1, true},
		{"create API key 429 retried", create, []int{429}, 2, false},
		{"search 502 retried (a read)", search, []int{502, 502}, 3, false},
		{"search 502 until attempts run out", search, []int{502, 502, 502}, 3, true},
		{"CCR follow 504 not retried", follow, []int{504}, 1, true},
		{"search 400 not retried", search, []int{400}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, apiKeyAuth(), func(w http.ResponseWriter, r *http.Request, n int) {
				if n <= len(tt.statuses) {
					esError(w, tt.statuses[n-1], "scripted_exception", fmt.Sprintf("scripted %d", tt.statuses[n-1]))
					return
				}
				switch {
				case strings.Contains(r.URL.Path, "_search"):
					writeJSON(w, 200, map[string]any{"hits": map[string]any{"total": map[string]any{"value": 0}, "hits": []any{}}})
				case strings.Contains(r.URL.Path, "api_key"):
					writeJSON(w, 200, map[string]any{"id": "k1", "name": "k", "api_key": "x", "encoded": "ZW5j"})
				default:
					writeJSON(w, 200, map[string]any{"_id": "d", "result": "updated", "_seq_no": 2, "_primary_term": 1})
				}
			})
			err := tt.call(context.Background(), e.c)
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if n := len(e.f.requests()); n != tt.wantReqs {
				t.Errorf("requests = %d, want %d", n, tt.wantReqs)
			}
		})
	}
}

func TestDocs(t *testing.T) {
	e := newEnv(t, apiKeyAuth(), func(w http.ResponseWriter, r *http.Request, _ int) {
		switch {
		case r.Method == "GET" && r.URL.EscapedPath() == "/state/_doc/main%2Foutput%2Fx":
			writeJSON(w, 200, map[string]any{"_index": "state", "_id": "main/output/x", "_seq_no": 7, "_primary_term": 2, "_version": 3, "found": true, "_source": map[string]any{"kind": "output"}})
		case r.Method == "GET":
			writeJSON(w, 404, map[string]any{"_index": "state", "_id": "nope", "found": false})
		case r.Method == "PUT":
			writeJSON(w, 201, map[string]any{"_id": "main/output/x", "result": "created", "_seq_no": 8, "_primary_term": 2, "_version": 1})
		case r.Method == "DELETE":
			writeJSON(w, 404, map[string]any{"_id": "gone", "result": "not_found"})
		case r.Method == "HEAD":
			w.WriteHeader(404)
		case strings.HasSuffix(r.URL.Path, "_search"):
			writeJSON(w, 200, map[string]any{"hits": map[string]any{"total": map[string]any{"value": 1, "relation": "eq"},
				"hits": []any{map[string]any{"_index": "state", "_id": "a", "_seq_no": 1, "_primary_term": 1, "_source": map[string]any{"k": "v"}}}}})
		}
	})
	ctx := context.Background()
	d, found, err := e.c.GetDoc(ctx, "state", "main/output/x")
	if err != nil || !found || d.SeqNo != 7 || d.PrimaryTerm != 2 || d.Version != 3 || string(d.Source) != `{"kind":"output"}` {
		t.Errorf("GetDoc = %+v, %v, %v", d, found, err)
	}
	if _, found, err := e.c.GetDoc(ctx, "state", "nope"); found || err != nil {
		t.Errorf("GetDoc(missing) = %v, %v", found, err)
	}
	seq, term := int64(7), int64(2)
	res, err := e.c.IndexDoc(ctx, "state", "main/output/x", json.RawMessage(`{"kind":"output"}`), IndexOptions{IfSeqNo: &seq, IfPrimaryTerm: &term, Refresh: "wait_for", OpType: "index"})
	if err != nil || res.SeqNo != 8 || res.Result != "created" {
		t.Errorf("IndexDoc = %+v, %v", res, err)
	}
	if found, err := e.c.DeleteDoc(ctx, "state", "gone", IndexOptions{Refresh: "wait_for"}); found || err != nil {
		t.Errorf("DeleteDoc(missing) = %v, %v", found, err)
	}
	if ok, err := e.c.IndexExists(ctx, "state"); ok || err != nil {
		t.Errorf("IndexExists = %v, %v", ok, err)
	}
	sr, err := e.c.Search(ctx, "state", map[string]any{"size": 10})
	if err != nil || sr.Total != 1 || len(sr.Hits) != 1 || sr.Hits[0].ID != "a" || sr.Hits[0].SeqNo != 1 {
		t.Errorf("Search = %+v, %v", sr, err)
	}
	var got []string
	for _, r := range e.f.requests() {
		got = append(got, r.Method+" "+r.Path+"?"+r.Query+" "+r.Body)
	}
	want := []string{
		"GET /state/_doc/main%2Foutput%2Fx? ",
		"GET /state/_doc/nope? ",
		`PUT /state/_doc/main%2Foutput%2Fx?if_primary_term=2&if_seq_no=7&op_type=index&refresh=wait_for {"kind":"output"}`,
		"DELETE /state/_doc/gone?refresh=wait_for ",
		"HEAD /state? ",
		`POST /state/_search?seq_no_primary_term=true {"size":10}`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}

func TestSecurity(t *testing.T) {
	const tokenValue = "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyLXJlbW90ZS90b2tlbjE"
	const encoded = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
	e := newEnv(t, apiKeyAuth(), func(w http.ResponseWriter, r *http.Request, _ int) {
		switch {
		case r.Method == "POST" && strings.Contains(r.URL.Path, "/credential/token"):
			writeJSON(w, 200, map[string]any{"created": true, "token": map[string]any{"name": "fleetform-remote-west", "value": tokenValue}})
		case r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/credential"):
			writeJSON(w, 200, map[string]any{"service_account": "elastic/fleet-server-remote", "count": 3,
				"tokens":            map[string]any{"b": map[string]any{}, "a": map[string]any{}},
				"nodes_credentials": map[string]any{"_nodes": map[string]any{"total": 1}, "file_tokens": map[string]any{"f": map[string]any{"nodes": []any{"n0"}}}}})
		case r.Method == "DELETE" && strings.Contains(r.URL.Path, "/credential/token/"):
			writeJSON(w, 200, map[string]any{"found": true})
		case r.Method == "PUT" && r.URL.Path == "/_security/api_key":
			writeJSON(w, 200, map[string]any{"id": "VuaCfGcBCdbkQm-e5aOx", "name": "fleetform-west-kibana", "api_key": "ui2lp2axTNmsyakw9tvNnw", "encoded": encoded})
		case r.Method == "GET" && r.URL.Path == "/_security/api_key":
			writeJSON(w, 200, map[string]any{"api_keys": []any{map[string]any{"id": "VuaCfGcBCdbkQm-e5aOx", "name": "fleetform-west-kibana", "invalidated": false, "metadata": map[string]any{"managed_by": "fleetform"}}}})
		case r.Method == "DELETE" && r.URL.Path == "/_security/api_key":
			writeJSON(w, 200, map[string]any{"invalidated_api_keys": []any{"VuaCfGcBCdbkQm-e5aOx"}, "previously_invalidated_api_keys": []any{}, "error_count": 0})
		}
	})
	ctx := context.Background()
	tok, err := e.c.CreateServiceToken(ctx, "elastic", "fleet-server-remote", "fleetform-remote-west")
	if err != nil || tok.Name != "fleetform-remote-west" || tok.Value.Reveal() != tokenValue {
		t.Errorf("CreateServiceToken = %+v, %v", tok, err)
	}
	if strings.Contains(fmt.Sprintf("%+v %#v", tok, tok), tokenValue) {
		t.Error("token value printed")
	}
	creds, err := e.c.ListServiceTokens(ctx, "elastic", "fleet-server-remote")
	if err != nil || !cmp.Equal(creds, ServiceCredentials{Tokens: []string{"a", "b"}, FileTokens: []string{"f"}}) {
		t.Errorf("ListServiceTokens = %+v, %v", creds, err)
	}
	if found, err := e.c.DeleteServiceToken(ctx, "elastic", "fleet-server-remote", "a"); !found || err != nil {
		t.Errorf("DeleteServiceToken = %v, %v", found, err)
	}
	roles := map[string]RoleDescriptor{"fleet_status": {Applications: []ApplicationPrivilege{{
		Application: "kibana-.kibana", Privileges: []string{"feature_fleet.read", "feature_fleetv2.read"}, Resources: []string{"*"}}}}}
	id, key, err := e.c.CreateAPIKey(ctx, "fleetform-west-kibana", roles, map[string]any{"managed_by": "fleetform", "output": "remote-west"})
	if err != nil || id != "VuaCfGcBCdbkQm-e5aOx" || key.Reveal() != encoded {
		t.Errorf("CreateAPIKey = %q, %v", id, err)
	}
	keys, err := e.c.GetAPIKeys(ctx, "fleetform-*", true)
	if err != nil || len(keys) != 1 || keys[0].Metadata["managed_by"] != "fleetform" {
		t.Errorf("GetAPIKeys = %+v, %v", keys, err)
	}
	inv, err := e.c.InvalidateAPIKey(ctx, "VuaCfGcBCdbkQm-e5aOx")
	if err != nil || !cmp.Equal(inv, []string{"VuaCfGcBCdbkQm-e5aOx"}) {
		t.Errorf("InvalidateAPIKey = %v, %v", inv, err)
	}
	var got []string
	for _, r := range e.f.requests() {
		got = append(got, r.Method+" "+r.Path+"?"+r.Query+" "+r.Body)
	}
	want := []string{
		"POST /_security/service/elastic/fleet-server-remote/credential/token/fleetform-remote-west? ",
		"GET /_security/service/elastic/fleet-server-remote/credential? ",
		"DELETE /_security/service/elastic/fleet-server-remote/credential/token/a? ",
		`PUT /_security/api_key? {"metadata":{"managed_by":"fleetform","output":"remote-west"},"name":"fleetform-west-kibana","role_descriptors":{"fleet_status":{"applications":[{"application":"kibana-.kibana","privileges":["feature_fleet.read","feature_fleetv2.read"],"resources":["*"]}]}}}`,
		"GET /_security/api_key?name=fleetform-%2A&owner=true ",
		`DELETE /_security/api_key? {"ids":["VuaCfGcBCdbkQm-e5aOx"]}`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	if strings.Contains(e.logs.String(), tokenValue) || strings.Contains(e.logs.String(), encoded) || strings.Contains(e.logs.String(), testAPIKey) {
		t.Errorf("log leaks a credential:\n%s", e.logs)
	}
}

func TestClusterAndCCR(t *testing.T) {
	e := newEnv(t, apiKeyAuth(), func(w http.ResponseWriter, r *http.Request, _ int) {
		switch {
		case r.URL.Path == "/_cluster/settings" && r.Method == "GET":
			writeJSON(w, 200, map[string]any{"persistent": map[string]any{"cluster.remote.main.mode": "proxy", "cluster.remote.main.proxy_address": "es.main:9400"}, "transient": map[string]any{}})
		case r.URL.Path == "/_cluster/settings" && r.Method == "PUT":
			writeJSON(w, 200, map[string]any{"acknowledged": true, "persistent": map[string]any{}, "transient": map[string]any{}})
		case r.URL.Path == "/_remote/info":
			writeJSON(w, 200, map[string]any{"main": map[string]any{"mode": "proxy", "connected": true, "proxy_address": "es.main:9400", "num_proxy_sockets_connected": 18, "max_proxy_socket_connections": 18, "initial_connect_timeout": "30s", "skip_unavailable": false}})
		case strings.HasSuffix(r.URL.Path, "/_ccr/follow"):
			writeJSON(w, 200, map[string]any{"follow_index_created": true, "follow_index_shards_acked": true, "index_following_started": true})
		case strings.HasSuffix(r.URL.Path, "/_ccr/info"):
			writeJSON(w, 200, map[string]any{"follower_indices": []any{map[string]any{"follower_index": "fleet-synced-integrations-ccr-remote-west", "remote_cluster": "main", "leader_index": "fleet-synced-integrations", "status": "paused"}}})
		case strings.HasSuffix(r.URL.Path, "/_ccr/stats"):
			writeJSON(w, 200, map[string]any{"indices": []any{map[string]any{"index": "fleet-synced-integrations-ccr-remote-west", "total_global_checkpoint_lag": 0,
				"shards": []any{map[string]any{"remote_cluster": "main", "leader_index": "fleet-synced-integrations", "follower_index": "fleet-synced-integrations-ccr-remote-west", "shard_id": 0,
					"fatal_exception": map[string]any{"type": "illegal_state_exception", "reason": "Operations are no longer available for replicating. Existing retention leases [...]"}}}}}})
		default:
			writeJSON(w, 200, map[string]any{"acknowledged": true})
		}
	})
	ctx := context.Background()
	cs, err := e.c.GetClusterSettings(ctx)
	if err != nil || cs.Persistent["cluster.remote.main.mode"] != "proxy" {
		t.Errorf("GetClusterSettings = %+v, %v", cs, err)
	}
	if err := e.c.PutClusterSettings(ctx, map[string]any{"cluster.remote.main.mode": "proxy", "cluster.remote.main.seeds": nil}, nil); err != nil {
		t.Error(err)
	}
	ri, err := e.c.RemoteInfo(ctx)
	if err != nil || !ri["main"].Connected || ri["main"].ProxyAddress != "es.main:9400" || ri["main"].NumProxySocketsConnected != 18 {
		t.Errorf("RemoteInfo = %+v, %v", ri, err)
	}
	fr, err := e.c.CCRFollow(ctx, "fleet-synced-integrations-ccr-remote-west", "main", "fleet-synced-integrations", "all")
	if err != nil || !fr.IndexFollowingStarted {
		t.Errorf("CCRFollow = %+v, %v", fr, err)
	}
	info, err := e.c.CCRInfo(ctx, "fleet-synced-integrations-ccr-*")
	if err != nil || len(info) != 1 || info[0].Status != "paused" || info[0].RemoteCluster != "main" {
		t.Errorf("CCRInfo = %+v, %v", info, err)
	}
	stats, err := e.c.CCRStats(ctx, "fleet-synced-integrations-ccr-remote-west")
	if err != nil || len(stats) != 1 || stats[0].FatalException() == nil || !stats[0].OperationsUnavailable() {
		t.Errorf("CCRStats = %+v, %v", stats, err)
	}
	for _, f := range []func(context.Context, string) error{e.c.CCRPause, e.c.CCRResume, e.c.CloseIndex, e.c.CCRUnfollow} {
		if err := f(ctx, "fleet-synced-integrations-ccr-remote-west"); err != nil {
			t.Error(err)
		}
	}
	var got []string
	for _, r := range e.f.requests() {
		got = append(got, r.Method+" "+r.Path+"?"+r.Query+" "+r.Body)
	}
	want := []string{
		"GET /_cluster/settings?flat_settings=true ",
		`PUT /_cluster/settings?flat_settings=true {"persistent":{"cluster.remote.main.mode":"proxy","cluster.remote.main.seeds":null}}`,
		"GET /_remote/info? ",
		`PUT /fleet-synced-integrations-ccr-remote-west/_ccr/follow?wait_for_active_shards=all {"leader_index":"fleet-synced-integrations","remote_cluster":"main"}`,
		"GET /fleet-synced-integrations-ccr-*/_ccr/info? ",
		"GET /fleet-synced-integrations-ccr-remote-west/_ccr/stats? ",
		"POST /fleet-synced-integrations-ccr-remote-west/_ccr/pause_follow? ",
		"POST /fleet-synced-integrations-ccr-remote-west/_ccr/resume_follow? ",
		"POST /fleet-synced-integrations-ccr-remote-west/_close? ",
		"POST /fleet-synced-integrations-ccr-remote-west/_ccr/unfollow? ",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}

func TestTransportErrorsNameTheRequestOnly(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	s := &sleeps{}
	c, err := New(addr, Auth{Username: "elastic", Password: secret.New(testPassword)},
		WithRetryPolicy(retry.Policy{Attempts: 2, Base: time.Millisecond, Max: time.Second, Sleep: s.sleep}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetAPIKeys(context.Background(), "secret-name-filter", true)
	var te *TransportError
	if !errors.As(err, &te) || !strings.HasPrefix(err.Error(), "GET /_security/api_key: ") {
		t.Fatalf("err = %v", err)
	}
	for _, bad := range []string{"?", "secret-name-filter", testPassword} {
		if strings.Contains(err.Error(), bad) {
			t.Errorf("error %q contains %q", err, bad)
		}
	}
	if len(s.waits) != 1 {
		t.Errorf("waits = %v, want one retry of a refused connection", s.waits)
	}
}

// Errors name the path of a request, never its query string, also where
// Elasticsearch quotes the request in its reason.
func TestParseError_NoQueryStrings(t *testing.T) {
	body := []byte(`{"error":{"root_cause":[{"type":"security_exception","reason":"unable to authenticate user [elastic] for REST request [/_security/api_key?name=fleetform-%2A]"}],"type":"security_exception","reason":"unable to authenticate user [elastic] for REST request [/_security/api_key?name=fleetform-%2A]"},"status":401}`)
	e := parseError("GET", "/_security/api_key", 401, body)
	want := "GET /_security/api_key: 401 security_exception: unable to authenticate user [elastic] for REST request [/_security/api_key]"
	if e.Error() != want || e.RootCause[0].Reason != "unable to authenticate user [elastic] for REST request [/_security/api_key]" {
		t.Errorf("got %q, root cause %q", e.Error(), e.RootCause[0].Reason)
	}
}
