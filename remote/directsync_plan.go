package remote

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
)

// computeDirect plans sync_via: direct for one output: the installs and
// uninstalls directsync.go decides, with the ledger's failures and backoff.
func (e *Engine) computeDirect(c *computed, t target, ro *remoteObs, w *world, mainPlan *plan.Plan) {
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
		ch := plan.Change{Cluster: t.cluster.Name, Kind: KindPackage, ID: d.Package, Reason: d.Reason}
		if how, ok := byThisApply[d.Package]; ok {
			ch.Reason += " (" + how + ")"
			ch.DependsOn = []string{plan.Key(e.cfg.MainCluster, plan.KindPackage, d.Package)}
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
			run = func(ctx context.Context) error {
				err := kb.InstallPackage(ctx, d.Package, d.Version, d.Force)
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
		c.ops = append(c.ops, op{change: ch, phase: phasePost, run: run})
	}
	c.hidden = append(c.hidden, e.blockedUninstalls(t, in, decisions, w)...)
}

// UninstallBlocked is the Failure.Name of an uninstall that fleetform's
// own rules held back (agents on the remote, policies Kibana would delete).
const UninstallBlocked = "UninstallBlocked"

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
			ops = append(ops, op{phase: phasePost, run: func(ctx context.Context) error {
				return recordBlocked(ctx, ledger, cluster, pkg, version, &Failure{Name: UninstallBlocked, Message: reason, At: now()})
			}})
		case !isBlocked && had != nil && had.Name == UninstallBlocked:
			pkg, version := rp.Name, rp.Version
			ops = append(ops, op{phase: phasePost, run: func(ctx context.Context) error {
				return recordBlocked(ctx, ledger, cluster, pkg, version, nil)
			}})
		}
	}
	return ops
}

// recordBlocked sets (f non-nil) or clears the uninstall failure of pkg in
// its sync-failure entry, keeping the install record.
func recordBlocked(ctx context.Context, l Ledger, cluster, pkg, version string, f *Failure) error {
	es, err := l.Load(ctx)
	if err != nil {
		return err
	}
	e, _ := newLedgerView(es).get(cluster, LedgerSyncFailure, pkg)
	rec, err := decodeFailure(e)
	if err != nil {
		return err
	}
	rec.Uninstall = f
	if rec.Install == nil && rec.Uninstall == nil && len(rec.Attempts) == 0 {
		return l.Delete(ctx, cluster, LedgerSyncFailure, pkg)
	}
	data, err := encodeFailure(rec)
	if err != nil {
		return err
	}
	data["version"] = version
	at := e.AppliedAt
	if f != nil {
		at = f.At
	}
	return l.Put(ctx, Entry{Cluster: cluster, Kind: LedgerSyncFailure, ID: pkg, Data: data, AppliedAt: at})
}

// remotePackages converts the remote's package list, adding fleetform's
// own record of failed direct-sync attempts.
func remotePackages(pkgs []kibana.Package, lv ledgerView, cluster string) []Package {
	var out []Package
	for _, p := range pkgs {
		status := cmp.Or(p.InstallStatus, p.Status)
		if p.InstalledVersion == "" || status == StatusNotInstalled {
			continue
		}
		rp := Package{Name: p.Name, Version: p.InstalledVersion, Status: status}
		if e, ok := lv.get(cluster, LedgerSyncFailure, p.Name); ok {
			f, _ := decodeFailure(e) // observe checked every record
			rp.InstallError, rp.UninstallError = f.Install, f.Uninstall
			if status == StatusInstallFailed {
				rp.FailedAttempts = f.Attempts
			}
		}
		out = append(out, rp)
	}
	// Failed installs that left nothing behind still count for the backoff.
	for k, e := range lv {
		if k[0] != cluster || k[1] != LedgerSyncFailure || slices.ContainsFunc(out, func(p Package) bool { return p.Name == k[2] }) {
			continue
		}
		f, _ := decodeFailure(e) // observe checked every record
		if len(f.Attempts) > 0 && f.Install != nil {
			out = append(out, Package{Name: k[2], Status: StatusInstallFailed, FailedAttempts: f.Attempts, InstallError: f.Install,
				Version: e.Data["version"]})
		}
	}
	return out
}

// recordSync keeps fleetform's record of direct-sync failures: failed
// installs (for the backoff, newest first, at most five) and the latest
// failed uninstall (for status). A success clears the record.
func recordSync(ctx context.Context, l Ledger, cluster, pkg, version string, at time.Time, opErr error, install bool) error {
	es, err := l.Load(ctx)
	if err != nil {
		return errors.Join(opErr, err)
	}
	e, had := newLedgerView(es).get(cluster, LedgerSyncFailure, pkg)
	f, err := decodeFailure(e)
	if err != nil {
		return errors.Join(opErr, err)
	}
	if opErr == nil {
		if !had {
			return nil
		}
		if install {
			f.Attempts, f.Install = nil, nil
		} else {
			f.Uninstall = nil
		}
		if f.Install == nil && f.Uninstall == nil {
			return l.Delete(ctx, cluster, LedgerSyncFailure, pkg)
		}
	} else {
		fail := &Failure{Name: errorName(opErr), Message: opErr.Error(), At: at}
		if install {
			f.Install = fail
			f.Attempts = append([]time.Time{at}, f.Attempts...)
			if len(f.Attempts) > len(InstallRetryBackoff) {
				f.Attempts = f.Attempts[:len(InstallRetryBackoff)]
			}
		} else {
			f.Uninstall = fail
		}
	}
	data, err := encodeFailure(f)
	if err != nil {
		return errors.Join(opErr, err)
	}
	data["version"] = version
	return errors.Join(opErr, l.Put(ctx, Entry{Cluster: cluster, Kind: LedgerSyncFailure, ID: pkg, Data: data, AppliedAt: at}))
}

func errorName(err error) string {
	var ae *kibana.APIError
	if errors.As(err, &ae) && ae.Status == 404 {
		return "PackageNotFoundError"
	}
	return "Error"
}
