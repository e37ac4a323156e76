package fleetsim

import (
	"testing"

	"github.com/fleetform/fleetform/fleetsim/esim"
)

const installUpdateTS = "apis/epm/install_update.ts"

// TestConformance_EPM_InstallUpdate ports install_update.ts, whose its run in
// order against one Kibana. The test registry's multiple_versions 0.1.0,
// 0.2.0 and 0.3.0 (latest) are fleetsim's nginx 1.25.1, 2.0.0 and 2.1.0
// (adapted: fleetsim's registry has no test fixtures).
func TestConformance_EPM_InstallUpdate(t *testing.T) {
	const d = "installing and updating scenarios"
	s, kb := startMain(t)
	kibanaTest(t, installUpdateTS, d, "should return 404 if package does not exist", func(t *testing.T) {
		kb.do("POST", "/api/fleet/epm/packages/nonexistent/0.1.0", nil).wantStatus(t, 404)
		if s.Cluster("main").st.Packages["nonexistent"] != nil {
			t.Errorf("an epm-packages object exists for nonexistent")
		}
	})
	kibanaTest(t, installUpdateTS, d, "should return 400 if trying to install an out-of-date package", func(t *testing.T) {
		kb.do("POST", "/api/fleet/epm/packages/nginx/1.25.1", nil).wantStatus(t, 400)
		if s.Cluster("main").st.Packages["nginx"] != nil {
			t.Errorf("an epm-packages object exists after the refused install")
		}
	})
	kibanaTest(t, installUpdateTS, d, "should return 200 if trying to force install an out-of-date package", func(t *testing.T) {
		kb.do("POST", "/api/fleet/epm/packages/nginx/1.25.1", forceInstall).wantStatus(t, 200)
	})
	kibanaTest(t, installUpdateTS, d, "should return 200 if trying to reinstall an out-of-date package", func(t *testing.T) {
		kb.do("POST", "/api/fleet/epm/packages/nginx/1.25.1", nil).wantStatus(t, 200)
	})
	kibanaTest(t, installUpdateTS, d, "should return 400 if trying to update to an out-of-date package", func(t *testing.T) {
		kb.do("POST", "/api/fleet/epm/packages/nginx/2.0.0", nil).wantStatus(t, 400)
	})
	kibanaTest(t, installUpdateTS, d, "should return 200 if trying to force update to an out-of-date package", func(t *testing.T) {
		kb.do("POST", "/api/fleet/epm/packages/nginx/2.0.0", forceInstall).wantStatus(t, 200)
	})
	kibanaTest(t, installUpdateTS, d, "should return 200 if trying to update to the latest package", func(t *testing.T) {
		kb.do("POST", "/api/fleet/epm/packages/nginx/2.1.0", nil).wantStatus(t, 200)
		kb.do("DELETE", "/api/fleet/epm/packages/nginx/2.1.0", nil).wantStatus(t, 200)
	})
	kibanaTest(t, installUpdateTS, d, "should return 200 if trying to install the latest package", func(t *testing.T) {
		kb.do("POST", "/api/fleet/epm/packages/nginx/2.1.0", nil).wantStatus(t, 200)
	})
}

const bulkInstallTS = "apis/epm/bulk_install.ts"

// bulk_install.ts, with multiple_versions 0.1.0 / 0.3.0 (latest) as
// fleetsim's nginx 1.25.1 / 2.1.0.
func TestConformance_EPM_BulkInstall(t *testing.T) {
	const d = "bulk package install api"
	const bulk = "/api/fleet/epm/packages/_bulk?prerelease=true"
	older := []any{map[string]any{"name": "nginx", "version": "1.25.1"}}
	version := func(r result) any {
		items := r.items()
		if len(items) != 1 {
			return nil
		}
		return items[0].(map[string]any)["version"]
	}
	kibanaTest(t, bulkInstallTS, d, "should install the latest version by default", func(t *testing.T) {
		_, kb := startMain(t)
		wantEql(t, "version", "2.1.0", version(kb.do("POST", bulk, map[string]any{"packages": []any{"nginx"}}).wantStatus(t, 200)))
	})
	kibanaTest(t, bulkInstallTS, d, "should install an older version if force is true", func(t *testing.T) {
		_, kb := startMain(t)
		wantEql(t, "version", "1.25.1", version(kb.do("POST", bulk, map[string]any{"packages": older, "force": true}).wantStatus(t, 200)))
	})
	kibanaTest(t, bulkInstallTS, d, "should install an older version if force is true when package is already installed", func(t *testing.T) {
		_, kb := startMain(t)
		kb.do("POST", bulk, map[string]any{"packages": []any{"nginx"}}).wantStatus(t, 200)
		wantEql(t, "version", "1.25.1", version(kb.do("POST", bulk, map[string]any{"packages": older, "force": true}).wantStatus(t, 200)))
	})
	kibanaTest(t, bulkInstallTS, d, "should reject installing an older version if force is false", func(t *testing.T) {
		_, kb := startMain(t)
		items := kb.do("POST", bulk, map[string]any{"packages": older}).wantStatus(t, 200).items()
		if len(items) != 1 {
			t.Fatalf("items = %v", items)
		}
		wantEql(t, "statusCode", 400.0, items[0].(map[string]any)["statusCode"])
		wantEql(t, "error", "nginx-1.25.1 is out-of-date and cannot be installed or updated", items[0].(map[string]any)["error"])
	})
}

const deleteTS = "apis/epm/delete.ts"

// delete.ts with elastic_agent 0.0.7 as fleetsim's elastic_agent 2.0.0.
func TestConformance_EPM_Delete(t *testing.T) {
	const d = "delete and force delete scenarios"
	user := func(t *testing.T, s *Sim, name string, privs ...string) string {
		t.Helper()
		key, err := s.Cluster("main").ES().CreateAPIKey(esim.Principal{Username: "elastic", Superuser: true}, esim.APIKeyRequest{Name: name,
			RoleDescriptors: map[string]esim.RoleDescriptor{"r": {Applications: []esim.ApplicationPrivilege{{Application: "kibana-.kibana", Privileges: privs, Resources: []string{"*"}}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return "ApiKey " + key.Encoded
	}
	setup := func(t *testing.T) (*Sim, *client) {
		s, kb := startMain(t)
		kb.do("POST", "/api/fleet/epm/packages/elastic_agent/2.0.0", forceInstall).wantStatus(t, 200)
		return s, kb
	}
	kibanaTest(t, deleteTS, d, "should return 200 if trying to uninstall a required package", func(t *testing.T) {
		_, kb := setup(t)
		kb.do("DELETE", "/api/fleet/epm/packages/elastic_agent/2.0.0", nil).wantStatus(t, 200)
	})
	kibanaTest(t, deleteTS, d, "should return 403 for users without integrations all permissions", func(t *testing.T) {
		s, kb := setup(t)
		kb.auth = user(t, s, "fleet_all_int_read", "feature_fleetv2.all", "feature_fleet.read")
		kb.do("DELETE", "/api/fleet/epm/packages/elastic_agent/2.0.0", nil).wantStatus(t, 403)
	})
	kibanaTest(t, deleteTS, d, "should return 403 for users without fleet all permissions", func(t *testing.T) {
		s, kb := setup(t)
		kb.auth = user(t, s, "integr_all_only", "feature_fleet.all")
		kb.do("DELETE", "/api/fleet/epm/packages/elastic_agent/2.0.0", nil).wantStatus(t, 403)
	})
}
