package fleetsim

import (
	"slices"
	"testing"
)

const serviceTokensTS = "apis/service_tokens.ts"

func TestConformance_ServiceTokens(t *testing.T) {
	for _, tc := range []struct {
		it, service string
		body        any
	}{
		{"should create a valid service account token", "fleet-server", nil},
		{"should create a valid remote service account token", "fleet-server-remote", map[string]any{"remote": true}},
	} {
		describe := "fleet_service_tokens › POST /api/fleet/service_tokens"
		if tc.service == "fleet-server-remote" {
			describe = "fleet_service_tokens" // this it sits outside the inner describe
		}
		kibanaTest(t, serviceTokensTS, describe, tc.it, func(t *testing.T) {
			s, kb := startMain(t)
			r := kb.do("POST", "/api/fleet/service_tokens", tc.body).wantStatus(t, 200)
			name, _ := r.Body["name"].(string)
			if _, ok := r.Body["value"]; !ok || name == "" {
				t.Fatalf("response %s lacks name or value", r.Raw)
			}
			// GET _security/service/elastic/<service>/credential lists the token.
			if !slices.Contains(s.Cluster("main").ES().ServiceTokenNames("elastic", tc.service), name) {
				t.Errorf("token %s not among elastic/%s credentials", name, tc.service)
			}
		})
	}
}
