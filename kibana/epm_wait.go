package kibana

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// An EPM install still running inside Kibana. Kibana refuses a second
// install of a package whose saved object reads install_status
// 'installing' and whose install_started_at is less than
// MAX_TIME_COMPLETE_INSTALL (30 minutes, FLEET/common/constants/epm.ts) old —
// whatever version either asks for — with ConcurrentInstallOperationError,
// 409 "Concurrent installation or upgrade of <name>-<requested version>
// detected, aborting." (FLEET/server/services/epm/packages/
// install_state_machine/steps/step_create_restart_installation.ts;
// FLEET/server/errors/handlers.ts). With force it restarts the running
// install instead, and an older one is taken to be stuck and restarted.
// The list and package info answer status "installing" meanwhile
// (createInstallableFrom, services/epm/packages/index.ts), with the
// installed version (an update keeps version until it ends: restartInstallation,
// install.ts). So fleetform never sends an install, and never force, for a
// package that reads as installing: it waits for the install to end, then
// looks again (InstallAfterWait).

// Installing reports whether the package reads as being installed.
func (p Package) Installing() bool { return cmp.Or(p.InstallStatus, p.Status) == "installing" }

// IsConcurrentInstall reports whether err is Kibana's
// ConcurrentInstallOperationError (409; the message may come prefixed, as
// ensureInstalledPackage does with "Error installing <name> <version>: ").
func IsConcurrentInstall(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusConflict &&
		strings.Contains(ae.Message, "Concurrent installation or upgrade of")
}

// ErrInstallInProgress is a wait that ended with the package still
// installing.
var ErrInstallInProgress = errors.New("still installing in Kibana")

// Defaults of InstallWait.
const (
	DefaultInstallWait = 10 * time.Minute
	DefaultInstallPoll = 2 * time.Second
)

// InstallWait bounds a wait for an install in progress; zero values take
// the defaults.
type InstallWait struct {
	Timeout time.Duration // how long to wait in all
	Poll    time.Duration // between two reads of the package list
}

func (w InstallWait) orDefaults() InstallWait {
	if w.Timeout <= 0 {
		w.Timeout = DefaultInstallWait
	}
	if w.Poll <= 0 {
		w.Poll = DefaultInstallPoll
	}
	return w
}

// PackageInstaller lists and installs EPM packages (*Client does).
type PackageInstaller interface {
	ListPackages(ctx context.Context) ([]Package, error)
	InstallPackage(ctx context.Context, name, version string, force bool) error
}

// WaitInstall polls the package list until name no longer reads as
// installing, and returns it as then listed (found false when it is gone).
// It fails with ErrInstallInProgress after w.Timeout, or with ctx's error.
func WaitInstall(ctx context.Context, api PackageInstaller, name string, w InstallWait) (p Package, found bool, err error) {
	w = w.orDefaults()
	deadline := time.Now().Add(w.Timeout)
	for {
		list, err := api.ListPackages(ctx)
		if err != nil {
			return Package{}, false, fmt.Errorf("list packages: %w", err)
		}
		p, found = Package{}, false
		for _, q := range list {
			if q.Name == name && q.InstalledVersion != "" && cmp.Or(q.InstallStatus, q.Status) != "not_installed" {
				p, found = q, true
			}
		}
		if !found || !p.Installing() {
			return p, found, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return p, true, ErrInstallInProgress
		}
		t := time.NewTimer(min(w.Poll, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return p, true, ctx.Err()
		case <-t.C:
		}
	}
}

// Install is one package install that must not overlap an install Kibana
// is running.
type Install struct {
	Cluster string // named in errors
	Name    string
	Version string // "" for the latest
	Force   bool   // as planned (a package that reads as installing is never sent force before the wait)
	// Installing says the plan read the package as installing: the install
	// waits for that to end first.
	Installing bool
	// Settled decides, from the package as listed once no install runs
	// (found false: absent), whether what was wanted is there (done) and,
	// if not, whether the install needs force.
	Settled func(p Package, found bool) (done, force bool)
	Wait    InstallWait
}

// InstallAfterWait installs in.Name without ever overlapping an install
// Kibana runs: a package the plan read as installing is waited for first,
// and a 409 ConcurrentInstallOperationError turns into the same wait; after
// a wait the package is looked at again (Settled) and installed only if it
// is not yet what was wanted. A wait that times out makes one install
// without force, which Kibana refuses (409) while the running install is
// younger than 30 minutes and otherwise lets take over the stuck one; the
// refusal is the error, naming package, version and cluster.
func InstallAfterWait(ctx context.Context, api PackageInstaller, in Install) error {
	if !in.Installing {
		err := api.InstallPackage(ctx, in.Name, in.Version, in.Force)
		if !IsConcurrentInstall(err) {
			return err
		}
	}
	p, found, err := WaitInstall(ctx, api, in.Name, in.Wait)
	switch {
	case errors.Is(err, ErrInstallInProgress):
		ierr := api.InstallPackage(ctx, in.Name, in.Version, false)
		if IsConcurrentInstall(ierr) {
			return fmt.Errorf("%s: %w after waiting %s (Kibana lets another install take over once the running one is 30 minutes old, MAX_TIME_COMPLETE_INSTALL): %w",
				in.describe(), ErrInstallInProgress, in.Wait.orDefaults().Timeout, ierr)
		}
		return ierr
	case err != nil:
		return fmt.Errorf("%s: wait for the install in progress: %w", in.describe(), err)
	}
	done, force := in.Settled(p, found)
	if done {
		return nil
	}
	err = api.InstallPackage(ctx, in.Name, in.Version, force)
	if IsConcurrentInstall(err) {
		// Another install started between the read and this one.
		return fmt.Errorf("%s: another install started meanwhile: %w", in.describe(), err)
	}
	return err
}

func (in Install) describe() string {
	return fmt.Sprintf("package %s %s on cluster %s", in.Name, cmp.Or(in.Version, "(latest)"), in.Cluster)
}
