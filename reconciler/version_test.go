package reconciler

import (
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/internal/kversion"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// TestVersion_FeatureTheClusterLacksIsBlockedBeforeApply: fleetform reads
// the cluster's Kibana version (GET /api/status version.number, Kibana
// src/core/packages/status/server-internal/src/routes/status.ts) and blocks
// a declared output that needs a newer Kibana (types/models/output.ts of the
// version that added each field), naming the version it needs, instead of
// sending a request Kibana refuses with 400 mid-apply.
func TestVersion_FeatureTheClusterLacksIsBlockedBeforeApply(t *testing.T) {
	tests := []struct {
		version     string
		wantBlocked bool
		wantReason  []string
		notReason   []string
	}{
		{version: "8.11.4", wantBlocked: true, wantReason: []string{"Kibana 8.11.4", "type remote_elasticsearch needs Kibana 8.12.0",
			"output secrets needs Kibana 8.12.0", "sync_integrations needs Kibana 9.1.0", "kibana_url needs Kibana 9.1.0", "kibana_api_key needs Kibana 9.1.0"}},
		{version: "8.15.0", wantBlocked: true, wantReason: []string{"sync_integrations needs Kibana 9.1.0", "kibana_url needs Kibana 9.1.0"},
			notReason: []string{"remote_elasticsearch", "secrets"}},
		// Remote integrations sync was not backported to 8.19, nor is it on
		// 9.0.x (docs/fleetsim-inferred.md item 58): both block it.
		{version: "8.19.5", wantBlocked: true, wantReason: []string{"Kibana 8.19.5", "sync_integrations needs Kibana 9.1.0", "kibana_url needs Kibana 9.1.0"},
			notReason: []string{"remote_elasticsearch", "secrets", "8.19.0"}},
		{version: "9.0.3", wantBlocked: true, wantReason: []string{"sync_integrations needs Kibana 9.1.0"}},
		{version: "9.1.0"},
		{version: "9.3.0"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			h := newRemoteHarness(t, fleetsim.ClusterConfig{Name: "main", Version: tt.version})
			doc := remoteDoc()
			p := h.plan(doc)
			var out *plan.Change
			for i := range p.Changes {
				if p.Changes[i].Kind == plan.KindOutput && p.Changes[i].ID == "remote-west" {
					out = &p.Changes[i]
				}
			}
			if out == nil {
				t.Fatalf("no change for remote-west:\n%s", renderText(p))
			}
			if got := out.Action == plan.Blocked; got != tt.wantBlocked {
				t.Fatalf("blocked = %v, want %v: %s", got, tt.wantBlocked, out.Reason)
			}
			for _, w := range tt.wantReason {
				if !strings.Contains(out.Reason, w) {
					t.Errorf("reason %q lacks %q", out.Reason, w)
				}
			}
			for _, w := range tt.notReason {
				if strings.Contains(out.Reason, w) {
					t.Errorf("reason %q names %q, which Kibana %s has", out.Reason, w, tt.version)
				}
			}
			if !tt.wantBlocked {
				return
			}
			// Apply sends no write for the blocked output (no 400 from Kibana).
			h.sim.ClearRequests()
			res, err := h.r.Apply(t.Context(), doc, nil, ApplyOptions{})
			if err == nil {
				t.Fatalf("apply of a blocked plan succeeded: %+v", res)
			}
			for _, w := range h.writes() {
				if strings.Contains(w, "/api/fleet/outputs") {
					t.Errorf("apply wrote %s for a blocked output", w)
				}
			}
		})
	}
}

func TestKibanaAtLeast(t *testing.T) {
	tests := []struct {
		v     string
		since kversion.Gate
		want  bool
	}{
		{"9.1.0", "9.1.0", true},
		{"9.0.7", "9.1.0", false},
		{"10.0.0", "9.1.0", true},
		{"9.1.0-SNAPSHOT", "9.1.0", true}, // a snapshot of 9.1 has 9.1's routes
		{"8.12.0", "8.12.0", true},
		{"8.11.4", "8.12.0", false},
		// A gate backported to 8.19 (kversion.Gate): 8.19.x has it, 9.0.x not.
		{"8.19.0", gateAutomaticUpgrades, true},
		{"8.19.0-SNAPSHOT", gateAutomaticUpgrades, true},
		{"9.0.8", gateAutomaticUpgrades, false},
		{"8.18.8", gateRequiredVersions, false},
		{"8.19.0", gateRequiredVersionsLicence, false},
		{"8.19.1", gateRequiredVersionsLicence, true},
	}
	for _, tt := range tests {
		if got := kibanaAtLeast(tt.v, tt.since); got != tt.want {
			t.Errorf("kibanaAtLeast(%q, %q) = %v, want %v", tt.v, tt.since, got, tt.want)
		}
	}
}

// TestVersion_KafkaOutputNeedsKibana810: the kafka output type came with
// elastic/kibana#159110 (v8.10.0); an older Kibana's outputs API knows only
// elasticsearch and logstash, so the plan blocks a kafka output there,
// naming the version, and creates it from 8.10.0. (Without topic: that key
// came with 8.13.0, elastic/kibana#177229, version_objects.go.)
func TestVersion_KafkaOutputNeedsKibana810(t *testing.T) {
	doc := &schema.Document{Outputs: []schema.Output{{ID: "kafka", Name: "kafka", Type: "kafka", Hosts: []string{"kafka1:9092"}}}}
	for _, tt := range []struct {
		version string
		want    plan.Action
	}{
		{"8.9.2", plan.Blocked},
		{"8.10.0", plan.Create},
	} {
		t.Run(tt.version, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", Version: tt.version})
			ch := changeOf(h.plan(doc), plan.KindOutput, "kafka")
			if ch == nil || ch.Action != tt.want {
				t.Fatalf("kafka output on Kibana %s: %+v, want %s", tt.version, ch, tt.want)
			}
			if tt.want == plan.Blocked && !strings.Contains(ch.Reason, "type kafka needs Kibana 8.10.0") {
				t.Errorf("reason %q does not name the version", ch.Reason)
			}
		})
	}
}
