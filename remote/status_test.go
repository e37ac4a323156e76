package remote

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestComputeStatus(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)
	inst := func(name, v string) Package { return Package{Name: name, Version: v, Status: StatusInstalled} }
	tests := []struct {
		name            string
		want            MainIntegration
		remote          []Package
		syncUninstalled bool
		expect          IntegrationStatus
	}{
		{
			name: "uninstalled on both sides", syncUninstalled: true,
			want:   MainIntegration{Name: "nginx", Version: "2.0.0", Status: StatusNotInstalled},
			expect: IntegrationStatus{SyncStatus: SyncCompleted, InstallStatus: InstallStatus{Main: "not_installed", Remote: "not_installed"}},
		},
		{
			name:   "absent on the remote",
			want:   MainIntegration{Name: "nginx", Version: "2.0.0", Status: StatusInstalled},
			expect: IntegrationStatus{SyncStatus: SyncSynchronizing, InstallStatus: InstallStatus{Main: "installed"}},
		},
		{
			name:   "remote ahead is failed",
			want:   MainIntegration{Name: "nginx", Version: "2.0.0", Status: StatusInstalled},
			remote: []Package{inst("nginx", "2.1.0")},
			expect: IntegrationStatus{SyncStatus: SyncFailed, Error: "Found incorrect installed version 2.1.0",
				InstallStatus: InstallStatus{Main: "installed", Remote: "installed"}},
		},
		{
			name: "package not found is a warning",
			want: MainIntegration{Name: "nginx", Version: "2.0.0", Status: StatusInstalled},
			remote: []Package{{Name: "nginx", Version: "2.0.0", Status: StatusInstallFailed,
				InstallError: &Failure{Name: "PackageNotFoundError", Message: "not found in registry", At: at}}},
			expect: IntegrationStatus{SyncStatus: SyncWarning, InstallStatus: InstallStatus{Main: "installed", Remote: "not_installed"},
				Warning: &Warning{Title: "Integration can't be automatically synced",
					Message: "This integration must be manually installed on the remote cluster. Automatic updates and remote installs are not supported."}},
		},
		{
			name: "other install failure",
			want: MainIntegration{Name: "nginx", Version: "2.0.0", Status: StatusInstalled},
			remote: []Package{{Name: "nginx", Version: "2.0.0", Status: StatusInstallFailed,
				InstallError: &Failure{Name: "Error", Message: "boom", At: at}}},
			expect: IntegrationStatus{SyncStatus: SyncFailed, InstallStatus: InstallStatus{Main: "installed", Remote: "install_failed"},
				Error: "Installation status: install_failed boom at Fri, 27 Nov 2026 10:30:00 GMT"},
		},
		{
			name: "uninstall pending with failure recorded", syncUninstalled: true,
			want: MainIntegration{Name: "nginx", Version: "2.0.0", Status: StatusNotInstalled},
			remote: []Package{{Name: "nginx", Version: "2.0.0", Status: StatusInstalled,
				UninstallError: &Failure{Message: "blocked: 1 package policy in use by 3 agents", At: at}}},
			expect: IntegrationStatus{SyncStatus: SyncWarning, InstallStatus: InstallStatus{Main: "not_installed", Remote: "installed"},
				Warning: &Warning{Title: "Integration was uninstalled, but removal from remote cluster failed.",
					Message: "blocked: 1 package policy in use by 3 agents at Fri, 27 Nov 2026 10:30:00 GMT"}},
		},
		{
			name:   "in sync",
			want:   MainIntegration{Name: "nginx", Version: "2.0.0", Status: StatusInstalled},
			remote: []Package{inst("nginx", "2.0.0")},
			expect: IntegrationStatus{SyncStatus: SyncCompleted, InstallStatus: InstallStatus{Main: "installed", Remote: "installed"}},
		},
		{
			name:   "installing",
			want:   MainIntegration{Name: "nginx", Version: "2.0.0", Status: StatusInstalled},
			remote: []Package{{Name: "nginx", Version: "2.0.0", Status: StatusInstalling}},
			expect: IntegrationStatus{SyncStatus: SyncSynchronizing, InstallStatus: InstallStatus{Main: "installed", Remote: "installing"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ComputeStatus([]MainIntegration{tt.want}, tt.remote, tt.syncUninstalled)
			tt.expect.PackageName, tt.expect.PackageVersion = tt.want.Name, tt.want.Version
			if d := cmp.Diff([]IntegrationStatus{tt.expect}, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestMainIntegrations(t *testing.T) {
	main := []Package{{Name: "system", Version: "1.0.0", Status: StatusInstalled}, {Name: "apm", Version: "9.0.0", Status: StatusInstalling}}
	seen := map[string]string{"system": "0.9.0", "nginx": "2.0.0"}
	got := MainIntegrations(main, seen, true)
	want := []MainIntegration{{Name: "nginx", Version: "2.0.0", Status: StatusNotInstalled}, {Name: "system", Version: "1.0.0", Status: StatusInstalled}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if got := MainIntegrations(main, seen, false); len(got) != 1 {
		t.Errorf("without sync_uninstalled: %v", got)
	}
}
