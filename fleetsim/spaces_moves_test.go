package fleetsim

import (
	"slices"
	"testing"
)

// updateAgentPolicySpaces' refusals (server/services/spaces/agent_policy.ts;
// spaces/agent_policy.test.ts "throw when trying to change a managed
// policies space", "throw when trying to change space to a policy with
// reusable package policies"): a hosted policy, even with its spaces
// unchanged, then — spaces changing — one holding a package policy of
// several agent policies; each a 400 that moves nothing. A hosted policy
// created with space_ids is created in the request's space and refused
// (createAgentPolicyHandler runs the move after the create).
func TestSpaces_MoveRefusals(t *testing.T) {
	const hosted = "Cannot update hosted agent policy h space " + hostedAgentPolicyRestriction
	const reusable = "Agent policies using reusable integration policies cannot be moved to a different space."
	nginx := func(id string, policies ...any) map[string]any {
		return map[string]any{"id": id, "name": id, "namespace": "default", "policy_ids": policies,
			"package": map[string]any{"name": "nginx", "version": "2.1.0"}}
	}
	for _, tc := range []struct {
		name   string
		setup  []map[string]any // agent policies to create in the default space
		pps    []map[string]any // then package policies
		method string
		path   string
		body   map[string]any
		status int
		msg    string
		// after the request: the policy id and the spaces it is in
		policy string
		spaces []string
	}{
		{name: "hosted, to another space",
			setup:  []map[string]any{{"id": "h", "name": "H", "namespace": "default", "is_managed": true}},
			method: "PUT", path: "/api/fleet/agent_policies/h", body: map[string]any{"name": "H", "namespace": "default", "space_ids": []any{"test1"}},
			status: 400, msg: hosted, policy: "h", spaces: []string{"default"}},
		{name: "hosted, spaces unchanged: refused all the same",
			setup:  []map[string]any{{"id": "h", "name": "H", "namespace": "default", "is_managed": true}},
			method: "PUT", path: "/api/fleet/agent_policies/h", body: map[string]any{"name": "H", "namespace": "default", "space_ids": []any{"default"}},
			status: 400, msg: hosted, policy: "h", spaces: []string{"default"}},
		{name: "hosted, forced",
			setup:  []map[string]any{{"id": "h", "name": "H", "namespace": "default", "is_managed": true}},
			method: "PUT", path: "/api/fleet/agent_policies/h", body: map[string]any{"name": "H", "namespace": "default", "space_ids": []any{"default", "test1"}, "force": true},
			status: 200, policy: "h", spaces: []string{"default", "test1"}},
		{name: "a reusable package policy",
			setup:  []map[string]any{{"id": "p", "name": "P", "namespace": "default"}, {"id": "q", "name": "Q", "namespace": "default"}},
			pps:    []map[string]any{nginx("shared", "p", "q")},
			method: "PUT", path: "/api/fleet/agent_policies/p", body: map[string]any{"name": "P", "namespace": "default", "space_ids": []any{"default", "test1"}},
			status: 400, msg: reusable, policy: "p", spaces: []string{"default"}},
		{name: "a reusable package policy, spaces unchanged",
			setup:  []map[string]any{{"id": "p", "name": "P", "namespace": "default"}, {"id": "q", "name": "Q", "namespace": "default"}},
			pps:    []map[string]any{nginx("shared", "p", "q")},
			method: "PUT", path: "/api/fleet/agent_policies/p", body: map[string]any{"name": "P2", "namespace": "default", "space_ids": []any{"default"}},
			status: 200, policy: "p", spaces: []string{"default"}},
		{name: "own package policies move",
			setup:  []map[string]any{{"id": "p", "name": "P", "namespace": "default"}, {"id": "q", "name": "Q", "namespace": "default"}},
			pps:    []map[string]any{nginx("own", "p"), nginx("other", "q")},
			method: "PUT", path: "/api/fleet/agent_policies/p", body: map[string]any{"name": "P", "namespace": "default", "space_ids": []any{"test1"}},
			status: 200, policy: "p", spaces: []string{"test1"}},
		{name: "hosted create with space_ids: created here, then refused",
			method: "POST", path: "/api/fleet/agent_policies", body: map[string]any{"id": "h", "name": "H", "namespace": "default", "is_managed": true, "space_ids": []any{"test1"}},
			status: 400, msg: hosted, policy: "h", spaces: []string{"default"}},
		{name: "hosted create with its own space: refused too",
			method: "POST", path: "/api/fleet/agent_policies", body: map[string]any{"id": "h", "name": "H", "namespace": "default", "is_managed": true, "space_ids": []any{"default"}},
			status: 400, msg: hosted, policy: "h", spaces: []string{"default"}},
		{name: "hosted create without space_ids",
			method: "POST", path: "/api/fleet/agent_policies", body: map[string]any{"id": "h", "name": "H", "namespace": "default", "is_managed": true},
			status: 200, policy: "h", spaces: []string{"default"}},
		{name: "hosted create, forced",
			method: "POST", path: "/api/fleet/agent_policies", body: map[string]any{"id": "h", "name": "H", "namespace": "default", "is_managed": true, "space_ids": []any{"test1"}, "force": true},
			status: 200, policy: "h", spaces: []string{"test1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, kb := startMain(t)
			kb.do("POST", "/api/spaces/space", map[string]any{"id": "test1", "name": "Test 1"}).must(t, 200)
			for _, p := range tc.setup {
				kb.do("POST", "/api/fleet/agent_policies", p).must(t, 200)
			}
			for _, pp := range tc.pps {
				kb.do("POST", "/api/fleet/package_policies", pp).must(t, 200)
			}
			res := kb.do(tc.method, tc.path, tc.body)
			if tc.status != 200 {
				res.wantError(t, tc.status, tc.msg)
			} else {
				res.must(t, 200)
			}
			// Where the policy is, and its own package policies with it.
			for _, sp := range []string{"default", "test1"} {
				prefix := ""
				if sp != "default" {
					prefix = "/s/" + sp
				}
				got := kb.do("GET", prefix+"/api/fleet/agent_policies/"+tc.policy, nil)
				if want := slices.Contains(tc.spaces, sp); (got.Status == 200) != want {
					t.Errorf("GET %s from %s: %d, want visible=%v", tc.policy, sp, got.Status, want)
					continue
				}
				if got.Status != 200 {
					continue
				}
				if ids := toStrings(got.item()["space_ids"]); !slices.Equal(ids, tc.spaces) {
					t.Errorf("space_ids %v, want %v", ids, tc.spaces)
				}
				for _, pp := range toMaps(got.item()["package_policies"]) {
					if ids := toStrings(pp["spaceIds"]); !slices.Equal(ids, tc.spaces) && len(toStrings(pp["policy_ids"])) == 1 {
						t.Errorf("package policy %v: spaceIds %v, want %v", pp["id"], ids, tc.spaces)
					}
				}
			}
		})
	}
}

// The full agent policy view lists its package policies with spaceIds:
// agentPolicyService.get reads them with findAllForAgentPolicy, which maps
// each with mapPackagePolicySavedObjectToPackagePolicy
// (server/services/package_policies/utils.ts: `spaceIds: namespaces`),
// redacted for a caller who cannot read a space, in the simplified format
// too. Before space awareness there are none.
func TestSpaces_FullAgentPolicyViewSpaceIDs(t *testing.T) {
	s, kb := startMain(t)
	kb.do("POST", "/api/spaces/space", map[string]any{"id": "test1", "name": "Test 1"}).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "p", "name": "P", "namespace": "default", "space_ids": []any{"default", "test1"}}).must(t, 200)
	kb.do("POST", "/api/fleet/package_policies", map[string]any{"id": "pp", "name": "nginx-1", "namespace": "default",
		"policy_ids": []any{"p"}, "package": map[string]any{"name": "nginx", "version": "2.1.0"}}).must(t, 200)
	limited := newSpaceUser(t, s, "space:default")
	for _, tc := range []struct {
		name string
		c    *client
		path string
		want []string
	}{
		{"get", kb, "/api/fleet/agent_policies/p", []string{"default", "test1"}},
		{"get simplified", kb, "/api/fleet/agent_policies/p?format=simplified", []string{"default", "test1"}},
		{"get, default space only", limited, "/api/fleet/agent_policies/p", []string{"default", "?"}},
		{"list full", kb, "/api/fleet/agent_policies?full=true", []string{"default", "test1"}},
		{"list full, default space only", limited, "/api/fleet/agent_policies?full=true", []string{"default", "?"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.c.do("GET", tc.path, nil).must(t, 200)
			item := res.Body["item"]
			if item == nil {
				item = res.items()[0]
			}
			pps := toMaps(item.(map[string]any)["package_policies"])
			if len(pps) != 1 {
				t.Fatalf("package_policies %v", pps)
			}
			if ids := toStrings(pps[0]["spaceIds"]); !slices.Equal(ids, tc.want) {
				t.Errorf("spaceIds %v, want %v", ids, tc.want)
			}
		})
	}
	_, old := startMain(t, ClusterConfig{Name: "main", Version: "9.0.0"})
	old.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "p", "name": "P", "namespace": "default"}).must(t, 200)
	old.do("POST", "/api/fleet/package_policies", map[string]any{"id": "pp", "name": "nginx-1", "namespace": "default",
		"policy_ids": []any{"p"}, "package": map[string]any{"name": "nginx", "version": "2.1.0"}}).must(t, 200)
	pps := toMaps(old.do("GET", "/api/fleet/agent_policies/p", nil).must(t, 200).item()["package_policies"])
	if _, ok := pps[0]["spaceIds"]; len(pps) != 1 || ok {
		t.Errorf("9.0: package_policies %v", pps)
	}
}

func toMaps(v any) []map[string]any {
	var out []map[string]any
	l, _ := v.([]any)
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
