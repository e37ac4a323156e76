package remote

import (
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/schema"
)

// Kibana does not sync integration policies to a remote — its
// sync_integrations task installs packages and custom assets only — so the
// plan notes when a remote output receives the data of integrations whose
// packages the remote does not have installed (reconciler.RemoteSyncNote).
// With sync_via: direct fleetform installs main's packages on the remote
// itself (directsync.go), so only the other remotes are checked, and only
// those with a Kibana to ask.

// needsRemotePackages reports whether remote cluster's installed packages
// are read for the note: a target on it that is not synced directly
// carries integrations.
func needsRemotePackages(ts []target, cluster string) bool {
	for _, t := range ts {
		if t.cluster.Name == cluster && t.obj.SyncVia != SyncViaDirect && len(t.integrations) > 0 {
			return true
		}
	}
	return false
}

// integrationsNote is the note for target t, or nothing.
func integrationsNote(t target, ro *remoteObs) []string {
	if t.obj.SyncVia == SyncViaDirect || len(t.integrations) == 0 || ro == nil || ro.packages == nil {
		return nil
	}
	installed := map[string]bool{}
	for _, p := range remotePackages(ro.packages, nil, t.cluster.Name) {
		if p.Status == StatusInstalled {
			installed[p.Name] = true
		}
	}
	missing := map[string][]string{}
	for pkg, ips := range t.integrations {
		if !installed[pkg] {
			missing[pkg] = ips
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return []string{reconciler.RemoteSyncNote(t.out.ID, t.cluster.Name, missing, syncsIntegrations(t.out))}
}

func syncsIntegrations(o schema.Output) bool {
	return o.SyncIntegrations != nil && *o.SyncIntegrations
}
