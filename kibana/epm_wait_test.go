package kibana

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fakeInstaller answers the package list from lists (the last one repeats)
// and installs from errs (nil once exhausted), recording every install.
type fakeInstaller struct {
	lists    [][]Package
	errs     []error
	installs []string // "version force=<bool>"
	listed   int
}

func (f *fakeInstaller) ListPackages(context.Context) ([]Package, error) {
	i := min(f.listed, len(f.lists)-1)
	f.listed++
	return f.lists[i], nil
}

func (f *fakeInstaller) InstallPackage(_ context.Context, _, version string, force bool) error {
	f.installs = append(f.installs, fmt.Sprintf("%s force=%v", version, force))
	if len(f.errs) == 0 {
		return nil
	}
	err := f.errs[0]
	f.errs = f.errs[1:]
	return err
}

func nginx(status, version string) []Package {
	return []Package{{Name: "nginx", Version: "2.1.0", Status: status, InstalledVersion: version, InstallStatus: status}}
}

var concurrent = &APIError{Method: "POST", Path: "/api/fleet/epm/packages/nginx/2.1.0", Status: http.StatusConflict, ErrorText: "Conflict",
	Message: "Concurrent installation or upgrade of nginx-2.1.0 detected, aborting."}

// settledAt is Settled for a wanted exact version: done when installed at
// it, force when the install failed.
func settledAt(want string) func(Package, bool) (bool, bool) {
	return func(p Package, found bool) (bool, bool) {
		if found && p.InstallStatus == "installed" && p.InstalledVersion == want {
			return true, false
		}
		return false, found && p.InstallStatus == "install_failed"
	}
}

// The rules of step_create_restart_installation.ts as fleetform meets them:
// never an install (never force) while the package reads as installing, a
// 409 ConcurrentInstallOperationError is a wait then a look, and a wait
// that times out makes one install without force (Kibana's own rule then
// decides: 409 while the running install is younger than
// MAX_TIME_COMPLETE_INSTALL, a take-over after).
func TestInstallAfterWait(t *testing.T) {
	tests := []struct {
		name         string
		installing   bool
		force        bool
		lists        [][]Package
		errs         []error
		wantInstalls []string
		wantErr      string // substring; "" for none
		inProgress   bool   // errors.Is ErrInstallInProgress
	}{
		{name: "nothing running: one install as planned", force: true, lists: [][]Package{nil},
			wantInstalls: []string{"2.1.0 force=true"}},
		{name: "installing at plan, then installed at the version: no install", installing: true, force: true,
			lists:        [][]Package{nginx("installing", "2.1.0"), nginx("installing", "2.1.0"), nginx("installed", "2.1.0")},
			wantInstalls: nil},
		{name: "installing at plan, then installed at another version: installed after", installing: true,
			lists:        [][]Package{nginx("installing", "2.0.0"), nginx("installed", "2.0.0")},
			wantInstalls: []string{"2.1.0 force=false"}},
		{name: "installing at plan, then failed: reinstalled with force", installing: true,
			lists:        [][]Package{nginx("installing", "2.1.0"), nginx("install_failed", "2.1.0")},
			wantInstalls: []string{"2.1.0 force=true"}},
		{name: "409 on install: wait, then installed: done", lists: [][]Package{nginx("installing", "2.1.0"), nginx("installed", "2.1.0")},
			errs: []error{concurrent}, wantInstalls: []string{"2.1.0 force=false"}},
		{name: "409 prefixed as ensureInstalledPackage does", lists: [][]Package{nginx("installed", "2.1.0")},
			errs:         []error{&APIError{Status: 409, Message: "Error installing nginx 2.1.0: Concurrent installation or upgrade of nginx-2.1.0 detected, aborting."}},
			wantInstalls: []string{"2.1.0 force=false"}},
		{name: "another 409 is no concurrent install", lists: [][]Package{nil},
			errs: []error{&APIError{Status: 409, Message: "Saved object [epm-packages/nginx] conflict"}}, wantInstalls: []string{"2.1.0 force=false"},
			wantErr: "Saved object [epm-packages/nginx] conflict"},
		{name: "still installing after the wait: one install without force, refused", installing: true, force: true,
			lists: [][]Package{nginx("installing", "2.1.0")}, errs: []error{concurrent}, wantInstalls: []string{"2.1.0 force=false"},
			wantErr: "package nginx 2.1.0 on cluster main: still installing in Kibana after waiting 30ms", inProgress: true},
		{name: "still installing after the wait: Kibana takes the stuck install over", installing: true, force: true,
			lists: [][]Package{nginx("installing", "2.1.0")}, wantInstalls: []string{"2.1.0 force=false"}},
		{name: "another install started meanwhile", installing: true, lists: [][]Package{nginx("installing", "2.0.0"), nginx("installed", "2.0.0")},
			errs: []error{concurrent}, wantInstalls: []string{"2.1.0 force=false"}, wantErr: "package nginx 2.1.0 on cluster main: another install started meanwhile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeInstaller{lists: tt.lists, errs: tt.errs}
			err := InstallAfterWait(context.Background(), f, Install{Cluster: "main", Name: "nginx", Version: "2.1.0", Force: tt.force,
				Installing: tt.installing, Settled: settledAt("2.1.0"), Wait: InstallWait{Timeout: 30 * time.Millisecond, Poll: time.Millisecond}})
			if got, want := strings.Join(f.installs, "; "), strings.Join(tt.wantInstalls, "; "); got != want {
				t.Errorf("installs = %q, want %q", got, want)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("err = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if got := errors.Is(err, ErrInstallInProgress); got != tt.inProgress {
				t.Errorf("errors.Is(err, ErrInstallInProgress) = %v, want %v (%v)", got, tt.inProgress, err)
			}
			if tt.inProgress && !IsConcurrentInstall(err) {
				t.Errorf("the timeout error does not carry Kibana's 409: %v", err)
			}
		})
	}
}

func TestWaitInstall_StopsWithTheContext(t *testing.T) {
	f := &fakeInstaller{lists: [][]Package{nginx("installing", "2.1.0")}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, _, err := WaitInstall(ctx, f, "nginx", InstallWait{Timeout: time.Hour, Poll: time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
}
