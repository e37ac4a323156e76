package fleetsim

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fleetform/fleetform/fleetsim/esim"
	"github.com/fleetform/fleetform/fleetsim/simhttp"
)

// §1: CSRF header on every non-GET request.
func TestConventions_NonGetWithoutKbnXsrf_400(t *testing.T) {
	_, kb := startMain(t)
	kb.headers["kbn-xsrf"] = ""
	kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "x", "type": "elasticsearch", "hosts": []any{"https://x"}}).
		wantError(t, 400, "Request must contain a kbn-xsrf header.")
	kb.do("GET", "/api/fleet/outputs", nil).must(t, 200)
}

// §1: Basic and ApiKey auth against the cluster's Elasticsearch, 401 otherwise.
func TestConventions_Auth(t *testing.T) {
	s, kb := startMain(t)
	node := s.Cluster("main").ES()
	key, err := node.CreateAPIKey(esim.Principal{Username: "elastic", Superuser: true}, esim.APIKeyRequest{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	kb.auth = "ApiKey " + key.Encoded
	kb.do("GET", "/api/fleet/outputs", nil).must(t, 200)

	kb.auth = ""
	kb.do("GET", "/api/fleet/outputs", nil).wantError(t, 401, "Unauthorized")
	kb.auth = basic("elastic", "wrong")
	kb.do("GET", "/api/fleet/outputs", nil).wantError(t, 401, "[security_exception\n\tRoot causes:\n\t\tsecurity_exception: unable to authenticate user [elastic] for REST request [/_security/_authenticate]]: unable to authenticate user [elastic] for REST request [/_security/_authenticate]")
	kb.auth = "ApiKey " + "bm9wZTpub3Bl"
	kb.do("GET", "/api/fleet/outputs", nil).wantError(t, 401, "[security_exception\n\tRoot causes:\n\t\tsecurity_exception: unable to authenticate with provided credentials and anonymous access is not allowed for this request]: unable to authenticate with provided credentials and anonymous access is not allowed for this request")
}

// The E2E test's read-only key (feature_fleet.read + feature_fleetv2.read) reads but cannot write.
func TestConventions_ReadOnlyAPIKeyCannotWrite(t *testing.T) {
	s, kb := startMain(t)
	key, err := s.Cluster("main").ES().CreateAPIKey(esim.Principal{Username: "elastic", Superuser: true}, esim.APIKeyRequest{Name: "ro",
		RoleDescriptors: map[string]esim.RoleDescriptor{"integration_writer": {Applications: []esim.ApplicationPrivilege{{Application: "kibana-.kibana", Privileges: []string{"feature_fleet.read", "feature_fleetv2.read"}, Resources: []string{"*"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	kb.auth = "ApiKey " + key.Encoded
	kb.do("GET", "/api/fleet/outputs", nil).must(t, 200)
	kb.do("GET", "/api/fleet/remote_synced_integrations/status", nil).must(t, 200)
	kb.do("DELETE", "/api/fleet/outputs/fleet-default-output", nil).must(t, 403)
}

// §1: the versioned router.
func TestConventions_ElasticAPIVersion(t *testing.T) {
	_, kb := startMain(t)
	kb.headers["elastic-api-version"] = ""
	kb.do("GET", "/api/fleet/outputs", nil).must(t, 200) // the default version
	kb.headers["elastic-api-version"] = "2099-01-01"
	kb.do("GET", "/api/fleet/outputs", nil).wantError(t, 400, `No version "2099-01-01" available for [get] [/api/fleet/outputs]. Available versions are: [2023-10-31]`)
	// is_valid_route_version.ts: the pattern and a real calendar date.
	for _, v := range []string{"v1", "1", "2023-02-30", "2023-10-31T00:00:00Z"} {
		kb.headers["elastic-api-version"] = v
		kb.do("GET", "/api/fleet/outputs", nil).wantError(t, 400, `Invalid version. Received "`+v+`", expected a valid date string formatted as YYYY-MM-DD.`)
	}
	kb.headers["elastic-api-version"] = "2023-10-31"
	kb.do("GET", "/api/fleet/outputs?apiVersion=2023-10-31", nil).
		wantError(t, 400, `Use of query parameter "apiVersion" is not allowed. Please specify the API version using the "elastic-api-version" header.`)
	r := kb.do("GET", "/api/fleet/outputs", nil)
	if r.Header.Get("elastic-api-version") != "2023-10-31" {
		t.Errorf("response version header %q", r.Header.Get("elastic-api-version"))
	}
}

// §1: config-schema messages with their location prefixes.
func TestConventions_RequestValidationMessages(t *testing.T) {
	_, kb := startMain(t)
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               string
	}{
		{"bad uri", "POST", "/api/fleet/outputs", map[string]any{"name": "x", "type": "elasticsearch", "hosts": []any{"ftp://x"}},
			"[request body.hosts.0]: expected URI with scheme [http|https]."},
		{"unknown key", "POST", "/api/fleet/outputs", map[string]any{"name": "x", "type": "elasticsearch", "hosts": []any{"https://x"}, "foo": 1},
			"[request body.foo]: definition for this key is missing"},
		{"bad type", "POST", "/api/fleet/outputs", map[string]any{"name": "x", "type": "foo", "hosts": []any{"https://x"}},
			`[request body]: expected "type" to be one of ["elasticsearch", "remote_elasticsearch", "logstash", "kafka"] but got ["foo"]`},
		{"missing type", "POST", "/api/fleet/outputs", map[string]any{"name": "x"}, `[request body]: "type" property is required`},
		{"missing name", "POST", "/api/fleet/outputs", map[string]any{"type": "elasticsearch", "hosts": []any{"https://x"}},
			"[request body.name]: expected value of type [string] but got [undefined]"},
		{"empty hosts", "POST", "/api/fleet/outputs", map[string]any{"name": "x", "type": "elasticsearch", "hosts": []any{}},
			"[request body.hosts]: array size is [0], but cannot be smaller than [1]"},
		{"remote field on es", "POST", "/api/fleet/outputs", map[string]any{"name": "x", "type": "elasticsearch", "hosts": []any{"https://x"}, "service_token": "t"},
			"[request body.service_token]: definition for this key is missing"},
		{"policy read-only field", "POST", "/api/fleet/agent_policies", map[string]any{"name": "p", "namespace": "default", "is_preconfigured": true},
			"[request body.is_preconfigured]: definition for this key is missing"},
		{"policy perPage type", "GET", "/api/fleet/agent_policies?perPage=abc", nil,
			"[request query.perPage]: expected value of type [number] but got [string]"},
		{"bad json", "POST", "/api/fleet/outputs", "{", "Invalid request payload JSON format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kb.do(tc.method, tc.path, tc.body).wantError(t, 400, tc.want)
		})
	}
	// PUT is a plain oneOf: every variant's failure is listed.
	r := kb.do("PUT", "/api/fleet/outputs/fleet-default-output", map[string]any{"foo": 1})
	if r.Status != 400 || !strings.HasPrefix(r.msg(), "[request body]: types that failed validation:\n- [request body.0.foo]: definition for this key is missing\n- [request body.1.foo]") {
		t.Errorf("PUT oneOf message: %d %q", r.Status, r.msg())
	}
}

func TestConventions_UnknownRouteAndSpacePrefix(t *testing.T) {
	_, kb := startMain(t)
	kb.do("GET", "/api/fleet/nope", nil).wantError(t, 404, "Not Found")
	kb.do("GET", "/s/default/api/fleet/outputs/fleet-default-output", nil).must(t, 200)
}

// Control API: request log, faults, state, reset.
func TestControl_RequestLogFaultsStateReset(t *testing.T) {
	s, kb := startMain(t)
	kb.do("GET", "/api/fleet/outputs", nil).must(t, 200)
	kb.do("POST", "/api/fleet/outputs", remoteOutput("r")).must(t, 200)

	ctl := &client{t: t, base: kb.base, headers: map[string]string{}}
	var log []map[string]any
	if err := json.Unmarshal(ctl.do("GET", "/_sim/requests", nil).must(t, 200).Raw, &log); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		got = append(got, e["method"].(string)+" "+e["path"].(string))
	}
	if d := cmp.Diff([]string{"GET /api/fleet/outputs", "POST /api/fleet/outputs"}, got); d != "" {
		t.Errorf("request log (-want +got):\n%s", d)
	}

	ctl.do("POST", "/_sim/faults", `{"method":"GET","path":"/api/fleet/outputs","status":503,"count":1}`).must(t, 200)
	kb.do("GET", "/api/fleet/outputs", nil).wantError(t, 503, "Service Unavailable")
	kb.do("GET", "/api/fleet/outputs", nil).must(t, 200)
	if err := s.AddFault(simhttp.Fault{PathPattern: "/api/fleet/outputs", Status: 429}); err != nil {
		t.Fatal(err)
	}
	kb.do("GET", "/api/fleet/outputs", nil).must(t, 429)
	ctl.do("DELETE", "/_sim/faults", nil).must(t, 200)
	kb.do("GET", "/api/fleet/outputs", nil).must(t, 200)

	st := ctl.do("GET", "/_sim/state", nil).must(t, 200)
	if !strings.Contains(string(st.Raw), `"main"`) {
		t.Errorf("state has no main cluster: %.200s", st.Raw)
	}
	es := &client{t: t, base: s.Cluster("main").ESURL(), headers: map[string]string{}}
	es.do("GET", "/_sim/requests", nil).must(t, 200) // every listener serves the control API
	ctl.do("POST", "/_sim/faults", `{"path":"~(","status":503}`).must(t, 400)
	ctl.do("POST", "/_sim/reset", nil).must(t, 200)
	kb.do("GET", "/api/fleet/outputs/r", nil).must(t, 404)
	if n := len(s.Requests()); n != 1 {
		t.Errorf("request log after reset has %d entries, want 1", n)
	}
}

func TestStatusAPI_RedactedWithoutCredentials(t *testing.T) {
	_, kb := startMain(t)
	r := kb.do("GET", "/api/status", nil).must(t, 200)
	if getPathT(r.Body, "version", "number") != DefaultVersion || getPathT(r.Body, "status", "overall", "level") != "available" {
		t.Errorf("status = %s", r.Raw)
	}
	kb.auth = ""
	r = kb.do("GET", "/api/status", nil).must(t, 200)
	if d := cmp.Diff(map[string]any{"status": map[string]any{"overall": map[string]any{"level": "available"}}}, r.Body); d != "" {
		t.Errorf("redacted status: %s", d)
	}
	kb.auth = basic("elastic", "bad")
	kb.do("GET", "/api/status", nil).must(t, 401)
}

// hapi payload parsing (subtext): a body in a content type a JSON route does
// not parse is a 415; text/* arrives as a string and fails the body schema.
func TestConventions_ContentType(t *testing.T) {
	_, kb := startMain(t)
	body := map[string]any{"name": "x", "type": "elasticsearch", "hosts": []any{"https://x"}}
	kb.headers["Content-Type"] = "application/xml"
	kb.do("POST", "/api/fleet/outputs", body).wantError(t, 415, "Unsupported Media Type")
	kb.headers["Content-Type"] = "text/plain"
	kb.do("POST", "/api/fleet/outputs", body).wantError(t, 400, "[request body]: expected a plain object value, but found [string] instead.")
	kb.headers["Content-Type"] = "application/json; charset=utf-8"
	kb.do("POST", "/api/fleet/outputs", body).must(t, 200)
}
