package remote

import (
	"fmt"
	"strings"
)

// CheckVersion is the preflight check of a remote's Kibana version.
const CheckVersion = "kibana-version"

// SyncTaskSince is the first Kibana version whose remote side runs the
// integration sync task (server/tasks/sync_integrations/
// sync_integrations_task.ts, which reads the CCR follower
// fleet-synced-integrations-ccr-*) and serves
// GET /api/fleet/remote_synced_integrations/status
// (server/routes/remote_synced_integrations/index.ts, availability since
// 9.1.0).
const SyncTaskSince = "9.1.0"

// versionProblems reports what the remote's Kibana version (GET /api/status;
// "" when unread) cannot do for the target: sync via CCR needs Kibana's sync
// task on the remote. Direct sync installs through the EPM API every
// supported version has, so it has no such limit.
func versionProblems(t target, version string) []Problem {
	if version == "" || t.obj.SyncVia == SyncViaDirect || t.out.SyncIntegrations == nil || !*t.out.SyncIntegrations {
		return nil
	}
	if atLeast(version, SyncTaskSince) {
		return nil
	}
	return []Problem{{Cluster: t.cluster.Name, Output: t.out.ID, Check: CheckVersion, Message: fmt.Sprintf(
		"remote %s runs Kibana %s; syncing integrations via ccr needs Kibana %s on the remote (its sync task); upgrade it or set sync_via: direct",
		t.cluster.Name, version, SyncTaskSince)}}
}

// servesSyncStatus reports whether a remote Kibana of version v ("" when
// unread) serves the remote sync status API the kibana_api_key probe asks
// (GET /api/fleet/remote_synced_integrations/status, since SyncTaskSince).
// An older one answers 404 to any key, which says nothing of the key: a
// ccr-synced output to it is refused by versionProblems, and a direct-synced
// one needs no such API (TestVersionMatrix: every direct row to a remote
// below 9.1 was refused with "answered 404 to the sync status request").
func servesSyncStatus(v string) bool { return v == "" || atLeast(v, SyncTaskSince) }

// atLeast compares Kibana versions; a snapshot or pre-release of a version
// has that version's features.
func atLeast(v, since string) bool {
	core, _, _ := strings.Cut(v, "-")
	return compareVersions(core, since) >= 0
}
