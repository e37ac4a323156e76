package kibana

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseAPIError: any body Kibana (or a proxy) sends becomes an error
// that names the request, stays one bounded line, and never panics.
func FuzzParseAPIError(f *testing.F) {
	f.Add(400, []byte(`{"statusCode":400,"error":"Bad Request","message":"[request body.hosts.0]: expected URI with scheme [http|https].","attributes":{"type":"OutputInvalidError"}}`))
	f.Add(404, []byte(`{"statusCode":404,"error":"Not Found","message":"Output x not found"}`))
	f.Add(502, []byte("<html><body>Bad Gateway</body></html>"))
	f.Add(500, []byte(`{"message":5}`))
	f.Add(409, []byte(strings.Repeat("é", 600)))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseAPIError("PUT", "/api/fleet/outputs/x", status, body)
		s := e.Error()
		if !strings.HasPrefix(s, "PUT /api/fleet/outputs/x: ") {
			t.Fatalf("error does not name the request: %q", s)
		}
		if e.Message != "" && !strings.Contains(s, e.Message) {
			t.Fatalf("message lost: %q", s)
		}
		if len(e.Message) > maxMessageBytes+len("…") && !strings.HasPrefix(string(body), "{") {
			t.Fatalf("non-JSON excerpt not bounded: %d bytes", len(e.Message))
		}
		if utf8.ValidString(string(body)) && !utf8.ValidString(e.Message) {
			t.Fatalf("excerpt cut inside a character: %q", e.Message)
		}
	})
}

// Kibana passes Elasticsearch's reasons on; their query strings are left out.
func TestParseAPIError_NoQueryStrings(t *testing.T) {
	body := []byte(`{"statusCode":401,"error":"Unauthorized","message":"unable to authenticate user [elastic] for REST request [/_security/_authenticate?pretty=true&x=1]"}`)
	e := parseAPIError("GET", "/api/status", 401, body)
	if want := "GET /api/status: 401 Unauthorized: unable to authenticate user [elastic] for REST request [/_security/_authenticate]"; e.Error() != want {
		t.Errorf("got %q", e.Error())
	}
}
