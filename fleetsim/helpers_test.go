package fleetsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// client talks to one simulated Kibana as a test would over HTTP.
type client struct {
	t       testing.TB
	base    string
	auth    string
	headers map[string]string
}

func kibana(t testing.TB, s *Sim, cluster string) *client {
	t.Helper()
	c := s.Cluster(cluster)
	if c == nil {
		t.Fatalf("no cluster %s", cluster)
	}
	return &client{t: t, base: c.KibanaURL(), auth: basic("elastic", "changeme"), headers: map[string]string{}}
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

type result struct {
	Status int
	Body   map[string]any
	Raw    []byte
	Header http.Header
}

func (r result) msg() string { s, _ := r.Body["message"].(string); return s }

func (r result) item() map[string]any { m, _ := r.Body["item"].(map[string]any); return m }

func (r result) items() []any { a, _ := r.Body["items"].([]any); return a }

// do sends a request; body may be nil, a string (raw JSON) or any value.
func (c *client) do(method, path string, body any) result {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	if method != http.MethodGet {
		req.Header.Set("kbn-xsrf", "true")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("elastic-api-version", "2023-10-31")
	for k, v := range c.headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := result{Status: resp.StatusCode, Raw: raw, Header: resp.Header}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

// must fails the test unless the status is want.
func (r result) must(t testing.TB, want int) result {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Raw)
	}
	return r
}

// wantError checks Kibana's error body exactly.
func (r result) wantError(t testing.TB, status int, message string) {
	t.Helper()
	want := map[string]any{"statusCode": float64(status), "error": http.StatusText(status), "message": message}
	got := map[string]any{}
	for k, v := range r.Body {
		if k != "attributes" {
			got[k] = v
		}
	}
	if r.Status != status {
		t.Errorf("status %d, want %d (%s)", r.Status, status, r.Raw)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("error body (-want +got):\n%s", d)
	}
}

func (r result) wantAttrType(t testing.TB, typ string) {
	t.Helper()
	attrs, _ := r.Body["attributes"].(map[string]any)
	if attrs["type"] != typ {
		t.Errorf("attributes = %v, want type %s", r.Body["attributes"], typ)
	}
}

func startMain(t testing.TB, cfgs ...ClusterConfig) (*Sim, *client) {
	t.Helper()
	s := StartTest(t, Options{}, cfgs...)
	name := "main"
	if len(cfgs) > 0 {
		name = cfgs[0].Name
	}
	return s, kibana(t, s, name)
}

func getPathT(m map[string]any, path ...string) any {
	return getPath(m, path)
}

// forceInstall is the install body for a version below the registry's latest
// (services/epm/packages/install.ts refuses it without force).
var forceInstall = map[string]any{"force": true}
