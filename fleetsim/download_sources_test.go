package fleetsim

import "testing"

// Download sources follow FLEET/server/services/download_source.ts and
// FLEET/server/types/models/download_sources.ts in elastic/kibana.

func TestDownloadSources_DefaultUniqueNameProxyAndDelete(t *testing.T) {
	_, kb := startMain(t)
	items := kb.do("GET", "/api/fleet/agent_download_sources", nil).must(t, 200).items()
	if len(items) != 1 || items[0].(map[string]any)["id"] != defaultDownloadSourceID {
		t.Fatalf("initial list %v, want Kibana's ensureDefault source", items)
	}
	kb.do("POST", "/api/fleet/agent_download_sources", map[string]any{"name": "Elastic Artifacts", "host": "https://x/"}).
		wantError(t, 400, "Download Source 'fleet-default-download-source' already exists with name 'Elastic Artifacts'")
	kb.do("POST", "/api/fleet/agent_download_sources", map[string]any{"name": "m", "host": "https://x/", "proxy_id": "nope"}).
		wantError(t, 400, "Proxy nope not found")
	kb.do("POST", "/api/fleet/agent_download_sources", map[string]any{"id": "m", "name": "mirror", "host": "https://mirror/", "is_default": true}).must(t, 200)
	items = kb.do("GET", "/api/fleet/agent_download_sources", nil).must(t, 200).items()
	if items[0].(map[string]any)["id"] != "m" || items[1].(map[string]any)["is_default"] != false {
		t.Errorf("default switch / order: %v", items)
	}
	kb.do("DELETE", "/api/fleet/agent_download_sources/m", nil).wantError(t, 400, "Default Download source m cannot be deleted.")
	kb.do("PUT", "/api/fleet/agent_download_sources/"+defaultDownloadSourceID, map[string]any{"name": "Elastic Artifacts", "host": defaultDownloadSourceURI, "is_default": true}).must(t, 200)
	newAgentPolicy(t, kb, "p1")
	kb.do("PUT", "/api/fleet/agent_policies/p1", map[string]any{"name": "P p1", "namespace": "default", "download_source_id": "m"}).must(t, 200)
	kb.do("DELETE", "/api/fleet/agent_download_sources/m", nil).must(t, 200)
	if v := kb.do("GET", "/api/fleet/agent_policies/p1", nil).must(t, 200).item()["download_source_id"]; v != nil {
		t.Errorf("policy keeps the deleted source: %v", v)
	}
	kb.do("GET", "/api/fleet/agent_download_sources/m", nil).wantError(t, 404, "Agent binary source m not found")
	kb.do("PUT", "/api/fleet/agent_download_sources/m", map[string]any{"name": "m", "host": "https://m/"}).wantError(t, 404, "Download source m not found")
}

// FLEET/server/routes/download_source/handler.ts validateDownloadSource.
func TestDownloadSources_AuthRules(t *testing.T) {
	cases := []struct {
		auth, secrets map[string]any
		message       string
	}{
		{map[string]any{"username": "u", "password": "p"}, map[string]any{"auth": map[string]any{"password": "p2"}}, "Cannot specify both auth.password and secrets.auth.password"},
		{map[string]any{"username": "u", "password": "p", "api_key": "k"}, nil, "Cannot specify both username/password and api_key authentication"},
		{map[string]any{"username": "u"}, nil, "Username and password must be provided together"},
		{nil, map[string]any{"auth": map[string]any{"password": "p"}}, "Username and password must be provided together"},
	}
	_, kb := startMain(t, ClusterConfig{Name: "main", Version: "9.4.0"}) // auth: versionDownloadSourceAuth
	for _, tc := range cases {
		body := map[string]any{"name": "a", "host": "https://a/"}
		if tc.auth != nil {
			body["auth"] = tc.auth
		}
		if tc.secrets != nil {
			body["secrets"] = tc.secrets
		}
		kb.do("POST", "/api/fleet/agent_download_sources", body).wantError(t, 400, tc.message)
	}
}

func TestDownloadSources_AuthSecrets(t *testing.T) {
	sim, kb := startMain(t, ClusterConfig{Name: "main", Version: "9.4.0", SecretStorage: "on"})
	item := kb.do("POST", "/api/fleet/agent_download_sources", map[string]any{"name": "auth", "host": "https://m/",
		"auth": map[string]any{"username": "u"}, "secrets": map[string]any{"auth": map[string]any{"password": "pw"}}}).must(t, 200).item()
	id, _ := getPathT(item, "secrets", "auth", "password", "id").(string)
	if v, ok := sim.Cluster("main").ES().GetFleetSecret(id); !ok || v != "pw" {
		t.Errorf("secrets.auth.password = %v", item["secrets"])
	}
}
