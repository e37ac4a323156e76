package remote

import (
	"context"
	"fmt"
	"maps"
	"strings"
)

// Ownership of the remote objects fleetform creates (the remote-cluster
// link, the follower index, the remote's elasticsearch output).
//
// Intent is journalled before every create: an owned entry marked pending,
// holding what the object will be (its deterministic name, and for a
// follower the alias and leader index it follows), is written to the state
// index first; only then is the object created, and the entry confirmed
// after. A run that dies at any point between leaves either nothing (the
// intent write failed: nothing was created) or a pending entry. The next
// run recognises the object by its deterministic name and recorded
// identity: a pending entry whose object exists as recorded is fleetform's
// and is confirmed; one whose object is absent is created again while
// declared, or forgotten by prune. A pending entry whose object exists but
// differs (someone else made it between observe and create) is never
// treated as fleetform's: prune forgets the entry and leaves the object.

// Data keys of owned entries.
const (
	ownedPending       = "pending"        // "true" from the intent until the create is confirmed
	ownedOutput        = "output"         // the declared output the object was created for
	ownedRemoteCluster = "remote_cluster" // follower: the alias it follows through
	ownedLeaderIndex   = "leader_index"   // follower: the index it follows
)

// createOwned journals the intent to create the object kind/id on cluster,
// runs create, then confirms the entry. data is what identifies the object
// on a later run (see recognised).
func (e *Engine) createOwned(ctx context.Context, cluster, kind, id string, data map[string]string, create func(ctx context.Context) error) error {
	key := kind + "/" + id
	intent := maps.Clone(data)
	intent[ownedPending] = "true"
	if err := e.cfg.Ledger.Put(ctx, Entry{Cluster: cluster, Kind: LedgerOwned, ID: key, Data: intent, AppliedAt: e.cfg.Now()}); err != nil {
		return fmt.Errorf("record the intent to create %s on %s (nothing was created): %w", key, cluster, err)
	}
	if err := create(ctx); err != nil {
		return err
	}
	if err := e.cfg.Ledger.Put(ctx, Entry{Cluster: cluster, Kind: LedgerOwned, ID: key, Data: maps.Clone(data), AppliedAt: e.cfg.Now()}); err != nil {
		return fmt.Errorf("%s created on %s; confirming it in the state index failed (the next run does): %w", key, cluster, err)
	}
	return nil
}

// recognised reports whether the object of owned entry en (kind/id on a
// remote observed as ro) exists as fleetform journalled it. ok is false
// when ro cannot tell (the remote's Kibana was not read).
func recognised(en Entry, ro *remoteObs) (mine, ok bool) {
	kind, id, _ := strings.Cut(en.ID, "/")
	switch kind {
	case KindFollower:
		f, exists := ro.followers[id]
		return exists && f.Follower && f.RemoteCluster == en.Data[ownedRemoteCluster] && f.LeaderIndex == en.Data[ownedLeaderIndex], true
	case KindRemoteCluster:
		prefix := "cluster.remote." + id + "."
		for k := range ro.settings {
			if strings.HasPrefix(k, prefix) {
				return true, true
			}
		}
		return false, true
	case KindOutput:
		if ro.outputs == nil {
			return false, false
		}
		_, exists := ro.outputs[id]
		return exists, true
	}
	return false, false
}

func isPending(en Entry) bool { return en.Data[ownedPending] == "true" }

// computeConfirm confirms the pending owned entries whose object a
// previous run created before it could confirm it.
func (e *Engine) computeConfirm(c *computed, w *world) {
	ledger := e.cfg.Ledger
	for k, en := range w.ledger {
		if k[1] != LedgerOwned || !isPending(en) {
			continue
		}
		ro := w.remotes[k[0]]
		if ro == nil {
			continue
		}
		if mine, ok := recognised(en, ro); !ok || !mine {
			continue
		}
		confirmed := en
		confirmed.Data = maps.Clone(en.Data)
		delete(confirmed.Data, ownedPending)
		c.hidden = append(c.hidden, op{phase: phaseAfterMain, run: func(ctx context.Context) error {
			return ledger.Put(ctx, confirmed)
		}})
	}
}

// ownedObject reports whether fleetform owns kind/id on cluster: a
// confirmed entry, or a pending one whose object exists as journalled.
func (w *world) ownedObject(cluster, kind, id string) bool {
	en, ok := w.ledger.get(cluster, LedgerOwned, kind+"/"+id)
	if !ok {
		return false
	}
	if !isPending(en) {
		return true
	}
	ro := w.remotes[cluster]
	if ro == nil {
		return false
	}
	mine, _ := recognised(en, ro)
	return mine
}
