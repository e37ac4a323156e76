package fleetsim

import "testing"

// types/rest_spec/*.ts: every simulated route whose request schema has a
// plain schema.object query refuses a key it does not define; routes without
// a query schema (GetOutputsRequestSchema = {}) ignore the query.
func TestRestSpec_UnknownQueryKeys(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "p1", "namespace": "default"}).must(t, 200)
	const missing = "[request query.bogus]: definition for this key is missing"
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		message      string
	}{
		// agent_policy.ts
		{"GET", "/api/fleet/agent_policies?bogus=1", nil, 400, missing},
		{"POST", "/api/fleet/agent_policies?bogus=1", map[string]any{"name": "p2", "namespace": "default"}, 400, missing},
		{"GET", "/api/fleet/agent_policies/p1?bogus=1", nil, 400, missing},
		{"GET", "/api/fleet/agent_policies/p1?format=simplified", nil, 404, ""}, // format is defined: validation passes
		{"PUT", "/api/fleet/agent_policies/p1?bogus=1", map[string]any{"name": "p1", "namespace": "default"}, 400, missing},
		{"POST", "/api/fleet/agent_policies/_bulk_get?bogus=1", map[string]any{"ids": []any{}}, 400, missing},
		{"GET", "/api/fleet/agent_policies?perPage=101&full=true", nil, 400, "[request query]: perPage should be less or equal to 100 when fetching full policies or agent count."},
		// package_policy.ts
		{"GET", "/api/fleet/package_policies?bogus=1", nil, 400, missing},
		{"GET", "/api/fleet/package_policies?sortOrder=asc&showUpgradeable=true&format=legacy", nil, 200, ""},
		// epm.ts
		{"GET", "/api/fleet/epm/packages?bogus=1", nil, 400, missing},
		{"GET", "/api/fleet/epm/packages?prerelease=true&withPackagePoliciesCount=true", nil, 200, ""},
		{"GET", "/api/fleet/epm/packages/nginx?bogus=1", nil, 400, missing},
		{"GET", "/api/fleet/epm/packages/nginx/2.1.0?bogus=1", nil, 400, missing},
		{"GET", "/api/fleet/epm/packages/installed?bogus=1", nil, 400, missing},
		{"POST", "/api/fleet/epm/packages/nginx?bogus=1", nil, 400, missing},
		{"DELETE", "/api/fleet/epm/packages/nginx?bogus=1", nil, 400, missing},
		// output.ts: GetOutputsRequestSchema = {} (no query schema at all).
		{"GET", "/api/fleet/outputs?bogus=1", nil, 200, ""},
		{"GET", "/api/fleet/outputs/fleet-default-output/health?bogus=1", nil, 200, ""},
		// remote_synced_integrations.ts (params only), setup and service tokens: no query schema.
		{"GET", "/api/fleet/remote_synced_integrations/status?bogus=1", nil, 200, ""},
		{"POST", "/api/fleet/setup?bogus=1", nil, 200, ""},
		{"POST", "/api/fleet/service_tokens?bogus=1", nil, 200, ""},
		// epm.ts BulkInstallPackagesFromRegistryRequestSchema.
		{"POST", "/api/fleet/epm/packages/_bulk?bogus=1", map[string]any{"packages": []any{"nginx"}}, 400, missing},
	} {
		r := kb.do(tc.method, tc.path, tc.body)
		if tc.message == "" {
			if r.Status != tc.status {
				t.Errorf("%s %s: status %d, want %d: %s", tc.method, tc.path, r.Status, tc.status, r.Raw)
			}
			continue
		}
		t.Run(tc.method+" "+tc.path, func(t *testing.T) { r.wantError(t, tc.status, tc.message) })
	}
}
