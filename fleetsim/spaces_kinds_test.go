package fleetsim

import (
	"encoding/json"
	"slices"
	"testing"
)

func mustDecode(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}

// Which Fleet kinds are space-scoped, from elastic/kibana
// x-pack/platform/plugins/shared/fleet/server/saved_objects/index.ts:
// fleet-agent-policies and fleet-package-policies are namespaceType
// 'multiple'; ingest-outputs, fleet-fleet-server-host, fleet-proxy,
// fleet-agent-download-sources, epm-packages and ingest_manager_settings are
// 'agnostic' (global). space_awareness/outputs.ts creates a default output
// through /s/test1 and space_awareness/package_install.ts installs packages
// per space for their Kibana assets only (installed_kibana_space_id); the
// epm-packages object itself is one per cluster.
func TestSpaces_GlobalKindsAreSeenFromEverySpace(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/spaces/space", map[string]any{"id": "test1", "name": "Test 1"}).must(t, 200)
	for _, c := range []struct {
		kind, list string
		body       map[string]any
		key        string
	}{
		{"output", "/api/fleet/outputs", map[string]any{"id": "o1", "name": "test1 output", "type": "elasticsearch", "hosts": []any{"https://es.test1:9200"}}, "o1"},
		{"fleet server host", "/api/fleet/fleet_server_hosts", map[string]any{"id": "fsh1", "name": "test1 fsh", "host_urls": []any{"https://fs.test1:8220"}}, "fsh1"},
		{"proxy", "/api/fleet/proxies", map[string]any{"id": "px1", "name": "test1 proxy", "url": "https://proxy.test1:3128"}, "px1"},
		{"download source", "/api/fleet/agent_download_sources", map[string]any{"id": "ds1", "name": "test1 ds", "host": "https://artifacts.test1/"}, "ds1"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			kb.do("POST", "/s/test1"+c.list, c.body).must(t, 200)
			for _, base := range []string{"", "/s/test1"} {
				var ids []string
				for _, it := range kb.do("GET", base+c.list, nil).must(t, 200).items() {
					ids = append(ids, it.(map[string]any)["id"].(string))
				}
				if !slices.Contains(ids, c.key) {
					t.Errorf("GET %s%s: %v lacks %s (a global kind)", base, c.list, ids, c.key)
				}
				kb.do("GET", base+c.list+"/"+c.key, nil).must(t, 200)
			}
		})
	}
	t.Run("package", func(t *testing.T) {
		kb.do("POST", "/s/test1/api/fleet/epm/packages/nginx/2.1.0", map[string]any{"force": true}).must(t, 200)
		got := kb.do("GET", "/api/fleet/epm/packages/nginx", nil).must(t, 200).item()
		if got["status"] != "installed" {
			t.Errorf("installed through /s/test1, the default space reads status %v", got["status"])
		}
	})
	t.Run("settings", func(t *testing.T) {
		a := kb.do("GET", "/api/fleet/settings", nil).must(t, 200).item()
		b := kb.do("GET", "/s/test1/api/fleet/settings", nil).must(t, 200).item()
		if a["id"] != "fleet-default-settings" || b["id"] != a["id"] {
			t.Errorf("settings ids %v / %v", a["id"], b["id"])
		}
	})
}

// Package policies of another space, following elastic/kibana
// x-pack/platform/plugins/shared/fleet/server/services/package_policy.ts:
// get, bulk get and delete read through the space-scoped saved-objects
// client; the bulk delete answers a policy it cannot see with
// PackagePolicyNotFoundError `Saved object [${savedObjectType}/${id}] not
// found` (404), the single DELETE route ignores a 404
// (routes/package_policy/handlers.ts deleteOnePackagePolicyHandler), and
// the name check of create and update is the space-scoped list.
func TestSpaces_PackagePoliciesOfAnotherSpace(t *testing.T) {
	for _, c := range []struct {
		version, soType string
		aware           bool
	}{
		{"9.3.0", "fleet-package-policies", true},
		{"9.0.0", "ingest-package-policies", false},
	} {
		t.Run(c.version, func(t *testing.T) {
			_, kb := startMain(t, ClusterConfig{Name: "main", Version: c.version})
			kb.do("POST", "/api/spaces/space", map[string]any{"id": "test1", "name": "Test 1"}).must(t, 200)
			kb.do("POST", "/s/test1/api/fleet/agent_policies", map[string]any{"id": "t1", "name": "T1", "namespace": "default"}).must(t, 200)
			kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "d1", "name": "D1", "namespace": "default"}).must(t, 200)
			kb.do("POST", "/s/test1/api/fleet/package_policies", nginxSimplified("nginx-1", "t1")).must(t, 200)
			id := kb.do("GET", "/s/test1/api/fleet/package_policies", nil).must(t, 200).items()[0].(map[string]any)["id"].(string)

			// The same name in the default space: allowed once space-aware.
			same := kb.do("POST", "/api/fleet/package_policies", nginxSimplified("nginx-1", "d1"))
			if c.aware {
				same.must(t, 200)
			} else {
				same.wantError(t, 409, "An integration policy with the name nginx-1 already exists. Please rename it or choose a different name.")
			}

			res := kb.do("POST", "/api/fleet/package_policies/delete", map[string]any{"packagePolicyIds": []any{id}}).must(t, 200)
			var out []any
			mustDecode(t, res.Raw, &out)
			first := out[0].(map[string]any)
			if c.aware {
				if first["success"] != false || first["statusCode"] != float64(404) || first["body"].(map[string]any)["message"] != "Saved object ["+c.soType+"/"+id+"] not found" {
					t.Errorf("delete from the default space: %v", first)
				}
				// DELETE /package_policies/{id} ignores the 404; the policy stays.
				kb.do("DELETE", "/api/fleet/package_policies/"+id, nil).must(t, 200)
				kb.do("GET", "/s/test1/api/fleet/package_policies/"+id, nil).must(t, 200)
				kb.do("POST", "/api/fleet/package_policies/_bulk_get", map[string]any{"ids": []any{id}}).wantError(t, 404, "Package policy "+id+" not found")
				kb.do("POST", "/s/test1/api/fleet/package_policies/delete", map[string]any{"packagePolicyIds": []any{id}}).must(t, 200)
			} else if first["success"] != true {
				t.Errorf("before 9.1 every policy is global; delete: %v", first)
			}
			kb.do("GET", "/s/test1/api/fleet/package_policies/"+id, nil).wantError(t, 404, "Package policy not found")
			var again []any
			mustDecode(t, kb.do("POST", "/api/fleet/package_policies/delete", map[string]any{"packagePolicyIds": []any{id}}).must(t, 200).Raw, &again)
			if msg := again[0].(map[string]any)["body"].(map[string]any)["message"]; msg != "Saved object ["+c.soType+"/"+id+"] not found" {
				t.Errorf("deleted twice: %v", msg)
			}
		})
	}
}
