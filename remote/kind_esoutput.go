package remote

import (
	"context"
	"slices"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
)

// The remote's own elasticsearch output (kind output on a remote): Kibana
// on the remote syncs integrations only when one of its elasticsearch
// outputs has the hosts of the main cluster's remote_elasticsearch output
// (sync_via: ccr). Created with a fleetform id through createOwned
// (owned.go), updated when its hosts drift, pruned when no declared output
// needs it. It depends on the main output's change (forMainOutput).

func (e *Engine) planESOutput(c *computed, t target, ro *remoteObs, w *world, _ *plan.Plan) {
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
			c.hidden = append(c.hidden, op{phase: phaseAfterMain, run: func(ctx context.Context) error { return ledger.Put(ctx, en) }})
		}
		hs, _ := NormalizeHosts(stringList(have["hosts"]))
		if slices.Equal(hs, s.Hosts) {
			return
		}
		ch := plan.Change{Cluster: t.cluster.Name, Kind: KindOutput, ID: s.ID, Name: s.Name, Action: plan.Update,
			Fields: []plan.FieldDiff{{Path: "hosts", Before: hs, After: s.Hosts}}, DependsOn: e.forMainOutput(t),
			Reason: "must equal the hosts of output " + t.out.ID + " for the remote to accept the sync"}
		c.ops = append(c.ops, op{change: ch, phase: phaseAsPlanned, run: func(ctx context.Context) error {
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
		Fields:    []plan.FieldDiff{{Path: "hosts", After: s.Hosts}, {Path: "name", After: s.Name}, {Path: "type", After: "elasticsearch"}},
		DependsOn: e.forMainOutput(t),
		Reason:    "Kibana on the remote syncs only when one of its own elasticsearch outputs has the host of output " + t.out.ID}
	cluster, output := t.cluster.Name, t.out.ID
	c.ops = append(c.ops, op{change: ch, phase: phaseAsPlanned, run: func(ctx context.Context) error {
		return e.createOwned(ctx, cluster, KindOutput, s.ID, map[string]string{ownedOutput: output}, func(ctx context.Context) error {
			body := map[string]any{"id": s.ID, "name": s.Name, "type": "elasticsearch", "hosts": s.Hosts,
				"is_default": false, "is_default_monitoring": false}
			_, err := kb.CreateOutput(ctx, body)
			return err
		})
	}})
}

func (e *Engine) pruneESOutput(o orphan, cl *Cluster, ro *remoteObs, _ []string) []op {
	if ro.outputs == nil {
		if cl.Kibana != nil {
			return nil
		}
		return []op{{phase: phaseAfterMain, change: plan.Change{Cluster: o.cluster, Kind: KindOutput, ID: o.id, Action: plan.Blocked,
			Reason: createdFor(o) + "; deleting it needs clusters.remotes[" + o.cluster + "].kibana"}}}
	}
	have, ok := ro.outputs[o.id]
	if !ok {
		return nil
	}
	ch := plan.Change{Cluster: o.cluster, Kind: KindOutput, ID: o.id, Name: have.Name(), Action: plan.Delete, Reason: createdFor(o),
		Fields: []plan.FieldDiff{{Path: "hosts", Before: stringList(have["hosts"])}}, DependsOn: e.waitForMainOutput(o)}
	kb, id := cl.Kibana, o.id
	return []op{{change: ch, phase: phaseAfterMain, run: func(ctx context.Context) error {
		if err := kb.DeleteOutput(ctx, id); err != nil && !kibana.IsNotFound(err) {
			return err
		}
		return nil
	}}}
}
