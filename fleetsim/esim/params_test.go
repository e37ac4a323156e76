package esim

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func TestParams_UnknownQueryParameter_400WithDidYouMean(t *testing.T) {
	c := newCluster(t, nil, Config{})
	c.must(t, 201, "PUT", "/idx/_doc/1", map[string]any{"a": 1})
	tests := []struct {
		path, reason string
	}{
		{"/idx/_search?sizee=1", "request [/idx/_search] contains unrecognized parameter: [sizee] -> did you mean [size]?"},
		{"/idx/_doc/1?zzz=true", "request [/idx/_doc/1] contains unrecognized parameter: [zzz]"},
		{"/_security/api_key?nme=x&zzz=1", "request [/_security/api_key] contains unrecognized parameters: [nme] -> did you mean [name]?, [zzz]"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := c.do(t, "GET", tt.path, nil, superuser)
			if typ, reason := errOf(t, r); r.status != 400 || typ != "illegal_argument_exception" || reason != tt.reason {
				t.Errorf("got %d %s %q, want %q", r.status, typ, reason, tt.reason)
			}
		})
	}
	for _, ok := range []string{"/idx/_doc/1?pretty", "/idx/_search?filter_path=hits.total&error_trace=true", "/_security/api_key?active_only=true"} {
		if r := c.do(t, "GET", ok, nil, superuser); r.status != 200 {
			t.Errorf("%s: %d %s", ok, r.status, r.raw)
		}
	}
}

func TestContentType_NonJSONBody_406(t *testing.T) {
	c := newCluster(t, nil, Config{})
	for i, tt := range []struct {
		ct     string
		status int
	}{
		{"application/x-www-form-urlencoded", 406},
		{"", 406},
		{"text/plain", 406},
		{"application/json; charset=UTF-8", 201},
		{"application/vnd.elasticsearch+json; compatible-with=8", 201},
	} {
		t.Run(tt.ct, func(t *testing.T) {
			req, _ := http.NewRequest("PUT", c.srv.URL+"/idx/_doc/"+strconv.Itoa(i), strings.NewReader(`{"a":1}`))
			req.Header.Set("Authorization", superuser)
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			resp, err := c.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
}
