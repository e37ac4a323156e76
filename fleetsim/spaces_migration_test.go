package fleetsim

import (
	"testing"
)

// elastic/kibana
// x-pack/platform/test/fleet_api_integration/apis/space_awareness/space_awareness_migration.ts:
// settings that predate space awareness (no
// use_space_awareness_migration_status) keep every policy global on a
// 9.1+ Kibana — "without opt-in" both spaces list the same policies — and
// after the migration (enableSpaceAwarenessMigration,
// server/services/spaces/enable_space_awareness.ts) all of them are in the
// default space and test1 lists none.
func TestSpaces_UnmigratedDeploymentIsGlobalUntilEnabled(t *testing.T) {
	s, kb := startMain(t)
	main := s.Cluster("main")
	if err := main.SkipSpaceAwarenessMigration(); err != nil {
		t.Fatal(err)
	}
	kb.do("POST", "/api/spaces/space", map[string]any{"id": "test1", "name": "Test 1"}).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "d1", "name": "D1", "namespace": "default"}).must(t, 200)
	kb.do("POST", "/s/test1/api/fleet/agent_policies", map[string]any{"id": "t1", "name": "T1", "namespace": "default"}).must(t, 200)
	kb.do("POST", "/s/test1/api/fleet/agent_policies", map[string]any{"id": "t2", "name": "T2", "namespace": "default"}).must(t, 200)
	kb.do("POST", "/api/fleet/package_policies", nginxSimplified("nginx-1", "d1")).must(t, 200)
	kb.do("POST", "/s/test1/api/fleet/package_policies", nginxSimplified("nginx-2", "t1")).must(t, 200)

	count := func(path string) int { return len(kb.do("GET", path, nil).must(t, 200).items()) }
	for _, c := range []struct {
		path          string
		before, after int
	}{
		{"/api/fleet/agent_policies", 3, 3},
		{"/s/test1/api/fleet/agent_policies", 3, 0},
		{"/api/fleet/package_policies", 2, 2},
		{"/s/test1/api/fleet/package_policies", 2, 0},
	} {
		if n := count(c.path); n != c.before {
			t.Errorf("without opt-in: %s lists %d, want %d", c.path, n, c.before)
		}
	}
	if st := kb.do("GET", "/api/fleet/settings", nil).must(t, 200).item(); st["use_space_awareness_migration_status"] != nil {
		t.Errorf("never migrated: settings %v", st)
	}
	p := kb.do("GET", "/s/test1/api/fleet/agent_policies/d1", nil).must(t, 200).item()
	if _, ok := p["space_ids"]; ok {
		t.Errorf("not space-aware: space_ids answered: %v", p["space_ids"])
	}
	kb.do("GET", "/api/fleet/agent_policies/nope", nil).wantError(t, 404, "Saved object [ingest-agent-policies/nope] not found")

	if err := main.EnableSpaceAwareness(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path          string
		before, after int
	}{
		{"/api/fleet/agent_policies", 3, 3},
		{"/s/test1/api/fleet/agent_policies", 3, 0},
		{"/api/fleet/package_policies", 2, 2},
		{"/s/test1/api/fleet/package_policies", 2, 0},
	} {
		if n := count(c.path); n != c.after {
			t.Errorf("after the migration: %s lists %d, want %d", c.path, n, c.after)
		}
	}
	if st := kb.do("GET", "/api/fleet/settings", nil).must(t, 200).item(); st["use_space_awareness_migration_status"] != "success" {
		t.Errorf("migrated: settings %v", st)
	}
	kb.do("GET", "/api/fleet/agent_policies/nope", nil).wantError(t, 404, "Saved object [fleet-agent-policies/nope] not found")
	if err := main.EnableSpaceAwareness(); err != nil {
		t.Errorf("a second migration does nothing: %v", err)
	}
}

func TestSpaces_MigrationNeedsSpaceAwareKibana(t *testing.T) {
	s, _ := startMain(t, ClusterConfig{Name: "main", Version: "9.0.0"})
	if err := s.Cluster("main").SkipSpaceAwarenessMigration(); err == nil {
		t.Error("9.0: SkipSpaceAwarenessMigration succeeded")
	}
	if err := s.Cluster("main").EnableSpaceAwareness(); err == nil {
		t.Error("9.0: EnableSpaceAwareness succeeded")
	}
}
