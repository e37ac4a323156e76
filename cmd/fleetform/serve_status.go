package main

import (
	"github.com/fleetform/fleetform/daemon"
	"github.com/fleetform/fleetform/remote"
)

// integrationRows is a remote output's integration sync table as the
// daemon shows it on /status and its page: the rows of Kibana's
// remote_synced_integrations status, field for field.
func integrationRows(in []remote.IntegrationStatus) []daemon.IntegrationSync {
	out := make([]daemon.IntegrationSync, 0, len(in))
	for _, i := range in {
		row := daemon.IntegrationSync{PackageName: i.PackageName, PackageVersion: i.PackageVersion, SyncStatus: i.SyncStatus,
			InstallStatus: daemon.InstallState{Main: i.InstallStatus.Main, Remote: i.InstallStatus.Remote},
			UpdatedAt:     i.UpdatedAt, Error: i.Error}
		if w := i.Warning; w != nil {
			row.Warning = &daemon.SyncWarning{Title: w.Title, Message: w.Message}
		}
		out = append(out, row)
	}
	return out
}
