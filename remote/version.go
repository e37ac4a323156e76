package remote

import (
	"fmt"
	"strings"
)

// Preflight checks of a remote's versions.
const (
	CheckVersion   = "kibana-version"        // the remote's Kibana version
	CheckESVersion = "elasticsearch-version" // the remote's Elasticsearch version
)

// ServiceTokenESSince is the first Elasticsearch release with the
// elastic/fleet-server-remote service account whose tokens fleetform mints
// for a generated service token: elastic/elasticsearch#100950 "[Fleet] add
// fleet-server-remote service account" (merged 2023-10-17 on main, no 8.11
// backport; ElasticServiceAccounts.FLEET_REMOTE_ACCOUNT), with Kibana's
// elastic/kibana#169252 "[Fleet] Support for remote ES output" (v8.12.0,
// backport:skip). An older Elasticsearch answers the mint with 400
// illegal_argument_exception "service account [elastic/fleet-server-remote]
// does not exist" (IndexServiceAccountTokenStore.createToken).
// docs/fleetsim-inferred.md 61.
//
// What else fleetform does on a remote's Elasticsearch needs less: the
// remote-cluster link in proxy mode (cluster.remote.*.mode, 7.7), API keys
// with application privileges and metadata (7.13 at the latest), CCR
// (7.x, with the licence Preflight checks), all below 8.12.0.
const ServiceTokenESSince = "8.12.0"

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

// needsESVersion reports whether an output to remote carries a service
// token, generated (its account must exist: esVersionProblems) or declared
// (the version explains a refused one: noRemoteAccountHint). Only then does
// a plan read the remote's Elasticsearch version, once per remote.
func needsESVersion(ts []target, remote string) bool {
	for _, t := range ts {
		if t.cluster.Name == remote && tokenRef(t.out) != nil {
			return true
		}
	}
	return false
}

// esVersionProblems reports what the remote's Elasticsearch version
// (GET /, "" when unread) cannot do for the target: fleetform mints a
// generated service token on elastic/fleet-server-remote, which exists from
// ServiceTokenESSince. A declared token is not limited by the version: any
// token Elasticsearch authenticates with manage_own_api_key lets Fleet
// Server mint the agents' API keys on the remote (the token's only use),
// and preflight tries it (CheckServiceToken).
func esVersionProblems(t target, esVersion string) []Problem {
	s := t.obj.ServiceToken
	if esVersion == "" || s == nil || atLeast(esVersion, ServiceTokenESSince) {
		return nil
	}
	field := "secrets.service_token"
	if s.Plain {
		field = "service_token"
	}
	return []Problem{{Cluster: t.cluster.Name, Output: t.out.ID, Check: CheckESVersion, Message: fmt.Sprintf(
		"remote %s runs Elasticsearch %s; %s: {generate: true} mints a token of the elastic/fleet-server-remote service account, which Elasticsearch has from %s on; upgrade the remote's Elasticsearch or declare a service token it accepts",
		t.cluster.Name, esVersion, field, ServiceTokenESSince)}}
}

// noRemoteAccountHint explains a declared service token refused by an
// Elasticsearch older than ServiceTokenESSince ("" otherwise).
func noRemoteAccountHint(esVersion string) string {
	if esVersion == "" || atLeast(esVersion, ServiceTokenESSince) {
		return ""
	}
	return fmt.Sprintf("; Elasticsearch %s has no elastic/fleet-server-remote service account (it came in %s), so a token of that account cannot authenticate there", esVersion, ServiceTokenESSince)
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
