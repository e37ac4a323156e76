package remote

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Sync statuses, Kibana's lower-case vocabulary (remote_synced_integrations).
const (
	SyncCompleted     = "completed"
	SyncSynchronizing = "synchronizing"
	SyncFailed        = "failed"
	SyncWarning       = "warning"
)

// Warning is a status warning as Kibana words it.
type Warning struct {
	Title   string `json:"title"`
	Message string `json:"message"`
}

// InstallStatus is an integration's install status on each side.
type InstallStatus struct {
	Main   string `json:"main"`
	Remote string `json:"remote,omitempty"`
}

// IntegrationStatus is the sync state of one integration on one remote,
// the shape of Kibana's GET /api/fleet/remote_synced_integrations/status items.
type IntegrationStatus struct {
	PackageName    string        `json:"package_name"`
	PackageVersion string        `json:"package_version"`
	SyncStatus     string        `json:"sync_status"`
	InstallStatus  InstallStatus `json:"install_status"`
	UpdatedAt      string        `json:"updated_at,omitempty"`
	Error          string        `json:"error,omitempty"`
	Warning        *Warning      `json:"warning,omitempty"`
}

// MainIntegration is one entry of what the main cluster wants synced: an
// installed package, or (install status not_installed) one fleetform saw
// installed before and that is gone now.
type MainIntegration struct {
	Name      string
	Version   string
	Status    string // StatusInstalled or StatusNotInstalled
	UpdatedAt time.Time
}

// MainIntegrations builds the entries of direct sync: every package
// installed on main, plus, when syncUninstalled, every package fleetform
// saw installed (seen) that main no longer has, as not_installed.
func MainIntegrations(main []Package, seen map[string]string, syncUninstalled bool) []MainIntegration {
	var out []MainIntegration
	on := map[string]bool{}
	for _, p := range main {
		if p.Status != "" && p.Status != StatusInstalled {
			continue
		}
		on[p.Name] = true
		out = append(out, MainIntegration{Name: p.Name, Version: p.Version, Status: StatusInstalled, UpdatedAt: p.UpdatedAt})
	}
	if syncUninstalled {
		for name, v := range seen {
			if !on[name] {
				out = append(out, MainIntegration{Name: name, Version: v, Status: StatusNotInstalled})
			}
		}
	}
	slices.SortFunc(out, func(a, b MainIntegration) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// ComputeStatus compares what main wants synced with the remote's packages
// (any status) by the rules of Kibana's compare_synced_integrations, so
// that direct mode reports in the same vocabulary as Kibana's own sync.
func ComputeStatus(want []MainIntegration, remote []Package, syncUninstalled bool) []IntegrationStatus {
	local := make(map[string]Package, len(remote))
	for _, p := range remote {
		local[p.Name] = p
	}
	out := make([]IntegrationStatus, 0, len(want))
	for _, m := range want {
		out = append(out, integrationStatus(m, local, syncUninstalled))
	}
	return out
}

func integrationStatus(m MainIntegration, local map[string]Package, syncUninstalled bool) IntegrationStatus {
	s := IntegrationStatus{PackageName: m.Name, PackageVersion: m.Version, UpdatedAt: isoTime(m.UpdatedAt)}
	l, ok := local[m.Name]
	uninstalled := m.Status == StatusNotInstalled
	switch {
	case !ok && syncUninstalled && uninstalled:
		s.SyncStatus = SyncCompleted
		s.InstallStatus = InstallStatus{Main: StatusNotInstalled, Remote: StatusNotInstalled}
		return s
	case !ok:
		s.SyncStatus = SyncSynchronizing
		s.InstallStatus = InstallStatus{Main: m.Status}
		return s
	}
	s.InstallStatus = InstallStatus{Main: m.Status, Remote: l.Status}
	s.UpdatedAt = isoTime(l.UpdatedAt)
	switch {
	case !uninstalled && l.Version != m.Version:
		s.SyncStatus = SyncFailed
		s.Error = "Found incorrect installed version " + l.Version
	case !uninstalled && l.Status == StatusInstallFailed:
		if l.InstallError != nil && l.InstallError.Name == "PackageNotFoundError" {
			s.SyncStatus = SyncWarning
			s.InstallStatus.Remote = StatusNotInstalled
			s.Warning = &Warning{
				Title:   "Integration can't be automatically synced",
				Message: "This integration must be manually installed on the remote cluster. Automatic updates and remote installs are not supported.",
			}
			break
		}
		s.SyncStatus = SyncFailed
		s.Error = "Installation status: install_failed"
		if e := l.InstallError; e != nil {
			s.Error = fmt.Sprintf("Installation status: install_failed %s at %s", e.Message, utcString(e.At))
		}
	case syncUninstalled && uninstalled && l.Status == StatusInstalled:
		s.SyncStatus = SyncWarning
		if e := l.UninstallError; e != nil && e.Name == UninstallBlocked {
			s.Warning = &Warning{
				Title:   "Integration was uninstalled, but fleetform holds back its removal from the remote cluster.",
				Message: fmt.Sprintf("%s (since %s)", e.Message, utcString(e.At)),
			}
		} else if e != nil {
			s.Warning = &Warning{
				Title:   "Integration was uninstalled, but removal from remote cluster failed.",
				Message: fmt.Sprintf("%s at %s", e.Message, utcString(e.At)),
			}
		}
	case l.Status == StatusInstalled:
		s.SyncStatus = SyncCompleted
	default:
		s.SyncStatus = SyncSynchronizing
	}
	return s
}

// utcString formats t as JavaScript's Date.prototype.toUTCString does.
func utcString(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
