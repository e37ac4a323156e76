package fleetsim

import (
	"strings"
	"testing"
)

// apis/download_sources/crud.ts. The Kibana file runs its its in order on
// one Kibana, so some depend on the Fleet Server agents an earlier it
// enrolled (a 7.0.0 one from "should not store SSL secrets…" until "should
// store SSL secrets…" clears it); each port enrolls what its Kibana
// counterpart runs with.

const dsPath = "/api/fleet/agent_download_sources"

func dsSetup(t *testing.T, fleetServers ...string) (*Sim, *client) {
	t.Helper()
	// crud.ts is Kibana main's, with download source auth (9.4.0, versions.go).
	s, kb := startMain(t, ClusterConfig{Name: "main", Version: "9.4.0"})
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Default Fleet Server policy", "namespace": "default", "has_fleet_server": true, "is_default": true}).must(t, 200)
	if len(fleetServers) > 0 {
		seedFleetServers(t, s, fleetServers...)
	}
	return s, kb
}

func dsBody(name string, extra map[string]any) map[string]any {
	b := map[string]any{"name": name, "host": "http://test.fr:443", "is_default": false}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

var defaultDownloadSource = map[string]any{"id": "fleet-default-download-source", "name": "Elastic Artifacts", "is_default": true, "host": "https://artifacts.elastic.co/downloads/"}

func TestConformance_DownloadSources_Get(t *testing.T) {
	const d = "GET /agent_download_sources"
	kibanaTest(t, downloadSourcesTS, d, "should list the default download source host", func(t *testing.T) {
		_, kb := dsSetup(t)
		items := kb.do("GET", dsPath, nil).wantStatus(t, 200).items()
		if len(items) == 0 {
			t.Fatal("no items")
		}
		wantEql(t, "items[0]", defaultDownloadSource, items[0])
	})
	for _, tc := range []struct {
		it     string
		privs  []string
		status int
	}{
		{"should return a 200 if a user with the fleet all try to access the list", []string{"feature_fleetv2.all"}, 200},
		{"should return a 200 if a user with the fleet read try to access the list", []string{"feature_fleetv2.read"}, 200},
		{"should return a 200 if a user with the fleet settings read try to access the list", []string{"feature_fleetv2.settings_read"}, 200},
		{"should return a 403 if a user without the fleet settings read try to access the list", []string{"feature_fleetv2.minimal_all"}, 403},
	} {
		kibanaTest(t, downloadSourcesTS, d, tc.it, func(t *testing.T) {
			s, kb := dsSetup(t)
			kb.auth = kibanaUser(t, s, "test_user", tc.privs...)
			kb.do("GET", dsPath, nil).wantStatus(t, tc.status)
		})
	}
	kibanaTest(t, downloadSourcesTS, "GET /agent_download_sources/{sourceId}", "should return the requested download source host", func(t *testing.T) {
		_, kb := dsSetup(t)
		wantEql(t, "body", map[string]any{"item": defaultDownloadSource}, kb.do("GET", dsPath+"/fleet-default-download-source", nil).wantStatus(t, 200).Body)
	})
}

func TestConformance_DownloadSources_Post(t *testing.T) {
	const d = "POST /agent_download_sources"
	kibanaTest(t, downloadSourcesTS, d, "should not store SSL secrets if fleet server does not meet minimum version", func(t *testing.T) {
		_, kb := dsSetup(t, "7.0.0")
		item := kb.do("POST", dsPath, dsBody("My download source 1", map[string]any{"secrets": map[string]any{"ssl": map[string]any{"key": "KEY1"}}})).wantStatus(t, 200).item()
		if _, ok := item["secrets"]; ok {
			t.Errorf("item has secrets: %v", item)
		}
		wantEql(t, "ssl.key", "KEY1", getPathT(item, "ssl", "key"))
	})
	kibanaTest(t, downloadSourcesTS, d, "should allow to create a new download source host", func(t *testing.T) {
		_, kb := dsSetup(t, "7.0.0")
		wantEql(t, "item", map[string]any{"name": "My download source", "host": "http://test.fr:443", "is_default": false},
			withoutID(kb.do("POST", dsPath, dsBody("My download source", nil)).wantStatus(t, 200).item()))
	})
	kibanaTest(t, downloadSourcesTS, d, "should toggle default download source when creating a new default one", func(t *testing.T) {
		_, kb := dsSetup(t, "7.0.0")
		kb.do("POST", dsPath, map[string]any{"name": "default download source host 1", "host": "https://test.co", "is_default": true}).wantStatus(t, 200)
		id2 := kb.do("POST", dsPath, map[string]any{"name": "default download source host 2", "host": "https://test2.co", "is_default": true}).wantStatus(t, 200).item()["id"]
		var defaults []any
		for _, it := range kb.do("GET", dsPath, nil).wantStatus(t, 200).items() {
			if it.(map[string]any)["is_default"] == true {
				defaults = append(defaults, it.(map[string]any)["id"])
			}
		}
		wantEql(t, "default ids", []any{id2}, defaults)
	})
	kibanaTest(t, downloadSourcesTS, d, "should return a 400 when passing a host that is not a valid uri", func(t *testing.T) {
		_, kb := dsSetup(t, "7.0.0")
		kb.do("POST", dsPath, map[string]any{"name": "new host1", "host": "not a valid uri", "is_default": true}).wantStatus(t, 400)
	})
	kibanaTest(t, downloadSourcesTS, d, "should allow to create a new download source host with ssl fields", func(t *testing.T) {
		_, kb := dsSetup(t, "7.0.0")
		ssl := map[string]any{"certificate": "cert", "certificate_authorities": []any{"ca"}, "key": "KEY1"}
		wantEql(t, "item", map[string]any{"name": "My download source with ssl", "host": "http://test.fr:443", "is_default": false, "ssl": ssl},
			withoutID(kb.do("POST", dsPath, dsBody("My download source with ssl", map[string]any{"ssl": ssl})).wantStatus(t, 200).item()))
	})
	kibanaTest(t, downloadSourcesTS, d, "should not allow ssl.key and secrets.ssl.key to be set at the same time", func(t *testing.T) {
		_, kb := dsSetup(t, "7.0.0")
		kb.do("POST", dsPath, dsBody("My download source 2", map[string]any{"ssl": map[string]any{"certificate_authorities": []any{"cert authorities"}, "certificate": "path/to/cert", "key": "KEY"},
			"secrets": map[string]any{"ssl": map[string]any{"key": "KEY"}}})).wantStatus(t, 400).wantMessage(t, "Cannot specify both ssl.key and secrets.ssl.key")
	})
	kibanaTest(t, downloadSourcesTS, d, "should store SSL secrets if fleet server meets minimum version", func(t *testing.T) {
		s, kb := dsSetup(t, "9.3.0")
		item := kb.do("POST", dsPath, dsBody("My download source 3", map[string]any{"ssl": map[string]any{"certificate_authorities": []any{"cert authorities"}, "certificate": "path/to/cert"},
			"secrets": map[string]any{"ssl": map[string]any{"key": "KEY1"}}})).wantStatus(t, 200).item()
		wantSecret(t, s, getPathT(item, "secrets", "ssl", "key", "id"), "KEY1")
	})
	kibanaTest(t, downloadSourcesTS, d, "should allow creating a download source with username/password auth", func(t *testing.T) {
		_, kb := dsSetup(t, "9.3.0")
		item := kb.do("POST", dsPath, dsBody("Download source with auth", map[string]any{"auth": map[string]any{"username": "testuser", "password": "testpassword"}})).wantStatus(t, 200).item()
		wantEql(t, "auth.username", "testuser", getPathT(item, "auth", "username"))
		wantEql(t, "auth.password", "testpassword", getPathT(item, "auth", "password"))
	})
	kibanaTest(t, downloadSourcesTS, d, "should allow creating a download source with api_key auth", func(t *testing.T) {
		_, kb := dsSetup(t, "9.3.0")
		item := kb.do("POST", dsPath, dsBody("Download source with api key", map[string]any{"auth": map[string]any{"api_key": "my-api-key"}})).wantStatus(t, 200).item()
		wantEql(t, "auth.api_key", "my-api-key", getPathT(item, "auth", "api_key"))
	})
	for _, tc := range []struct {
		it, contains string
		body         map[string]any
	}{
		{"should not allow both username/password and api_key", "Cannot specify both username/password and api_key authentication",
			map[string]any{"auth": map[string]any{"username": "testuser", "password": "testpassword", "api_key": "my-api-key"}}},
		{"should require password when username is provided", "Username and password must be provided together",
			map[string]any{"auth": map[string]any{"username": "testuser"}}},
		{"should require username when password is provided", "Username and password must be provided together",
			map[string]any{"auth": map[string]any{"password": "testpassword"}}},
		{"should not allow auth.password and secrets.auth.password at the same time", "Cannot specify both auth.password and secrets.auth.password",
			map[string]any{"auth": map[string]any{"username": "testuser", "password": "plainpassword"}, "secrets": map[string]any{"auth": map[string]any{"password": "secretpassword"}}}},
		{"should not allow auth.api_key and secrets.auth.api_key at the same time", "Cannot specify both auth.api_key and secrets.auth.api_key",
			map[string]any{"auth": map[string]any{"api_key": "plain-api-key"}, "secrets": map[string]any{"auth": map[string]any{"api_key": "secret-api-key"}}}},
	} {
		kibanaTest(t, downloadSourcesTS, d, tc.it, func(t *testing.T) {
			_, kb := dsSetup(t, "9.3.0")
			r := kb.do("POST", dsPath, dsBody("Download source with bad auth", tc.body)).wantStatus(t, 400)
			wantContains(t, r.msg(), tc.contains)
		})
	}
	kibanaTest(t, downloadSourcesTS, d, "should store auth secrets when fleet server meets minimum version", func(t *testing.T) {
		s, kb := dsSetup(t, "9.4.0")
		item := kb.do("POST", dsPath, dsBody("Download source with auth secret", map[string]any{"auth": map[string]any{"username": "testuser"},
			"secrets": map[string]any{"auth": map[string]any{"password": "secretpassword"}}})).wantStatus(t, 200).item()
		wantEql(t, "auth.username", "testuser", getPathT(item, "auth", "username"))
		wantSecret(t, s, getPathT(item, "secrets", "auth", "password", "id"), "secretpassword")
	})
	headers := []any{map[string]any{"key": "X-Custom-Header", "value": "custom-value"}, map[string]any{"key": "X-Another-Header", "value": "another-value"}}
	kibanaTest(t, downloadSourcesTS, d, "should allow creating a download source with auth headers", func(t *testing.T) {
		_, kb := dsSetup(t, "9.4.0")
		item := kb.do("POST", dsPath, dsBody("Download source with headers", map[string]any{"auth": map[string]any{"username": "testuser", "password": "testpassword", "headers": headers}})).wantStatus(t, 200).item()
		wantEql(t, "auth.username", "testuser", getPathT(item, "auth", "username"))
		wantEql(t, "auth.headers", headers, getPathT(item, "auth", "headers"))
	})
	kibanaTest(t, downloadSourcesTS, d, "should allow creating a download source with api_key and headers", func(t *testing.T) {
		_, kb := dsSetup(t, "9.4.0")
		one := []any{map[string]any{"key": "X-Custom-Header", "value": "custom-value"}}
		item := kb.do("POST", dsPath, dsBody("Download source with api_key and headers", map[string]any{"auth": map[string]any{"api_key": "my-api-key", "headers": one}})).wantStatus(t, 200).item()
		apiKey := getPathT(item, "auth", "api_key")
		if apiKey == nil {
			apiKey = getPathT(item, "secrets", "auth", "api_key", "id")
		}
		if !jsTruthy(apiKey) {
			t.Errorf("neither auth.api_key nor secrets.auth.api_key.id: %v", item)
		}
		wantEql(t, "auth.headers", one, getPathT(item, "auth", "headers"))
	})
	kibanaTest(t, downloadSourcesTS, d, "should allow creating a download source with auth headers only", func(t *testing.T) {
		_, kb := dsSetup(t, "9.4.0")
		item := kb.do("POST", dsPath, dsBody("Download source with headers only", map[string]any{"auth": map[string]any{"headers": headers}})).wantStatus(t, 200).item()
		wantEql(t, "auth", map[string]any{"headers": headers}, item["auth"])
	})
}

func wantContains(t *testing.T, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%q does not contain %q", s, sub)
	}
}

var dsSSL = map[string]any{"certificate_authorities": []any{"cert authorities"}, "certificate": "path/to/cert"}

// dsAfterSSLLatch is the state the its after "should store SSL secrets if
// fleet server meets minimum version" run in: a 9.3.0 Fleet Server stored an
// SSL secret (setting ssl_secret_storage_requirements_met), then the agents
// were cleared and an 8.12.0 one enrolled.
func dsAfterSSLLatch(t *testing.T) (*Sim, *client) {
	t.Helper()
	s, kb := dsSetup(t, "9.3.0")
	kb.do("POST", dsPath, dsBody("SSL latch", map[string]any{"secrets": map[string]any{"ssl": map[string]any{"key": "KEY0"}}})).must(t, 200)
	s.Cluster("main").st.FleetServers = nil // clearAgents
	seedFleetServers(t, s, "8.12.0")
	return s, kb
}

func TestConformance_DownloadSources_Put(t *testing.T) {
	const d = "PUT /agent_download_sources/{sourceId}"
	def := dsPath + "/fleet-default-download-source"
	kibanaTest(t, downloadSourcesTS, d, "should allow to update an existing download source", func(t *testing.T) {
		_, kb := dsSetup(t)
		kb.do("PUT", def, map[string]any{"name": "new host1", "host": "https://test.co:403", "is_default": false}).wantStatus(t, 200)
		wantEql(t, "host", "https://test.co:403", kb.do("GET", def, nil).wantStatus(t, 200).item()["host"])
	})
	kibanaTest(t, downloadSourcesTS, d, "should allow to update is_default for existing download source", func(t *testing.T) {
		_, kb := dsSetup(t)
		kb.do("PUT", def, map[string]any{"name": "new default host", "host": "https://test.co", "is_default": true}).wantStatus(t, 200)
		kb.do("GET", dsPath, nil).wantStatus(t, 200)
	})
	kibanaTest(t, downloadSourcesTS, d, "should store secrets if fleet server meets minimum version", func(t *testing.T) {
		s, kb := dsSetup(t, "9.3.0")
		item := kb.do("PUT", def, map[string]any{"name": "new default host", "host": "https://test.co", "is_default": true, "ssl": dsSSL,
			"secrets": map[string]any{"ssl": map[string]any{"key": "KEY1"}}}).wantStatus(t, 200).item()
		wantSecret(t, s, getPathT(item, "secrets", "ssl", "key", "id"), "KEY1")
	})
	kibanaTest(t, downloadSourcesTS, d, "should allow secrets to be updated + delete unused secret", func(t *testing.T) {
		s, kb := dsAfterSSLLatch(t)
		body := dsBody("My download source with secrets", map[string]any{"ssl": dsSSL, "secrets": map[string]any{"ssl": map[string]any{"key": "KEY1"}}})
		item := kb.do("POST", dsPath, body).wantStatus(t, 200).item()
		secretID := getPathT(item, "secrets", "ssl", "key", "id")
		wantSecret(t, s, secretID, "KEY1")
		body["secrets"] = map[string]any{"ssl": map[string]any{"key": "NEW_KEY"}}
		newID := getPathT(kb.do("PUT", dsPath+"/"+item["id"].(string), body).wantStatus(t, 200).item(), "secrets", "ssl", "key", "id")
		if newID == secretID {
			t.Errorf("secret id unchanged")
		}
		wantSecret(t, s, newID, "NEW_KEY")
		wantNoSecret(t, s, secretID)
	})
	kibanaTest(t, downloadSourcesTS, d, "should allow to resave ssl.key as secret if already existing", func(t *testing.T) {
		s, kb := dsAfterSSLLatch(t)
		ssl := cloneMap(dsSSL)
		ssl["key"] = "KEY1"
		id := kb.do("POST", dsPath, dsBody("My download source 4", map[string]any{"ssl": ssl})).wantStatus(t, 200).item()["id"].(string)
		item := kb.do("PUT", dsPath+"/"+id, dsBody("My download source 5", map[string]any{"ssl": dsSSL, "secrets": map[string]any{"ssl": map[string]any{"key": "NEW_KEY"}}})).wantStatus(t, 200).item()
		wantSecret(t, s, getPathT(item, "secrets", "ssl", "key", "id"), "NEW_KEY")
	})
	kibanaTest(t, downloadSourcesTS, d, "should return a 404 when updating a non existing download source", func(t *testing.T) {
		_, kb := dsSetup(t)
		kb.do("PUT", dsPath+"/idonotexists", map[string]any{"name": "new host1", "host": "https://test.co", "is_default": true}).wantStatus(t, 404)
	})
	kibanaTest(t, downloadSourcesTS, d, "should return a 400 when passing a host that is not a valid uri", func(t *testing.T) {
		_, kb := dsSetup(t)
		kb.do("PUT", def, map[string]any{"name": "new host1", "host": "not a valid uri", "is_default": true}).wantStatus(t, 400)
	})
	kibanaTest(t, downloadSourcesTS, d, "should delete password secret when switching from username/password to api_key", func(t *testing.T) {
		s, kb := dsSetup(t, "9.4.0")
		item := kb.do("POST", dsPath, dsBody("Switch auth test", map[string]any{"auth": map[string]any{"username": "testuser"},
			"secrets": map[string]any{"auth": map[string]any{"password": "secretpassword"}}})).wantStatus(t, 200).item()
		id, pw := item["id"].(string), getPathT(item, "secrets", "auth", "password", "id")
		kb.do("PUT", dsPath+"/"+id, dsBody("Switch auth test 1", map[string]any{"secrets": map[string]any{"auth": map[string]any{"api_key": "new-api-key"}}})).wantStatus(t, 200)
		wantNoSecret(t, s, pw)
		got := kb.do("GET", dsPath+"/"+id, nil).wantStatus(t, 200).item()
		wantEql(t, "auth", nil, got["auth"])
		if getPathT(got, "secrets", "auth", "api_key", "id") == nil {
			t.Errorf("secrets.auth.api_key has no id: %v", got)
		}
	})
	kibanaTest(t, downloadSourcesTS, d, "should delete api_key secret when switching from api_key to username/password", func(t *testing.T) {
		s, kb := dsSetup(t, "9.4.0")
		item := kb.do("POST", dsPath, dsBody("Switch auth test 2", map[string]any{"secrets": map[string]any{"auth": map[string]any{"api_key": "secret-api-key"}}})).wantStatus(t, 200).item()
		id, key := item["id"].(string), getPathT(item, "secrets", "auth", "api_key", "id")
		kb.do("PUT", dsPath+"/"+id, dsBody("Switch auth test 3", map[string]any{"auth": map[string]any{"username": "newuser"},
			"secrets": map[string]any{"auth": map[string]any{"password": "newpassword"}}})).wantStatus(t, 200)
		wantNoSecret(t, s, key)
		got := kb.do("GET", dsPath+"/"+id, nil).wantStatus(t, 200).item()
		wantEql(t, "auth.username", "newuser", getPathT(got, "auth", "username"))
		if getPathT(got, "secrets", "auth", "password", "id") == nil {
			t.Errorf("secrets.auth.password has no id: %v", got)
		}
	})
	kibanaTest(t, downloadSourcesTS, d, "should convert plain text auth to secret when secret storage is enabled", func(t *testing.T) {
		s, kb := dsSetup(t, "9.4.0")
		item := kb.do("POST", dsPath, dsBody("Plain text to secret test", map[string]any{"auth": map[string]any{"username": "testuser", "password": "plaintextpassword"}})).wantStatus(t, 200).item()
		wantEql(t, "auth.username", "testuser", getPathT(item, "auth", "username"))
		wantEql(t, "auth.password", nil, getPathT(item, "auth", "password"))
		wantSecret(t, s, getPathT(item, "secrets", "auth", "password", "id"), "plaintextpassword")
	})
	kibanaTest(t, downloadSourcesTS, d, "should allow updating headers on existing download source", func(t *testing.T) {
		_, kb := dsSetup(t, "9.4.0")
		orig := []any{map[string]any{"key": "X-Original-Header", "value": "original-value"}}
		item := kb.do("POST", dsPath, dsBody("Update headers test", map[string]any{"auth": map[string]any{"username": "testuser", "password": "testpassword", "headers": orig}})).wantStatus(t, 200).item()
		wantEql(t, "auth.headers", orig, getPathT(item, "auth", "headers"))
		upd := []any{map[string]any{"key": "X-Updated-Header", "value": "updated-value"}, map[string]any{"key": "X-New-Header", "value": "new-value"}}
		got := kb.do("PUT", dsPath+"/"+item["id"].(string), dsBody("Update headers test 2", map[string]any{"auth": map[string]any{"username": "testuser", "password": "testpassword", "headers": upd}})).wantStatus(t, 200).item()
		wantEql(t, "auth.headers", upd, getPathT(got, "auth", "headers"))
	})
	kibanaTest(t, downloadSourcesTS, d, "should replace auth entirely when updating with headers only", func(t *testing.T) {
		_, kb := dsSetup(t, "9.4.0")
		item := kb.do("POST", dsPath, dsBody("Replace auth test", map[string]any{"auth": map[string]any{"username": "testuser", "headers": []any{map[string]any{"key": "X-Original-Header", "value": "original-value"}}},
			"secrets": map[string]any{"auth": map[string]any{"password": "SECRET_PASSWORD"}}})).wantStatus(t, 200).item()
		upd := []any{map[string]any{"key": "X-Updated-Header", "value": "updated-value"}, map[string]any{"key": "X-New-Header", "value": "new-value"}}
		got := kb.do("PUT", dsPath+"/"+item["id"].(string), dsBody("Replace auth test updated", map[string]any{"auth": map[string]any{"headers": upd}})).wantStatus(t, 200).item()
		wantEql(t, "auth.headers", upd, getPathT(got, "auth", "headers"))
		wantEql(t, "auth.username", nil, getPathT(got, "auth", "username"))
		wantEql(t, "secrets.auth.password", nil, getPathT(got, "secrets", "auth", "password"))
	})
	kibanaTest(t, downloadSourcesTS, d, "should replace api_key auth with headers only (complete replacement)", func(t *testing.T) {
		_, kb := dsSetup(t, "9.4.0")
		item := kb.do("POST", dsPath, dsBody("Replace api_key test", map[string]any{"auth": map[string]any{"headers": []any{map[string]any{"key": "X-Original-Header", "value": "original-value"}}},
			"secrets": map[string]any{"auth": map[string]any{"api_key": "SECRET_API_KEY"}}})).wantStatus(t, 200).item()
		upd := []any{map[string]any{"key": "X-Updated-Header", "value": "updated-value"}}
		got := kb.do("PUT", dsPath+"/"+item["id"].(string), dsBody("Replace api_key test updated", map[string]any{"auth": map[string]any{"headers": upd}})).wantStatus(t, 200).item()
		wantEql(t, "auth.headers", upd, getPathT(got, "auth", "headers"))
		wantEql(t, "secrets.auth.api_key", nil, getPathT(got, "secrets", "auth", "api_key"))
	})
	kibanaTest(t, downloadSourcesTS, d, "should preserve SSL secrets when updating only name/host", func(t *testing.T) {
		s, kb := dsAfterSSLLatch(t)
		item := kb.do("POST", dsPath, dsBody("Preserve SSL secrets test", map[string]any{"ssl": dsSSL, "secrets": map[string]any{"ssl": map[string]any{"key": "SSL_KEY_VALUE"}}})).wantStatus(t, 200).item()
		sid := getPathT(item, "secrets", "ssl", "key", "id")
		wantSecret(t, s, sid, "SSL_KEY_VALUE")
		got := kb.do("PUT", dsPath+"/"+item["id"].(string), map[string]any{"name": "Preserve SSL secrets test updated", "host": "http://updated.test.fr:443", "is_default": false}).wantStatus(t, 200).item()
		wantEql(t, "secrets.ssl.key.id", sid, getPathT(got, "secrets", "ssl", "key", "id"))
		wantEql(t, "ssl.certificate", "path/to/cert", getPathT(got, "ssl", "certificate"))
		wantEql(t, "ssl.certificate_authorities", []any{"cert authorities"}, getPathT(got, "ssl", "certificate_authorities"))
		wantSecret(t, s, sid, "SSL_KEY_VALUE")
	})
	kibanaTest(t, downloadSourcesTS, d, "should preserve auth secrets when updating only name/host", func(t *testing.T) {
		s, kb := dsSetup(t, "9.4.0")
		hdr := []any{map[string]any{"key": "X-Custom-Header", "value": "custom-value"}}
		item := kb.do("POST", dsPath, dsBody("Preserve auth secrets test", map[string]any{"auth": map[string]any{"username": "testuser", "headers": hdr},
			"secrets": map[string]any{"auth": map[string]any{"password": "SECRET_PASSWORD"}}})).wantStatus(t, 200).item()
		sid := getPathT(item, "secrets", "auth", "password", "id")
		wantSecret(t, s, sid, "SECRET_PASSWORD")
		got := kb.do("PUT", dsPath+"/"+item["id"].(string), map[string]any{"name": "Preserve auth secrets test updated", "host": "http://updated.test.fr:443", "is_default": false}).wantStatus(t, 200).item()
		wantEql(t, "secrets.auth.password.id", sid, getPathT(got, "secrets", "auth", "password", "id"))
		wantEql(t, "auth.username", "testuser", getPathT(got, "auth", "username"))
		wantEql(t, "auth.headers", hdr, getPathT(got, "auth", "headers"))
		wantSecret(t, s, sid, "SECRET_PASSWORD")
	})
	kibanaTest(t, downloadSourcesTS, d, "should preserve both SSL and auth secrets when updating only name/host", func(t *testing.T) {
		s, kb := dsSetup(t, "9.4.0")
		item := kb.do("POST", dsPath, dsBody("Preserve all secrets test", map[string]any{"ssl": dsSSL,
			"secrets": map[string]any{"ssl": map[string]any{"key": "SSL_KEY_VALUE"}, "auth": map[string]any{"password": "SECRET_PASSWORD"}},
			"auth":    map[string]any{"username": "testuser", "headers": []any{map[string]any{"key": "X-Custom-Header", "value": "custom-value"}}}})).wantStatus(t, 200).item()
		sslID, authID := getPathT(item, "secrets", "ssl", "key", "id"), getPathT(item, "secrets", "auth", "password", "id")
		got := kb.do("PUT", dsPath+"/"+item["id"].(string), map[string]any{"name": "Preserve all secrets test updated", "host": "http://updated.test.fr:443", "is_default": false}).wantStatus(t, 200).item()
		wantEql(t, "secrets.ssl.key.id", sslID, getPathT(got, "secrets", "ssl", "key", "id"))
		wantEql(t, "secrets.auth.password.id", authID, getPathT(got, "secrets", "auth", "password", "id"))
		wantEql(t, "ssl.certificate", "path/to/cert", getPathT(got, "ssl", "certificate"))
		wantEql(t, "auth.username", "testuser", getPathT(got, "auth", "username"))
		wantSecret(t, s, sslID, "SSL_KEY_VALUE")
		wantSecret(t, s, authID, "SECRET_PASSWORD")
	})
	kibanaTest(t, downloadSourcesTS, d, "should clear auth and headers when setting auth to null", func(t *testing.T) {
		_, kb := dsSetup(t, "9.4.0")
		item := kb.do("POST", dsPath, dsBody("Clear auth test", map[string]any{"auth": map[string]any{"username": "testuser", "password": "testpassword",
			"headers": []any{map[string]any{"key": "X-Custom-Header", "value": "custom-value"}}}})).wantStatus(t, 200).item()
		wantEql(t, "auth.username", "testuser", getPathT(item, "auth", "username"))
		wantEql(t, "auth.headers length", 1, len(getPathT(item, "auth", "headers").([]any)))
		kb.do("PUT", dsPath+"/"+item["id"].(string), dsBody("Clear auth test", map[string]any{"auth": nil})).wantStatus(t, 200)
		got := kb.do("GET", dsPath+"/"+item["id"].(string), nil).wantStatus(t, 200).item()
		if _, ok := got["auth"]; ok {
			t.Errorf("auth = %v, want undefined", got["auth"])
		}
	})
}

func TestConformance_DownloadSources_ProxyID(t *testing.T) {
	const d = "proxy_id behaviour"
	const proxyID = "download-source-proxy-id"
	setup := func(t *testing.T) *client {
		t.Helper()
		_, kb := dsSetup(t)
		kb.do("POST", "/api/fleet/fleet_server_hosts", map[string]any{"name": "Default 1", "host_urls": []any{"https://test.fr:8080"}, "is_default": true}).must(t, 200)
		kb.do("POST", "/api/fleet/proxies", map[string]any{"id": proxyID, "name": "Download source proxy test", "url": "https://some.source.proxy:3232"}).must(t, 200)
		return kb
	}
	kibanaTest(t, downloadSourcesTS, d, "should allow creating a new download source host with a proxy_id ", func(t *testing.T) {
		kb := setup(t)
		wantEql(t, "item", map[string]any{"name": "download source with valid proxy id", "host": "http://test.fr:443", "proxy_id": proxyID, "is_default": false},
			withoutID(kb.do("POST", dsPath, dsBody("download source with valid proxy id", map[string]any{"proxy_id": proxyID})).wantStatus(t, 200).item()))
	})
	kibanaTest(t, downloadSourcesTS, d, "should not allow creating a new download source host with an invalid proxy_id ", func(t *testing.T) {
		kb := setup(t)
		kb.do("POST", dsPath, dsBody("My download source with invalid proxy", map[string]any{"proxy_id": "this-proxy-id-does-not-exist"})).wantStatus(t, 400)
	})
	kibanaTest(t, downloadSourcesTS, d, "should allow proxy_id to be set to null", func(t *testing.T) {
		kb := setup(t)
		item := kb.do("POST", dsPath, dsBody("Download source with null proxy id", map[string]any{"proxy_id": proxyID})).wantStatus(t, 200).item()
		id := item["id"].(string)
		rest := withoutID(item)
		wantEql(t, "item", map[string]any{"name": "Download source with null proxy id", "host": "http://test.fr:443", "proxy_id": proxyID, "is_default": false}, rest)
		rest["proxy_id"] = nil
		kb.do("PUT", dsPath+"/"+id, rest).wantStatus(t, 200)
		got := kb.do("GET", dsPath+"/"+id, nil).wantStatus(t, 200).item()
		if v, ok := got["proxy_id"]; !ok || v != nil {
			t.Errorf("proxy_id = %v (present %v), want null", v, ok)
		}
	})
}

func TestConformance_DownloadSources_Delete(t *testing.T) {
	const d = "DELETE /agent_download_sources/{sourceId}"
	setup := func(t *testing.T, latched bool) (*Sim, *client, string, string) {
		t.Helper()
		s, kb := (*Sim)(nil), (*client)(nil)
		if latched {
			s, kb = dsAfterSSLLatch(t)
		} else {
			s, kb = dsSetup(t)
		}
		src := kb.do("POST", dsPath, map[string]any{"name": "Download source to delete test", "host": "https://test.co"}).must(t, 200).item()["id"].(string)
		def := kb.do("POST", dsPath, map[string]any{"name": "Default download source to delete test", "host": "https://test.co", "is_default": true}).must(t, 200).item()["id"].(string)
		return s, kb, src, def
	}
	kibanaTest(t, downloadSourcesTS, d, "should delete secrets when deleting a download source object", func(t *testing.T) {
		s, kb, _, _ := setup(t, true)
		item := kb.do("POST", dsPath, dsBody("My download source 6", map[string]any{"ssl": dsSSL, "secrets": map[string]any{"ssl": map[string]any{"key": "KEY1"}}})).wantStatus(t, 200).item()
		sid := getPathT(item, "secrets", "ssl", "key", "id")
		wantSecret(t, s, sid, "KEY1")
		kb.do("DELETE", dsPath+"/"+item["id"].(string), nil).wantStatus(t, 200)
		wantNoSecret(t, s, sid)
	})
	kibanaTest(t, downloadSourcesTS, d, "should return a 400 when trying to delete a default download source host ", func(t *testing.T) {
		_, kb, _, def := setup(t, false)
		kb.do("DELETE", dsPath+"/"+def, nil).wantStatus(t, 400)
	})
	kibanaTest(t, downloadSourcesTS, d, "should return a 404 when deleting a non existing entry ", func(t *testing.T) {
		_, kb, _, _ := setup(t, false)
		kb.do("DELETE", dsPath+"/idonotexists", nil).wantStatus(t, 404)
	})
	kibanaTest(t, downloadSourcesTS, d, "should allow to delete a download source value ", func(t *testing.T) {
		_, kb, src, _ := setup(t, false)
		wantEql(t, "id", src, kb.do("DELETE", dsPath+"/"+src, nil).wantStatus(t, 200).Body["id"])
	})
}
