package fleetsim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSeed_ExampleFileLoadsIntoTwoClusters(t *testing.T) {
	seed, err := LoadSeedFile("testdata/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := StartTest(t, Options{}, ClusterConfig{Name: "main"}, ClusterConfig{Name: "west"})
	if err := s.Seed(seed); err != nil {
		t.Fatal(err)
	}
	kb := kibana(t, s, "main")
	kb.auth = "ApiKey Y2kta2V5OmNpLXNlY3JldA=="
	if n := len(kb.do("GET", "/api/fleet/agent_policies", nil).must(t, 200).items()); n != 3 {
		t.Errorf("agent policies = %d", n)
	}
	kb.auth = basic("fleetform", "fleetform-password")
	pre := kb.do("GET", "/api/fleet/outputs/preconfigured-logstash", nil).must(t, 200).item()
	if pre["is_preconfigured"] != true {
		t.Errorf("seeded output not preconfigured: %v", pre)
	}
	kb.do("PUT", "/api/fleet/outputs/preconfigured-logstash", map[string]any{"hosts": []any{"ls2:5044"}}).must(t, 200) // in allow_edit
	installed := kb.do("GET", "/api/fleet/epm/packages/installed", nil).must(t, 200).items()
	if len(installed) != 3 { // system, nginx, fleet_server (from its package policy)
		t.Errorf("installed = %v", installed)
	}
	// The seeded Fleet Servers are all >= 8.12.0: secrets are stored.
	if _, ok := kb.do("POST", "/api/fleet/outputs", remoteOutput("r")).must(t, 200).item()["secrets"]; !ok {
		t.Errorf("secret storage off despite new Fleet Servers")
	}
	west := kibana(t, s, "west")
	west.auth = "ApiKey d2VzdC1zdGF0dXM6d2VzdC1zZWNyZXQ="
	west.do("GET", "/api/fleet/remote_synced_integrations/status", nil).must(t, 200)
	// Reset goes back to the seeded state.
	kb.do("DELETE", "/api/fleet/outputs/r", nil).must(t, 200)
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	kb.do("GET", "/api/fleet/agent_policies/prod-linux", nil).must(t, 200)
}

func TestSeed_UnknownKeysAndClustersAreErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("clusters:\n  main:\n    agent_polices: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSeedFile(bad); err == nil || !strings.Contains(err.Error(), "agent_polices") {
		t.Errorf("unknown key: %v", err)
	}
	s := StartTest(t, Options{})
	if err := s.Seed(&SeedFile{Clusters: map[string]*ClusterSeed{"nope": {}}}); err == nil {
		t.Errorf("seed for an unknown cluster accepted")
	}
}
