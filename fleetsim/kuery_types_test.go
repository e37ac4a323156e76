package fleetsim

import (
	"net/url"
	"testing"
)

// kueryClusters are the three states a 9.x Fleet can be in: space-aware
// (a new 9.1+ deployment), 9.1+ but never migrated, and before space
// awareness.
var kueryClusters = []struct {
	name string
	cfg  ClusterConfig
}{
	{"space-aware 9.3", ClusterConfig{Name: "main", Version: "9.3.0"}},
	{"never migrated 9.3", ClusterConfig{Name: "main", Version: "9.3.0", SpaceAwareness: "off"}},
	{"9.0", ClusterConfig{Name: "main", Version: "9.0.0"}},
}

// GET /api/fleet/agent_policies validates kueries against
// LEGACY_AGENT_POLICY_SAVED_OBJECT_TYPE whatever type is in use
// (elastic/kibana x-pack/platform/plugins/shared/fleet/server/types/rest_spec/agent_policy.ts
// GetAgentPoliciesRequestSchema), with hasFilterKeyError's messages
// (server/routes/utils/filter_utils.ts; filter_utils.test.ts "Kuery with
// non existent parameter wrapped by SO", "Invalid search by non existent
// parameter"), every bad key's message joined by newlines after
// "KQLSyntaxError: ".
func TestKuery_AgentPolicyMessagesNameTheLegacyType(t *testing.T) {
	for _, cl := range kueryClusters {
		t.Run(cl.name, func(t *testing.T) {
			_, kb := startMain(t, cl.cfg)
			for _, c := range []struct{ kuery, message string }{
				{`ingest-agent-policies.colour:red`,
					"[request query.kuery]: KQLSyntaxError: This key 'ingest-agent-policies.colour' does NOT exist in ingest-agent-policies saved object index patterns"},
				{`fleet-agent-policies.colour:red`,
					"[request query.kuery]: KQLSyntaxError: This key 'fleet-agent-policies.colour' does NOT exist in ingest-agent-policies saved object index patterns"},
				{`colour:red`,
					"[request query.kuery]: KQLSyntaxError: This type 'colour' is not allowed"},
				{`colour:red or ingest-agent-policies.name:x or ingest-agent-policies.size:2`,
					"[request query.kuery]: KQLSyntaxError: This type 'colour' is not allowed\nThis key 'ingest-agent-policies.size' does NOT exist in ingest-agent-policies saved object index patterns"},
			} {
				kb.do("GET", "/api/fleet/agent_policies?kuery="+url.QueryEscape(c.kuery), nil).wantError(t, 400, c.message)
			}
			kb.do("GET", "/api/fleet/agent_policies?kuery="+url.QueryEscape(`ingest-agent-policies.name:x`), nil).must(t, 200)
		})
	}
}

// GET /api/fleet/package_policies checks a kuery twice (fleetsim/kuery.go):
// the route schema against PACKAGE_POLICY_SAVED_OBJECT_TYPE, which is
// fleet-package-policies since elastic/kibana#189387 (8.16) whether or not
// the deployment migrated (server/types/rest_spec/package_policy.ts,
// common/constants/package_policy.ts), then the saved-objects client
// against the type in use after the service rewrote either prefix
// (server/services/package_policy.ts normalizeKuery,
// getPackagePolicySavedObjectType; core filter_utils.ts hasFilterKeyError,
// whose createBadRequestError appends ": Bad Request"). get.ts "should return
// 400 if the passed kuery does not have prefix ingest-package-policies" is
// the `package.name` case.
func TestKuery_PackagePolicyMessagesNameTheTypeInUse(t *testing.T) {
	for _, cl := range kueryClusters {
		t.Run(cl.name, func(t *testing.T) {
			s, kb := startMain(t, cl.cfg)
			inUse := s.Cluster("main").packagePolicyType()
			if want := map[string]string{"space-aware 9.3": "fleet-package-policies"}[cl.name]; want == "" && inUse != "ingest-package-policies" || want != "" && inUse != want {
				t.Fatalf("type in use %s", inUse)
			}
			kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "p1", "name": "P1", "namespace": "default"}).must(t, 200)
			kb.do("POST", "/api/fleet/package_policies", nginxSimplified("nginx-1", "p1")).must(t, 200)
			for _, c := range []struct{ kuery, message string }{
				{`name:nginx-1`,
					"This key 'name' need to be wrapped by a saved object type like " + inUse + ": Bad Request"},
				{`package.name:nginx`,
					"This type package is not allowed: Bad Request"},
				{`name:nginx-1 or package.name:nginx`,
					"This key 'name' need to be wrapped by a saved object type like " + inUse + "\nThis type package is not allowed: Bad Request"},
				{`ingest-package-policies.non_existent_parameter:test`,
					"[request query.kuery]: KQLSyntaxError: This key 'ingest-package-policies.non_existent_parameter' does NOT exist in fleet-package-policies saved object index patterns"},
				{`fleet-package-policies.package.is_managed:x`,
					"[request query.kuery]: KQLSyntaxError: This key 'fleet-package-policies.package.is_managed' does NOT exist in fleet-package-policies saved object index patterns"},
				{`colour:red`,
					"[request query.kuery]: KQLSyntaxError: This type 'colour' is not allowed"},
			} {
				kb.do("GET", "/api/fleet/package_policies?kuery="+url.QueryEscape(c.kuery), nil).wantError(t, 400, c.message)
			}
			for _, k := range []string{`ingest-package-policies.package.name:nginx`, `fleet-package-policies.package.name:nginx`, `fleet-package-policies.name:nginx-1`} {
				if n := len(kb.do("GET", "/api/fleet/package_policies?kuery="+url.QueryEscape(k), nil).must(t, 200).items()); n != 1 {
					t.Errorf("%s: %d items, want 1", k, n)
				}
			}
		})
	}
}

// Before elastic/kibana#189387 (8.16) there is one package-policy type,
// ingest-package-policies: the schema names it and the other prefix is no
// type at all.
func TestKuery_PackagePolicyBeforeTheNewTypes(t *testing.T) {
	_, kb := startMain(t, ClusterConfig{Name: "main", Version: "8.15.0"})
	kb.do("GET", "/api/fleet/package_policies?kuery="+url.QueryEscape(`ingest-package-policies.colour:x`), nil).
		wantError(t, 400, "[request query.kuery]: KQLSyntaxError: This key 'ingest-package-policies.colour' does NOT exist in ingest-package-policies saved object index patterns")
	kb.do("GET", "/api/fleet/package_policies?kuery="+url.QueryEscape(`fleet-package-policies.package.name:nginx`), nil).
		wantError(t, 400, "This type fleet-package-policies is not allowed: Bad Request")
	kb.do("GET", "/api/fleet/package_policies?kuery="+url.QueryEscape(`ingest-package-policies.package.name:nginx`), nil).must(t, 200)
}
