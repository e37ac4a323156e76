package remote

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
)

// The directly synced packages of a remote (kind package on a remote,
// sync_via: direct): the installs and uninstalls DecideSync
// (directsync.go) decides from what the main cluster has — as this apply
// leaves it — and the remote has, with the state index's record of
// failures and backoff (directsync_record.go). A package installed by
// this apply on main is synced after it (its change depends on the main
// package's), and after the remote's own elasticsearch output when that
// is created in the same plan. Every sync depends on the main output's
// change (forMainOutput): fleetform syncs for an output main has. Uninstalls are this kind's prune, by
// DecideSync's rules; it has no owned entries.

// computeDirect plans sync_via: direct for one output: the installs and
// uninstalls directsync.go decides, with the ledger's failures and backoff.
func (e *Engine) planPackages(c *computed, t target, ro *remoteObs, w *world, mainPlan *plan.Plan) {
	if t.obj.SyncVia != SyncViaDirect || t.cluster.Kibana == nil {
		return
	}
	in := SyncInput{
		SyncUninstalled: t.out.SyncUninstalledIntegrations != nil && *t.out.SyncUninstalledIntegrations,
		ForceUninstall:  e.cfg.ForceUninstall,
		Seen:            w.ledger.seen(e.cfg.MainCluster),
		Now:             e.cfg.Now(),
	}
	var byThisApply map[string]string
	in.Main, byThisApply = e.projectMain(w.mainInstalled, mainPlan)
	in.Remote = remotePackages(ro.packages, w.ledger, t.cluster.Name)
	in.RemoteLatest = latestVersions(ro.packages)
	for _, p := range ro.policies {
		agentless, _ := p.Raw["supports_agentless"].(bool)
		in.RemotePolicies = append(in.RemotePolicies, PackagePolicy{ID: p.ID, Name: p.Name, Package: p.Package.Name, Agents: p.Agents, Agentless: agentless})
	}
	installed := map[string]string{}
	for _, p := range in.Remote {
		installed[p.Name] = p.Version
	}
	kb, ledger, cluster, now := t.cluster.Kibana, e.cfg.Ledger, t.cluster.Name, e.cfg.Now
	decisions := DecideSync(in)
	for _, d := range decisions {
		ch := plan.Change{Cluster: t.cluster.Name, Kind: KindPackage, ID: d.Package, Reason: d.Reason, DependsOn: e.forMainOutput(t)}
		if how, ok := byThisApply[d.Package]; ok {
			ch.Reason += " (" + how + ")"
			ch.DependsOn = append(ch.DependsOn, plan.Key(e.cfg.MainCluster, plan.KindPackage, d.Package))
		}
		if len(d.Notes) > 0 {
			ch.Reason += "\n" + strings.Join(d.Notes, "\n")
		}
		before, has := installed[d.Package]
		var run func(ctx context.Context) error
		switch d.Action {
		case SyncSkip:
			continue
		case SyncInstall:
			ch.Action = plan.Create
			ch.Fields = []plan.FieldDiff{{Path: "version", After: d.Version}}
			if has {
				ch.Action = plan.Update
				ch.Fields[0].Before = before
			}
			wait := e.cfg.InstallWait
			run = func(ctx context.Context) error {
				err := kibana.InstallAfterWait(ctx, kb, kibana.Install{Cluster: cluster, Name: d.Package, Version: d.Version,
					Force: d.Force, Installing: d.Wait, Settled: syncSettled(d), Wait: wait})
				if errors.Is(err, kibana.ErrInstallInProgress) {
					return err // Kibana is still at it: no failed install to back off from
				}
				return recordSync(ctx, ledger, cluster, d.Package, d.Version, now(), err, true)
			}
		case SyncUninstall:
			ch.Action = plan.Delete
			ch.Fields = []plan.FieldDiff{{Path: "version", Before: d.Version}}
			run = func(ctx context.Context) error {
				err := kb.UninstallPackage(ctx, d.Package, d.Version, false)
				return recordSync(ctx, ledger, cluster, d.Package, d.Version, now(), err, false)
			}
		case SyncBlocked:
			ch.Action = plan.Blocked
		}
		c.ops = append(c.ops, op{change: ch, phase: phaseAfterMain, run: run})
	}
	c.hidden = append(c.hidden, e.blockedUninstalls(t, in, decisions, w)...)
}

// syncSettled decides, once no install runs on the remote, whether it has
// d's version or a newer one (direct sync never downgrades) and else
// whether the install needs force: d's (a version below the remote's
// latest) or a failed install.
func syncSettled(d SyncDecision) func(kibana.Package, bool) (bool, bool) {
	return func(p kibana.Package, found bool) (bool, bool) {
		status := cmp.Or(p.InstallStatus, p.Status)
		if found && status == StatusInstalled && compareVersions(p.InstalledVersion, d.Version) >= 0 {
			return true, false
		}
		return false, d.Force || found && status != StatusInstalled
	}
}

// blockedUninstalls keeps the reason of every blocked uninstall in the
// package's sync-failure entry, so status shows why the integration is in
// warning. The entry is written only when the reason changes (and the
// time is of the first time it was seen), and a blocked record is cleared
// once the uninstall is no longer blocked.
func (e *Engine) blockedUninstalls(t target, in SyncInput, decisions []SyncDecision, w *world) []op {
	onMain := map[string]bool{}
	for _, p := range in.Main {
		onMain[p.Name] = p.Status == "" || p.Status == StatusInstalled
	}
	blocked := map[string]string{}
	for _, d := range decisions {
		if d.Action == SyncBlocked && !onMain[d.Package] {
			blocked[d.Package] = d.Reason
		}
	}
	ledger, cluster, now := e.cfg.Ledger, t.cluster.Name, e.cfg.Now
	var ops []op
	for _, rp := range in.Remote {
		reason, isBlocked := blocked[rp.Name]
		had := rp.UninstallError
		switch {
		case isBlocked && (had == nil || had.Name != UninstallBlocked || had.Message != reason):
			pkg, version := rp.Name, rp.Version
			ops = append(ops, op{phase: phaseAfterMain, run: func(ctx context.Context) error {
				return recordBlocked(ctx, ledger, cluster, pkg, version, &Failure{Name: UninstallBlocked, Message: reason, At: now()})
			}})
		case !isBlocked && had != nil && had.Name == UninstallBlocked:
			pkg, version := rp.Name, rp.Version
			ops = append(ops, op{phase: phaseAfterMain, run: func(ctx context.Context) error {
				return recordBlocked(ctx, ledger, cluster, pkg, version, nil)
			}})
		}
	}
	return ops
}

// packagesAfterOutputs makes every install on a remote depend on the
// remote's own elasticsearch outputs created in the same plan (for
// another output's sync_via: ccr): the integrations land on a remote whose
// Kibana already has them, and a failed create skips the installs.
func packagesAfterOutputs(c *computed) {
	creates := map[string][]string{} // cluster → keys of remote output creates
	for _, o := range c.ops {
		if o.change.Kind == KindOutput && o.change.Action == plan.Create {
			creates[o.change.Cluster] = append(creates[o.change.Cluster], o.change.Key())
		}
	}
	for i := range c.ops {
		ch := &c.ops[i].change
		if ch.Kind != KindPackage || (ch.Action != plan.Create && ch.Action != plan.Update) {
			continue
		}
		for _, k := range creates[ch.Cluster] {
			if !slices.Contains(ch.DependsOn, k) {
				ch.DependsOn = append(slices.Clone(ch.DependsOn), k)
			}
		}
	}
}
