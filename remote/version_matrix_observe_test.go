package remote

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// mainKeys are the plan keys of the outputs and packages main holds.
func (m *matrixRow) mainKeys(t *testing.T) map[string]bool {
	t.Helper()
	kb := m.env.kibana(t, "main")
	outs, err := kb.ListOutputs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, o := range outs {
		out[plan.Key("main", plan.KindOutput, o.ID())] = true
	}
	for name := range m.env.installedOn(t, "main") {
		out[plan.Key("main", plan.KindPackage, name)] = true
	}
	return out
}

// westKeys are the plan keys of the objects of fleetform's remote kinds
// west holds: links (by alias), outputs, service tokens, API keys (not
// invalidated), follower indices and installed packages.
func (m *matrixRow) westKeys(t *testing.T) map[string]bool {
	t.Helper()
	ctx := t.Context()
	west := m.env.es("west")
	out := map[string]bool{}
	add := func(kind, id string) { out[plan.Key("west", kind, id)] = true }
	cs, err := west.GetClusterSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k := range cs.Persistent {
		if rest, ok := strings.CutPrefix(k, "cluster.remote."); ok {
			alias, _, _ := strings.Cut(rest, ".")
			add(KindRemoteCluster, alias)
		}
	}
	outs, err := m.env.kibana(t, "west").ListOutputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		add(KindOutput, o.ID())
	}
	tokens, err := west.ServiceTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range tokens {
		add(KindServiceToken, n)
	}
	keys, err := apiKeys(ctx, west.Client, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		add(KindAPIKey, k.Name)
	}
	fs, err := west.Followers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range fs {
		if f.Exists {
			add(KindFollower, name)
		}
	}
	for name := range m.env.installedOn(t, "west") {
		add(KindPackage, name)
	}
	return out
}

// checkNothingHalfMade checks the remote after an apply: a link only with
// a follower replicating through it, no object fleetform makes for an
// output that main does not have, and every generated credential on the
// remote held by its output and recorded as its journal's current one.
func (m *matrixRow) checkNothingHalfMade(t *testing.T, round string, doc *schema.Document) {
	t.Helper()
	ctx := t.Context()
	env, west := m.env, m.env.es("west")
	mainHas := m.mainKeys(t)
	ledger := loadLedger(t, m.tc)
	cs, err := west.GetClusterSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := west.Followers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := west.ServiceTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := apiKeys(ctx, west.Client, "fleetform-")
	if err != nil {
		t.Fatal(err)
	}
	outs, err := env.kibana(t, "west").ListOutputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k := range cs.Persistent {
		alias, ok := strings.CutPrefix(k, "cluster.remote.")
		alias, _, _ = strings.Cut(alias, ".")
		if ok && !slices.ContainsFunc(mapValues(fs), func(f FollowerObserved) bool { return f.Follower && f.RemoteCluster == alias }) {
			t.Errorf("%s: west has the link %s (%s) and no follower replicating through it", round, alias, k)
			break
		}
	}
	for _, o := range doc.Outputs {
		if mainHas[plan.Key("main", plan.KindOutput, o.ID)] {
			continue
		}
		obj, _ := Desired(o, schema.Remote{Name: "west"})
		if f := obj.Follower; f != nil && fs[f.Index].Exists {
			t.Errorf("%s: output %s is not on main, yet west has its follower %s", round, o.ID, f.Index)
		}
		if s := obj.ESOutput; s != nil && slices.ContainsFunc(outs, func(x kibana.Output) bool { return x.ID() == s.ID }) {
			t.Errorf("%s: output %s is not on main, yet west has its elasticsearch output %s", round, o.ID, s.ID)
		}
		for k, en := range ledger {
			if k[0] == "west" && k[1] == LedgerOwned && en.Data[ownedOutput] == o.ID {
				t.Errorf("%s: output %s is not on main, yet the state records %s on west as made for it", round, o.ID, k[2])
			}
		}
		if obj.SyncVia == SyncViaDirect {
			if got := env.installedOn(t, "west"); !maps.Equal(got, m.before) {
				t.Errorf("%s: output %s (sync_via: direct) is not on main, yet west's packages went from %v to %v", round, o.ID, m.before, got)
			}
		}
	}
	// Every generated credential on west is its output's current one.
	var names []string
	names = append(names, tokens...)
	for _, k := range keys {
		names = append(names, k.Name)
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "fleetform-") {
			continue
		}
		held := false
		for _, o := range doc.Outputs {
			obj, _ := Desired(o, schema.Remote{Name: "west"})
			for _, c := range []struct {
				prefix, ledger string
			}{{prefixOf(obj.ServiceToken), LedgerJournalToken}, {keyPrefixOf(obj.KibanaAPIKey), LedgerJournalAPIKey}} {
				if c.prefix == "" || !isGeneration(n, c.prefix) {
					continue
				}
				j := ledger.journal("west", c.ledger, o.ID)
				if !mainHas[plan.Key("main", plan.KindOutput, o.ID)] || j.Phase != PhaseIdle || j.Current != n {
					t.Errorf("%s: credential %s of output %s is on west, but the output is on main: %v, its journal: %+v", round, n, o.ID,
						mainHas[plan.Key("main", plan.KindOutput, o.ID)], j)
				}
				held = true
			}
		}
		if !held {
			t.Errorf("%s: credential %s on west belongs to no declared output", round, n)
		}
	}
}

func prefixOf(s *TokenSpec) string {
	if s == nil {
		return ""
	}
	return s.Prefix
}

func keyPrefixOf(s *APIKeySpec) string {
	if s == nil {
		return ""
	}
	return s.Prefix
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
