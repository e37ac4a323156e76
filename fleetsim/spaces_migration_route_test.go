package fleetsim

import (
	"testing"

	"github.com/fleetform/fleetform/fleetsim/esim"
)

const enableSpaceAwarenessPath = "/internal/fleet/enable_space_awareness"

// elastic/kibana src/core/packages/http/router-server-internal/src/versioned_router/
// core_versioned_route.ts (getVersion, handle) and route_version_utils.ts
// (isValidRouteVersion, INTERNAL_VERSION_REGEX /^[1-9][0-9]*$/): an internal
// route takes elastic-api-version "1" (fleet_api_integration's
// space_awareness/api_helper.ts postEnableSpaceAwareness sends it), defaults
// to "1" without the header in production, and refuses a version that is
// not a whole number greater than 0 or has no handler; the answer carries
// the version it was served at (injectVersionHeader). Public routes keep the
// date rule, so "1" is refused there.
func TestKibana_InternalRouteVersions(t *testing.T) {
	for _, c := range []struct {
		name, path, header string
		status             int
		message            string
		answered           string // the elastic-api-version response header
	}{
		{"internal v1", enableSpaceAwarenessPath, "1", 200, "", "1"},
		{"internal without a version", enableSpaceAwarenessPath, "", 200, "", "1"},
		{"internal v2", enableSpaceAwarenessPath, "2", 400,
			`No version "2" available for [post] [/internal/fleet/enable_space_awareness]. Available versions are: [1]`, ""},
		{"internal v0", enableSpaceAwarenessPath, "0", 400,
			`Invalid version number. Received "0", expected a string containing _only_ a finite, whole number greater than 0.`, ""},
		{"internal given a public version", enableSpaceAwarenessPath, "2023-10-31", 400,
			`Invalid version number. Received "2023-10-31", expected a string containing _only_ a finite, whole number greater than 0.`, ""},
		{"internal v1.0", enableSpaceAwarenessPath, "1.0", 400,
			`Invalid version number. Received "1.0", expected a string containing _only_ a finite, whole number greater than 0.`, ""},
		{"public given an internal version", "/api/fleet/setup", "1", 400,
			`Invalid version. Received "1", expected a valid date string formatted as YYYY-MM-DD.`, ""},
		{"public 2023-10-31", "/api/fleet/setup", "2023-10-31", 200, "", "2023-10-31"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, kb := startMain(t)
			kb.headers["elastic-api-version"] = c.header // "" removes it
			r := kb.do("POST", c.path, nil)
			if c.message != "" {
				r.wantError(t, c.status, c.message)
			} else {
				r.must(t, c.status)
			}
			if got := r.Header.Get("elastic-api-version"); got != c.answered {
				t.Errorf("elastic-api-version answered %q, want %q", got, c.answered)
			}
		})
	}
}

// elastic/kibana x-pack/platform/plugins/shared/fleet/server/routes/app/index.ts
// (postEnableSpaceAwarenessHandler: response.ok({body: {}})) and
// fleet_api_integration/apis/space_awareness/space_awareness_migration.ts:
// after postEnableSpaceAwareness every policy is in the default space, test1
// lists none, and the settings say "success". The migration is
// deployment-wide, whichever space the request names.
func TestSpaces_EnableSpaceAwarenessRoute(t *testing.T) {
	s, kb := startMain(t)
	if err := s.Cluster("main").SkipSpaceAwarenessMigration(); err != nil {
		t.Fatal(err)
	}
	internal := kibana(t, s, "main")
	internal.headers["elastic-api-version"] = "1"
	kb.do("POST", "/api/spaces/space", map[string]any{"id": "test1", "name": "Test 1"}).must(t, 200)
	kb.do("POST", "/s/test1/api/fleet/agent_policies", map[string]any{"id": "t1", "name": "T1", "namespace": "default"}).must(t, 200)
	kb.do("POST", "/s/test1/api/fleet/package_policies", nginxSimplified("nginx-1", "t1")).must(t, 200)
	if n := len(kb.do("GET", "/s/test1/api/fleet/agent_policies", nil).must(t, 200).items()); n != 1 {
		t.Fatalf("before the migration test1 lists %d agent policies, want 1 (global)", n)
	}

	r := internal.do("POST", "/s/test1"+enableSpaceAwarenessPath, nil).must(t, 200)
	if string(r.Raw) != "{}" {
		t.Errorf("answer %s, want {}", r.Raw)
	}
	for path, want := range map[string]int{
		"/api/fleet/agent_policies":           1,
		"/s/test1/api/fleet/agent_policies":   0,
		"/api/fleet/package_policies":         1,
		"/s/test1/api/fleet/package_policies": 0,
	} {
		if n := len(kb.do("GET", path, nil).must(t, 200).items()); n != want {
			t.Errorf("after the migration %s lists %d, want %d", path, n, want)
		}
	}
	if st := kb.do("GET", "/api/fleet/settings", nil).must(t, 200).item(); st["use_space_awareness_migration_status"] != "success" {
		t.Errorf("settings %v, want use_space_awareness_migration_status success", st)
	}
	// Already migrated: enableSpaceAwarenessMigration returns early, 200.
	internal.do("POST", enableSpaceAwarenessPath, nil).must(t, 200)
}

// server/routes/app/index.ts registers the route only when the
// useSpaceAwareness experimental feature is on, which 9.0 does not have by
// default: the path is unknown there.
func TestSpaces_EnableSpaceAwarenessRouteNeedsSpaceAwareKibana(t *testing.T) {
	_, kb := startMain(t, ClusterConfig{Name: "main", Version: "9.0.0"})
	kb.headers["elastic-api-version"] = "1"
	kb.do("POST", enableSpaceAwarenessPath, nil).wantError(t, 404, "Not Found")
}

// server/routes/app/index.ts: requiredPrivileges FLEET_API_PRIVILEGES
// AGENTS.ALL, AGENT_POLICIES.ALL and SETTINGS.ALL; security's
// api_authorization.ts lists the missing ones, joined by commas.
func TestSpaces_EnableSpaceAwarenessRouteNeedsFleetAll(t *testing.T) {
	s, _ := startMain(t)
	key, err := s.Cluster("main").ES().CreateAPIKey(esim.Principal{Username: "elastic", Superuser: true}, esim.APIKeyRequest{Name: "fleet-read",
		RoleDescriptors: map[string]esim.RoleDescriptor{"r": {Applications: []esim.ApplicationPrivilege{{Application: "kibana-.kibana",
			Privileges: []string{"feature_fleetv2.read"}, Resources: []string{"*"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	reader := kibana(t, s, "main")
	reader.auth = "ApiKey " + key.Encoded
	reader.headers["elastic-api-version"] = "1"
	reader.do("POST", enableSpaceAwarenessPath, nil).wantError(t, 403,
		"API [POST /internal/fleet/enable_space_awareness] is unauthorized for user, this action is granted by the Kibana privileges [fleet-agents-all,fleet-agent-policies-all,fleet-settings-all]")
}
