package fleetsim

import "testing"

// TestSettingsUpdate_BumpsDefaultsEveryPolicyElseItsUsers follows the PUT
// handlers of FLEET/server/routes/download_source/handler.ts
// (putDownloadSourcesHandler) and routes/fleet_server_hosts/handler.ts: an
// update of the default bumps every agent policy
// (bumpAllAgentPolicies), an update of another only the policies that name
// it (bumpAllAgentPoliciesForDownloadSource / …ForFleetServerHosts).
func TestSettingsUpdate_BumpsDefaultsEveryPolicyElseItsUsers(t *testing.T) {
	for _, tc := range []struct {
		name, path, ref string
		body            func(name string) map[string]any
	}{
		{"download source", "/api/fleet/agent_download_sources", "download_source_id",
			func(name string) map[string]any {
				return map[string]any{"name": name, "host": "https://" + name + ".example/"}
			}},
		{"fleet server host", "/api/fleet/fleet_server_hosts", "fleet_server_host_id",
			func(name string) map[string]any {
				return map[string]any{"name": name, "host_urls": []any{"https://" + name + ".example:8220"}}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, kb := startMain(t)
			for _, id := range []string{"a", "b"} {
				body := tc.body(id)
				body["id"] = id
				kb.do("POST", tc.path, body).must(t, 200)
			}
			newAgentPolicy(t, kb, "user")
			newAgentPolicy(t, kb, "other")
			kb.do("PUT", "/api/fleet/agent_policies/user", map[string]any{"name": "P user", "namespace": "default", tc.ref: "a"}).must(t, 200)
			put := func(id string, isDefault bool) (user, other float64) {
				t.Helper()
				u0, o0 := revisionOf(t, kb, "user"), revisionOf(t, kb, "other")
				body := tc.body(id)
				if isDefault {
					body["is_default"] = true
				}
				kb.do("PUT", tc.path+"/"+id, body).must(t, 200)
				return revisionOf(t, kb, "user") - u0, revisionOf(t, kb, "other") - o0
			}
			if u, o := put("a", false); u != 1 || o != 0 {
				t.Errorf("update of a non-default the user names: bumps user %v, other %v; want 1, 0", u, o)
			}
			if u, o := put("b", false); u != 0 || o != 0 {
				t.Errorf("update of a non-default no policy names: bumps user %v, other %v; want 0, 0", u, o)
			}
			if u, o := put("b", true); u != 1 || o != 1 {
				t.Errorf("update of the default: bumps user %v, other %v; want 1, 1", u, o)
			}
		})
	}
}
