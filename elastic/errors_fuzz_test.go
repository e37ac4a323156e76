package elastic

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// quotedQuery finds a query string left in a quoted REST request.
var quotedQuery = regexp.MustCompile(`request \[[^\]?\s]*\?`)

// FuzzParseError: parseError reads whatever an Elasticsearch node, or a
// proxy in front of it, answers with an error status. Properties: it never
// panics; a reason never quotes a request's query string (it can carry names
// and tokens); a body that is not an error envelope is kept to a short
// excerpt; a reason made from valid UTF-8 is valid UTF-8.
func FuzzParseError(f *testing.F) {
	for _, s := range []string{
		`{"error":{"type":"security_exception","reason":"unable to authenticate user [elastic] for REST request [/_security/api_key?name=fleetform-%2A]","root_cause":[{"type":"x","reason":"for REST request [/a?b=c]"}]},"status":401}`,
		`{"error":"plain text","status":500}`,
		`{"found":false}`,
		`<html><body>502 Bad Gateway</body></html>`,
		`{"error":{"root_cause":"not a list"}}`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := parseError("GET", "/_x", 500, body)
		reasons := []string{e.Reason}
		for _, c := range e.RootCause {
			reasons = append(reasons, c.Reason)
		}
		for _, r := range reasons {
			if quotedQuery.MatchString(r) {
				t.Fatalf("reason keeps a request's query string: %q", r)
			}
			if utf8.Valid(body) && !utf8.ValidString(r) {
				t.Fatalf("reason %q is not valid UTF-8 though the body was", r)
			}
		}
		if e.Type == "" && len(e.Reason) > maxReasonBytes+len("…") {
			t.Fatalf("reason of %d bytes from a body without an error envelope", len(e.Reason))
		}
	})
}

// A proxy page longer than the excerpt: the cut neither keeps a quoted
// request's query (cut before its closing bracket) nor splits a character.
// FuzzParseError found both: the query was dropped only after the cut, and
// the cut fell on a byte.
func TestParseError_ExcerptCut(t *testing.T) {
	pad := func(n int) string { return strings.Repeat("x", n) }
	for _, c := range []struct {
		name, body string
	}{
		{"query across the cut", pad(maxReasonBytes-30) + " for REST request [/_security/api_key?name=fleetform-remote-west-kibana-1&owner=true]"},
		{"character across the cut", pad(maxReasonBytes-1) + "é and more"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := parseError("GET", "/_x", 502, []byte(c.body)).Reason
			if quotedQuery.MatchString(r) || !utf8.ValidString(r) || len(r) > maxReasonBytes+len("…") {
				t.Fatalf("reason %q", r)
			}
		})
	}
}
