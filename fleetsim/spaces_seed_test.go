package fleetsim

import (
	"os"
	"path/filepath"
	"testing"
)

// unmigrated says whether the cluster behind kb is a 9.1+ deployment that
// never ran the space awareness migration, as
// fleet_api_integration/apis/space_awareness/space_awareness_migration.ts
// sees one "without opt-in": a policy created through /s/test1 is listed
// from the default space, and the settings have no
// use_space_awareness_migration_status (createDefaultSettings sets it only
// on new deployments).
func unmigrated(t *testing.T, kb *client) bool {
	t.Helper()
	st := kb.do("GET", "/api/fleet/settings", nil).must(t, 200).item()
	_, hasStatus := st["use_space_awareness_migration_status"]
	kb.do("POST", "/api/spaces/space", map[string]any{"id": "probe", "name": "Probe"})
	id := "probe-policy"
	kb.do("DELETE", "/s/probe/api/fleet/agent_policies/"+id, nil)
	kb.do("POST", "/s/probe/api/fleet/agent_policies", map[string]any{"id": id, "name": "Probe policy", "namespace": "default"}).must(t, 200)
	global := kb.do("GET", "/api/fleet/agent_policies/"+id, nil).Status == 200
	kb.do("POST", "/api/fleet/agent_policies/delete", map[string]any{"agentPolicyId": id})
	kb.do("POST", "/s/probe/api/fleet/agent_policies/delete", map[string]any{"agentPolicyId": id})
	if global == hasStatus {
		t.Fatalf("inconsistent: policies global %v, migration status present %v", global, hasStatus)
	}
	return global
}

// --cluster ...,space-awareness=off starts a 9.1+ cluster never migrated,
// and keeps it so across /_sim/reset; on is the default; anything else, or
// either on a Kibana before space awareness, is refused.
func TestSpaces_ClusterFlagSpaceAwareness(t *testing.T) {
	for _, tc := range []struct {
		flag       string
		parseOK    bool
		addOK      bool
		unmigrated bool
	}{
		{"main,kibana=127.0.0.1:0,es=127.0.0.1:0,version=9.1.0,space-awareness=off", true, true, true},
		{"main,kibana=127.0.0.1:0,es=127.0.0.1:0,space-awareness=off", true, true, true},
		{"main,kibana=127.0.0.1:0,es=127.0.0.1:0,version=9.1.0,space-awareness=on", true, true, false},
		{"main,kibana=127.0.0.1:0,es=127.0.0.1:0,version=9.1.0", true, true, false},
		{"main,kibana=127.0.0.1:0,es=127.0.0.1:0,version=9.0.0,space-awareness=off", true, false, false},
		{"main,kibana=127.0.0.1:0,es=127.0.0.1:0,version=9.0.0,space-awareness=on", true, false, false},
		{"main,kibana=127.0.0.1:0,es=127.0.0.1:0,space-awareness=maybe", true, false, false},
		{"main,kibana=127.0.0.1:0,es=127.0.0.1:0,space_awareness=off", false, false, false},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			cfg, err := ParseClusterFlag(tc.flag)
			if (err == nil) != tc.parseOK {
				t.Fatalf("parse: err = %v, want ok %v", err, tc.parseOK)
			}
			if err != nil {
				return
			}
			cfg.KibanaAddr, cfg.ESAddr = "", ""
			s := New(Options{})
			_, err = s.AddCluster(cfg)
			if (err == nil) != tc.addOK {
				t.Fatalf("AddCluster: err = %v, want ok %v", err, tc.addOK)
			}
			if err != nil {
				return
			}
			s = StartTest(t, Options{}, cfg)
			kb := kibana(t, s, "main")
			if got := unmigrated(t, kb); got != tc.unmigrated {
				t.Errorf("unmigrated = %v, want %v", got, tc.unmigrated)
			}
			if err := s.Reset(); err != nil {
				t.Fatal(err)
			}
			if got := unmigrated(t, kb); got != tc.unmigrated {
				t.Errorf("after /_sim/reset: unmigrated = %v, want %v", got, tc.unmigrated)
			}
		})
	}
}

// The seed's space_awareness: false (YAML's off too) makes a 9.1+ cluster
// never migrated, seeded policies global; true runs the migration and wins
// over space-awareness=off; a Kibana before 9.1 refuses either. Reset
// re-applies it.
func TestSpaces_SeedSpaceAwareness(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, yaml string
		cfg        ClusterConfig
		seedOK     bool
		unmigrated bool
	}{
		{"false", "space_awareness: false", ClusterConfig{Name: "main"}, true, true},
		{"off", "space_awareness: off", ClusterConfig{Name: "main", Version: "9.1.0"}, true, true},
		{"true over the flag", "space_awareness: true", ClusterConfig{Name: "main", SpaceAwareness: "off"}, true, false},
		{"absent keeps the flag", "fleet_servers: [\"9.1.0\"]", ClusterConfig{Name: "main", SpaceAwareness: "off"}, true, true},
		{"absent", "fleet_servers: [\"9.1.0\"]", ClusterConfig{Name: "main"}, true, false},
		{"before 9.1", "space_awareness: false", ClusterConfig{Name: "main", Version: "9.0.0"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".yaml")
			body := "clusters:\n  main:\n    " + tc.yaml + "\n    agent_policies: [{id: seeded, name: Seeded}]\n"
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			seed, err := LoadSeedFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s := StartTest(t, Options{}, tc.cfg)
			err = s.Seed(seed)
			if (err == nil) != tc.seedOK {
				t.Fatalf("Seed: err = %v, want ok %v", err, tc.seedOK)
			}
			if err != nil {
				return
			}
			kb := kibana(t, s, "main")
			if got := unmigrated(t, kb); got != tc.unmigrated {
				t.Errorf("unmigrated = %v, want %v", got, tc.unmigrated)
			}
			if tc.unmigrated {
				// A never-migrated deployment's policies are global.
				kb.do("GET", "/s/probe/api/fleet/agent_policies/seeded", nil).must(t, 200)
			}
			if err := s.Reset(); err != nil {
				t.Fatal(err)
			}
			if got := unmigrated(t, kb); got != tc.unmigrated {
				t.Errorf("after reset: unmigrated = %v, want %v", got, tc.unmigrated)
			}
		})
	}
}
