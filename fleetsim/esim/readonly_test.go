package esim

import "testing"

func TestReadOnly(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/_cluster/settings", true},
		{"HEAD", "/fleetform-state", true},
		{"POST", "/fleetform-state/_search", true},
		{"POST", "/_search", true},
		{"POST", "/fleetform-state/_pit", true},
		{"DELETE", "/_pit", true},
		{"POST", "/x/_count", true},
		{"PUT", "/fleetform-state/_doc/a", false},
		{"DELETE", "/fleetform-state", false},
		{"DELETE", "/_security/api_key", false},
		{"POST", "/x/_ccr/pause_follow", false},
		{"POST", "/api/fleet/outputs", false},
	} {
		if got := ReadOnly(tc.method, tc.path); got != tc.want {
			t.Errorf("ReadOnly(%s %s) = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}
