package remote

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/plan"
)

// The CCR objects of an output on its remote: the remote-cluster link to
// main, the remote's own elasticsearch output and the follower index.
// Creates go through createOwned (owned.go).

func (e *Engine) computeLink(c *computed, t target, ro *remoteObs) {
	l := t.obj.Link
	if l == nil {
		return
	}
	diff := LinkDiff(*l, ro.settings)
	if diff == nil {
		return
	}
	ch := plan.Change{Cluster: t.cluster.Name, Kind: KindRemoteCluster, ID: l.Alias, Action: plan.Update,
		Reason: fmt.Sprintf("how %s reaches the main cluster for CCR", t.cluster.Name)}
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
	c.ops = append(c.ops, op{change: ch, phase: phasePre, run: run})
}

func (e *Engine) computeESOutput(c *computed, t target, ro *remoteObs, w *world) {
	s := t.obj.ESOutput
	if s == nil || t.cluster.Kibana == nil || ro.outputs == nil {
		return
	}
	kb := t.cluster.Kibana
	if have, ok := ro.outputs[s.ID]; ok {
		if _, recorded := w.ledger.get(t.cluster.Name, LedgerOwned, KindOutput+"/"+s.ID); !recorded {
			// Its id (fleetform-sync-<output>) is fleetform's own: a run
			// that created it and lost the record (older versions recorded
			// after the create) made it, so it is recorded as owned.
			ledger, en := e.cfg.Ledger, Entry{Cluster: t.cluster.Name, Kind: LedgerOwned, ID: KindOutput + "/" + s.ID,
				Data: map[string]string{ownedOutput: t.out.ID}, AppliedAt: e.cfg.Now()}
			c.hidden = append(c.hidden, op{phase: phasePost, run: func(ctx context.Context) error { return ledger.Put(ctx, en) }})
		}
		hs, _ := NormalizeHosts(stringList(have["hosts"]))
		if slices.Equal(hs, s.Hosts) {
			return
		}
		ch := plan.Change{Cluster: t.cluster.Name, Kind: KindOutput, ID: s.ID, Name: s.Name, Action: plan.Update,
			Fields: []plan.FieldDiff{{Path: "hosts", Before: hs, After: s.Hosts}},
			Reason: "must equal the hosts of output " + t.out.ID + " for the remote to accept the sync"}
		c.ops = append(c.ops, op{change: ch, phase: phasePre, run: func(ctx context.Context) error {
			_, err := kb.UpdateOutput(ctx, s.ID, map[string]any{"hosts": s.Hosts})
			return err
		}})
		return
	}
	for _, o := range ro.outputs {
		if o.Type() != "elasticsearch" {
			continue
		}
		if hs, _ := NormalizeHosts(stringList(o["hosts"])); hostsIntersect(hs, s.Hosts) {
			return // the remote already has a matching elasticsearch output
		}
	}
	ch := plan.Change{Cluster: t.cluster.Name, Kind: KindOutput, ID: s.ID, Name: s.Name, Action: plan.Create,
		Fields: []plan.FieldDiff{{Path: "hosts", After: s.Hosts}, {Path: "name", After: s.Name}, {Path: "type", After: "elasticsearch"}},
		Reason: "Kibana on the remote syncs only when one of its own elasticsearch outputs has the host of output " + t.out.ID}
	cluster, output := t.cluster.Name, t.out.ID
	c.ops = append(c.ops, op{change: ch, phase: phasePre, run: func(ctx context.Context) error {
		return e.createOwned(ctx, cluster, KindOutput, s.ID, map[string]string{ownedOutput: output}, func(ctx context.Context) error {
			body := map[string]any{"id": s.ID, "name": s.Name, "type": "elasticsearch", "hosts": s.Hosts,
				"is_default": false, "is_default_monitoring": false}
			_, err := kb.CreateOutput(ctx, body)
			return err
		})
	}})
}

func (e *Engine) computeFollower(c *computed, t target, ro *remoteObs, w *world) {
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
	ch := plan.Change{Cluster: t.cluster.Name, Kind: KindFollower, ID: f.Index, Reason: why,
		DependsOn: []string{plan.Key(e.cfg.MainCluster, plan.KindOutput, t.out.ID)}}
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
	c.ops = append(c.ops, op{change: ch, phase: phasePost, run: run})
}
