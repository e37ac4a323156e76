package remote

import (
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
)

// remoteKindOrder is the remote kinds' part of the one table of kinds the
// plan is ordered by (plan.SetKindOrder), parents first, after the main
// cluster's kinds: the remote-cluster link, the remote's own
// elasticsearch output, the credentials (of equal rank), the follower
// index that replicates through the link, the directly synced packages.
// Dependencies (DependsOn, from references) order before the table does:
// the follower after its link and the main output, a credential created
// by rotation after the main output it fills, a directly synced package
// after the main package it follows and the remote output created with
// it; deletes in reverse (the follower before its link, the credentials
// after the main output that carried them).
var remoteKindOrder = []string{
	plan.RemoteKind(KindRemoteCluster),
	plan.RemoteKind(KindOutput),
	plan.RemoteKind(KindAPIKey) + "," + plan.RemoteKind(KindServiceToken),
	plan.RemoteKind(KindFollower),
	plan.RemoteKind(KindPackage),
}

func init() { plan.SetKindOrder(append(reconciler.KindOrder(), remoteKindOrder...)...) }
