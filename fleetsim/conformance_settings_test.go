package fleetsim

import (
	"testing"

	"github.com/fleetform/fleetform/fleetsim/esim"
)

// Fleet settings objects: Fleet Server hosts, proxies and agent binary
// download sources (apis/fleet_server_hosts/crud.ts, apis/fleet_proxies/crud.ts,
// apis/download_sources/crud.ts).

const (
	fleetServerHostsTS = "apis/fleet_server_hosts/crud.ts"
	fleetProxiesTS     = "apis/fleet_proxies/crud.ts"
	downloadSourcesTS  = "apis/download_sources/crud.ts"
)

// kibanaUser is a test user of apis/test_users.ts: an API key whose only
// privileges are the given Kibana application privileges (a role's
// `feature: {fleetv2: ['settings_read']}` is `feature_fleetv2.settings_read`).
func kibanaUser(t *testing.T, s *Sim, name string, privs ...string) string {
	t.Helper()
	key, err := s.Cluster("main").ES().CreateAPIKey(esim.Principal{Username: "elastic", Superuser: true}, esim.APIKeyRequest{Name: name,
		RoleDescriptors: map[string]esim.RoleDescriptor{"r": {Applications: []esim.ApplicationPrivilege{{Application: "kibana-.kibana", Privileges: privs, Resources: []string{"*"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return "ApiKey " + key.Encoded
}

// fleetSecret is getSecretById(id)._source.value; ok is false when the
// secret does not exist (es.get throws).
func fleetSecret(s *Sim, id any) (string, bool) {
	sid, _ := id.(string)
	return s.Cluster("main").ES().GetFleetSecret(sid)
}

func wantSecret(t *testing.T, s *Sim, id any, value string) {
	t.Helper()
	v, ok := fleetSecret(s, id)
	if !ok {
		t.Fatalf("secret %v not found", id)
	}
	wantEql(t, "secret value", value, v)
}

func wantNoSecret(t *testing.T, s *Sim, id any) {
	t.Helper()
	if _, ok := fleetSecret(s, id); ok {
		t.Errorf("secret %v should have been deleted", id)
	}
}

func withoutID(item map[string]any) map[string]any {
	out := cloneMap(item)
	delete(out, "id")
	return out
}

var fshSSL = map[string]any{
	"certificate_authorities":    []any{"cert authorities"},
	"certificate":                "path/to/cert",
	"es_certificate":             "path/to/EScert",
	"es_certificate_authorities": []any{"ES cert authorities"},
}

func fshSSLWith(k, v string) map[string]any {
	m := cloneMap(fshSSL)
	m[k] = v
	return m
}

// fshSetup is crud.ts's before(): a default host and a second one.
func fshSetup(t *testing.T) (*Sim, *client, string) {
	t.Helper()
	s, kb := startMain(t)
	urls := []any{"https://test.fr:8080", "https://test.fr:8081"}
	id := kb.do("POST", "/api/fleet/fleet_server_hosts", map[string]any{"name": "Default", "is_default": true, "host_urls": urls}).must(t, 200).item()["id"].(string)
	kb.do("POST", "/api/fleet/fleet_server_hosts", map[string]any{"name": "Test", "host_urls": urls}).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Fleet Server policy 1", "namespace": "default", "has_fleet_server": true}).must(t, 200)
	return s, kb, id
}

func fshBody(extra map[string]any) map[string]any {
	b := map[string]any{"name": "Default 1", "host_urls": []any{"https://test.fr:8080", "https://test.fr:8081"}, "is_default": true}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func TestConformance_FleetServerHosts_Get(t *testing.T) {
	kibanaTest(t, fleetServerHostsTS, "GET /fleet_server_hosts", "should list the fleet server hosts", func(t *testing.T) {
		_, kb, _ := fshSetup(t)
		wantEql(t, "items.length", 2, len(kb.do("GET", "/api/fleet/fleet_server_hosts", nil).wantStatus(t, 200).items()))
	})
	const d = "GET /fleet_server_hosts/{itemId}"
	kibanaTest(t, fleetServerHostsTS, d, "should return the requested fleet server host", func(t *testing.T) {
		_, kb, id := fshSetup(t)
		wantEql(t, "body", map[string]any{"item": map[string]any{"id": id, "name": "Default", "is_default": true,
			"host_urls": []any{"https://test.fr:8080", "https://test.fr:8081"}, "is_preconfigured": false}},
			kb.do("GET", "/api/fleet/fleet_server_hosts/"+id, nil).wantStatus(t, 200).Body)
	})
	kibanaTest(t, fleetServerHostsTS, d, "should return a 404 when retrieving a non existing fleet server host", func(t *testing.T) {
		_, kb, _ := fshSetup(t)
		kb.do("GET", "/api/fleet/fleet_server_hosts/idonotexists", nil).wantStatus(t, 404)
	})
}

func TestConformance_FleetServerHosts_Post(t *testing.T) {
	const d = "POST /fleet_server_hosts"
	kibanaTest(t, fleetServerHostsTS, d, "should allow to create a default fleet server host with id", func(t *testing.T) {
		_, kb, _ := fshSetup(t)
		kb.do("POST", "/api/fleet/fleet_server_hosts", fshBody(map[string]any{"id": "test-1"})).wantStatus(t, 200)
		wantEql(t, "is_default", true, kb.do("GET", "/api/fleet/fleet_server_hosts/test-1", nil).wantStatus(t, 200).item()["is_default"])
	})
	kibanaTest(t, fleetServerHostsTS, d, "should allow to create a default fleet server host with SSL options", func(t *testing.T) {
		_, kb, _ := fshSetup(t)
		id := kb.do("POST", "/api/fleet/fleet_server_hosts", fshBody(map[string]any{"ssl": fshSSL})).wantStatus(t, 200).item()["id"].(string)
		wantEql(t, "is_default", true, kb.do("GET", "/api/fleet/fleet_server_hosts/"+id, nil).wantStatus(t, 200).item()["is_default"])
	})
	kibanaTest(t, fleetServerHostsTS, d, "should not unset default fleet server host on id conflict", func(t *testing.T) {
		_, kb, _ := fshSetup(t)
		kb.do("POST", "/api/fleet/fleet_server_hosts", fshBody(map[string]any{"id": "test-2"})).wantStatus(t, 200)
		kb.do("POST", "/api/fleet/fleet_server_hosts", fshBody(map[string]any{"id": "test-2", "name": "Default 2"})).wantStatus(t, 409)
		wantEql(t, "is_default", true, kb.do("GET", "/api/fleet/fleet_server_hosts/test-2", nil).wantStatus(t, 200).item()["is_default"])
	})
	kibanaTest(t, fleetServerHostsTS, d, "should not allow ssl.key and secrets.ssl.key to be set at the same time", func(t *testing.T) {
		_, kb, _ := fshSetup(t)
		kb.do("POST", "/api/fleet/fleet_server_hosts", fshBody(map[string]any{"id": "test-3", "ssl": fshSSLWith("key", "KEY"),
			"secrets": map[string]any{"ssl": map[string]any{"key": "KEY"}}})).wantStatus(t, 400).wantMessage(t, "Cannot specify both ssl.key and secrets.ssl.key")
	})
	kibanaTest(t, fleetServerHostsTS, d, "should not allow ssl.es_key and secrets.ssl.es_key to be set at the same time", func(t *testing.T) {
		_, kb, _ := fshSetup(t)
		kb.do("POST", "/api/fleet/fleet_server_hosts", fshBody(map[string]any{"id": "test-4", "ssl": fshSSLWith("es_key", "KEY"),
			"secrets": map[string]any{"ssl": map[string]any{"es_key": "KEY"}}})).wantStatus(t, 400).wantMessage(t, "Cannot specify both ssl.es_key and secrets.ssl.es_key")
	})
	twoSecrets := map[string]any{"ssl": fshSSL, "secrets": map[string]any{"ssl": map[string]any{"key": "KEY1", "es_key": "KEY2"}}}
	kibanaTest(t, fleetServerHostsTS, d, "should not store secrets if fleet server does not meet minimum version", func(t *testing.T) {
		s, kb, _ := fshSetup(t)
		seedFleetServers(t, s, "7.0.0")
		item := kb.do("POST", "/api/fleet/fleet_server_hosts", fshBody(twoSecrets)).wantStatus(t, 200).item()
		if _, ok := item["secrets"]; ok {
			t.Errorf("item has secrets: %v", item)
		}
		wantEql(t, "ssl.key", "KEY1", getPathT(item, "ssl", "key"))
	})
	kibanaTest(t, fleetServerHostsTS, d, "should store secrets if fleet server meets minimum version", func(t *testing.T) {
		s, kb, _ := fshSetup(t)
		seedFleetServers(t, s, "8.12.0")
		item := kb.do("POST", "/api/fleet/fleet_server_hosts", fshBody(twoSecrets)).wantStatus(t, 200).item()
		wantSecret(t, s, getPathT(item, "secrets", "ssl", "key", "id"), "KEY1")
		wantSecret(t, s, getPathT(item, "secrets", "ssl", "es_key", "id"), "KEY2")
	})
}

func TestConformance_FleetServerHosts_Put(t *testing.T) {
	const d = "PUT /fleet_server_hosts/{itemId}"
	kibanaTest(t, fleetServerHostsTS, d, "should allow to update an existing fleet server host", func(t *testing.T) {
		_, kb, id := fshSetup(t)
		kb.do("PUT", "/api/fleet/fleet_server_hosts/"+id, map[string]any{"name": "Default updated"}).wantStatus(t, 200)
		wantEql(t, "name", "Default updated", kb.do("GET", "/api/fleet/fleet_server_hosts/"+id, nil).wantStatus(t, 200).item()["name"])
	})
	kibanaTest(t, fleetServerHostsTS, d, "should allow to update an existing fleet server host with SSL options", func(t *testing.T) {
		_, kb, id := fshSetup(t)
		kb.do("PUT", "/api/fleet/fleet_server_hosts/"+id, map[string]any{"name": "Default", "ssl": fshSSL}).wantStatus(t, 200)
		ssl, _ := kb.do("GET", "/api/fleet/fleet_server_hosts/"+id, nil).wantStatus(t, 200).item()["ssl"].(map[string]any)
		wantEql(t, "ssl", fshSSL, ssl)
	})
	kibanaTest(t, fleetServerHostsTS, d, "should return a 404 when updating a non existing fleet server host", func(t *testing.T) {
		_, kb, _ := fshSetup(t)
		kb.do("PUT", "/api/fleet/fleet_server_hosts/idonotexists", map[string]any{"name": "new host1"}).wantStatus(t, 404)
	})
	kibanaTest(t, fleetServerHostsTS, d, "should allow secrets to be updated + delete unused secret", func(t *testing.T) {
		s, kb, _ := fshSetup(t)
		seedFleetServers(t, s, "8.12.0")
		item := kb.do("POST", "/api/fleet/fleet_server_hosts", fshBody(map[string]any{"ssl": fshSSL, "secrets": map[string]any{"ssl": map[string]any{"key": "KEY1", "es_key": "KEY2"}}})).wantStatus(t, 200).item()
		secretID := getPathT(item, "secrets", "ssl", "key", "id")
		wantSecret(t, s, secretID, "KEY1")
		updated := kb.do("PUT", "/api/fleet/fleet_server_hosts/"+item["id"].(string), fshBody(map[string]any{"name": "Default 2", "ssl": fshSSL,
			"secrets": map[string]any{"ssl": map[string]any{"key": "NEW_KEY"}}})).wantStatus(t, 200).item()
		newID := getPathT(updated, "secrets", "ssl", "key", "id")
		if newID == secretID {
			t.Errorf("secret id unchanged")
		}
		wantSecret(t, s, newID, "NEW_KEY")
		wantNoSecret(t, s, secretID)
	})
}

func TestConformance_FleetServerHosts_Delete(t *testing.T) {
	const d = "DELETE /fleet_server_hosts/{itemId}"
	kibanaTest(t, fleetServerHostsTS, d, "should allow to delete an a fleet server host", func(t *testing.T) {
		_, kb, _ := fshSetup(t)
		id := kb.do("POST", "/api/fleet/fleet_server_hosts", map[string]any{"name": "Test 2", "host_urls": []any{"https://test.fr:8080", "https://test.fr:8081"}}).must(t, 200).item()["id"]
		wantEql(t, "id", id, kb.do("DELETE", "/api/fleet/fleet_server_hosts/"+id.(string), nil).wantStatus(t, 200).Body["id"])
	})
	kibanaTest(t, fleetServerHostsTS, d, "should delete secrets when deleting a fleet server host", func(t *testing.T) {
		s, kb, _ := fshSetup(t)
		seedFleetServers(t, s, "8.12.0")
		item := kb.do("POST", "/api/fleet/fleet_server_hosts", map[string]any{"name": "Default 3", "host_urls": []any{"https://test.fr:8080", "https://test.fr:8081"},
			"ssl": fshSSL, "secrets": map[string]any{"ssl": map[string]any{"es_key": "KEY2"}}}).wantStatus(t, 200).item()
		secretID := getPathT(item, "secrets", "ssl", "es_key", "id")
		wantSecret(t, s, secretID, "KEY2")
		kb.do("DELETE", "/api/fleet/fleet_server_hosts/"+item["id"].(string), nil).wantStatus(t, 200)
		wantNoSecret(t, s, secretID)
	})
}

// fleet_proxies/crud.ts is a describe.skip in Kibana (kibana#207024), so it
// is not counted; its expectations on simulated routes are ported all the
// same. The .fleet-policies assertions (proxy_url in the deployed policy) are
// left out: fleetsim does not write .fleet-policies.
func proxiesSetup(t *testing.T) *client {
	t.Helper()
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/proxies", map[string]any{"id": "test-default-123", "name": "Test 123", "url": "https://test.fr:3232"}).must(t, 200)
	kb.do("POST", "/api/fleet/fleet_server_hosts", map[string]any{"id": "test-fleetserver-123", "name": "Test 123", "host_urls": []any{"https://fleetserverhost.fr:3232"}, "proxy_id": "test-default-123"}).must(t, 200)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "test-output-123", "name": "Test 123", "type": "elasticsearch", "hosts": []any{"http://es:9200"}, "proxy_id": "test-default-123"}).must(t, 200)
	ds := kb.do("POST", "/api/fleet/agent_download_sources", map[string]any{"name": "My download source", "host": "http://test.fr:443", "proxy_id": "test-default-123", "is_default": false}).must(t, 200).item()["id"]
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "test-policy-123", "name": "Test 123", "namespace": "default",
		"fleet_server_host_id": "test-fleetserver-123", "data_output_id": "test-output-123", "download_source_id": ds}).must(t, 200)
	return kb
}

func TestConformance_FleetProxies(t *testing.T) {
	kibanaTest(t, fleetProxiesTS, "GET /proxies", "should list the fleet proxies", func(t *testing.T) {
		kb := proxiesSetup(t)
		wantEql(t, "items.length", 1, len(kb.do("GET", "/api/fleet/proxies", nil).wantStatus(t, 200).items()))
	})
	kibanaTest(t, fleetProxiesTS, "GET /proxies/{itemId}", "should return the requested fleet proxy", func(t *testing.T) {
		kb := proxiesSetup(t)
		wantEql(t, "body", map[string]any{"item": map[string]any{"id": "test-default-123", "name": "Test 123", "url": "https://test.fr:3232", "is_preconfigured": false}},
			kb.do("GET", "/api/fleet/proxies/test-default-123", nil).wantStatus(t, 200).Body)
	})
	kibanaTest(t, fleetProxiesTS, "GET /proxies/{itemId}", "should return a 404 when retrieving a non existing fleet proxy", func(t *testing.T) {
		kb := proxiesSetup(t)
		kb.do("GET", "/api/fleet/proxies/idonotexists", nil).wantStatus(t, 404)
	})
	kibanaTest(t, fleetProxiesTS, "PUT /proxies/{itemId}", "should allow to update an existing fleet proxy", func(t *testing.T) {
		kb := proxiesSetup(t)
		kb.do("PUT", "/api/fleet/proxies/test-default-123", map[string]any{"name": "Test 123 updated", "url": "https://testupdated.fr:3232"}).wantStatus(t, 200)
		wantEql(t, "name", "Test 123 updated", kb.do("GET", "/api/fleet/proxies/test-default-123", nil).wantStatus(t, 200).item()["name"])
	})
	kibanaTest(t, fleetProxiesTS, "PUT /proxies/{itemId}", "should return a 404 when updating a non existing fleet proxy", func(t *testing.T) {
		kb := proxiesSetup(t)
		kb.do("PUT", "/api/fleet/proxies/idonotexists", map[string]any{"name": "new name"}).wantStatus(t, 404)
	})
	kibanaTest(t, fleetProxiesTS, "DELETE /proxies/{itemId}", "should allow to delete an existing fleet proxy", func(t *testing.T) {
		kb := proxiesSetup(t)
		kb.do("DELETE", "/api/fleet/proxies/test-default-123", nil).wantStatus(t, 200)
	})
}
