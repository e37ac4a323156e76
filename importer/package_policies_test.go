package importer_test

import (
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
)

// An integration policy's output_id is imported only when it names an
// output: one never set, one cleared (Kibana stores null) and one set to ""
// (stored as given, and meaning the agent policy's output like null) are
// written without output_id — absent, so unmanaged — never as null, which
// would declare "clear it"; the repository then plans empty.
func TestImport_IntegrationPolicyOutputID(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{}, fleetsim.ClusterConfig{Name: "main", License: "enterprise"})
	c := sim.Cluster("main")
	kb := newKibana(t, c)
	ctx := t.Context()
	if _, err := kb.CreateAgentPolicy(ctx, map[string]any{"id": "web", "name": "Web", "namespace": "default"}); err != nil {
		t.Fatal(err)
	}
	if _, err := kb.CreateOutput(ctx, map[string]any{"id": "es2", "name": "es2", "type": "elasticsearch", "hosts": []any{"https://es2:9200"}}); err != nil {
		t.Fatal(err)
	}
	pkg := map[string]any{"name": "nginx", "version": "2.1.0"}
	for id, out := range map[string]any{"never": nil, "cleared": "es2", "empty": "", "routed": "es2"} {
		body := map[string]any{"id": id, "name": id, "namespace": "default", "package": pkg, "policy_ids": []any{"web"}}
		if out != nil {
			body["output_id"] = out
		}
		if _, err := kb.CreateIntegrationPolicy(ctx, body); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := kb.UpdateIntegrationPolicy(ctx, "cleared", map[string]any{"name": "cleared", "package": pkg, "inputs": map[string]any{}, "output_id": nil}); err != nil {
		t.Fatal(err)
	}

	dir, p := roundTrip(t, c, kb)
	files := dump(dir)
	if n := strings.Count(files, "output_id:"); n != 1 || !strings.Contains(files, "output_id: es2") {
		t.Errorf("imported output_id lines: %d, want only routed's es2:\n%s", n, files)
	}
	if !p.Empty() {
		var buf strings.Builder
		_ = plan.WriteText(&buf, p)
		t.Fatalf("plan after import is not empty:\n%s\n%s", buf.String(), files)
	}
}
