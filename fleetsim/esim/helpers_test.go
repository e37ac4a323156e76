package esim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// resolver maps addresses to nodes, as fleetsim does.
type resolver struct {
	mu    sync.Mutex
	nodes map[string]*Node
}

func (r *resolver) NodeByAddress(hostport string) *Node {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nodes[hostport]
}

// fixedClock is a settable clock.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fixedClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type testCluster struct {
	*Node
	srv *httptest.Server
}

// newCluster starts a node behind an httptest server and registers it in res.
func newCluster(t testing.TB, res *resolver, cfg Config) *testCluster {
	t.Helper()
	if cfg.Now == nil {
		clk := &fixedClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		cfg.Now = clk.Now
	}
	n := New(cfg)
	srv := httptest.NewServer(n.Handler())
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	n.SetAddress(addr)
	if res != nil {
		res.mu.Lock()
		if res.nodes == nil {
			res.nodes = map[string]*Node{}
		}
		res.nodes[addr] = n
		res.mu.Unlock()
		n.SetResolver(res)
	}
	return &testCluster{Node: n, srv: srv}
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

var superuser = basic("elastic", "changeme")

type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends one request; body may be nil, a string or any JSON value.
func (c *testCluster) do(t testing.TB, method, path string, body any, auth string) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	}
	return out
}

// must is do that fails the test unless the status is want.
func (c *testCluster) must(t testing.TB, want int, method, path string, body any) map[string]any {
	t.Helper()
	r := c.do(t, method, path, body, superuser)
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.raw)
	}
	return r.body
}

// errOf returns the error type and reason of an ES error envelope.
func errOf(t testing.TB, r response) (typ, reason string) {
	t.Helper()
	e, ok := r.body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error envelope in %s", r.raw)
	}
	rc, _ := e["root_cause"].([]any)
	if len(rc) != 1 {
		t.Fatalf("root_cause must hold one cause: %s", r.raw)
	}
	if st, _ := r.body["status"].(float64); int(st) != r.status {
		t.Fatalf("envelope status %v != HTTP status %d", r.body["status"], r.status)
	}
	typ, _ = e["type"].(string)
	reason, _ = e["reason"].(string)
	return typ, reason
}

// get walks a decoded JSON value by keys and indexes ("hits","hits",0,"_id").
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}
