package remote

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
)

// credentialLines renders the plan's or apply's credential changes the way
// `fleetform apply` prints its per-change lines, sorted.
func credentialLines[T any](items []T, change func(T) plan.Change, suffix func(T) string) []string {
	var out []string
	for _, it := range items {
		ch := change(it)
		if ch.Kind == KindServiceToken || ch.Kind == KindAPIKey {
			out = append(out, fmt.Sprintf("%s %s %s %q%s", ch.Cluster, ch.Action, ch.Kind, ch.ID, suffix(it)))
		}
	}
	slices.Sort(out)
	return out
}

func planCredentialLines(p *plan.Plan) []string {
	return credentialLines(p.Changes, func(c plan.Change) plan.Change { return c }, func(plan.Change) string { return ": applied" })
}

func outcomeCredentialLines(os []reconciler.Outcome) []string {
	return credentialLines(os, func(o reconciler.Outcome) plan.Change { return o.Change }, func(o reconciler.Outcome) string { return ": " + o.Status })
}

// TestTwoCluster_ApplyReportsMintedCredentialsAsPlanned: credentials
// minted while the main output is applied are reported by apply as the plan
// announced them (created), not as the update that finishes their rotation
// journal afterwards.
func TestTwoCluster_ApplyReportsMintedCredentialsAsPlanned(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	tc := env.connect(t, ConnectOptions{})
	p := mustPlan(t, tc, env.doc)
	want := planCredentialLines(p)
	if len(want) != 2 {
		t.Fatalf("plan mints %d credentials, want a service token and an API key:\n%s", len(want), planText(p))
	}
	for _, l := range want {
		if !slices.Contains([]string{
			`west create service_token "fleetform-remote-west-1": applied`,
			`west create api_key "fleetform-remote-west-kibana-1": applied`,
		}, l) {
			t.Errorf("unexpected planned credential change %s\n%s", l, planText(p))
		}
	}
	res, err := tc.Apply(t.Context(), env.doc, nil, applyOpts())
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if got := outcomeCredentialLines(res.Outcomes); !slices.Equal(got, want) {
		t.Errorf("apply reported credentials\n  %q\nwant (as planned)\n  %q", got, want)
	}
	checkOutputTokenWorks(t, env)
	if p := mustPlan(t, tc, env.doc); !p.Empty() {
		t.Errorf("plan after apply not empty:\n%s", planText(p))
	}
}

// TestTwoCluster_ApplyReportsUnfinishedRotation: a rotation that an earlier
// run left unfinished is planned and reported as the update that finishes
// it; that report is not hidden.
func TestTwoCluster_ApplyReportsUnfinishedRotation(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	tc := env.connect(t, ConnectOptions{HealthTimeout: -1})
	mustApply(t, tc, env.doc)
	if err := env.sim.AddFault(faultFor("west", "DELETE", "/_security/service/elastic/fleet-server-remote/credential/token/*")); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Engine.Rotate(t.Context(), env.doc, "remote-west"); err == nil {
		t.Fatal("rotation with a failing revoke succeeded")
	}
	env.sim.ClearFaults()
	p := mustPlan(t, tc, env.doc)
	want := []string{`west update service_token "fleetform-remote-west-2": applied`}
	if got := planCredentialLines(p); !slices.Equal(got, want) {
		t.Fatalf("planned credential changes %q, want %q\n%s", got, want, planText(p))
	}
	res, err := tc.Apply(t.Context(), env.doc, nil, applyOpts())
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if got := outcomeCredentialLines(res.Outcomes); !slices.Equal(got, want) {
		t.Errorf("apply reported credentials %q, want %q", got, want)
	}
	tokens, err := env.es("west").ServiceTokens(t.Context())
	if err != nil || !slices.Equal(tokens, []string{"fleetform-remote-west-2"}) {
		t.Errorf("tokens on west = %v, %v; want only the rotated one", tokens, err)
	}
}

// TestTwoCluster_ApplyReportsRolledBackMint: when the main output's create
// fails, the credential minted for it is revoked again, and apply reports
// the planned create as skipped (it depends on the output's change, which
// did not apply), saying so.
func TestTwoCluster_ApplyReportsRolledBackMint(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	tc := env.connect(t, ConnectOptions{})
	if err := env.sim.AddFault(faultFor("main", "POST", "/api/fleet/outputs")); err != nil {
		t.Fatal(err)
	}
	res, err := tc.Apply(t.Context(), env.doc, nil, applyOpts())
	if err == nil {
		t.Fatal("apply with a failing output create converged")
	}
	want := []string{
		`west create api_key "fleetform-remote-west-kibana-1": skipped`,
		`west create service_token "fleetform-remote-west-1": skipped`,
	}
	if got := outcomeCredentialLines(res.Outcomes); !slices.Equal(got, want) {
		t.Errorf("apply reported credentials %q, want %q", got, want)
	}
	for _, o := range res.Outcomes {
		if o.Change.Kind == KindServiceToken && (o.Err == nil || !strings.Contains(o.Err.Error(), "was revoked again")) {
			t.Errorf("skipped create says %v, want the rollback", o.Err)
		}
	}
	tokens, err := env.es("west").ServiceTokens(t.Context())
	if err != nil || len(tokens) != 0 {
		t.Errorf("tokens on west = %v, %v; want the minted one revoked", tokens, err)
	}
}
