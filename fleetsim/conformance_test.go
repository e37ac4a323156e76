package fleetsim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The conformance suite ports the expectations of Kibana's Fleet API
// integration tests (x-pack/platform/test/fleet_api_integration/apis/ in
// elastic/kibana) to fleetsim: each test names the Kibana file and the
// describe/it text it comes from, and asserts the same status, message and
// body fields. docs/fleetsim-conformance.md counts what was ported and what
// was skipped.

// kibanaTest names the Kibana test an expectation comes from.
func kibanaTest(t *testing.T, file, describe, it string, f func(t *testing.T)) {
	t.Helper()
	t.Run(file+" › "+describe+" › "+it, f)
}

// wantStatus is supertest's .expect(status).
func (r result) wantStatus(t testing.TB, status int) result {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	return r
}

// wantMessage is expect(body.message).to.eql(message).
func (r result) wantMessage(t testing.TB, message string) {
	t.Helper()
	if r.msg() != message {
		t.Errorf("message = %q, want %q", r.msg(), message)
	}
}

// wantEql is expect(got).to.eql(want) on decoded JSON.
func wantEql(t testing.TB, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

// findByID is items.find((o) => o.id === id).
func findByID(items []any, id string) map[string]any {
	for _, it := range items {
		if m, _ := it.(map[string]any); m["id"] == id {
			return m
		}
	}
	return nil
}
