package remote

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/fleetform/fleetform/kibana"
)

// UninstallBlocked is the Failure.Name of an uninstall that fleetform's
// own rules held back (agents on the remote, policies Kibana would delete).
const UninstallBlocked = "UninstallBlocked"

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
