package reconciler

import (
	"context"
	"testing"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// TestAgentPolicy_DeclaredFieldsOnly: the fields of schema.AgentPolicy are
// managed only when declared. A policy created with timeouts, tamper
// protection, tags, advanced settings, features, monitoring and its Fleet
// Server host and download source converges; an update of one field sends
// name and namespace (required) and the observed inactivity_timeout (an
// omitted one is reset to its schema default, fleet-api.md §3), and leaves
// undeclared advanced settings as they are; has_fleet_server is sent on
// create only.
func TestAgentPolicy_DeclaredFieldsOnly(t *testing.T) {
	h := newSimHarness(t)
	ctx := context.Background()
	doc := &schema.Document{
		FleetServerHosts: []schema.FleetServerHost{{ID: "fs", Name: "fs", HostURLs: []string{"https://fs.example:8220"}, IsDefault: ptr(true)}},
		DownloadSources:  []schema.DownloadSource{{ID: "mirror", Name: "mirror", Host: "https://mirror.example/"}},
		AgentPolicies: []schema.AgentPolicy{{
			ID: "full", Name: "Full", Namespace: "default",
			FleetServerHostID: ptr("fs"), DownloadSourceID: ptr("mirror"),
			MonitoringEnabled: &[]string{"logs"}, KeepMonitoringAlive: ptr(true),
			InactivityTimeout: ptr(int64(3600)), UnenrollTimeout: ptr(int64(86400)), IsProtected: ptr(false),
			GlobalDataTags:   []schema.GlobalDataTag{{Name: "team", Value: "fleet"}},
			AdvancedSettings: map[string]any{"agent_limits_go_max_procs": 2},
			AgentFeatures:    []schema.AgentFeature{{Name: "fqdn", Enabled: true}},
		}, {
			ID: "fleet-server", Name: "Fleet Server", Namespace: "default", HasFleetServer: ptr(true),
		}},
	}
	p := h.plan(doc)
	c := change(t, p, plan.KindAgentPolicy, "full")
	if c.Action != plan.Create || len(c.DependsOn) != 2 {
		t.Fatalf("want a create after its Fleet Server host and download source:\n%s", renderText(p))
	}
	h.converge(doc)
	got, err := h.kb.GetAgentPolicy(ctx, "full")
	if err != nil {
		t.Fatal(err)
	}
	if got.Raw["unenroll_timeout"] != float64(86400) || got.Raw["download_source_id"] != "mirror" || got.Raw["keep_monitoring_alive"] != true {
		t.Fatalf("created policy = %v", got.Raw)
	}
	if fs, _ := h.kb.GetAgentPolicy(ctx, "fleet-server"); !fs.HasFleetServer {
		t.Fatal("has_fleet_server not sent on create")
	}

	// Another advanced setting appears outside fleetform; the declared one changes.
	if _, err := h.kb.UpdateAgentPolicy(ctx, "full", map[string]any{"name": "Full", "namespace": "default", "inactivity_timeout": 3600,
		"advanced_settings": map[string]any{"agent_limits_go_max_procs": 2, "agent_logging_level": "debug"}}); err != nil {
		t.Fatal(err)
	}
	doc.AgentPolicies[0].AdvancedSettings = map[string]any{"agent_limits_go_max_procs": 4}
	doc.AgentPolicies[0].UnenrollTimeout = ptr(int64(7200))
	p = h.plan(doc)
	c = change(t, p, plan.KindAgentPolicy, "full")
	if c.Action != plan.Update || len(c.Fields) != 2 || field(c, "advanced_settings.agent_limits_go_max_procs") == nil || field(c, "unenroll_timeout") == nil {
		t.Fatalf("want two declared fields to change:\n%s", renderText(p))
	}
	h.converge(doc)
	got, _ = h.kb.GetAgentPolicy(ctx, "full")
	adv, _ := got.Raw["advanced_settings"].(map[string]any)
	if got.Raw["inactivity_timeout"] != float64(3600) || adv["agent_logging_level"] != "debug" || adv["agent_limits_go_max_procs"] != float64(4) {
		t.Fatalf("update lost what it did not manage: %v", got.Raw)
	}
}
