package fleetsim

import (
	"slices"
	"testing"

	"github.com/fleetform/fleetform/fleetsim/esim"
)

// Space awareness follows elastic/kibana
// x-pack/platform/test/fleet_api_integration/apis/space_awareness/agent_policies.ts,
// change_space_agent_policies.ts and
// x-pack/platform/plugins/shared/fleet/server/services/spaces/agent_policy.ts.

func spaceIDsOf(t *testing.T, items []any) []string {
	t.Helper()
	var ids []string
	for _, it := range items {
		ids = append(ids, it.(map[string]any)["id"].(string))
	}
	slices.Sort(ids)
	return ids
}

func newSpaceUser(t *testing.T, s *Sim, resources ...string) *client {
	t.Helper()
	key, err := s.Cluster("main").ES().CreateAPIKey(esim.Principal{Username: "elastic", Superuser: true}, esim.APIKeyRequest{Name: "default-space-only",
		RoleDescriptors: map[string]esim.RoleDescriptor{"r": {Applications: []esim.ApplicationPrivilege{{Application: "kibana-.kibana",
			Privileges: []string{"feature_fleetv2.all", "feature_fleet.all"}, Resources: resources}}}}})
	if err != nil {
		t.Fatal(err)
	}
	c := kibana(t, s, "main")
	c.auth = "ApiKey " + key.Encoded
	return c
}

func TestSpaces_PoliciesAreScopedBySpaceIDs(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/spaces/space", map[string]any{"id": "test1", "name": "Test 1"}).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "d1", "name": "D1", "namespace": "default"}).must(t, 200)
	t1 := kb.do("POST", "/s/test1/api/fleet/agent_policies", map[string]any{"id": "t1", "name": "T1", "namespace": "default"}).must(t, 200).item()
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "both", "name": "Both", "namespace": "default", "space_ids": []any{"default", "test1"}}).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "all", "name": "All", "namespace": "default", "space_ids": []any{"*"}}).must(t, 200)
	if got := t1["space_ids"]; !slices.Equal(toStrings(got), []string{"test1"}) {
		t.Errorf("created in test1: space_ids %v", got)
	}
	// "should return policies in a specific space" / "in default space".
	if got := spaceIDsOf(t, kb.do("GET", "/s/test1/api/fleet/agent_policies", nil).must(t, 200).items()); !slices.Equal(got, []string{"all", "both", "t1"}) {
		t.Errorf("test1 lists %v", got)
	}
	if got := spaceIDsOf(t, kb.do("GET", "/api/fleet/agent_policies", nil).must(t, 200).items()); !slices.Equal(got, []string{"all", "both", "d1"}) {
		t.Errorf("default lists %v", got)
	}
	// "should not allow to get a policy from a different space from the default space".
	kb.do("GET", "/api/fleet/agent_policies/t1", nil).wantError(t, 404, "Saved object [fleet-agent-policies/t1] not found")
	kb.do("GET", "/s/test1/api/fleet/agent_policies/d1", nil).wantError(t, 404, "Saved object [fleet-agent-policies/d1] not found")
	kb.do("GET", "/s/test1/api/fleet/agent_policies/t1", nil).must(t, 200)
	// "should allow creating a policy assigned to a different space even when
	// URL space has a policy with the same name"; the same name in the same
	// space is a conflict.
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "d1b", "name": "D1", "namespace": "default", "space_ids": []any{"test1"}}).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "T1", "namespace": "default", "space_ids": []any{"test1"}}).
		wantError(t, 409, "Agent Policy 't1' already exists with name 'T1'")
	// Integration policies of a policy follow it; another space does not see them.
	kb.do("POST", "/s/test1/api/fleet/package_policies", map[string]any{"id": "pp1", "name": "nginx-t1", "namespace": "default",
		"policy_ids": []any{"t1"}, "package": map[string]any{"name": "nginx", "version": "2.1.0"}}).must(t, 200)
	kb.do("POST", "/api/fleet/package_policies", map[string]any{"name": "nginx-x", "namespace": "default",
		"policy_ids": []any{"t1"}, "package": map[string]any{"name": "nginx", "version": "2.1.0"}}).wantError(t, 404, "Saved object [fleet-agent-policies/t1] not found")
	if n := len(kb.do("GET", "/api/fleet/package_policies", nil).must(t, 200).items()); n != 0 {
		t.Errorf("default space lists %d package policies", n)
	}
	kb.do("GET", "/api/fleet/package_policies/pp1", nil).wantError(t, 404, "Package policy not found")
	kb.do("GET", "/s/test1/api/fleet/package_policies/pp1", nil).must(t, 200)
}

func TestSpaces_UpdateMovesPolicyAndIntegrations(t *testing.T) {
	s, kb := startMain(t)
	kb.do("POST", "/api/spaces/space", map[string]any{"id": "test1", "name": "Test 1"}).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "p1", "name": "P1", "namespace": "default"}).must(t, 200)
	kb.do("POST", "/api/fleet/package_policies", map[string]any{"id": "pp1", "name": "nginx-1", "namespace": "default",
		"policy_ids": []any{"p1"}, "package": map[string]any{"name": "nginx", "version": "2.1.0"}}).must(t, 200)
	// change_space_agent_policies.ts "should not allow add policy to a space where user do not have access".
	limited := newSpaceUser(t, s, "space:default")
	limited.do("PUT", "/api/fleet/agent_policies/p1", map[string]any{"name": "P1", "namespace": "default", "space_ids": []any{"default", "test1"}}).
		wantError(t, 400, "Not enough permissions to create policies in space test1")
	// space_awareness/agent_policies.ts "should not allow to create a policy
	// in another space when user do not have permissions from default
	// space": the create handler's message reads "No enough" (sic).
	limited.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "X", "namespace": "default", "space_ids": []any{"test1"}}).
		wantError(t, 400, "No enough permissions to create policies in space test1")
	// Privileges are checked at the request's space; the message names the
	// path the spaces onRequest interceptor rewrote, without /s/test1
	// (security's api_authorization.ts formats request.url.pathname; the
	// alerting security_and_spaces tests expect "API [GET
	// /api/maintenance_window/_find] is unauthorized ..." for "space_1_all at space2").
	limited.do("GET", "/s/test1/api/fleet/agent_policies", nil).
		wantError(t, 403, "API [GET /api/fleet/agent_policies] is unauthorized for user, this action is granted by the Kibana privileges [fleet-agent-policies-read]")
	limited.do("GET", "/api/fleet/agent_policies", nil).must(t, 200)
	up := kb.do("PUT", "/api/fleet/agent_policies/p1", map[string]any{"name": "P1", "namespace": "default", "space_ids": []any{"test1"}}).must(t, 200).item()
	if !slices.Equal(toStrings(up["space_ids"]), []string{"test1"}) {
		t.Errorf("moved: space_ids %v", up["space_ids"])
	}
	kb.do("GET", "/api/fleet/agent_policies/p1", nil).must(t, 404)
	kb.do("GET", "/s/test1/api/fleet/agent_policies/p1", nil).must(t, 200)
	kb.do("GET", "/s/test1/api/fleet/package_policies/pp1", nil).must(t, 200)
	// "should not allow to remove policy from a space where user do not have access".
	kb.do("PUT", "/s/test1/api/fleet/agent_policies/p1", map[string]any{"name": "P1", "namespace": "default", "space_ids": []any{"test1", "default"}}).must(t, 200)
	limited.do("PUT", "/api/fleet/agent_policies/p1", map[string]any{"name": "P1", "namespace": "default", "space_ids": []any{"default"}}).
		wantError(t, 400, "Not enough permissions to remove policies from space test1")
	// A hosted policy refuses (updateAgentPolicySpaces).
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "h", "name": "H", "namespace": "default", "is_managed": true}).must(t, 200)
	kb.do("PUT", "/api/fleet/agent_policies/h", map[string]any{"name": "H", "namespace": "default", "space_ids": []any{"test1"}}).
		wantError(t, 400, "Cannot update hosted agent policy h space "+hostedAgentPolicyRestriction) // TestSpaces_MoveRefusals
}

// "should create fleet-server-policy in the default space" / "in the test space".
func TestSpaces_FleetServerPolicyIDPerSpace(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/spaces/space", map[string]any{"id": "test1", "name": "Test 1"}).must(t, 200)
	if id := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "FS", "namespace": "default", "has_fleet_server": true}).must(t, 200).item()["id"]; id != "fleet-server-policy" {
		t.Errorf("default space: id %v", id)
	}
	if id := kb.do("POST", "/s/test1/api/fleet/agent_policies", map[string]any{"name": "FS1", "namespace": "default", "has_fleet_server": true}).must(t, 200).item()["id"]; id != "test1-fleet-server-policy" {
		t.Errorf("test1: id %v", id)
	}
}

func TestSpaces_BeforeSpaceAwarenessThePrefixIsIgnored(t *testing.T) {
	_, kb := startMain(t, ClusterConfig{Name: "main", Version: "9.0.0"})
	kb.do("POST", "/s/test1/api/fleet/agent_policies", map[string]any{"id": "p", "name": "P", "namespace": "default"}).must(t, 200)
	p := kb.do("GET", "/api/fleet/agent_policies/p", nil).must(t, 200).item()
	if _, ok := p["space_ids"]; ok {
		t.Errorf("9.0 answers space_ids: %v", p)
	}
}

func TestSpaces_SpacesAPI(t *testing.T) {
	_, kb := startMain(t)
	kb.do("GET", "/api/spaces/space/nope", nil).wantError(t, 404, "Not Found")
	kb.do("POST", "/api/spaces/space", map[string]any{"id": "test1", "name": "Test 1"}).must(t, 200)
	kb.do("POST", "/api/spaces/space", map[string]any{"id": "test1", "name": "Again"}).wantError(t, 409, "A space with the identifier test1 already exists.")
	if got := kb.do("GET", "/api/spaces/space/test1", nil).must(t, 200).Body["name"]; got != "Test 1" {
		t.Errorf("name %v", got)
	}
	kb.do("GET", "/api/spaces/space/default", nil).must(t, 200)
}

func toStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, x.(string))
	}
	return out
}

// validatePackagePoliciesUniqueNameAcrossSpaces
// (x-pack/platform/plugins/shared/fleet/server/services/spaces/policy_namespaces.ts),
// run by updateAgentPolicySpaces (spaces/agent_policy.ts) after the agent
// policy's own name check: moving a policy into a space where another
// integration policy has the name of one of its own is a 409.
func TestSpaces_MoveChecksIntegrationPolicyNamesAcrossSpaces(t *testing.T) {
	_, kb := startMain(t)
	for _, id := range []string{"test1", "test2"} {
		kb.do("POST", "/api/spaces/space", map[string]any{"id": id, "name": id}).must(t, 200)
	}
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "p1", "name": "P1", "namespace": "default"}).must(t, 200)
	kb.do("POST", "/api/fleet/package_policies", nginxSimplified("nginx-1", "p1")).must(t, 200)
	kb.do("POST", "/s/test2/api/fleet/agent_policies", map[string]any{"id": "p2", "name": "P2", "namespace": "default"}).must(t, 200)
	kb.do("POST", "/s/test2/api/fleet/package_policies", nginxSimplified("nginx-1", "p2")).must(t, 200)
	for _, c := range []struct {
		spaces []any
		status int
		msg    string
	}{
		{[]any{"default", "test2"}, 409, `An integration policy with the name nginx-1 already exists in space "test2". Please rename it or choose a different name.`},
		{[]any{"test2", "test1", "default"}, 409, `An integration policy with the name nginx-1 already exists in space "test2". Please rename it or choose a different name.`},
		{[]any{"default", "test1"}, 200, ""},
	} {
		res := kb.do("PUT", "/api/fleet/agent_policies/p1", map[string]any{"name": "P1", "namespace": "default", "space_ids": c.spaces})
		if c.status != 200 {
			res.wantError(t, c.status, c.msg)
			continue
		}
		res.must(t, 200)
	}
	// The refused moves changed nothing: p1 is in default and test1 only.
	if got := toStrings(kb.do("GET", "/api/fleet/agent_policies/p1", nil).must(t, 200).item()["space_ids"]); !slices.Equal(got, []string{"default", "test1"}) {
		t.Errorf("space_ids %v", got)
	}
}

// space_awareness/agent_policies.ts "should return only spaces user can
// access" (GET /agent_policies and GET /agent_policies/{id}): a space the
// user may not read is answered as "?"; the security plugin's
// getRedactedSpaces sorts namespaces case-insensitively with "?" last
// (saved_objects_security_extension.ts namespaceComparator).
func TestSpaces_UnreadableSpacesAnswerQuestionMark(t *testing.T) {
	s, kb := startMain(t)
	kb.do("POST", "/api/spaces/space", map[string]any{"id": "test1", "name": "Test 1"}).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "both", "name": "Both", "namespace": "default", "space_ids": []any{"test1", "default"}}).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "all", "name": "All", "namespace": "default", "space_ids": []any{"*"}}).must(t, 200)
	limited := newSpaceUser(t, s, "space:default")
	for _, c := range []struct {
		who  *client
		path string
		id   string
		want []string
	}{
		{kb, "/api/fleet/agent_policies/both", "both", []string{"default", "test1"}},
		{limited, "/api/fleet/agent_policies/both", "both", []string{"default", "?"}},
		{limited, "/api/fleet/agent_policies/all", "all", []string{"*"}},
		{limited, "/api/fleet/agent_policies", "both", []string{"default", "?"}},
		{limited, "/api/fleet/agent_policies?full=true", "both", []string{"default", "?"}},
		{kb, "/api/fleet/agent_policies", "both", []string{"default", "test1"}},
	} {
		res := c.who.do("GET", c.path, nil).must(t, 200)
		item := res.item()
		for _, it := range res.items() {
			if m := it.(map[string]any); m["id"] == c.id {
				item = m
			}
		}
		if got := toStrings(item["space_ids"]); !slices.Equal(got, c.want) {
			t.Errorf("GET %s (%s): space_ids %v, want %v", c.path, c.id, got, c.want)
		}
	}
	var bulk []any
	bulk = limited.do("POST", "/api/fleet/agent_policies/_bulk_get", map[string]any{"ids": []any{"both"}}).must(t, 200).items()
	if got := toStrings(bulk[0].(map[string]any)["space_ids"]); !slices.Equal(got, []string{"default", "?"}) {
		t.Errorf("bulk get: space_ids %v", got)
	}
}

// getAuthorizedSpacesWithAgentPoliciesAllPrivileges
// (x-pack/platform/plugins/shared/fleet/server/routes/agent_policy/handlers.ts)
// checks privileges at the existing spaces and "*" only: space_ids naming a
// space that does not exist, or "?", are refused even for a superuser.
func TestSpaces_SpaceIDsMustNameExistingSpaces(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/spaces/space", map[string]any{"id": "test1", "name": "Test 1"}).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "p", "name": "P", "namespace": "default"}).must(t, 200)
	for _, c := range []struct {
		method, path string
		body         map[string]any
		msg          string
	}{
		{"POST", "/api/fleet/agent_policies", map[string]any{"name": "X", "namespace": "default", "space_ids": []any{"nope"}}, "No enough permissions to create policies in space nope"},
		{"PUT", "/api/fleet/agent_policies/p", map[string]any{"name": "P", "namespace": "default", "space_ids": []any{"default", "?"}}, "Not enough permissions to create policies in space ?"},
	} {
		kb.do(c.method, c.path, c.body).wantError(t, 400, c.msg)
	}
	kb.do("PUT", "/api/fleet/agent_policies/p", map[string]any{"name": "P", "namespace": "default", "space_ids": []any{"default", "test1", "*"}}).must(t, 200)
	// The URL's own space is not checked: Kibana does not check it exists.
	kb.do("POST", "/s/ghost/api/fleet/agent_policies", map[string]any{"id": "g", "name": "G", "namespace": "default"}).must(t, 200)
}

// The Spaces API's reads authorize through the spaces client
// (spaces/server/routes/api/external/get.ts and get_all.ts disable route
// authorization; secure_spaces_client_wrapper.ts needs the login action at
// the space): a key with Fleet privileges in test1 only reads test1.
func TestSpaces_SpacesAPIReadsNeedAPrivilegeAtTheSpace(t *testing.T) {
	s, kb := startMain(t)
	kb.do("POST", "/api/spaces/space", map[string]any{"id": "test1", "name": "Test 1"}).must(t, 200)
	limited := newSpaceUser(t, s, "space:test1")
	limited.do("GET", "/api/spaces/space/test1", nil).must(t, 200)
	limited.do("GET", "/api/spaces/space/default", nil).wantError(t, 403, "Unauthorized to get default space")
	limited.do("GET", "/api/spaces/space/nope", nil).wantError(t, 403, "Unauthorized to get nope space")
	if got := spaceIDsOf(t, limitedList(t, limited)); !slices.Equal(got, []string{"test1"}) {
		t.Errorf("GET /api/spaces/space lists %v", got)
	}
	limited.do("POST", "/api/spaces/space", map[string]any{"id": "x", "name": "X"}).must(t, 403)
	none := newSpaceUser(t, s, "space:ghost")
	none.do("GET", "/api/spaces/space", nil).wantError(t, 403, "Forbidden")
}

func limitedList(t *testing.T, c *client) []any {
	t.Helper()
	var items []any
	mustDecode(t, c.do("GET", "/api/spaces/space", nil).must(t, 200).Raw, &items)
	return items
}
