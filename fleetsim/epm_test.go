package fleetsim

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Trap 17 / §4: perPage 15, searchAfter paging, content-only packages omitted.
func TestEPM_InstalledPerPage15SearchAfter_OmitsPackagesWithoutIndexTemplates(t *testing.T) {
	s, kb := startMain(t)
	var pkgs []SeedPackage
	yes := true
	for i := range 20 {
		pkgs = append(pkgs, SeedPackage{Name: fmt.Sprintf("custom_%02d", i), Version: "1.0.0", Source: "upload", HasIndexTemplates: &yes})
	}
	pkgs = append(pkgs, SeedPackage{Name: "security_detection_engine"}, SeedPackage{Name: "nginx", Version: "2.0.0"})
	seedPolicies(t, s, &ClusterSeed{Packages: pkgs})
	r := kb.do("GET", "/api/fleet/epm/packages/installed", nil).must(t, 200)
	if len(r.items()) != 15 || r.Body["total"] != 21.0 {
		t.Fatalf("first page: %d items, total %v", len(r.items()), r.Body["total"])
	}
	var names []string
	after := r.Body["searchAfter"].([]any)
	for _, it := range r.items() {
		names = append(names, it.(map[string]any)["name"].(string))
	}
	r = kb.do("GET", "/api/fleet/epm/packages/installed?searchAfter="+url.QueryEscape(after[0].(string)), nil).must(t, 200)
	for _, it := range r.items() {
		names = append(names, it.(map[string]any)["name"].(string))
	}
	if len(names) != 21 || strings.Contains(strings.Join(names, ","), "security_detection_engine") {
		t.Errorf("installed names = %v", names)
	}
	// The content-only package is installed all the same.
	all := kb.do("GET", "/api/fleet/epm/packages", nil).must(t, 200).items()
	found := false
	for _, it := range all {
		m := it.(map[string]any)
		if m["name"] == "security_detection_engine" && m["status"] == "installed" {
			found = true
		}
	}
	if !found {
		t.Errorf("content-only package missing from GET /epm/packages")
	}
}

func TestEPM_InstallOutOfDateRefused_ForceAllows_SameVersionIsNoOp(t *testing.T) {
	_, kb := startMain(t)
	r := kb.do("POST", "/api/fleet/epm/packages/nginx/2.1.0", nil).must(t, 200)
	if getPathT(r.Body, "_meta", "name") != "nginx" || len(r.items()) == 0 {
		t.Errorf("install response = %s", r.Raw)
	}
	kb.do("POST", "/api/fleet/epm/packages/nginx/2.1.0", nil).must(t, 200)
	kb.do("POST", "/api/fleet/epm/packages/nginx/1.25.1", nil).wantError(t, 400, "nginx-1.25.1 is out-of-date and cannot be installed or updated")
	kb.do("POST", "/api/fleet/epm/packages/nginx/1.25.1", map[string]any{"force": true}).must(t, 200)
	kb.do("POST", "/api/fleet/epm/packages/nginx/9.9.9", nil).wantError(t, 404, "[nginx-9.9.9] package not found in registry")
	kb.do("POST", "/api/fleet/epm/packages/apache", nil).must(t, 200)
	if v := kb.do("GET", "/api/fleet/epm/packages/apache", nil).must(t, 200).item()["installationInfo"].(map[string]any)["version"]; v != "2.0.0" {
		t.Errorf("install without version = %v, want the latest 2.0.0", v)
	}
}

// Trap 18.
func TestEPM_UninstallDeletesUnusedPolicies_InUseRefused_ForceQueryParam(t *testing.T) {
	for _, tc := range []struct {
		name, version, query string
		agents               int
		status               int
		message              string
	}{
		{"no agents: policies deleted", "9.3.0", "", 0, 200, ""},
		{"agents: refused (newest message)", "9.3.0", "", 2, 400, "Unable to remove package nginx:2.0.0 with existing package policy(s) in use by agent(s)"},
		{"agents: refused (9.1 message)", "9.1.0", "", 2, 400, "Unable to remove package with existing package policy(s) in use by agent(s)"},
		{"agents: force query param", "9.3.0", "?force=true", 2, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, kb := startMain(t, ClusterConfig{Name: "main", Version: tc.version})
			seedPolicies(t, s, &ClusterSeed{
				AgentPolicies:   []SeedAgentPolicy{{ID: "p", Name: "P"}},
				PackagePolicies: []SeedPackagePolicy{{ID: "pp", Name: "nginx-1", PolicyIDs: []string{"p"}, Package: pkgRef("nginx", "2.0.0"), Agents: tc.agents}},
			})
			r := kb.do("DELETE", "/api/fleet/epm/packages/nginx/2.0.0"+tc.query, nil)
			if tc.status != 200 {
				r.wantError(t, tc.status, tc.message)
				return
			}
			r.must(t, 200)
			if n := len(kb.do("GET", "/api/fleet/package_policies", nil).items()); n != 0 {
				t.Errorf("%d package policies left", n)
			}
		})
	}
	_, kb := startMain(t)
	kb.do("DELETE", "/api/fleet/epm/packages/nginx", nil).wantError(t, 400, "nginx is not installed")
	kb.do("DELETE", "/api/fleet/epm/packages/nginx", map[string]any{"force": true}).must(t, 400) // body is ignored
}

// POST /api/fleet/service_tokens: remote → elastic/fleet-server-remote, and the token authenticates.
func TestServiceTokens_RemoteCreatesFleetServerRemoteToken(t *testing.T) {
	s, kb := startMain(t)
	r := kb.do("POST", "/api/fleet/service_tokens", map[string]any{"remote": true}).must(t, 200)
	name, _ := r.Body["name"].(string)
	if !strings.HasPrefix(name, "token-") {
		t.Errorf("name %q", name)
	}
	node := s.Cluster("main").ES()
	if d := cmp.Diff([]string{name}, node.ServiceTokenNames("elastic", "fleet-server-remote")); d != "" {
		t.Errorf("tokens: %s", d)
	}
	p, err := node.Authenticate("Bearer " + r.Body["value"].(string))
	if err != nil || p.ServiceAccount != "elastic/fleet-server-remote" {
		t.Errorf("token does not authenticate: %v %+v", err, p)
	}
	kb.do("POST", "/api/fleet/service_tokens", nil).must(t, 200)
	if n := len(node.ServiceTokenNames("elastic", "fleet-server")); n != 1 {
		t.Errorf("fleet-server tokens = %d", n)
	}
}

func TestSetup_RecreatesDefaultOutputAndKeepsSeededPreconfigured(t *testing.T) {
	s, kb := startMain(t)
	seedPreconfigured(t, s, map[string]any{"id": "pre", "name": "pre", "type": "elasticsearch", "hosts": []any{"https://pre"}})
	r := kb.do("POST", "/api/fleet/setup", nil).must(t, 200)
	if r.Body["isInitialized"] != true {
		t.Errorf("setup = %s", r.Raw)
	}
	kb.do("GET", "/api/fleet/outputs/pre", nil).must(t, 200)
}

// services/epm/packages/install.ts installPackageFromRegistry: the requested
// version is compared with the registry's latest (not with the installed
// version); below it, only force or a reinstall (getInstallType: the
// installed version again) may proceed.
func TestInstallTS_VersionBelowRegistryLatestRefusedUnlessForceOrReinstall(t *testing.T) {
	const outdated = "nginx-2.0.0 is out-of-date and cannot be installed or updated"
	for _, tc := range []struct {
		name      string
		installed string // "" = not installed
		body      any
		status    int
		message   string
	}{
		{"fresh install below latest", "", nil, 400, outdated},
		{"fresh install below latest, force false", "", map[string]any{"force": false}, 400, outdated},
		{"fresh install below latest, force", "", map[string]any{"force": true}, 200, ""},
		{"reinstall of the installed older version", "2.0.0", nil, 200, ""},
		{"downgrade from latest", "2.1.0", nil, 400, outdated},
		{"upgrade below latest", "1.25.1", nil, 400, outdated},
		{"upgrade below latest, force", "1.25.1", map[string]any{"force": true}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, kb := startMain(t)
			if tc.installed != "" {
				seedPolicies(t, s, &ClusterSeed{Packages: []SeedPackage{{Name: "nginx", Version: tc.installed}}})
			}
			r := kb.do("POST", "/api/fleet/epm/packages/nginx/2.0.0", tc.body)
			if tc.status != 200 {
				r.wantError(t, tc.status, tc.message)
				got := kb.do("GET", "/api/fleet/epm/packages/nginx", nil).must(t, 200).item()
				if info, _ := got["installationInfo"].(map[string]any); tc.installed == "" && info != nil || tc.installed != "" && info["version"] != tc.installed {
					t.Errorf("installation after a refused install = %v, want %q untouched", info, tc.installed)
				}
				return
			}
			r.must(t, 200)
			got := kb.do("GET", "/api/fleet/epm/packages/nginx", nil).must(t, 200).item()
			if v := getPathT(got, "installationInfo", "version"); v != "2.0.0" {
				t.Errorf("installed version = %v, want 2.0.0", v)
			}
		})
	}
}
