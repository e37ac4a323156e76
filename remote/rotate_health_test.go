package remote

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
)

// TestRotate_UnhealthyOutputWithAgentsKeepsOldToken: rotate of an output
// that agents use and that never reports healthy swaps the new token in but
// does not revoke the old one; it fails with ErrNotHealthy. Once Fleet
// Server reports the output healthy, the next run revokes the old token.
func TestRotate_UnhealthyOutputWithAgentsKeepsOldToken(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	out := "remote-west"
	seed := &fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": {
		AgentPolicies: []fleetsim.SeedAgentPolicy{{ID: "edge", Name: "Edge", Namespace: "default", DataOutputID: &out, Agents: 4}},
	}}}
	tc := env.connect(t, ConnectOptions{HealthTimeout: -1})
	mustApply(t, tc, env.doc)
	if err := env.sim.Seed(seed); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	res, err := tc.Engine.Rotate(ctx, env.doc, out)
	if !errors.Is(err, ErrNotHealthy) {
		t.Fatalf("rotate of an output that never reported healthy = %v, want %v", err, ErrNotHealthy)
	}
	i := slices.IndexFunc(res, func(r CredentialRotation) bool { return r.Kind == KindServiceToken })
	if i < 0 || res[i].Kept != "fleetform-remote-west-1" || res[i].Agents != 4 || res[i].Rotated {
		t.Fatalf("results = %+v", res)
	}
	tokens, err := env.es("west").ServiceTokens(ctx)
	if err != nil || !slices.Equal(tokens, []string{"fleetform-remote-west-1", "fleetform-remote-west-2"}) {
		t.Fatalf("tokens on west = %v, %v; want the old one kept beside the new one", tokens, err)
	}
	checkOutputTokenWorks(t, env)
	p := mustPlan(t, tc, env.doc)
	if ch, ok := findChange(p, "west", KindServiceToken, "fleetform-remote-west-2"); !ok ||
		!strings.Contains(ch.Reason, "fleetform-remote-west-1 is revoked once the output reports healthy") {
		t.Errorf("plan while the old token is kept:\n%s", planText(p))
	}
	if _, err := tc.Apply(ctx, env.doc, nil, applyOpts()); !errors.Is(err, ErrNotHealthy) {
		t.Errorf("apply while the output is unhealthy = %v, want %v", err, ErrNotHealthy)
	}
	if tokens, _ := env.es("west").ServiceTokens(ctx); !slices.Contains(tokens, "fleetform-remote-west-1") {
		t.Error("apply revoked the kept token while the output is unhealthy")
	}

	// Fleet Server reports the output healthy: the next rotate run finishes
	// the kept rotation, revoking the old token.
	main := env.es("main")
	doc := map[string]any{"@timestamp": time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano), "output": out, "state": "HEALTHY", "message": ""}
	if _, err := main.IndexDoc(ctx, "logs-fleet_server.output_health-default", "", doc, elastic.IndexOptions{Refresh: "true"}); err != nil {
		t.Fatal(err)
	}
	res, err = tc.Engine.Rotate(ctx, env.doc, out)
	if err != nil {
		t.Fatalf("rotate once healthy: %v (%+v)", err, res)
	}
	if tokens, _ := env.es("west").ServiceTokens(ctx); slices.Contains(tokens, "fleetform-remote-west-1") {
		t.Errorf("tokens on west = %v: the kept token was never revoked", tokens)
	}
	checkOutputTokenWorks(t, env)
}
