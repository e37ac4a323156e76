package remote

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/plan"
)

// Prune of remote-side objects.
//
// What fleetform owns on a remote is what its state index says it created:
// owned entries (the follower index, the remote's elasticsearch output, the
// remote-cluster link it created) and rotation journals (the service tokens
// and API keys of an output, named <prefix><generation>). An owned object
// that no declared output needs any more is deleted with --prune, in
// reverse dependency order on each remote (the table of kinds, kinds.go,
// in reverse; each kind's prune is in its file):
//
//  1. the follower index: paused if active, then deleted. Not unfollowed:
//     unfollow (pause, close, unfollow) exists to keep a follower's data as
//     a regular index, and this index is only a copy of the main cluster's
//     fleet-synced-integrations, which stays there. Deleting it ends its
//     shard-follow tasks; the leader's retention lease for it expires by
//     itself (index.soft_deletes.retention_lease.period, 12h by default);
//  2. the service tokens and Kibana API keys, once the main output that
//     carried them is gone (the reconciler deletes it first, with --prune)
//     or holds another credential: revoking a credential in use would cut
//     the output off;
//  3. the remote's elasticsearch output fleetform created (it and the
//     follower, too, wait for the main output's delete: while that output
//     exists, Kibana on the remote syncs its integrations through them);
//  4. the remote-cluster link, last, and only when no declared output and
//     no remaining follower index on that remote uses the alias.
//
// The deletes carry these dependencies (the link's on the follower
// deletes; the credentials', the follower's and the remote output's on
// the main output's change), so the plan's
// order (plan.Sort) is this order, and the reconciler's executor applies
// them in it, after the main cluster's changes.
//
// Without --prune nothing is deleted and the plan lists the objects as
// warnings. The state entries go with the objects, so a second plan is
// empty.

// wantedObjects returns, per remote, what the declared outputs need there,
// as "<kind>/<id>" (the form of owned entries); credentials are keyed by
// the output id of their journal.
func (e *Engine) wantedObjects(ts []target) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, t := range ts {
		want := out[t.cluster.Name]
		if want == nil {
			want = map[string]bool{}
			out[t.cluster.Name] = want
		}
		if f := t.obj.Follower; f != nil {
			want[KindFollower+"/"+f.Index] = true
		}
		if s := t.obj.ESOutput; s != nil {
			want[KindOutput+"/"+s.ID] = true
		}
		if l := t.obj.Link; l != nil {
			want[KindRemoteCluster+"/"+l.Alias] = true
		}
		if t.obj.ServiceToken != nil {
			want[KindServiceToken+"/"+t.out.ID] = true
		}
		if t.obj.KibanaAPIKey != nil {
			want[KindAPIKey+"/"+t.out.ID] = true
		}
	}
	return out
}

// orphan is one owned object no declared output needs.
type orphan struct {
	cluster, kind, id string
	output            string // the output it was created for, when known
	ledgerKind        string // its state entry: LedgerOwned or a journal kind
	ledgerID          string
	entry             Entry
}

func (e *Engine) orphans(ts []target, w *world) []orphan {
	want := e.wantedObjects(ts)
	var out []orphan
	for k, en := range w.ledger {
		cluster, kind, id := k[0], k[1], k[2]
		o := orphan{cluster: cluster, id: id, output: id, ledgerKind: kind, ledgerID: id, entry: en}
		switch kind {
		case LedgerOwned:
			objKind, objID, ok := strings.Cut(id, "/")
			if !ok || objKind != KindFollower && objKind != KindOutput && objKind != KindRemoteCluster {
				continue
			}
			o.kind, o.id, o.output = objKind, objID, en.Data["output"]
		case LedgerJournalToken:
			o.kind = KindServiceToken
		case LedgerJournalAPIKey:
			o.kind = KindAPIKey
		default:
			continue
		}
		if !want[cluster][o.kind+"/"+o.id] {
			out = append(out, o)
		}
	}
	// Prune order: the table of kinds in reverse (followers, credentials,
	// outputs, links), then by kind and name.
	slices.SortFunc(out, func(a, b orphan) int {
		_, ra, _ := remoteKindNamed(a.kind)
		_, rb, _ := remoteKindNamed(b.kind)
		return cmp.Or(strings.Compare(a.cluster, b.cluster), rb-ra, strings.Compare(a.kind, b.kind), strings.Compare(a.id, b.id))
	})
	return out
}

func createdFor(o orphan) string {
	if o.output == "" {
		return "created by fleetform and no longer needed by a declared output"
	}
	return fmt.Sprintf("created by fleetform for output %s, which no longer needs it", o.output)
}

// waitForMainOutput is what the delete of o, created for a main output's
// sync (the follower index, the remote's elasticsearch output), waits
// for: that output's change on the main cluster. While the output exists
// there — its delete failed — Kibana on the remote still syncs its
// integrations through them, so they stay (and the link with the
// follower).
func (e *Engine) waitForMainOutput(o orphan) []string {
	if o.output == "" {
		return nil
	}
	return []string{plan.Key(e.cfg.MainCluster, plan.KindOutput, o.output)}
}

// computePrune adds the deletes of orphaned remote objects (prune), or a
// warning per object (no prune).
func (e *Engine) computePrune(c *computed, ts []target, w *world, prune bool) {
	ledger := e.cfg.Ledger
	forget := func(o orphan) op {
		return op{phase: phaseAfterMain, run: func(ctx context.Context) error {
			return ledger.Delete(ctx, o.cluster, o.ledgerKind, o.ledgerID)
		}}
	}
	deleting := map[string][]string{} // cluster → keys of the deletes a link waits for
	for _, o := range e.orphans(ts, w) {
		cl := e.cfg.Remotes[o.cluster]
		ro := w.remotes[o.cluster]
		if cl == nil || ro == nil {
			msg := fmt.Sprintf("%s %q on cluster %s was %s, but %s is no longer declared under clusters.remotes, so fleetform cannot reach it; declare it again until apply --prune has run, or delete the object by hand",
				o.kind, o.id, o.cluster, createdFor(o), o.cluster)
			if !prune {
				c.warnings = append(c.warnings, msg)
				continue
			}
			c.ops = append(c.ops, op{phase: phaseAfterMain, change: plan.Change{Cluster: o.cluster, Kind: o.kind, ID: o.id,
				Action: plan.Blocked, Reason: msg}})
			continue
		}
		if o.ledgerKind == LedgerOwned && isPending(o.entry) {
			// Created only if it exists as journalled; otherwise the create
			// never happened (or someone else's object took the name).
			if mine, ok := recognised(o.entry, ro); ok && !mine {
				if prune {
					c.hidden = append(c.hidden, forget(o))
				}
				continue
			}
		}
		k, _, ok := remoteKindNamed(o.kind)
		if !ok || k.prune == nil {
			continue
		}
		ops := k.prune(e, o, cl, ro, deleting[o.cluster])
		if k.linkUser {
			for _, x := range ops {
				deleting[o.cluster] = append(deleting[o.cluster], x.change.Key())
			}
		}
		if !prune {
			for _, x := range ops {
				c.warnings = append(c.warnings, fmt.Sprintf("%s %q on cluster %s is owned by fleetform but no longer needed; apply with --prune deletes it",
					x.change.Kind, x.change.ID, x.change.Cluster))
			}
			continue
		}
		switch {
		case k.keepsJournal:
			// One revoke of several may fail: the journal goes only when a
			// fresh listing finds none of the output's credentials.
			c.ops = append(c.ops, ops...)
			c.hidden = append(c.hidden, e.forgetCredentials(o, cl, forget(o)))
		case len(ops) == 0: // the object is gone already
			c.hidden = append(c.hidden, forget(o))
		default:
			for _, x := range ops {
				if run := x.run; run != nil {
					x.run = func(ctx context.Context) error {
						if err := run(ctx); err != nil {
							return err
						}
						return ledger.Delete(ctx, o.cluster, o.ledgerKind, o.ledgerID)
					}
				}
				c.ops = append(c.ops, x)
			}
		}
	}
}
