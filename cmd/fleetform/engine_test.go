package main

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/fleetform/fleetform/daemon"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/esim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/remote"
	"github.com/fleetform/fleetform/schema"
)

func loadTestDoc(t *testing.T, yaml string) *schema.Document {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir+"/fleet.yaml", yaml)
	doc, err := schema.LoadDir(context.Background(), dir)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return doc
}

// TestEngineReconciler_ReportsDriftAppliesAndSettles is the daemon's view of
// one revision: a report-only turn shows drift and changes nothing, an
// applying turn applies, and the next turn finds no drift.
func TestEngineReconciler_ReportsDriftAppliesAndSettles(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	t.Setenv("FLEETFORM_TEST_KB_PW", "changeme")
	t.Setenv("FLEETFORM_TEST_ES_PW", "changeme")
	doc := loadTestDoc(t, fmt.Sprintf(serveClustersYAML, sim.Cluster("main").KibanaURL(), sim.Cluster("main").ESURL())+serveOutputYAML("o1"))
	ctx := context.Background()
	a := &engineReconciler{opts: engineOptions{Instance: "test"}}

	out, err := a.Reconcile(ctx, doc, "rev1", false)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Drift || len(out.Applied) != 0 {
		t.Fatalf("report-only turn: drift=%v applied=%v, want drift and nothing applied", out.Drift, out.Applied)
	}
	if want := []daemon.ChangeCount{{Kind: "output", Action: "create", Count: 1}}; !slices.Equal(out.Planned, want) {
		t.Errorf("planned = %v, want %v", out.Planned, want)
	}
	if len(out.Outputs) != 1 || out.Outputs[0].State != "drifted" {
		t.Errorf("outputs = %+v, want o1 drifted", out.Outputs)
	}
	for _, r := range sim.Requests() {
		if r.Method != "GET" && r.Listener == "kibana" {
			t.Errorf("report-only turn wrote: %s %s", r.Method, r.Path)
		}
	}

	out, err = a.Reconcile(ctx, doc, "rev1", true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []daemon.ChangeCount{{Kind: "output", Action: "create", Count: 1}}; !slices.Equal(out.Applied, want) {
		t.Errorf("applied = %v, want %v", out.Applied, want)
	}
	if out.Outputs[0].State != "in-sync" {
		t.Errorf("after apply: %+v, want in-sync", out.Outputs[0])
	}

	sim.ClearRequests()
	out, err = a.Reconcile(ctx, doc, "rev1", true)
	if err != nil {
		t.Fatal(err)
	}
	if out.Drift || len(out.Planned) != 0 || len(out.Applied) != 0 {
		t.Errorf("settled turn: %+v, want no drift and nothing planned or applied", out)
	}
	for _, r := range sim.Requests() {
		if !esim.ReadOnly(r.Method, r.Path) {
			t.Errorf("settled turn wrote: %s %s", r.Method, r.Path)
		}
	}
}

func TestSyncSummary_WorstStateWins(t *testing.T) {
	tests := []struct {
		states []string
		err    string
		want   string
	}{
		{states: []string{"completed", "completed"}, want: "completed"},
		{states: []string{"completed", "synchronizing"}, want: "synchronizing"},
		{states: []string{"warning", "synchronizing"}, want: "warning"},
		{states: []string{"failed", "warning"}, want: "failed"},
		{err: "Follower index not found", want: "failed"},
		{want: "completed"},
	}
	for _, tt := range tests {
		s := remote.OutputStatus{Error: tt.err}
		for i, st := range tt.states {
			s.Integrations = append(s.Integrations, remote.IntegrationStatus{PackageName: fmt.Sprintf("pkg%d", i), SyncStatus: st})
		}
		if got, _ := syncSummary(s); got != tt.want {
			t.Errorf("syncSummary(%v, %q) = %q, want %q", tt.states, tt.err, got, tt.want)
		}
	}
}

func TestOutputStates_BlockedStaysDriftedAfterApply(t *testing.T) {
	doc := &schema.Document{Outputs: []schema.Output{{ID: "a", Type: "elasticsearch"}, {ID: "b", Type: "elasticsearch"}, {ID: "c", Type: "elasticsearch"}}}
	p := &plan.Plan{Changes: []plan.Change{
		{Kind: "output", ID: "a", Action: plan.Update},
		{Kind: "output", ID: "b", Action: plan.Blocked},
	}}
	got := outputStates(doc, p, true)
	want := map[string]string{"a": "in-sync", "b": "drifted", "c": "in-sync"}
	for _, s := range got {
		if s.State != want[s.ID] {
			t.Errorf("output %s: %s, want %s", s.ID, s.State, want[s.ID])
		}
	}
	for _, s := range outputStates(doc, p, false) {
		if s.ID == "a" && s.State != "drifted" {
			t.Errorf("report-only: output a %s, want drifted", s.State)
		}
	}
}
