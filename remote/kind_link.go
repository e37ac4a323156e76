package remote

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/plan"
)

// The remote-cluster link (kind remote_cluster): the cluster.remote.<alias>.*
// persistent settings through which a remote reaches the main cluster for
// CCR. Planned from the output's remote's main_link; applied before its
// follower needs it (the follower depends on it); created through
// createOwned (owned.go), so only a link fleetform created is ever pruned,
// last on its remote and only when no follower replicates through it.
// Like every remote object made for an output, it depends on the main
// output's change (forMainOutput), so a main output that is blocked or
// fails leaves no link behind without its follower.

func (e *Engine) planLink(c *computed, t target, ro *remoteObs, _ *world, _ *plan.Plan) {
	l := t.obj.Link
	if l == nil {
		return
	}
	diff := LinkDiff(*l, ro.settings)
	if diff == nil {
		return
	}
	ch := plan.Change{Cluster: t.cluster.Name, Kind: KindRemoteCluster, ID: l.Alias, Action: plan.Update,
		Reason: fmt.Sprintf("how %s reaches the main cluster for CCR", t.cluster.Name), DependsOn: e.forMainOutput(t)}
	prefix := "cluster.remote." + l.Alias + "."
	exists := false
	for k := range ro.settings {
		if strings.HasPrefix(k, prefix) {
			exists = true
		}
	}
	if !exists {
		ch.Action = plan.Create
	}
	for _, k := range slices.Sorted(maps.Keys(diff)) {
		ch.Fields = append(ch.Fields, plan.FieldDiff{Path: strings.TrimPrefix(k, prefix), Before: ro.settings[k], After: diff[k]})
	}
	es, cluster, output := t.cluster.ES, t.cluster.Name, t.out.ID
	put := func(ctx context.Context) error { return es.PutClusterSettings(ctx, diff, nil) }
	run := put // a link fleetform only updates is not its own to delete
	if ch.Action == plan.Create {
		run = func(ctx context.Context) error {
			return e.createOwned(ctx, cluster, KindRemoteCluster, l.Alias, map[string]string{ownedOutput: output}, put)
		}
	}
	c.ops = append(c.ops, op{change: ch, phase: phaseAsPlanned, run: run})
}

func (e *Engine) pruneLink(o orphan, cl *Cluster, ro *remoteObs, followerDeletes []string) []op {
	prefix := "cluster.remote." + o.id + "."
	settings := map[string]any{}
	for k := range ro.settings {
		if strings.HasPrefix(k, prefix) {
			settings[k] = nil
		}
	}
	if len(settings) == 0 {
		return nil
	}
	ch := plan.Change{Cluster: o.cluster, Kind: KindRemoteCluster, ID: o.id, Action: plan.Delete, Reason: createdFor(o),
		DependsOn: slices.Clone(followerDeletes)}
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		ch.Fields = append(ch.Fields, plan.FieldDiff{Path: strings.TrimPrefix(k, prefix), Before: ro.settings[k]})
	}
	// A follower that stays (not ours, or still declared) keeps the link.
	var users []string
	for name, f := range ro.followers {
		if f.Follower && f.RemoteCluster == o.id && !slices.Contains(followerDeletes, plan.Key(o.cluster, KindFollower, name)) {
			users = append(users, name)
		}
	}
	if len(users) > 0 {
		slices.Sort(users)
		ch.Action = plan.Blocked
		ch.Reason = fmt.Sprintf("%s, but follower index %s still replicates through it", createdFor(o), strings.Join(users, ", "))
		return []op{{change: ch, phase: phaseAfterMain}}
	}
	es := cl.ES
	return []op{{change: ch, phase: phaseAfterMain, run: func(ctx context.Context) error {
		return es.PutClusterSettings(ctx, settings, nil)
	}}}
}
