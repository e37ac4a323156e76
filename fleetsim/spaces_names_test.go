package fleetsim

import (
	"slices"
	"strings"
	"testing"
)

// Names across spaces (spaces_names.go). Each case names the Kibana source
// and, where one pins it, the test of
// x-pack/platform/test/fleet_api_integration/apis/space_awareness/.
//
// The world: spaces test1 and test2; agent policies d and d2 in default,
// d4 in default, multi in [default, test1], all in ["*"], t2 and t3 in test2; package policies
// web-d (in d), web-t2 (in t2), web-all (in all, so in "*"), web-multi (in
// multi), web-d2 (in d2), and two named dup: of d4 (default) and of t3
// (test2).
func TestSpaces_NamesAcrossSpaces(t *testing.T) {
	nginx := func(id, name string, policyIDs ...string) map[string]any {
		ids := make([]any, len(policyIDs))
		for i, p := range policyIDs {
			ids[i] = p
		}
		return map[string]any{"id": id, "name": name, "namespace": "default", "policy_ids": ids,
			"package": map[string]any{"name": "nginx", "version": "2.1.0"}}
	}
	agent := func(id, name string, spaces ...any) map[string]any {
		b := map[string]any{"id": id, "name": name, "namespace": "default"}
		if len(spaces) > 0 {
			b["space_ids"] = spaces
		}
		return b
	}
	for _, tc := range []struct {
		name         string
		method, path string
		body         map[string]any
		status       int
		msg          string   // the error message, when status is not 200
		spaces       []string // the package policy's spaceIds after a 200, when given
		moved        []string // the agent policy's space_ids after a 200, when given
		pre          [][3]any // requests sent first (method, path, body), each a 200
		user         []string // the request's user: Fleet all on these resources; elastic when nil
	}{
		// package_policy.ts create: requireUniqueName with the agent
		// policies' spaces; more than one lists every space.
		{
			// "should not allow to add a package policy to a multispace policy
			// that has name conflict with another policy in a different space".
			name: "create into a two-space policy, name in another of its spaces", method: "POST", path: "/s/test1/api/fleet/package_policies",
			body: nginx("x", "web-d", "multi"), status: 409,
			msg: "An integration policy with the name web-d already exists. Please rename it or choose a different name.",
		},
		{
			// On a create every item listed refuses, whatever its space.
			name: "create into a two-space policy, name only in a space it is not in", method: "POST", path: "/api/fleet/package_policies",
			body: nginx("x", "web-t2", "multi"), status: 409,
			msg: "An integration policy with the name web-t2 already exists. Please rename it or choose a different name.",
		},
		{
			name: "create into a two-space policy, name free", method: "POST", path: "/api/fleet/package_policies",
			body: nginx("x", "web-new", "multi"), status: 200, spaces: []string{"default", "test1"},
		},
		{
			// Two agent policies of one space each: the flattened spaceIds
			// are two ("default", "default"), so every space is listed.
			name: "create a reusable policy in two single-space policies, name in another space", method: "POST", path: "/api/fleet/package_policies",
			body: nginx("x", "web-t2", "d", "d2"), status: 409,
			msg: "An integration policy with the name web-t2 already exists. Please rename it or choose a different name.",
		},
		{
			// One space, "*": only the request's space is looked at.
			// "should allow to add a package policy to an all agent policy in
			// the default space" (spaceIds "*").
			name: "create into an all-spaces policy, name only in another space", method: "POST", path: "/api/fleet/package_policies",
			body: nginx("x", "web-t2", "all"), status: 200, spaces: []string{"*"},
		},
		{
			name: "create into an all-spaces policy, name in the request's space", method: "POST", path: "/api/fleet/package_policies",
			body: nginx("x", "web-d", "all"), status: 409,
			msg: "An integration policy with the name web-d already exists. Please rename it or choose a different name.",
		},
		{
			name: "create into a one-space policy, name only in another space", method: "POST", path: "/api/fleet/package_policies",
			body: nginx("x", "web-t2", "d"), status: 200, spaces: []string{"default"},
		},
		{
			// The request's space list holds the package policies in "*".
			name: "create into a one-space policy, name of one in *", method: "POST", path: "/s/test2/api/fleet/package_policies",
			body: nginx("x", "web-all", "t2"), status: 409,
			msg: "An integration policy with the name web-all already exists. Please rename it or choose a different name.",
		},
		// validateReusableIntegrationsAndSpaceAwareness.
		{
			// "should not allow to add a reusable package policy to a
			// multi-space agent policy in the default space".
			name: "create a reusable policy into a two-space policy", method: "POST", path: "/api/fleet/package_policies",
			body: nginx("x", "web-new", "multi", "d"), status: 400,
			msg: "Reusable integration policies cannot be used with agent policies belonging to multiple spaces.",
		},
		{
			// "… to an all space agent policy in the default space".
			name: "create a reusable policy into an all-spaces policy", method: "POST", path: "/api/fleet/package_policies",
			body: nginx("x", "web-new", "all", "d"), status: 400,
			msg: "Reusable integration policies cannot be used with agent policies belonging to multiple spaces.",
		},
		{
			// "should not allow to make a policy used in multiple space reusable".
			name: "update a policy of a two-space policy to reusable", method: "PUT", path: "/api/fleet/package_policies/web-multi",
			body: nginx("", "web-multi", "multi", "d"), status: 400,
			msg: "Reusable integration policies cannot be used with agent policies belonging to multiple spaces.",
		},
		// package_policy.ts update: requireUniqueName on a rename with the
		// agent policies' spaces.
		{
			// "should prevent updating package policy name already in
			// multiple spaces when name conflicts exist" (from test1).
			name: "rename in a two-space policy to a name in another of its spaces", method: "PUT", path: "/s/test1/api/fleet/package_policies/web-multi",
			body: nginx("", "web-d", "multi"), status: 409,
			msg: "An integration policy with the name web-d already exists. Please rename it or choose a different name.",
		},
		{
			// An update keeps only the policies sharing a space.
			name: "rename in a two-space policy to a name only in a space it is not in", method: "PUT", path: "/api/fleet/package_policies/web-multi",
			body: nginx("", "web-t2", "multi"), status: 200, spaces: []string{"default", "test1"},
		},
		{
			// …literally: one in "*" shares no space with [default, test1].
			name: "rename in a two-space policy to the name of one in *", method: "PUT", path: "/api/fleet/package_policies/web-multi",
			body: nginx("", "web-all", "multi"), status: 200, spaces: []string{"default", "test1"},
		},
		{
			name: "rename in a one-space policy to a name only in another space", method: "PUT", path: "/api/fleet/package_policies/web-d",
			body: nginx("", "web-t2", "d"), status: 200, spaces: []string{"default"},
		},
		{
			name: "rename in a one-space policy to the name of one in *", method: "PUT", path: "/api/fleet/package_policies/web-d",
			body: nginx("", "web-all", "d"), status: 409,
			msg: "An integration policy with the name web-all already exists. Please rename it or choose a different name.",
		},
		{
			// Two single-space agent policies: every space listed, sharing
			// "default" literally.
			name: "rename a reusable policy to a name in another space", method: "PUT", path: "/api/fleet/package_policies/web-d2",
			body: nginx("", "web-t2", "d", "d2"), status: 200, spaces: []string{"default"},
		},
		// agent_policy.ts requireUniqueName with space_ids holding "*": every space.
		{
			name: "agent policy created into *, name in another space", method: "POST", path: "/api/fleet/agent_policies",
			body: agent("x", "T2", "*"), status: 409, msg: "Agent Policy 't2' already exists with name 'T2'",
		},
		{
			// "should allow creating a policy assigned to a different space
			// even when URL space has a policy with the same name".
			name: "agent policy created into test1, name only in test2", method: "POST", path: "/api/fleet/agent_policies",
			body: agent("x", "T2", "test1"), status: 200,
		},
		{
			// One in "*" is in every space.
			name: "agent policy created into test2, name of one in *", method: "POST", path: "/api/fleet/agent_policies",
			body: agent("x", "All", "test2"), status: 409, msg: "Agent Policy 'all' already exists with name 'All'",
		},
		// updateAgentPolicySpaces → validatePackagePoliciesUniqueNameAcrossSpaces:
		// the spaces compared literally. dup is the name of a package policy
		// of t3 (test2) and of d4 (default).
		{
			name: "agent policy moved to *, its package policy named as one in another space", method: "PUT", path: "/api/fleet/agent_policies/d4",
			body: agent("", "D4", "*"), status: 200, moved: []string{"*"},
		},
		{
			name: "agent policy moved to *, its package policy named as one in *", method: "PUT", path: "/s/test2/api/fleet/agent_policies/t3",
			pre:  [][3]any{{"PUT", "/api/fleet/agent_policies/d4", agent("", "D4", "*")}},
			body: agent("", "T3", "*"), status: 409,
			msg: `An integration policy with the name dup already exists in space "*". Please rename it or choose a different name.`,
		},
		{
			name: "agent policy moved to test2 and default, its package policy named as one in test2", method: "PUT", path: "/api/fleet/agent_policies/d4",
			body: agent("", "D4", "default", "test2"), status: 409,
			msg: `An integration policy with the name dup already exists in space "test2". Please rename it or choose a different name.`,
		},
		// The privileges of "*": fleet-agent-policies-all at space:*
		// (getAuthorizedSpacesWithAgentPoliciesAllPrivileges,
		// routes/agent_policy/handlers.ts: the existing spaces and "*").
		{
			name: "agent policy created into * by a user of two spaces", method: "POST", path: "/api/fleet/agent_policies",
			user: []string{"space:default", "space:test1"},
			body: agent("x", "X", "*"), status: 400, msg: "No enough permissions to create policies in space *",
		},
		{
			name: "agent policy moved to * by a user of two spaces", method: "PUT", path: "/api/fleet/agent_policies/d",
			user: []string{"space:default", "space:test1"},
			body: agent("", "D", "*"), status: 400, msg: "Not enough permissions to create policies in space *",
		},
		{
			name: "agent policy created into * by a user of every space", method: "POST", path: "/api/fleet/agent_policies",
			user: []string{"space:*"},
			body: agent("x", "X", "*"), status: 200,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, kb := startMain(t)
			for _, sp := range []string{"test1", "test2"} {
				kb.do("POST", "/api/spaces/space", map[string]any{"id": sp, "name": sp}).must(t, 200)
			}
			for _, b := range []map[string]any{agent("d", "D"), agent("d2", "D2"), agent("d4", "D4"),
				agent("multi", "Multi", "default", "test1"), agent("all", "All", "*")} {
				kb.do("POST", "/api/fleet/agent_policies", b).must(t, 200)
			}
			for _, id := range []string{"t2", "t3"} {
				kb.do("POST", "/s/test2/api/fleet/agent_policies", agent(id, strings.ToUpper(id))).must(t, 200)
			}
			for _, b := range []map[string]any{nginx("web-d", "web-d", "d"), nginx("web-d2", "web-d2", "d2"),
				nginx("web-multi", "web-multi", "multi"), nginx("web-all", "web-all", "all"), nginx("dup-d4", "dup", "d4")} {
				kb.do("POST", "/api/fleet/package_policies", b).must(t, 200)
			}
			kb.do("POST", "/s/test2/api/fleet/package_policies", nginx("web-t2", "web-t2", "t2")).must(t, 200)
			kb.do("POST", "/s/test2/api/fleet/package_policies", nginx("dup-t3", "dup", "t3")).must(t, 200)
			for _, p := range tc.pre {
				kb.do(p[0].(string), p[1].(string), p[2]).must(t, 200)
			}
			if tc.user != nil {
				kb = newSpaceUser(t, s, tc.user...)
			}
			res := kb.do(tc.method, tc.path, tc.body)
			if tc.status != 200 {
				res.wantError(t, tc.status, tc.msg)
				return
			}
			item := res.must(t, 200).item()
			if tc.spaces != nil {
				// Read again: a create answers the saved object as written, in
				// the request's space, before updatePackagePolicySpaces.
				space, _ := spaceOf(tc.path)
				prefix := ""
				if space != "" {
					prefix = "/s/" + space
				}
				item = kb.do("GET", prefix+"/api/fleet/package_policies/"+item["id"].(string), nil).must(t, 200).item()
				got := toStrings(item["spaceIds"])
				slices.Sort(got)
				if !slices.Equal(got, tc.spaces) {
					t.Errorf("spaceIds %v, want %v", got, tc.spaces)
				}
			}
			if tc.moved != nil {
				if got := toStrings(item["space_ids"]); !slices.Equal(got, tc.moved) {
					t.Errorf("space_ids %v, want %v", got, tc.moved)
				}
			}
		})
	}
}
