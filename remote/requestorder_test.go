package remote

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/esim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
)

// changeOfWrite names the plan change a write request of the log carries
// out, or "" for a write no change stands for (the state index).
// Credentials are minted while the main output that takes them is
// applied: their writes belong to that output's change.
func changeOfWrite(p *plan.Plan, r fleetsim.Request) string {
	if esim.ReadOnly(r.Method, r.Path) || strings.Contains(r.Path, "fleetform-state") || strings.HasSuffix(r.Path, "/_pit") {
		return ""
	}
	has := func(cluster, kind, id string) string {
		if _, ok := findChange(p, cluster, kind, id); ok {
			return plan.Key(cluster, kind, id)
		}
		return "?" + plan.Key(cluster, kind, id)
	}
	seg := strings.Split(strings.Trim(r.Path, "/"), "/")
	switch {
	case r.Listener == "kibana" && strings.HasPrefix(r.Path, "/api/fleet/outputs"):
		if len(seg) == 4 {
			return has(r.Cluster, plan.KindOutput, seg[3])
		}
		for _, ch := range p.Changes { // a create: any output create of that cluster (they are one wave)
			if ch.Cluster == r.Cluster && ch.Kind == plan.KindOutput && ch.Action == plan.Create {
				return ch.Key()
			}
		}
	case r.Listener == "kibana" && strings.HasPrefix(r.Path, "/api/fleet/epm/packages/"):
		return has(r.Cluster, plan.KindPackage, seg[4])
	case r.Path == "/_cluster/settings":
		return has(r.Cluster, KindRemoteCluster, "main")
	case strings.HasPrefix(r.Path, "/"+FollowerPrefix):
		return has(r.Cluster, KindFollower, seg[0])
	case strings.Contains(r.Path, "/credential/token/"):
		name := seg[len(seg)-1]
		if ch, ok := findChange(p, r.Cluster, KindServiceToken, name); ok && ch.Action == plan.Delete {
			return ch.Key()
		}
		// Minted while its output (fleetform-<output>-<generation>) is applied on main.
		out := strings.TrimPrefix(name[:strings.LastIndex(name, "-")], "fleetform-")
		return has("main", plan.KindOutput, out)
	case r.Path == "/_security/api_key":
		for _, ch := range p.Changes {
			if r.Method == "DELETE" && ch.Cluster == r.Cluster && ch.Kind == KindAPIKey && ch.Action == plan.Delete {
				return ch.Key()
			}
			// Minted while the output that takes it is applied on main.
			if r.Method != "DELETE" && ch.Cluster == "main" && ch.Kind == plan.KindOutput && ch.Action != plan.Delete &&
				slices.ContainsFunc(ch.Fields, func(f plan.FieldDiff) bool { return f.Path == "kibana_api_key" }) {
				return ch.Key()
			}
		}
	}
	return "?" + r.Cluster + " " + r.Method + " " + r.Path
}

// TestTwoCluster_RequestLogFollowsThePlan: the order of the writes as
// fleetsim's request log records them on both clusters is the plan's
// order: each write belongs to a change of the plan, and no write of a
// change comes after a write of a change the plan puts in a later wave.
func TestTwoCluster_RequestLogFollowsThePlan(t *testing.T) {
	t.Run("ccr", func(t *testing.T) { testRequestLogFollowsThePlan(t, pruneBody, withoutOutput, "enterprise") })
	t.Run("direct", func(t *testing.T) {
		testRequestLogFollowsThePlan(t, waveBody, strings.Replace(waveBody, "  - {name: apache, version: 1.24.0}\n", "", 1), "basic")
	})
	// A package upgraded on main is upgraded on west too.
	t.Run("direct upgrade", func(t *testing.T) {
		testRequestLogFollowsThePlan(t, waveBody, strings.Replace(waveBody, "{name: nginx, version: 2.0.0}", "{name: nginx, version: 2.1.0}", 1), "basic")
	})
	// The package pruned on main is uninstalled on west too: the plan must
	// show it, and apply do it in its place.
	t.Run("direct uninstalled", func(t *testing.T) {
		body := strings.Replace(waveBody, "    sync_via: direct\n", "    sync_via: direct\n    sync_uninstalled_integrations: true\n", 1)
		testRequestLogFollowsThePlan(t, body, strings.Replace(body, "  - {name: apache, version: 1.24.0}\n", "", 1), "basic")
	})
}

func testRequestLogFollowsThePlan(t *testing.T, body, pruned, license string) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: license}, {Name: "west", License: license}}, body)
	ctx := t.Context()
	if _, err := env.kibana(t, "west").UpdateOutput(ctx, "fleet-default-output", map[string]any{"hosts": []string{"https://west-ingest.example:9200"}}); err != nil {
		t.Fatal(err)
	}
	check := func(what string, opts ConnectOptions) {
		t.Helper()
		tc := env.connect(t, opts)
		p := mustPlan(t, tc, env.doc)
		wave := map[string]int{}
		for i, ch := range p.Changes {
			w := i
			if i > 0 {
				prev := p.Changes[i-1]
				if prev.Cluster == ch.Cluster && prev.Kind == ch.Kind && (prev.Action == plan.Delete) == (ch.Action == plan.Delete) {
					w = wave[prev.Key()]
				}
			}
			wave[ch.Key()] = w
		}
		env.sim.ClearRequests()
		if _, err := tc.Apply(ctx, env.doc, nil, reconciler.ApplyOptions{Revision: "test", Prune: opts.Prune}); err != nil {
			t.Fatalf("%s: apply: %v", what, err)
		}
		var seq []string
		maxWave := -1
		for _, r := range env.sim.Requests() {
			key := changeOfWrite(p, r)
			if key == "" {
				continue
			}
			seq = append(seq, fmt.Sprintf("%s %s %s → %s", r.Cluster, r.Method, r.Path, key))
			w, ok := wave[key]
			if !ok {
				t.Errorf("%s: write %s %s %s belongs to no change of the plan (%s)", what, r.Cluster, r.Method, r.Path, key)
				continue
			}
			if w < maxWave {
				t.Errorf("%s: write %s %s %s (%s) comes after a write of a change the plan puts after it\nplan: %v\nwrites:\n%s", what, r.Cluster, r.Method, r.Path, key, keys(p), strings.Join(seq, "\n"))
				return
			}
			maxWave = w
		}
		if len(seq) == 0 {
			t.Errorf("%s: no write recorded", what)
		}
		t.Logf("%s writes:\n%s", what, strings.Join(seq, "\n"))
		if p := mustPlan(t, env.connect(t, opts), env.doc); !p.Empty() {
			t.Errorf("%s: plan after apply is not empty:\n%s", what, planText(p))
		}
	}
	check("first apply", ConnectOptions{})
	env.load(t, pruned)
	check("second apply (--prune)", ConnectOptions{Prune: true})
}
