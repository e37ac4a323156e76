package remote

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
)

// Prune of remote-side objects.
//
// What fleetform owns on a remote is what its state index says it created:
// owned entries (the follower index, the remote's elasticsearch output, the
// remote-cluster link it created) and rotation journals (the service tokens
// and API keys of an output, named <prefix><generation>). An owned object
// that no declared output needs any more is deleted with --prune, in
// reverse dependency order on each remote:
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
//  3. the remote's elasticsearch output fleetform created;
//  4. the remote-cluster link, last, and only when no declared output and
//     no remaining follower index on that remote uses the alias.
//
// This is the plan's order (plan.Compare ranks the remote kinds), and
// apply runs each phase's remote changes in it.
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
	// Apply order: followers, credentials, outputs, links; then by name.
	rank := map[string]int{KindFollower: 0, KindAPIKey: 1, KindServiceToken: 2, KindOutput: 3, KindRemoteCluster: 4}
	slices.SortFunc(out, func(a, b orphan) int {
		if c := strings.Compare(a.cluster, b.cluster); c != 0 {
			return c
		}
		if a.kind != b.kind {
			return rank[a.kind] - rank[b.kind]
		}
		return strings.Compare(a.id, b.id)
	})
	return out
}

func createdFor(o orphan) string {
	if o.output == "" {
		return "created by fleetform and no longer needed by a declared output"
	}
	return fmt.Sprintf("created by fleetform for output %s, which no longer needs it", o.output)
}

// computePrune adds the deletes of orphaned remote objects (prune), or a
// warning per object (no prune).
func (e *Engine) computePrune(c *computed, ts []target, w *world, prune bool) {
	ledger := e.cfg.Ledger
	forget := func(o orphan) op {
		return op{phase: phasePost, run: func(ctx context.Context) error {
			return ledger.Delete(ctx, o.cluster, o.ledgerKind, o.ledgerID)
		}}
	}
	deleting := map[string][]string{} // cluster → keys of follower deletes
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
			c.ops = append(c.ops, op{phase: phasePost, change: plan.Change{Cluster: o.cluster, Kind: o.kind, ID: o.id,
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
		var ops []op
		switch o.kind {
		case KindFollower:
			ops = e.pruneFollower(o, cl, ro)
			for _, x := range ops {
				deleting[o.cluster] = append(deleting[o.cluster], x.change.Key())
			}
		case KindOutput:
			ops = e.pruneOutput(o, cl, ro)
		case KindServiceToken, KindAPIKey:
			ops = e.pruneCredentials(o, cl, ro)
		case KindRemoteCluster:
			ops = e.pruneLink(o, cl, ro, w, deleting[o.cluster])
		}
		if !prune {
			for _, x := range ops {
				c.warnings = append(c.warnings, fmt.Sprintf("%s %q on cluster %s is owned by fleetform but no longer needed; apply with --prune deletes it",
					x.change.Kind, x.change.ID, x.change.Cluster))
			}
			continue
		}
		switch {
		case o.kind == KindServiceToken || o.kind == KindAPIKey:
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

// forgetCredentials drops a credential journal once the output's
// credentials are all gone from the remote.
func (e *Engine) forgetCredentials(o orphan, cl *Cluster, forget op) op {
	return op{phase: phasePost, run: func(ctx context.Context) error {
		names, err := e.credentialNames(ctx, o, cl)
		if err != nil || len(names) > 0 {
			return err // keep the journal: the next prune tries again
		}
		return forget.run(ctx)
	}}
}

func credentialPrefix(o orphan) string {
	prefix := "fleetform-" + sanitizeName(o.output) + "-"
	if o.kind == KindAPIKey {
		prefix += "kibana-"
	}
	return prefix
}

// credentialNames lists the credentials of o's output that exist on its remote.
func (e *Engine) credentialNames(ctx context.Context, o orphan, cl *Cluster) ([]string, error) {
	prefix := credentialPrefix(o)
	var names []string
	if o.kind == KindServiceToken {
		all, err := serviceTokens(ctx, cl.ES)
		if err != nil {
			return nil, err
		}
		names = all
	} else {
		keys, err := apiKeys(ctx, cl.ES, prefix)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			names = append(names, k.Name)
		}
	}
	return slices.DeleteFunc(names, func(n string) bool { return !isGeneration(n, prefix) }), nil
}

func (e *Engine) pruneFollower(o orphan, cl *Cluster, ro *remoteObs) []op {
	have, ok := ro.followers[o.id]
	if !ok {
		return nil // already gone; the state entry is dropped
	}
	ch := plan.Change{Cluster: o.cluster, Kind: KindFollower, ID: o.id, Action: plan.Delete, Reason: createdFor(o)}
	if have.Follower {
		ch.Fields = []plan.FieldDiff{{Path: "leader_index", Before: have.LeaderIndex}, {Path: "remote_cluster", Before: have.RemoteCluster}}
	}
	es, index := cl.ES, o.id
	return []op{{change: ch, phase: phasePost, run: func(ctx context.Context) error {
		if have.Follower && have.Status == "active" {
			if err := es.CCRPause(ctx, index); err != nil && !elastic.IsNotFound(err) {
				return fmt.Errorf("pause follower: %w", err)
			}
		}
		return deleteIndex(ctx, es, index)
	}}}
}

func (e *Engine) pruneOutput(o orphan, cl *Cluster, ro *remoteObs) []op {
	if ro.outputs == nil {
		if cl.Kibana != nil {
			return nil
		}
		return []op{{phase: phasePost, change: plan.Change{Cluster: o.cluster, Kind: KindOutput, ID: o.id, Action: plan.Blocked,
			Reason: createdFor(o) + "; deleting it needs clusters.remotes[" + o.cluster + "].kibana"}}}
	}
	have, ok := ro.outputs[o.id]
	if !ok {
		return nil
	}
	ch := plan.Change{Cluster: o.cluster, Kind: KindOutput, ID: o.id, Name: have.Name(), Action: plan.Delete, Reason: createdFor(o),
		Fields: []plan.FieldDiff{{Path: "hosts", Before: stringList(have["hosts"])}}}
	kb, id := cl.Kibana, o.id
	return []op{{change: ch, phase: phasePost, run: func(ctx context.Context) error {
		if err := kb.DeleteOutput(ctx, id); err != nil && !kibana.IsNotFound(err) {
			return err
		}
		return nil
	}}}
}

func (e *Engine) pruneCredentials(o orphan, cl *Cluster, ro *remoteObs) []op {
	prefix := credentialPrefix(o)
	mainOut := plan.Key(e.cfg.MainCluster, plan.KindOutput, o.output)
	var ops []op
	add := func(name string, revoke func(ctx context.Context) error) {
		ch := plan.Change{Cluster: o.cluster, Kind: o.kind, ID: name, Action: plan.Delete, Reason: createdFor(o), DependsOn: []string{mainOut}}
		ops = append(ops, op{change: ch, phase: phasePost, run: func(ctx context.Context) error {
			if err := e.checkUnused(ctx, o); err != nil {
				return err
			}
			return revoke(ctx)
		}})
	}
	es := cl.ES
	if o.kind == KindServiceToken {
		for _, n := range ro.tokens {
			if isGeneration(n, prefix) {
				add(n, func(ctx context.Context) error { return deleteServiceToken(ctx, es, n) })
			}
		}
		return ops
	}
	for _, k := range ro.keys {
		if isGeneration(k.Name, prefix) {
			id := k.ID
			add(k.Name, func(ctx context.Context) error { return invalidateAPIKeys(ctx, es, id) })
		}
	}
	return ops
}

// checkUnused refuses to revoke o's credentials while the main output still
// holds the one its journal says it holds.
func (e *Engine) checkUnused(ctx context.Context, o orphan) error {
	out, err := e.cfg.MainFleet.GetOutput(ctx, o.output)
	if kibana.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read output %s: %w", o.output, err)
	}
	var paths []string
	if o.kind == KindServiceToken {
		paths = []string{"secrets.service_token", "service_token"}
	} else {
		paths = []string{"kibana_api_key"}
	}
	generated, known, err := e.holdsGenerated(ctx, o.output, paths)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if known && generated[p] || !known && credentialAt(out, p) {
			return fmt.Errorf("output %s still exists on %s and may hold this credential at %s; it is revoked once the output is deleted or holds another one",
				o.output, e.cfg.MainCluster, p)
		}
	}
	return nil
}

// holdsGenerated reads the reconciler's record of output id: which of paths
// hold a generated credential. known is false without a record, and then
// any credential at those paths counts as possibly ours.
func (e *Engine) holdsGenerated(ctx context.Context, id string, paths []string) (map[string]bool, bool, error) {
	if e.cfg.Inventory == nil {
		return nil, false, nil
	}
	recs, err := e.cfg.Inventory.Load(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("load inventory: %w", err)
	}
	for _, rec := range recs {
		if rec.Kind != plan.KindOutput || rec.ID != id || rec.Cluster != "" && rec.Cluster != e.cfg.MainCluster {
			continue
		}
		out := map[string]bool{}
		for _, p := range paths {
			out[p] = rec.Secrets[p].RefDescribe == "generate"
		}
		return out, true, nil
	}
	return nil, false, nil
}

// credentialAt reports whether out carries a credential at path.
func credentialAt(out kibana.Output, path string) bool {
	if rest, ok := strings.CutPrefix(path, "secrets."); ok {
		return out.SecretID(strings.Split(rest, ".")...) != ""
	}
	v, _ := kibana.Output(out).Field(path).(string)
	return v != ""
}

func (e *Engine) pruneLink(o orphan, cl *Cluster, ro *remoteObs, w *world, followerDeletes []string) []op {
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
		return []op{{change: ch, phase: phasePost}}
	}
	es := cl.ES
	return []op{{change: ch, phase: phasePost, run: func(ctx context.Context) error {
		return es.PutClusterSettings(ctx, settings, nil)
	}}}
}
