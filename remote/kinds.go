package remote

import (
	"slices"
	"strings"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
)

// remoteKind is one kind of object fleetform manages on the remotes, in a
// file of its own (kind_link.go, kind_esoutput.go, kind_credentials.go,
// kind_follower.go, kind_package.go) holding how it is planned, applied
// (the run of its ops) and pruned.
type remoteKind struct {
	// names are the plan kinds (the credentials are two, of equal rank).
	names []string
	// plan adds the ops the target's output needs of this kind on its
	// remote (creates, updates, blocked changes; for packages also the
	// uninstalls DecideSync decides).
	plan func(e *Engine, c *computed, t target, ro *remoteObs, w *world, mainPlan *plan.Plan)
	// prune returns the ops that delete an owned object of this kind no
	// declared output needs (nil: gone already); deleting holds the keys
	// of the deletes planned before it on its remote that a link waits
	// for. nil: the kind has no owned entries to prune.
	prune func(e *Engine, o orphan, cl *Cluster, ro *remoteObs, deleting []string) []op
	// linkUser: a link is deleted only after this kind's deletes.
	linkUser bool
	// keepsJournal: the state entry is forgotten by its own op once none
	// of the objects is left (credentials: one revoke of several may
	// fail), not with each delete.
	keepsJournal bool
}

// remoteKinds is the table the Engine walks, in dependency order (parents
// first; prune in reverse).
var remoteKinds = []remoteKind{
	{names: []string{KindRemoteCluster}, plan: (*Engine).planLink, prune: (*Engine).pruneLink},
	{names: []string{KindOutput}, plan: (*Engine).planESOutput, prune: (*Engine).pruneESOutput},
	{names: []string{KindAPIKey, KindServiceToken}, plan: (*Engine).planCredentials, prune: (*Engine).pruneCredentials, keepsJournal: true},
	{names: []string{KindFollower}, plan: (*Engine).planFollower, prune: (*Engine).pruneFollower, linkUser: true},
	{names: []string{KindPackage}, plan: (*Engine).planPackages},
}

// remoteKindNamed returns the kind of the table with plan kind name.
func remoteKindNamed(name string) (remoteKind, int, bool) {
	for i, k := range remoteKinds {
		if slices.Contains(k.names, name) {
			return k, i, true
		}
	}
	return remoteKind{}, 0, false
}

// remoteKindOrder is the remote kinds' part of the one table of kinds the
// plan is ordered by (plan.SetKindOrder), parents first, after the main
// cluster's kinds: the remote-cluster link, the remote's own
// elasticsearch output, the credentials (of equal rank), the follower
// index that replicates through the link, the directly synced packages.
// Dependencies (DependsOn, from references) order before the table does:
// everything made for an output after the main output (forMainOutput),
// the follower after its link, a directly synced package after the main
// package it follows and the remote output created with it; deletes in
// reverse (the follower before its link, the credentials
// after the main output that carried them).
func remoteKindOrder() []string {
	out := make([]string, len(remoteKinds))
	for i, k := range remoteKinds {
		names := make([]string, len(k.names))
		for j, n := range k.names {
			names[j] = plan.RemoteKind(n)
		}
		out[i] = strings.Join(names, ",")
	}
	return out
}

func init() { plan.SetKindOrder(append(reconciler.KindOrder(), remoteKindOrder()...)...) }

// forMainOutput is the dependency of every remote object fleetform makes
// or changes for target t's output (the link, the remote's own
// elasticsearch output, the follower, the credentials it mints afterwards,
// the directly synced packages): the main output's change. A main output
// whose change is blocked (a Kibana or a licence that refuses it) blocks
// them in the plan (the reconciler blocks the dependents of a blocked
// change), and one that fails skips them, so the remote never holds half
// of a sync for an output main does not have (TestVersionMatrix: a link
// without its follower, packages synced for no output).
func (e *Engine) forMainOutput(t target) []string {
	return []string{plan.Key(e.cfg.MainCluster, plan.KindOutput, t.out.ID)}
}
