package fleetsim

import (
	"net/http"
	"testing"
)

// Fleet Server hosts follow FLEET/server/services/fleet_server_host.ts,
// FLEET/server/routes/fleet_server_hosts/handler.ts and
// FLEET/server/types/rest_spec/fleet_server_policy_config.ts in elastic/kibana.

func TestFleetServerHosts_DefaultSwitchingAndDeleteRules(t *testing.T) {
	_, kb := startMain(t)
	a := kb.do("POST", "/api/fleet/fleet_server_hosts", map[string]any{"id": "a", "name": "A", "host_urls": []any{"https://FS-A.example:8220/"}, "is_default": true}).must(t, 200).item()
	if a["host_urls"].([]any)[0] != "https://fs-a.example:8220" {
		t.Errorf("host_urls not normalised: %v", a["host_urls"])
	}
	if _, has := a["proxy_id"]; has {
		t.Errorf("proxy_id shown while unset: %v", a)
	}
	newAgentPolicy(t, kb, "p1")
	before := revisionOf(t, kb, "p1")
	kb.do("POST", "/api/fleet/fleet_server_hosts", map[string]any{"id": "b", "name": "B", "host_urls": []any{"https://fs-b:8220"}, "is_default": true}).must(t, 200)
	if revisionOf(t, kb, "p1") != before+1 {
		t.Error("a new default host bumps every agent policy")
	}
	if kb.do("GET", "/api/fleet/fleet_server_hosts/a", nil).must(t, 200).item()["is_default"] != false {
		t.Error("the previous default keeps is_default")
	}
	kb.do("DELETE", "/api/fleet/fleet_server_hosts/b", nil).wantError(t, http.StatusForbidden, "Default Fleet Server hosts b cannot be deleted.")
	kb.do("PUT", "/api/fleet/agent_policies/p1", map[string]any{"name": "P p1", "namespace": "default", "fleet_server_host_id": "a"}).must(t, 200)
	kb.do("DELETE", "/api/fleet/fleet_server_hosts/a", nil).must(t, 200)
	if v := kb.do("GET", "/api/fleet/agent_policies/p1", nil).must(t, 200).item()["fleet_server_host_id"]; v != nil {
		t.Errorf("policy keeps the deleted host: %v", v)
	}
	kb.do("GET", "/api/fleet/fleet_server_hosts/a", nil).wantError(t, 404, "Fleet server a not found")
	kb.do("POST", "/api/fleet/fleet_server_hosts", map[string]any{"name": "C", "host_urls": []any{}}).wantError(t, 400,
		"[request body.host_urls]: array size is [0], but cannot be smaller than [1]")
}

func TestFleetServerHosts_SSLKeySecrets(t *testing.T) {
	sim, kb := startMain(t, ClusterConfig{Name: "main", SecretStorage: "on"})
	kb.do("POST", "/api/fleet/fleet_server_hosts", map[string]any{"name": "X", "host_urls": []any{"https://x:8220"},
		"ssl": map[string]any{"key": "k"}, "secrets": map[string]any{"ssl": map[string]any{"key": "k2"}}}).
		wantError(t, 400, "Cannot specify both ssl.key and secrets.ssl.key")
	item := kb.do("POST", "/api/fleet/fleet_server_hosts", map[string]any{"id": "s", "name": "S", "host_urls": []any{"https://s:8220"},
		"ssl": map[string]any{"certificate": "CERT"}, "secrets": map[string]any{"ssl": map[string]any{"key": "PRIVATE"}}}).must(t, 200).item()
	id, _ := getPathT(item, "secrets", "ssl", "key", "id").(string)
	if v, ok := sim.Cluster("main").ES().GetFleetSecret(id); !ok || v != "PRIVATE" {
		t.Fatalf("secrets.ssl.key = %v (stored %q %v)", item["secrets"], v, ok)
	}
	// A PUT that keeps the reference keeps the secret; one that omits it deletes it.
	kb.do("PUT", "/api/fleet/fleet_server_hosts/s", map[string]any{"secrets": map[string]any{"ssl": map[string]any{"key": map[string]any{"id": id}}}}).must(t, 200)
	if _, ok := sim.Cluster("main").ES().GetFleetSecret(id); !ok {
		t.Fatal("kept reference lost its secret")
	}
	kb.do("PUT", "/api/fleet/fleet_server_hosts/s", map[string]any{"name": "S2"}).must(t, 200)
	if _, ok := sim.Cluster("main").ES().GetFleetSecret(id); ok {
		t.Error("omitted secret was not deleted")
	}
}

func TestFleetServerHosts_PutWithoutProxyIDClearsIt(t *testing.T) {
	// proxy_id is schema.nullable in FleetServerHostBaseSchema: omitted is null.
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/proxies", map[string]any{"id": "px", "name": "corp", "url": "http://proxy:3128"}).must(t, 200)
	kb.do("POST", "/api/fleet/fleet_server_hosts", map[string]any{"id": "h", "name": "H", "host_urls": []any{"https://h:8220"}, "proxy_id": "px"}).must(t, 200)
	item := kb.do("PUT", "/api/fleet/fleet_server_hosts/h", map[string]any{"name": "H2"}).must(t, 200).item()
	if _, has := item["proxy_id"]; has {
		t.Errorf("proxy_id kept: %v", item)
	}
}
