package kibana

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
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fleetform/fleetform/kibana/retry"
	"github.com/fleetform/fleetform/secret"
)

const (
	testAPIKey   = "S3CRET-API-KEY-do-not-leak"
	testPassword = "S3CRET-PASSWORD-do-not-leak"
)

// seen is one request as the fake received it.
type seen struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

// fake is an httptest Kibana: handle answers request n (1-based); every
// request is recorded.
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
	f.handle(w, r, n)
}

func (f *fake) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fake) lines() []string {
	var out []string
	for _, r := range f.requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// sleeps records the backoff waits; nothing really sleeps.
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

func testPolicy(s *sleeps) retry.Policy {
	return retry.Policy{Attempts: 4, Base: 100 * time.Millisecond, Max: 5 * time.Second, Sleep: s.sleep, Rand: func() float64 { return 0 }}
}

type env struct {
	c      *Client
	f      *fake
	sleeps *sleeps
	logs   *bytes.Buffer
	url    string
}

func newEnv(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int), auth Auth, opts ...Option) *env {
	t.Helper()
	f := &fake{handle: handle}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	s := &sleeps{}
	logs := &bytes.Buffer{}
	lg := slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(srv.URL, auth, append([]Option{WithRetryPolicy(testPolicy(s)), WithLogger(lg)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &env{c: c, f: f, sleeps: s, logs: logs, url: srv.URL}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func apiKeyAuth() Auth { return Auth{APIKey: secret.New(testAPIKey)} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func kibanaError(w http.ResponseWriter, status int, msg string, attrs map[string]any) {
	body := map[string]any{"statusCode": status, "error": http.StatusText(status), "message": msg}
	if attrs != nil {
		body["attributes"] = attrs
	}
	writeJSON(w, status, body)
}

// resetConn drops the connection without an answer.
func resetConn(t *testing.T, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Fatal("no hijacker")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
}

func ok(w http.ResponseWriter, r *http.Request, _ int) {
	switch {
	case r.URL.Path == "/api/fleet/outputs" && r.Method == http.MethodGet:
		writeJSON(w, 200, map[string]any{"items": []any{map[string]any{"id": "a", "type": "elasticsearch", "name": "A"}}, "total": 1, "page": 1, "perPage": 10000})
	case r.URL.Path == "/api/fleet/service_tokens":
		writeJSON(w, 200, map[string]any{"name": "token-1", "value": "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyL3Rva2Vu"})
	default:
		writeJSON(w, 200, map[string]any{"item": map[string]any{"id": "x"}, "items": []any{}, "total": 0})
	}
}

func TestHeaders(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("fleetform:"+testPassword))
	tests := []struct {
		name      string
		auth      Auth
		call      func(ctx context.Context, c *Client) error
		wantLine  string
		wantXsrf  bool
		wantCT    bool
		wantAuthz string
	}{
		{"GET with API key", apiKeyAuth(), func(ctx context.Context, c *Client) error { _, err := c.ListOutputs(ctx); return err },
			"GET /api/fleet/outputs", false, false, "ApiKey " + testAPIKey},
		{"GET with basic", Auth{Username: "fleetform", Password: secret.New(testPassword)},
			func(ctx context.Context, c *Client) error { _, err := c.ListOutputs(ctx); return err },
			"GET /api/fleet/outputs", false, false, basic},
		{"POST", apiKeyAuth(), func(ctx context.Context, c *Client) error {
			_, err := c.CreateOutput(ctx, map[string]any{"id": "x", "name": "X", "type": "elasticsearch"})
			return err
		}, "POST /api/fleet/outputs", true, true, "ApiKey " + testAPIKey},
		{"PUT", apiKeyAuth(), func(ctx context.Context, c *Client) error {
			_, err := c.UpdateOutput(ctx, "x", map[string]any{"name": "X"})
			return err
		}, "PUT /api/fleet/outputs/x", true, true, "ApiKey " + testAPIKey},
		{"DELETE without body", apiKeyAuth(), func(ctx context.Context, c *Client) error { return c.DeleteOutput(ctx, "x") },
			"DELETE /api/fleet/outputs/x", true, false, "ApiKey " + testAPIKey},
		{"no credentials", Auth{}, func(ctx context.Context, c *Client) error { _, err := c.ListOutputs(ctx); return err },
			"GET /api/fleet/outputs", false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, ok, tt.auth)
			if err := tt.call(context.Background(), e.c); err != nil {
				t.Fatal(err)
			}
			reqs := e.f.requests()
			if len(reqs) != 1 {
				t.Fatalf("requests = %v, want 1", e.f.lines())
			}
			r := reqs[0]
			if got := r.Method + " " + r.Path; got != tt.wantLine {
				t.Errorf("request = %q, want %q", got, tt.wantLine)
			}
			if got := r.Header.Get("Elastic-Api-Version"); got != "2023-10-31" {
				t.Errorf("elastic-api-version = %q", got)
			}
			if got := r.Header.Get("Kbn-Xsrf") != ""; got != tt.wantXsrf {
				t.Errorf("kbn-xsrf present = %v, want %v", got, tt.wantXsrf)
			}
			if got := r.Header.Get("Content-Type") == "application/json"; got != tt.wantCT {
				t.Errorf("content-type json = %v, want %v", got, tt.wantCT)
			}
			if got := r.Header.Get("Authorization"); got != tt.wantAuthz {
				t.Errorf("authorization = %q, want %q", got, tt.wantAuthz)
			}
		})
	}
}

func TestSpacePrefixAndEscaping(t *testing.T) {
	e := newEnv(t, ok, apiKeyAuth(), WithSpace("team a"))
	ctx := context.Background()
	if _, err := e.c.GetOutput(ctx, "odd/id?x"); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t, ok, apiKeyAuth(), WithSpace("default"))
	if _, err := e2.c.ListOutputs(ctx); err != nil {
		t.Fatal(err)
	}
	got := append(e.f.lines(), e2.f.lines()...)
	want := []string{"GET /s/team%20a/api/fleet/outputs/odd%2Fid%3Fx", "GET /api/fleet/outputs"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}

func TestNew_RefusesBadURLsAndMixedAuth(t *testing.T) {
	tests := []struct {
		url  string
		auth Auth
		want string
	}{
		{"ftp://kb", Auth{}, "want http(s)"},
		{"https://user:" + testPassword + "@kb:5601", Auth{}, "credentials belong in auth"},
		{"https://kb:5601/?apikey=" + testAPIKey, Auth{}, "must not have a query"},
		{"https://kb:5601", Auth{APIKey: secret.New(testAPIKey), Username: "u"}, "not both"},
	}
	for _, tt := range tests {
		_, err := New(tt.url, tt.auth)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%q) error = %v, want %q", tt.url, err, tt.want)
		}
		if err != nil && (strings.Contains(err.Error(), testPassword) || strings.Contains(err.Error(), testAPIKey)) {
			t.Errorf("New(%q) error leaks a secret: %v", tt.url, err)
		}
	}
}

// step is one scripted answer: a status, or a dropped connection (reset).
type step struct {
	status     int
	reset      bool
	retryAfter string
}

func scripted(t *testing.T, steps []step) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		if n > len(steps) {
			ok(w, r, n)
			return
		}
		s := steps[n-1]
		if s.reset {
			resetConn(t, w)
			return
		}
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		kibanaError(w, s.status, fmt.Sprintf("scripted %d", s.status), nil)
	}
}

func TestRetries(t *testing.T) {
	list := func(ctx context.Context, c *Client) error { _, err := c.ListOutputs(ctx); return err }
	create := func(ctx context.Context, c *Client) error {
		_, err := c.CreateOutput(ctx, map[string]any{"id": "x", "name": "X", "type": "elasticsearch"})
		return err
	}
	createSafe := func(ctx context.Context, c *Client) error { return create(retry.SafeToRepeat(ctx), c) }
	install := func(ctx context.Context, c *Client) error { return c.InstallPackage(ctx, "nginx", "2.0.0", false) }
	token := func(ctx context.Context, c *Client) error { _, _, err := c.CreateServiceToken(ctx, true); return err }
	tests := []struct {
		name       string
		call       func(context.Context, *Client) error
		steps      []step
		wantReqs   int
		wantStatus int // of the returned error; 0 = success
		wantWaits  []time.Duration
	}{
		{"GET 503 then ok", list, []step{{status: 503}}, 2, 0, []time.Duration{50 * time.Millisecond}},
		{"GET 429, 502, 504 then ok", list, []step{{status: 429}, {status: 502}, {status: 504}}, 4, 0,
			[]time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}},
		{"GET 503 until attempts run out", list, []step{{status: 503}, {status: 503}, {status: 503}, {status: 503}, {status: 503}}, 4, 503,
			[]time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}},
		{"GET 400 never retried", list, []step{{status: 400}}, 1, 400, nil},
		{"GET 401 never retried", list, []step{{status: 401}}, 1, 401, nil},
		{"GET 404 never retried", list, []step{{status: 404}}, 1, 404, nil},
		{"GET 500 not retried", list, []step{{status: 500}}, 1, 500, nil},
		{"GET connection reset retried", list, []step{{reset: true}}, 2, 0, []time.Duration{50 * time.Millisecond}},
		{"GET Retry-After honoured", list, []step{{status: 429, retryAfter: "3"}}, 2, 0, []time.Duration{3 * time.Second}},
		{"GET Retry-After too long gives up", list, []step{{status: 503, retryAfter: "3600"}}, 1, 503, nil},
		{"POST create 429 retried (refused before acting)", create, []step{{status: 429}}, 2, 0, []time.Duration{50 * time.Millisecond}},
		{"POST create 503 not retried (may have failed after side effects)", create, []step{{status: 503}}, 1, 503, nil},
		{"POST create 502 not retried (may have been forwarded)", create, []step{{status: 502}}, 1, 502, nil},
		{"POST create 504 not retried", create, []step{{status: 504}}, 1, 504, nil},
		{"POST create reset not retried", create, []step{{reset: true}}, 1, 0 /* transport error */, nil},
		{"POST create 409 not retried", create, []step{{status: 409}}, 1, 409, nil},
		{"POST marked safe: 502 retried", createSafe, []step{{status: 502}}, 2, 0, []time.Duration{50 * time.Millisecond}},
		{"POST marked safe: reset retried", createSafe, []step{{reset: true}}, 2, 0, []time.Duration{50 * time.Millisecond}},
		{"POST install (idempotent): reset retried", install, []step{{reset: true}}, 2, 0, []time.Duration{50 * time.Millisecond}},
		{"POST service token: reset not retried", token, []step{{reset: true}}, 1, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, scripted(t, tt.steps), apiKeyAuth())
			err := tt.call(context.Background(), e.c)
			if got := len(e.f.requests()); got != tt.wantReqs {
				t.Errorf("requests = %d, want %d: %v", got, tt.wantReqs, e.f.lines())
			}
			failed := tt.wantStatus != 0 || tt.wantReqs == 1 && len(tt.steps) > 0 && tt.steps[0].reset
			if failed != (err != nil) {
				t.Fatalf("err = %v, want failure %v", err, failed)
			}
			if tt.wantStatus != 0 && StatusCode(err) != tt.wantStatus {
				t.Errorf("status of %v = %d, want %d", err, StatusCode(err), tt.wantStatus)
			}
			if d := cmp.Diff(tt.wantWaits, e.sleeps.waits); d != "" {
				t.Errorf("waits (-want +got):\n%s", d)
			}
		})
	}
}

func TestRetries_PostNeverConnected(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens: the dial fails, the request never left
	s := &sleeps{}
	c, err := New(addr, apiKeyAuth(), WithRetryPolicy(testPolicy(s)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateOutput(context.Background(), map[string]any{"id": "x"})
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want *TransportError", err)
	}
	if len(s.waits) != 3 {
		t.Errorf("waits = %v, want 3 (a POST whose connection failed never reached Kibana)", s.waits)
	}
}

func TestDelete_LostAnswerThen404IsDone(t *testing.T) {
	tests := []struct {
		name string
		call func(context.Context, *Client) error
		gone func(http.ResponseWriter)
	}{
		{"output", func(ctx context.Context, c *Client) error { return c.DeleteOutput(ctx, "x") },
			func(w http.ResponseWriter) { kibanaError(w, 404, "Output x not found", nil) }},
		{"agent policy", func(ctx context.Context, c *Client) error { return c.DeleteAgentPolicy(ctx, "p") },
			func(w http.ResponseWriter) {
				kibanaError(w, 404, "Saved object [ingest-agent-policies/p] not found", nil)
			}},
		{"package", func(ctx context.Context, c *Client) error { return c.UninstallPackage(ctx, "nginx", "2.0.0", false) },
			func(w http.ResponseWriter) { kibanaError(w, 400, "nginx is not installed", nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					resetConn(t, w) // Kibana deleted it, the answer was lost
					return
				}
				tt.gone(w)
			}, apiKeyAuth())
			if err := tt.call(context.Background(), e.c); err != nil {
				t.Errorf("err = %v, want success: the first try did the work", err)
			}
			if n := len(e.f.requests()); n != 2 {
				t.Errorf("requests = %d, want 2", n)
			}
		})
	}
	// Without a lost first try, a 404 is an error.
	e := newEnv(t, func(w http.ResponseWriter, _ *http.Request, _ int) { kibanaError(w, 404, "Output x not found", nil) }, apiKeyAuth())
	if err := e.c.DeleteOutput(context.Background(), "x"); !IsNotFound(err) {
		t.Errorf("err = %v, want not found", err)
	}
}

func TestAPIError(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		call     func(context.Context, *Client) error
		wantText string
		want     APIError
		notFound bool
		conflict bool
	}{
		{
			name:   "kibana envelope with attributes",
			status: 400,
			body:   `{"statusCode":400,"error":"Bad Request","message":"preset cannot be balanced when config_yaml contains one of bulk_max_size","attributes":{"type":"OutputInvalidError"}}`,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.UpdateOutput(ctx, "x", map[string]any{"preset": "balanced"})
				return err
			},
			wantText: "PUT /api/fleet/outputs/x: 400 Bad Request: preset cannot be balanced when config_yaml contains one of bulk_max_size",
			want: APIError{Method: "PUT", Path: "/api/fleet/outputs/x", Status: 400, ErrorText: "Bad Request",
				Message: "preset cannot be balanced when config_yaml contains one of bulk_max_size", Attributes: map[string]any{"type": "OutputInvalidError"}},
		},
		{
			name:     "not found",
			status:   404,
			body:     `{"statusCode":404,"error":"Not Found","message":"Output x not found"}`,
			call:     func(ctx context.Context, c *Client) error { _, err := c.GetOutput(ctx, "x"); return err },
			wantText: "GET /api/fleet/outputs/x: 404 Not Found: Output x not found",
			want:     APIError{Method: "GET", Path: "/api/fleet/outputs/x", Status: 404, ErrorText: "Not Found", Message: "Output x not found"},
			notFound: true,
		},
		{
			name:   "conflict",
			status: 409,
			body:   `{"statusCode":409,"error":"Conflict","message":"Saved object [ingest-outputs/5d1c] conflict"}`,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.CreateOutput(ctx, map[string]any{"id": "x"})
				return err
			},
			wantText: "POST /api/fleet/outputs: 409 Conflict: Saved object [ingest-outputs/5d1c] conflict",
			want:     APIError{Method: "POST", Path: "/api/fleet/outputs", Status: 409, ErrorText: "Conflict", Message: "Saved object [ingest-outputs/5d1c] conflict"},
			conflict: true,
		},
		{
			name:     "non-JSON body from a proxy",
			status:   403,
			body:     "<html>\n  <body>Forbidden by proxy</body>\n</html>",
			call:     func(ctx context.Context, c *Client) error { _, err := c.ListOutputs(ctx); return err },
			wantText: "GET /api/fleet/outputs: 403 Forbidden: <html> <body>Forbidden by proxy</body> </html>",
			want:     APIError{Method: "GET", Path: "/api/fleet/outputs", Status: 403, Message: "<html> <body>Forbidden by proxy</body> </html>"},
		},
		{
			name:   "query string kept out of the path",
			status: 400,
			body:   `{"statusCode":400,"error":"Bad Request","message":"[request query.kuery]: bad"}`,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.ListAgentPolicies(ctx, ListOptions{Kuery: "secret-ish-filter"})
				return err
			},
			wantText: "list page 1: GET /api/fleet/agent_policies: 400 Bad Request: [request query.kuery]: bad",
			want:     APIError{Method: "GET", Path: "/api/fleet/agent_policies", Status: 400, ErrorText: "Bad Request", Message: "[request query.kuery]: bad"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}, apiKeyAuth())
			err := tt.call(context.Background(), e.c)
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.wantText {
				t.Errorf("error text\n got %q\nwant %q", err.Error(), tt.wantText)
			}
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("errors.As(*APIError) failed for %T", err)
			}
			if d := cmp.Diff(tt.want, *ae); d != "" {
				t.Errorf("APIError (-want +got):\n%s", d)
			}
			if IsNotFound(err) != tt.notFound || IsConflict(err) != tt.conflict {
				t.Errorf("IsNotFound = %v, IsConflict = %v", IsNotFound(err), IsConflict(err))
			}
		})
	}
}

func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	const tokenValue = "S3CRET-SERVICE-TOKEN-in-body"
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			kibanaError(w, 503, "not ready", nil) // retried, logged
		case 2:
			kibanaError(w, 400, "[request body.secrets.service_token]: bad", nil)
		default:
			resetConn(t, w)
		}
	}, Auth{Username: "fleetform", Password: secret.New(testPassword)})
	ctx := context.Background()
	body := map[string]any{"name": "x", "secrets": map[string]any{"service_token": tokenValue}}
	_, err1 := e.c.UpdateOutput(ctx, "x", body)
	_, err2 := e.c.UpdateOutput(ctx, "x?with=query", body)
	_, err3 := e.c.ListAgentPolicies(ctx, ListOptions{Kuery: "q-" + testPassword})
	for i, err := range []error{err1, err2, err3} {
		if err == nil {
			t.Fatalf("call %d: no error", i+1)
		}
		if strings.Contains(err.Error(), "?") {
			t.Errorf("call %d: error %q has a query string", i+1, err)
		}
		for _, s := range []string{tokenValue, testPassword, "q-"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("call %d: error %q contains %q", i+1, err, s)
			}
		}
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "will be retried") {
		t.Errorf("expected retry events in the log:\n%s", logs)
	}
	for _, s := range []string{tokenValue, testPassword, base64.StdEncoding.EncodeToString([]byte("fleetform:" + testPassword)), "q-"} {
		if strings.Contains(logs, s) {
			t.Errorf("log contains %q:\n%s", s, logs)
		}
	}
}

func TestCreateServiceToken(t *testing.T) {
	const value = "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyLXJlbW90ZS90b2tlbi0x"
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		writeJSON(w, 200, map[string]any{"name": "token-1732700000000", "value": value})
	}, apiKeyAuth())
	name, v, err := e.c.CreateServiceToken(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if name != "token-1732700000000" || v.Reveal() != value {
		t.Errorf("got %q, %q", name, v.Reveal())
	}
	if s := fmt.Sprintf("%v %s %+v", v, v, v); strings.Contains(s, value) {
		t.Errorf("token printed: %s", s)
	}
	r := e.f.requests()[0]
	if r.Method != "POST" || r.Path != "/api/fleet/service_tokens" || r.Body != `{"remote":true}` {
		t.Errorf("request = %s %s %s", r.Method, r.Path, r.Body)
	}
}

func TestContextDeadlineRespected(t *testing.T) {
	block := make(chan struct{})
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}, apiKeyAuth())
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := e.c.ListOutputs(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if len(e.sleeps.waits) != 0 {
		t.Errorf("waits = %v; an expired context must not be retried", e.sleeps.waits)
	}
	if strings.Contains(err.Error(), "?") || !strings.HasPrefix(err.Error(), "GET /api/fleet/outputs: ") {
		t.Errorf("err = %q, want it to name the request", err)
	}
}

func TestURLKeepsBasePath(t *testing.T) {
	e := newEnv(t, ok, apiKeyAuth())
	c, err := New(e.url+"/kibana/", apiKeyAuth(), WithRetryPolicy(testPolicy(&sleeps{})))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListOutputs(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.f.lines(); len(got) != 1 || got[0] != "GET /kibana/api/fleet/outputs" {
		t.Errorf("requests = %v", got)
	}
	if _, err := url.Parse(c.URL()); err != nil || c.URL() != e.url+"/kibana" {
		t.Errorf("URL() = %q", c.URL())
	}
}

func TestConcurrentUse(t *testing.T) {
	// The first request of each method and path is a 503, so retries run
	// concurrently; a global every-third-request rule could fail one
	// request on all of its tries and made this test flaky.
	var seen sync.Map
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if _, again := seen.LoadOrStore(r.Method+" "+r.URL.Path, true); !again {
			kibanaError(w, 503, "busy", nil)
			return
		}
		ok(w, r, n)
	}, apiKeyAuth())
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = e.c.ListOutputs(context.Background())
			} else {
				_, err = e.c.UpdateOutput(context.Background(), fmt.Sprintf("o%d", i), map[string]any{"name": "x"})
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
