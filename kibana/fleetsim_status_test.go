package kibana

import (
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/secret"
)

// TestKibanaVersion_ReadsStatusVersionNumber follows Kibana's
// src/core/packages/status/server-internal/src/routes/status.ts: an
// authenticated GET /api/status answers version.number.
func TestKibanaVersion_ReadsStatusVersionNumber(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{}, fleetsim.ClusterConfig{Name: "main", Version: "8.15.2"})
	c, err := New(sim.Cluster("main").KibanaURL(), Auth{Username: "elastic", Password: secret.New("changeme")}, WithSpace("team-a"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.KibanaVersion(t.Context())
	if err != nil || v != "8.15.2" {
		t.Fatalf("KibanaVersion = %q, %v; want 8.15.2", v, err)
	}
	anon, _ := New(sim.Cluster("main").KibanaURL(), Auth{})
	if _, err := anon.KibanaVersion(t.Context()); err == nil {
		t.Error("an anonymous (redacted) status gave a version")
	}
}
