package remote

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/plan"
)

// The follower index (kind follower_index): the remote's CCR copy of the
// main cluster's fleet-synced-integrations index, through the link.
// DecideFollower (desired.go) decides create,
// resume, recreate or blocked; the follower depends on the main output
// (whose creation makes Kibana create the leader index) and on its link.
// Pruned first on its remote: paused, then deleted.

func (e *Engine) planFollower(c *computed, t target, ro *remoteObs, w *world, _ *plan.Plan) {
	f := t.obj.Follower
	if f == nil {
		return
	}
	have := ro.followers[f.Index]
	owned := w.ownedObject(t.cluster.Name, KindFollower, f.Index)
	step, why := DecideFollower(*f, have, owned)
	if step == FollowerOK {
		return
	}
	ch := plan.Change{Cluster: t.cluster.Name, Kind: KindFollower, ID: f.Index, Reason: why, DependsOn: e.forMainOutput(t)}
	if t.obj.Link != nil {
		ch.DependsOn = append(ch.DependsOn, plan.Key(t.cluster.Name, KindRemoteCluster, t.obj.Link.Alias))
	}
	es, cluster, output := t.cluster.ES, t.cluster.Name, t.out.ID
	create := func(ctx context.Context) error {
		data := map[string]string{ownedOutput: output, ownedRemoteCluster: f.RemoteCluster, ownedLeaderIndex: f.LeaderIndex}
		return e.createOwned(ctx, cluster, KindFollower, f.Index, data, func(ctx context.Context) error {
			return follow(ctx, es, f.Index, f.RemoteCluster, f.LeaderIndex)
		})
	}
	var run func(ctx context.Context) error
	switch step {
	case FollowerCreate:
		ch.Action = plan.Create
		ch.Fields = []plan.FieldDiff{{Path: "leader_index", After: f.LeaderIndex}, {Path: "remote_cluster", After: f.RemoteCluster}}
		run = create
	case FollowerResume:
		ch.Action = plan.Update
		ch.Fields = []plan.FieldDiff{{Path: "status", Before: "paused", After: "active"}}
		run = func(ctx context.Context) error { return es.CCRResume(ctx, f.Index) }
	case FollowerRecreate:
		ch.Action = plan.Update
		ch.Reason = "recreate: " + why
		ch.Fields = []plan.FieldDiff{{Path: "leader_index", Before: have.LeaderIndex, After: f.LeaderIndex},
			{Path: "remote_cluster", Before: have.RemoteCluster, After: f.RemoteCluster}}
		run = func(ctx context.Context) error {
			if have.Follower && have.Status == "active" {
				_ = es.CCRPause(ctx, f.Index) // best effort: the index is deleted next anyway
			}
			if err := deleteIndex(ctx, es, f.Index); err != nil {
				return err
			}
			return create(ctx)
		}
	case FollowerBlocked:
		ch.Action = plan.Blocked
	}
	c.ops = append(c.ops, op{change: ch, phase: phaseAfterMain, run: run})
}

func (e *Engine) pruneFollower(o orphan, cl *Cluster, ro *remoteObs, _ []string) []op {
	have, ok := ro.followers[o.id]
	if !ok {
		return nil // already gone; the state entry is dropped
	}
	ch := plan.Change{Cluster: o.cluster, Kind: KindFollower, ID: o.id, Action: plan.Delete, Reason: createdFor(o), DependsOn: e.waitForMainOutput(o)}
	if have.Follower {
		ch.Fields = []plan.FieldDiff{{Path: "leader_index", Before: have.LeaderIndex}, {Path: "remote_cluster", Before: have.RemoteCluster}}
	}
	es, index := cl.ES, o.id
	return []op{{change: ch, phase: phaseAfterMain, run: func(ctx context.Context) error {
		if have.Follower && have.Status == "active" {
			if err := es.CCRPause(ctx, index); err != nil && !elastic.IsNotFound(err) {
				return fmt.Errorf("pause follower: %w", err)
			}
		}
		return deleteIndex(ctx, es, index)
	}}}
}

// keepOwnFollowers points each output at the follower index fleetform
// created for it, when that one is named otherwise than the output's name
// gives now (the output was renamed): Kibana on the remote reads whichever
// index matches fleet-synced-integrations-ccr-* and refuses more than one
// (x-pack/platform/plugins/shared/fleet/server/tasks/sync_integrations/
// sync_integrations_on_remote.ts), so a second follower under the new
// name would break the sync, and the old one serves as well.
func keepOwnFollowers(ts []target, w *world) {
	for i := range ts {
		t := &ts[i]
		f := t.obj.Follower
		if f == nil || w.ownedObject(t.cluster.Name, KindFollower, f.Index) {
			continue
		}
		var own []string
		for k, en := range w.ledger {
			name, ok := strings.CutPrefix(k[2], KindFollower+"/")
			if ok && k[0] == t.cluster.Name && k[1] == LedgerOwned && en.Data[ownedOutput] == t.out.ID && !isPending(en) {
				own = append(own, name)
			}
		}
		if len(own) == 0 {
			continue
		}
		slices.Sort(own)
		kept := *f
		kept.Index = own[0]
		t.obj.Follower = &kept
	}
}
