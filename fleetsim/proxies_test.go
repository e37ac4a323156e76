package fleetsim

import (
	"net/http"
	"testing"
)

// Proxies follow FLEET/server/services/fleet_proxies.ts,
// FLEET/server/routes/fleet_proxies/handler.ts and
// FLEET/server/types/rest_spec/fleet_proxies.ts in elastic/kibana.

func TestProxies_CRUDAndPutClearsOmittedNullables(t *testing.T) {
	_, kb := startMain(t)
	item := kb.do("POST", "/api/fleet/proxies", map[string]any{
		"id": "px", "name": "corp", "url": "https://proxy.corp:3128",
		"proxy_headers": map[string]any{"X-Team": "obs"}, "certificate_authorities": "/etc/ca.pem",
	}).must(t, 200).item()
	if item["is_preconfigured"] != false || getPathT(item, "proxy_headers", "X-Team") != "obs" {
		t.Errorf("created %v", item)
	}
	// schema.nullable fields default to null: a PUT without them clears them.
	up := kb.do("PUT", "/api/fleet/proxies/px", map[string]any{"name": "corp2"}).must(t, 200).item()
	if up["name"] != "corp2" || up["certificate_authorities"] != nil || up["proxy_headers"] != nil {
		t.Errorf("updated %v", up)
	}
	if n := len(kb.do("GET", "/api/fleet/proxies", nil).must(t, 200).items()); n != 1 {
		t.Errorf("list = %d", n)
	}
	kb.do("PUT", "/api/fleet/proxies/nope", map[string]any{"name": "x"}).wantError(t, 404, "Proxy nope not found")
	kb.do("GET", "/api/fleet/proxies/nope", nil).wantError(t, 404, "Fleet proxy nope not found")
	kb.do("POST", "/api/fleet/proxies", map[string]any{"name": "bad", "url": "ftp://x"}).wantError(t, 400, "[request body.url]: Invalid URL")
	kb.do("DELETE", "/api/fleet/proxies/px", nil).must(t, 200)
	kb.do("DELETE", "/api/fleet/proxies/px", nil).wantError(t, 404, "Fleet proxy px not found")
}

func TestProxies_DeleteClearsUsersAndBumpsTheirPolicies(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/proxies", map[string]any{"id": "px", "name": "corp", "url": "http://proxy:3128"}).must(t, 200)
	kb.do("POST", "/api/fleet/fleet_server_hosts", map[string]any{"id": "fsh", "name": "fs", "host_urls": []any{"https://fs:8220"}, "proxy_id": "px"}).must(t, 200)
	kb.do("POST", "/api/fleet/agent_download_sources", map[string]any{"id": "ds", "name": "mirror", "host": "https://mirror.corp/", "proxy_id": "px"}).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "p1", "name": "P1", "namespace": "default", "fleet_server_host_id": "fsh"}).must(t, 200)
	before := revisionOf(t, kb, "p1")
	kb.do("DELETE", "/api/fleet/proxies/px", nil).must(t, 200)
	if fsh := kb.do("GET", "/api/fleet/fleet_server_hosts/fsh", nil).must(t, 200).item(); fsh["proxy_id"] != nil {
		t.Errorf("fleet server host still uses the proxy: %v", fsh)
	}
	if ds := kb.do("GET", "/api/fleet/agent_download_sources/ds", nil).must(t, 200).item(); ds["proxy_id"] != nil {
		t.Errorf("download source still uses the proxy: %v", ds)
	}
	if got := revisionOf(t, kb, "p1"); got != before+1 {
		t.Errorf("policy using the host: revision %v, want %v", got, before+1)
	}
}

func TestProxies_PreconfiguredGuards(t *testing.T) {
	sim, kb := startMain(t)
	c := sim.Cluster("main")
	for _, p := range []struct {
		kind string
		obj  map[string]any
	}{
		{"proxies", map[string]any{"id": "pre", "name": "pre", "url": "http://p:1"}},
		{"fleet_server_hosts", map[string]any{"id": "prefsh", "name": "f", "host_urls": []any{"https://f:8220"}, "proxy_id": "used"}},
	} {
		if err := c.Preconfigure(p.kind, p.obj); err != nil {
			t.Fatal(err)
		}
	}
	kb.do("POST", "/api/fleet/proxies", map[string]any{"id": "used", "name": "used", "url": "http://p:2"}).must(t, 200)
	if err := c.Preconfigure("agent_download_sources", map[string]any{"id": "x"}); err == nil {
		t.Error("download sources cannot be preconfigured")
	}
	kb.do("DELETE", "/api/fleet/proxies/pre", nil).wantError(t, http.StatusForbidden, "Cannot delete pre preconfigured proxy")
	kb.do("DELETE", "/api/fleet/proxies/used", nil).wantError(t, http.StatusForbidden, "Cannot delete a proxy used in a preconfigured fleet server hosts or output.")
	kb.do("DELETE", "/api/fleet/fleet_server_hosts/prefsh", nil).wantError(t, http.StatusForbidden, "Cannot delete prefsh preconfigured fleet server host")
}
