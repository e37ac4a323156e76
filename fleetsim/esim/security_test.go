package esim

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestAuth_Failures_401SecurityExceptionWithChallenge(t *testing.T) {
	c := newCluster(t, nil, Config{})
	c.AddUser("bob", "secret1", "viewer")
	tests := []struct {
		name, auth, path, reason string
	}{
		{"missing credentials", "", "/_cluster/settings?flat_settings=true",
			"missing authentication credentials for REST request [/_cluster/settings?flat_settings=true]"},
		{"wrong password", basic("bob", "nope"), "/", "unable to authenticate user [bob] for REST request [/]"},
		{"unknown user", basic("eve", "x"), "/_license", "unable to authenticate user [eve] for REST request [/_license]"},
		{"garbage api key", "ApiKey !!!", "/", anonymousNotAllowed},
		{"unknown api key", "ApiKey " + base64.StdEncoding.EncodeToString([]byte("nokey:secret")), "/", anonymousNotAllowed},
		{"bearer that is not a service token", "Bearer abc", "/", anonymousNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(t, "GET", tt.path, nil, tt.auth)
			if r.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", r.status, r.raw)
			}
			typ, reason := errOf(t, r)
			if typ != "security_exception" || reason != tt.reason {
				t.Errorf("got %s %q, want security_exception %q", typ, reason, tt.reason)
			}
			if got := r.header.Values("WWW-Authenticate"); !slices.Contains(got, `Basic realm="security", charset="UTF-8"`) || !slices.Contains(got, "ApiKey") {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if r.header.Get("X-Elastic-Product") != "Elasticsearch" {
				t.Errorf("X-Elastic-Product missing")
			}
		})
	}
}

func TestAuth_Authenticate_ReportsPrincipal(t *testing.T) {
	c := newCluster(t, nil, Config{})
	c.AddUser("bob", "secret1", "viewer")
	body := c.must(t, 200, "GET", "/_security/_authenticate", nil)
	if body["username"] != "elastic" || get(body, "roles", 0) != "superuser" || get(body, "authentication_realm", "type") != "reserved" {
		t.Errorf("superuser: %v", body)
	}
	r := c.do(t, "GET", "/_security/_authenticate", nil, basic("bob", "secret1"))
	if r.status != 200 || r.body["username"] != "bob" || get(r.body, "authentication_realm", "type") != "native" {
		t.Errorf("bob: %d %s", r.status, r.raw)
	}
	p, err := c.Authenticate(basic("bob", "secret1"))
	if err != nil || p.Superuser || p.Username != "bob" {
		t.Errorf("Authenticate = %+v, %v", p, err)
	}
	if _, err := c.Authenticate(basic("bob", "wrong")); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("bad password: err = %v, want ErrUnauthenticated", err)
	}
}

func TestAuth_ViewerUser_403OnClusterWrite(t *testing.T) {
	c := newCluster(t, nil, Config{})
	c.AddUser("bob", "secret1", "viewer")
	r := c.do(t, "PUT", "/_cluster/settings", map[string]any{"persistent": map[string]any{"cluster.remote.a.seeds": []string{"h:1"}}}, basic("bob", "secret1"))
	typ, reason := errOf(t, r)
	if r.status != 403 || typ != "security_exception" || reason != "action [cluster:admin/settings/update] is unauthorized for user [bob] with effective roles [viewer]" {
		t.Errorf("got %d %s %q", r.status, typ, reason)
	}
	if r := c.do(t, "GET", "/_cluster/settings", nil, basic("bob", "secret1")); r.status != 200 {
		t.Errorf("viewer GET settings: %d", r.status)
	}
}

func TestServiceTokens_CreateListDelete_TokenAuthenticatesAsBearer(t *testing.T) {
	c := newCluster(t, nil, Config{})
	for _, svc := range []string{"fleet-server", "fleet-server-remote"} {
		t.Run(svc, func(t *testing.T) {
			base := "/_security/service/elastic/" + svc + "/credential"
			named := c.must(t, 200, "POST", base+"/token/token1", nil)
			if named["created"] != true || get(named, "token", "name") != "token1" {
				t.Fatalf("create: %v", named)
			}
			value := get(named, "token", "value").(string)
			if !strings.HasPrefix(value, "AAEAAWVsYXN0aWMv") {
				t.Errorf("token value %q does not look like an ES service token", value)
			}
			random := c.must(t, 200, "POST", base+"/token", nil)
			randomName := get(random, "token", "name").(string)
			list := c.must(t, 200, "GET", base, nil)
			if list["service_account"] != "elastic/"+svc || list["count"] != 2.0 || get(list, "tokens", "token1") == nil || get(list, "tokens", randomName) == nil {
				t.Errorf("list: %v", list)
			}
			r := c.do(t, "GET", "/_security/_authenticate", nil, "Bearer "+value)
			if r.status != 200 || r.body["username"] != "elastic/"+svc || get(r.body, "token", "name") != "token1" || r.body["authentication_type"] != "token" {
				t.Fatalf("authenticate with token: %d %s", r.status, r.raw)
			}
			if del := c.must(t, 200, "DELETE", base+"/token/token1", nil); del["found"] != true {
				t.Errorf("delete: %v", del)
			}
			if r := c.do(t, "DELETE", base+"/token/token1", nil, superuser); r.status != 404 || r.body["found"] != false {
				t.Errorf("second delete: %d %s", r.status, r.raw)
			}
			r = c.do(t, "GET", "/_security/_authenticate", nil, "Bearer "+value)
			typ, reason := errOf(t, r)
			if r.status != 401 || typ != "security_exception" || reason != "failed to authenticate service account [elastic/"+svc+"] with token name [token1]" {
				t.Errorf("deleted token: %d %s %q", r.status, typ, reason)
			}
		})
	}
}

func TestServiceTokens_DuplicateNameAndBadNames_Refused(t *testing.T) {
	c := newCluster(t, nil, Config{})
	base := "/_security/service/elastic/fleet-server/credential/token/"
	c.must(t, 200, "PUT", base+"dup", nil)
	tests := []struct {
		name, path string
		status     int
		typ        string
	}{
		{"duplicate", base + "dup", 409, "version_conflict_engine_exception"},
		{"leading underscore", base + "_x", 400, "action_request_validation_exception"},
		{"bad character", base + "a.b", 400, "action_request_validation_exception"},
		{"unknown account", "/_security/service/elastic/nope/credential/token/t", 400, "illegal_argument_exception"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(t, "POST", tt.path, nil, superuser)
			if typ, _ := errOf(t, r); r.status != tt.status || typ != tt.typ {
				t.Errorf("got %d %s, want %d %s", r.status, typ, tt.status, tt.typ)
			}
		})
	}
}

func TestServiceTokens_FleetServerRemote_CannotManageClusterSettings(t *testing.T) {
	c := newCluster(t, nil, Config{})
	tok := c.must(t, 200, "POST", "/_security/service/elastic/fleet-server-remote/credential/token/t1", nil)
	bearer := "Bearer " + get(tok, "token", "value").(string)
	if r := c.do(t, "GET", "/", nil, bearer); r.status != 200 {
		t.Errorf("GET / with monitor privilege: %d %s", r.status, r.raw)
	}
	r := c.do(t, "PUT", "/_cluster/settings", map[string]any{"persistent": map[string]any{"cluster.remote.a.seeds": "h:1"}}, bearer)
	typ, reason := errOf(t, r)
	if r.status != 403 || typ != "security_exception" || reason != "action [cluster:admin/settings/update] is unauthorized for service account [elastic/fleet-server-remote]" {
		t.Errorf("got %d %s %q", r.status, typ, reason)
	}
}

func TestAPIKeys_CreateAuthenticateUntilInvalidated(t *testing.T) {
	c := newCluster(t, nil, Config{})
	key := c.must(t, 200, "POST", "/_security/api_key", map[string]any{"name": "fleetform", "metadata": map[string]any{"managed_by": "fleetform"}})
	id, encoded := key["id"].(string), key["encoded"].(string)
	raw, _ := base64.StdEncoding.DecodeString(encoded)
	if string(raw) != id+":"+key["api_key"].(string) {
		t.Fatalf("encoded %q is not base64(id:api_key)", raw)
	}
	r := c.do(t, "GET", "/_security/_authenticate", nil, "ApiKey "+encoded)
	if r.status != 200 || get(r.body, "api_key", "id") != id || r.body["username"] != "elastic" || r.body["authentication_type"] != "api_key" {
		t.Fatalf("authenticate: %d %s", r.status, r.raw)
	}
	// A key without role descriptors has its owner's privileges.
	if r := c.do(t, "PUT", "/_cluster/settings", map[string]any{"transient": map[string]any{"cluster.remote.a.seeds": "h:1"}}, "ApiKey "+encoded); r.status != 200 {
		t.Errorf("superuser-derived key PUT settings: %d %s", r.status, r.raw)
	}
	inv := c.must(t, 200, "DELETE", "/_security/api_key", map[string]any{"ids": []string{id}})
	if get(inv, "invalidated_api_keys", 0) != id || inv["error_count"] != 0.0 {
		t.Errorf("invalidate: %v", inv)
	}
	again := c.must(t, 200, "DELETE", "/_security/api_key", map[string]any{"ids": []string{id}})
	if get(again, "previously_invalidated_api_keys", 0) != id || len(again["invalidated_api_keys"].([]any)) != 0 {
		t.Errorf("invalidate twice: %v", again)
	}
	r = c.do(t, "GET", "/", nil, "ApiKey "+encoded)
	typ, reason := errOf(t, r)
	if r.status != 401 || typ != "security_exception" || reason != anonymousNotAllowed {
		t.Errorf("invalidated key: %d %s %q", r.status, typ, reason)
	}
	if d := get(r.body, "error", "additional_unsuccessful_credentials"); d != "API key: api key ["+id+"] has been invalidated" {
		t.Errorf("additional_unsuccessful_credentials = %v", d)
	}
}

func TestAPIKeys_ApplicationPrivilegesOnly_403OnClusterAPIs(t *testing.T) {
	c := newCluster(t, nil, Config{})
	key := c.must(t, 200, "POST", "/_security/api_key", map[string]any{
		"name": "remote-kibana",
		"role_descriptors": map[string]any{"fleet": map[string]any{
			"applications": []any{map[string]any{"application": "kibana-.kibana", "privileges": []string{"feature_fleet.read", "feature_fleetv2.read"}, "resources": []string{"*"}}},
		}},
	})
	auth := "ApiKey " + key["encoded"].(string)
	p, err := c.Authenticate(auth)
	if err != nil || p.Superuser || len(p.Applications) != 1 || p.Applications[0].Application != "kibana-.kibana" {
		t.Fatalf("principal = %+v, %v", p, err)
	}
	if r := c.do(t, "GET", "/_security/_authenticate", nil, auth); r.status != 200 {
		t.Errorf("_authenticate needs no privilege: %d", r.status)
	}
	for _, tt := range []struct{ method, path, action string }{
		{"GET", "/", "cluster:monitor/main"},
		{"GET", "/_cluster/settings", "cluster:monitor/settings"},
		{"GET", "/_remote/info", "cluster:monitor/remote/info"},
		{"POST", "/_security/service/elastic/fleet-server-remote/credential/token/x", "cluster:admin/xpack/security/service_account/token/create"},
		{"GET", "/fleet-state/_doc/1", "indices:data/read/get"},
	} {
		t.Run(tt.action, func(t *testing.T) {
			r := c.do(t, tt.method, tt.path, nil, auth)
			typ, reason := errOf(t, r)
			want := "action [" + tt.action + "] is unauthorized for API key id [" + key["id"].(string) + "] of user [elastic]"
			if strings.HasPrefix(tt.action, "indices:") {
				want += " on indices [fleet-state]"
			}
			if r.status != 403 || typ != "security_exception" || reason != want {
				t.Errorf("got %d %s %q, want 403 %q", r.status, typ, reason, want)
			}
		})
	}
}

func TestAPIKeys_GetByNameIDAndOwner(t *testing.T) {
	c := newCluster(t, nil, Config{})
	c.AddUser("bob", "secret1", "superuser")
	a := c.must(t, 200, "POST", "/_security/api_key", map[string]any{"name": "fleetform-west", "expiration": "1d"})
	c.must(t, 200, "POST", "/_security/api_key", map[string]any{"name": "other"})
	r := c.do(t, "POST", "/_security/api_key", map[string]any{"name": "fleetform-bob"}, basic("bob", "secret1"))
	if r.status != 200 {
		t.Fatalf("bob creates key: %d %s", r.status, r.raw)
	}
	names := func(body map[string]any) []string {
		var out []string
		for _, k := range body["api_keys"].([]any) {
			out = append(out, k.(map[string]any)["name"].(string))
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"?name=fleetform-west", []string{"fleetform-west"}},
		{"?name=fleetform-*", []string{"fleetform-bob", "fleetform-west"}},
		{"?id=" + a["id"].(string), []string{"fleetform-west"}},
		{"?owner=true", []string{"fleetform-west", "other"}},
		{"?username=bob", []string{"fleetform-bob"}},
		{"?name=none", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := names(c.must(t, 200, "GET", "/_security/api_key"+tt.query, nil))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	one := c.must(t, 200, "GET", "/_security/api_key?name=fleetform-west", nil)
	k := get(one, "api_keys", 0).(map[string]any)
	if k["invalidated"] != false || k["username"] != "elastic" || k["expiration"].(float64) != k["creation"].(float64)+86400000 {
		t.Errorf("key info: %v", k)
	}
	if inv := c.must(t, 200, "DELETE", "/_security/api_key", map[string]any{"name": "fleetform-*"}); len(inv["invalidated_api_keys"].([]any)) != 2 {
		t.Errorf("invalidate by name pattern: %v", inv)
	}
	if got := names(c.must(t, 200, "GET", "/_security/api_key?active_only=true", nil)); !slices.Equal(got, []string{"other"}) {
		t.Errorf("active_only: %v", got)
	}
	if got := names(c.must(t, 200, "GET", "/_security/api_key?name=fleetform-west", nil)); len(got) != 1 {
		t.Errorf("invalidated keys are still listed without active_only: %v", got)
	}
	if r := c.do(t, "DELETE", "/_security/api_key", map[string]any{}, superuser); r.status != 400 {
		t.Errorf("invalidate without criteria: %d", r.status)
	}
}

func TestLicense_ReportsConfiguredTypeAndSetLicenseChangesIt(t *testing.T) {
	for _, typ := range []string{"basic", "platinum", "enterprise", "trial"} {
		t.Run(typ, func(t *testing.T) {
			c := newCluster(t, nil, Config{License: typ})
			body := c.must(t, 200, "GET", "/_license", nil)
			if get(body, "license", "type") != typ || get(body, "license", "status") != "active" {
				t.Errorf("license: %v", body)
			}
			if _, hasExpiry := body["license"].(map[string]any)["expiry_date_in_millis"]; hasExpiry == (typ == "basic") {
				t.Errorf("expiry presence wrong for %s: %v", typ, body)
			}
		})
	}
	c := newCluster(t, nil, Config{})
	c.SetLicense("Enterprise")
	if c.License() != "enterprise" || get(c.must(t, 200, "GET", "/_license", nil), "license", "type") != "enterprise" {
		t.Errorf("SetLicense did not apply")
	}
}

func TestInfo_ReportsNameClusterUUIDAndVersion(t *testing.T) {
	c := newCluster(t, nil, Config{ClusterName: "west", Version: "8.19.2"})
	body := c.must(t, 200, "GET", "/", nil)
	if body["cluster_name"] != "west" || get(body, "version", "number") != "8.19.2" || body["cluster_uuid"] != c.UUID() || body["name"] != "west-node-0" {
		t.Errorf("info: %v", body)
	}
	if r := c.do(t, "HEAD", "/", nil, superuser); r.status != 200 || len(r.raw) != 0 {
		t.Errorf("HEAD /: %d %q", r.status, r.raw)
	}
}

func TestRouting_UnknownRouteAndWrongMethod_AsES(t *testing.T) {
	c := newCluster(t, nil, Config{})
	r := c.do(t, "GET", "/_nope", nil, superuser)
	if r.status != 400 || r.body["error"] != "no handler found for uri [/_nope] and method [GET]" {
		t.Errorf("unknown: %d %s", r.status, r.raw)
	}
	r = c.do(t, "POST", "/_license", nil, superuser)
	if r.status != 405 || r.body["error"] != "Incorrect HTTP method for uri [/_license] and method [POST], allowed: [GET]" {
		t.Errorf("wrong method: %d %s", r.status, r.raw)
	}
}

func TestAPIKeys_DerivedKeyFromAPIKey_OnlyWithEmptyRoleDescriptors(t *testing.T) {
	c := newCluster(t, nil, Config{})
	parent := "ApiKey " + c.must(t, 200, "POST", "/_security/api_key", map[string]any{"name": "parent"})["encoded"].(string)
	for _, tt := range []struct {
		name   string
		body   map[string]any
		status int
	}{
		{"no role descriptors", map[string]any{"name": "child"}, 400},
		{"with privileges", map[string]any{"name": "child", "role_descriptors": map[string]any{"r": map[string]any{"cluster": []string{"monitor"}}}}, 400},
		{"empty descriptor", map[string]any{"name": "child", "role_descriptors": map[string]any{"r": map[string]any{}}}, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(t, "POST", "/_security/api_key", tt.body, parent)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.raw)
			}
			if tt.status == 400 {
				if _, reason := errOf(t, r); reason != "creating derived api keys requires an explicit role descriptor that is empty (has no privileges)" {
					t.Errorf("reason %q", reason)
				}
			}
		})
	}
}

func TestAPIKeys_CreateAPIKeyForNamedOwner_InheritsUserRoles(t *testing.T) {
	c := newCluster(t, nil, Config{})
	c.AddUser("bob", "pw", "viewer")
	for _, tt := range []struct {
		owner     string
		superuser bool
	}{{"elastic", true}, {"bob", false}} {
		k, err := c.CreateAPIKey(Principal{Username: tt.owner}, APIKeyRequest{Name: "seeded", ID: "id-" + tt.owner, Key: "fixed-secret"})
		if err != nil {
			t.Fatal(err)
		}
		if k.ID != "id-"+tt.owner || k.Key != "fixed-secret" {
			t.Errorf("fixed id/key not kept: %+v", k)
		}
		p, err := c.Authenticate("ApiKey " + k.Encoded)
		if err != nil || p.Superuser != tt.superuser || p.Username != tt.owner {
			t.Errorf("%s: principal %+v, %v", tt.owner, p, err)
		}
	}
}

func TestAuth_APIKeyFailures_NameTheCauseInAdditionalUnsuccessfulCredentials(t *testing.T) {
	c := newCluster(t, nil, Config{})
	key := c.must(t, 200, "POST", "/_security/api_key", map[string]any{"name": "k"})
	id := key["id"].(string)
	tests := []struct{ name, cred, detail string }{
		{"unknown id", "nokey:secret", "API key: unable to find apikey with id nokey"},
		{"wrong secret", id + ":wrong", "API key: invalid credentials for API key [" + id + "]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(t, "GET", "/", nil, "ApiKey "+base64.StdEncoding.EncodeToString([]byte(tt.cred)))
			if _, reason := errOf(t, r); r.status != 401 || reason != anonymousNotAllowed {
				t.Errorf("got %d %q", r.status, reason)
			}
			if d := get(r.body, "error", "root_cause", 0, "additional_unsuccessful_credentials"); d != tt.detail {
				t.Errorf("additional_unsuccessful_credentials = %v, want %q", d, tt.detail)
			}
		})
	}
}
