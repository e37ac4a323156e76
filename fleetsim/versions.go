package fleetsim

import (
	"net/http"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/internal/kversion"
)

// Versioned features: what a cluster's version= changes in what clients see.
// A field a Kibana version does not know is refused like any unknown key
// ("[request body.<key>]: definition for this key is missing"); a route it
// does not have is a 404.
//
// Each entry cites where the version comes from. A plain version gates from
// then on, on every later release line; a feature that reached 8.19 as a
// backport of a 9.x one is a kversion.Gate naming both lines ("8.19.0
// 9.1.0"). Which 9.x gates reached 8.19, and which did not:
// docs/fleetsim-inferred.md item 58 (the gates below without an 8.19
// minimum are, by that table, absent from 8.19).
var (
	// Kafka outputs: elastic/kibana#159110 "[Fleet] Kafka integration API"
	// (v8.10.0, backport:skip) adds outputType.Kafka and its schema to the
	// outputs API; before it the request schema knows no kafka type (400).
	// reconciler/version.go featKafka blocks it at the same version.
	versionKafka = "8.10.0"
	// Remote Elasticsearch output: "Beginning in version 8.12.0, you can send
	// Elastic Agent data to a remote Elasticsearch cluster"
	// (elastic.co/guide/en/fleet/8.12/remote-elasticsearch-output.html).
	versionRemoteES = "8.12.0"
	// Output secrets (the secrets.* fields of outputs): elastic/kibana#169221
	// "[Fleet] Output Secrets Backend", released in 8.12.0; "Secret storage
	// requires Fleet Server version 8.12 or higher" (the same docs page).
	versionOutputSecrets = "8.12.0"
	// Performance presets (preset on elasticsearch and remote_elasticsearch
	// outputs): Beats' "Support performance presets in the Elasticsearch
	// output" (elastic/beats#37259, Dec 2023) and elastic/elastic-agent#3797,
	// released with 8.12.0; the Fleet output docs list "Performance tuning"
	// from the 8.12 guide on.
	versionPresets = "8.12.0"
	// Remote integrations sync (sync_integrations, kibana_url, kibana_api_key,
	// sync_uninstalled_integrations on remote_elasticsearch outputs, and the
	// /api/fleet/remote_synced_integrations routes): 9.1.0
	// (elastic/docs-content#952 "Add documentation for remote ES output
	// integrations syncing", docs marked "applies_to: stack: ga 9.1").
	versionRemoteSync = "9.1.0"
	// write_to_logs_streams on outputs ("Write to logs streams", the Fleet
	// side of wired streams): elastic/kibana#234563 reports the setting on
	// a 9.2.0 SNAPSHOT, and elastic/docs-content#3855 asks to document it
	// for release 9.2. Inferred as 9.2.0 (docs/fleetsim-inferred.md).
	versionWriteToLogsStreams = "9.2.0"
	// Fleet proxies, referenced by proxy_id from outputs and Fleet Server
	// hosts: elastic/kibana#145017 "[Fleet] Add crud UI for fleet proxy"
	// ("a new saved object that could be referenced in outputs or fleet
	// server hosts", the /api/fleet/proxies API), labelled v8.7.0.
	versionProxies = "8.7.0"
	// Space awareness on by default, which makes agent policies answer
	// space_ids: inferred as 9.1.0 (docs/fleetsim-inferred.md).
	versionSpaceAwareness = "9.1.0"
	// shipper on outputs: elastic/kibana#145755 "[Fleet] Add UI controls to
	// setting/outputs to configure new shipper", labelled v8.7.0 (the
	// output flyout's shipper settings and the key they send).
	versionShipper = "8.7.0"
	// allow_edit on outputs: elastic/kibana#157688 "[Fleet] Allow
	// preconfigured output fields to be edited" ("a new property on
	// preconfigured outputs allow_edit"), labelled v8.9.0.
	versionAllowEdit = "8.9.0"
	// Download source auth (auth and secrets.auth): elastic/kibana#250557,
	// merged 2026-01-27; elastic/docs-content#6065 "Artifact/Source URI now
	// support authentication headers", labelled 9.4, documents it
	// following that pull request.
	versionDownloadSourceAuth = "9.4.0"
	// is_internal on outputs: elastic/kibana#175546 (an internal output,
	// hidden in the UI, for agentless in serverless), which
	// elastic/kibana#175983 "[Cloud Security] Add is_internal flag to fleet
	// server hosts configuration" (v8.13.0) follows up; inferred as 8.13.0
	// (docs/fleetsim-inferred.md 59).
	versionOutputIsInternal = "8.13.0"
	// topic on kafka outputs: elastic/kibana#177229 "[Fleet] Replace topics
	// key by topic for kafka output in full agent policy" ("updated the
	// output Fleet API and saved object … introducing a new topic key and
	// deprecating topics"), labelled v8.13.0 and v8.14.0.
	versionKafkaTopic = "8.13.0"
)

// remoteSyncFields are the remote_elasticsearch fields added with versionRemoteSync.
var remoteSyncFields = []string{"sync_integrations", "sync_uninstalled_integrations", "kibana_url", "kibana_api_key"}

// outputSchemas are the create and update body schemas of one Kibana version.
type outputSchemas struct {
	create, update vtype
}

// outputSchemasFor builds the output schemas a Kibana version validates with.
func outputSchemasFor(version string) outputSchemas {
	es, remote, ls, kafka := esOutput, remoteESOutput, logstashOutput, kafkaOutput
	if !versionAtLeast(version, versionRemoteSync) {
		remote = remote.without(remoteSyncFields...)
	}
	if !versionAtLeast(version, versionPresets) {
		es, remote = es.without("preset"), remote.without("preset")
	}
	if !versionAtLeast(version, versionProxies) {
		es, remote, ls, kafka = es.without("proxy_id"), remote.without("proxy_id"), ls.without("proxy_id"), kafka.without("proxy_id")
	}
	if !versionAtLeast(version, versionWriteToLogsStreams) {
		es, remote, ls, kafka = es.without("write_to_logs_streams"), remote.without("write_to_logs_streams"),
			ls.without("write_to_logs_streams"), kafka.without("write_to_logs_streams")
	}
	if !versionAtLeast(version, versionOutputSecrets) {
		es, remote, ls, kafka = es.without("secrets"), remote.without("secrets"), ls.without("secrets"), kafka.without("secrets")
	}
	for _, gate := range []struct{ key, since string }{{"shipper", versionShipper}, {"allow_edit", versionAllowEdit}, {"is_internal", versionOutputIsInternal}} {
		if !versionAtLeast(version, gate.since) {
			es, remote, ls, kafka = es.without(gate.key), remote.without(gate.key), ls.without(gate.key), kafka.without(gate.key)
		}
	}
	if !versionAtLeast(version, versionKafkaTopic) {
		// Before it the kafka schema has topics (an array), not topic; the
		// older key is not modelled (docs/fleetsim-inferred.md 59).
		kafka = kafka.without("topic")
	}
	types := []string{typeES, typeLogstash, typeKafka}
	schemas := map[string]vtype{typeES: es, typeLogstash: ls, typeKafka: kafka}
	update := tOneOf{es.optional(), ls.optional(), kafkaUpdate(kafka)}
	if !versionAtLeast(version, versionKafka) {
		// The message of that older schema (a type oneOf of literals in
		// one object) is not modelled: the discriminated form without
		// kafka stands in for it (docs/fleetsim-inferred.md 57).
		types = []string{typeES, typeLogstash}
		delete(schemas, typeKafka)
		update = tOneOf{es.optional(), ls.optional()}
	}
	if versionAtLeast(version, versionRemoteES) {
		types = []string{typeES, typeRemoteES, typeLogstash, typeKafka}
		schemas[typeRemoteES] = remote
		update = tOneOf{es.optional(), remote.optional(), ls.optional(), kafkaUpdate(kafka)}
	}
	return outputSchemas{
		create: tDiscriminated{key: "type", variants: types, schemas: schemas},
		update: update,
	}
}

// hasPresets says whether the cluster's Kibana knows output presets.
func (c *Cluster) hasPresets() bool { return versionAtLeast(c.cfg.Version, versionPresets) }

// versionedField is a top-level body key of some routes that a Kibana
// version without since does not know (an unknown key: 400). since names
// the first version per release line (kversion.Gate): a 9.x key
// backported to 8.19 is known on 8.19.x but not on 9.0.x.
type versionedField struct {
	name   string
	since  kversion.Gate
	routes []string // "METHOD pattern"
}

var (
	agentPolicyWrites     = []string{"POST /api/fleet/agent_policies", "PUT /api/fleet/agent_policies/{agentPolicyId}"}
	packagePolicyWrites   = []string{"POST /api/fleet/package_policies", "PUT /api/fleet/package_policies/{packagePolicyId}"}
	downloadSourceWrites  = []string{"POST /api/fleet/agent_download_sources", "PUT /api/fleet/agent_download_sources/{sourceId}"}
	fleetServerHostWrites = []string{"POST /api/fleet/fleet_server_hosts", "PUT /api/fleet/fleet_server_hosts/{itemId}"}
)

// versionedFields are the body keys, besides the outputs' (outputSchemasFor),
// that came with a Kibana version. Each cites the Kibana pull request that
// added the key to the request schema, with the version label it carries.
var versionedFields = []versionedField{
	// elastic/kibana#150239 "[Fleet] Add ability to show FQDN of agents":
	// "Adds the agent_features agent policy field", labelled v8.7.0.
	{"agent_features", "8.7.0", agentPolicyWrites},
	// elastic/kibana#159414 "[Fleet] Allow to overrides agent policy": "Add
	// a new property overrides to the agent policy API", labelled v8.9.0.
	{"overrides", "8.9.0", agentPolicyWrites},
	// elastic/kibana#179795 "[Fleet] Settings Framework API and UI" (the
	// advanced_settings of common/settings/agent_policy_settings.ts),
	// labelled v8.14.0. Its keys that came later: versionedNestedFields.
	{"advanced_settings", "8.14.0", agentPolicyWrites},
	// elastic/kibana#189663 "[Fleet] Allow to move agent policy to another
	// space": "The update agent policy API now accept a space_ids
	// property" (policy creation included), labelled v8.16.0; the empty
	// array accepted by elastic/kibana#191083 (v8.16.0).
	{"space_ids", "8.16.0", agentPolicyWrites},
	// elastic/kibana#157077 "[Fleet] add ingest-agent-policies.is_protected
	// SO attribute" (agent tamper protection), adding is_protected to the
	// create request, labelled v8.9.0.
	{"is_protected", "8.9.0", agentPolicyWrites},
	// elastic/kibana#168865 "[Fleet] Add new keep_monitoring_alive flag to
	// agent policies", labelled v8.12.0 (types/models/agent_policy.ts).
	{"keep_monitoring_alive", "8.12.0", agentPolicyWrites},
	// elastic/kibana#183563 "[Fleet] Add data tags to agent policy APIs",
	// labelled v8.15.0.
	{"global_data_tags", "8.15.0", agentPolicyWrites},
	// elastic/kibana#182709 "[Fleet] Add support_agentless property in agent
	// policy schema and preconfiguration", labelled v8.15.0.
	{"supports_agentless", "8.15.0", agentPolicyWrites},
	// elastic/kibana#193361 "[UII] Advanced agent monitoring options UI for
	// HTTP endpoint and diagnostics", labelled v8.16.0: "The following new
	// fields are added to agent policy schema: monitoring_http,
	// monitoring_pprof_enabled, monitoring_diagnostics" (8.15 kept the HTTP
	// settings in advanced_settings.agent_monitoring_http, elastic/kibana#180922).
	{"monitoring_http", "8.16.0", agentPolicyWrites},
	{"monitoring_pprof_enabled", "8.16.0", agentPolicyWrites},
	{"monitoring_diagnostics", "8.16.0", agentPolicyWrites},
	// elastic/kibana#206600 "[Fleet] Added required_versions to agent policy
	// and API with validation", labelled v9.0.0; on 8.19 from 8.19.0 by
	// elastic/kibana#217461 "[8.x][Fleet] Backport auto upgrade feature to
	// 8.x" (the 8.x branch became 8.19; 8.18 never had the key).
	{"required_versions", gateRequiredVersions, agentPolicyWrites},
	// elastic/kibana#184636 "[Fleet] introduce policy_ids in package policy
	// SO" (merged 2024-06-05, before the 8.15 feature freeze); reusable
	// integration policies shipped in 8.15 behind a feature flag and GA in
	// 8.16 (elastic/kibana#188707).
	{"policy_ids", "8.15.0", packagePolicyWrites},
	// elastic/kibana#210452 "[Fleet] Additional datastreams permissions
	// API" adds additional_datastreams_permissions to the package policy
	// request schema, labelled v9.1.0 and backport:skip.
	{"additional_datastreams_permissions", "9.1.0", packagePolicyWrites},
	// A Fleet Server host's proxy: versionProxies.
	{"proxy_id", kversion.Gate(versionProxies), fleetServerHostWrites},
	// elastic/kibana#164078 "[Fleet][API] Add ability to set a proxy for
	// agent download source", labelled v8.11.0 (beta in 8.11.0 per
	// elastic/ingest-docs#702).
	{"proxy_id", "8.11.0", downloadSourceWrites},
	// elastic/kibana#213211 "[Fleet] Add ssl fields to agent binary source
	// settings" (its key stored as a secret: secrets.ssl.key), and
	// elastic/kibana#208091, the Fleet Server host SSL settings (ssl and
	// secrets.ssl.{key,es_key,agent_key}); elastic/ingest-docs#1727
	// documents both "from 9.1.0". The download source's secrets.auth
	// (elastic/kibana#250557) is not gated separately (docs/fleetsim-inferred.md).
	{"ssl", "9.1.0", downloadSourceWrites},
	{"secrets", "9.1.0", downloadSourceWrites},
	{"ssl", "9.1.0", fleetServerHostWrites},
	{"secrets", "9.1.0", fleetServerHostWrites},
	// Download source auth: versionDownloadSourceAuth (secrets.auth:
	// versionedNestedFields).
	{"auth", kversion.Gate(versionDownloadSourceAuth), downloadSourceWrites},
	// elastic/kibana#147432 "[Fleet] Add agent policy inactivity_timeout
	// experimental setting" ("Add a new agent policy setting
	// inactivity_timeout"), labelled v8.7.0; its 2-week default came with
	// elastic/kibana#149031 (v8.7.0).
	{"inactivity_timeout", "8.7.0", agentPolicyWrites},
	// agentless.resources on agent policies: elastic/kibana#206042 "[Fleet]
	// Send Agentless API resources" (closes #203371), labelled v8.18.0,
	// merged in January 2025 into main (then 9.0) and backported to 8.x
	// (8.18). That it added the key to the request schema is inferred
	// (docs/fleetsim-inferred.md 59).
	{"agentless", "8.18.0", agentPolicyWrites},
	// supports_agentless on package policies: elastic/kibana#199567 "[UII]
	// Add status tracking for agentless integrations" ("A new field
	// supports_agentless was added to package policies"), labelled
	// v8.18.0 and v9.0.0.
	{"supports_agentless", "8.18.0", packagePolicyWrites},
	// elastic/kibana#175983 "[Cloud Security] Add is_internal flag to fleet
	// server hosts configuration", labelled v8.13.0 (the preconfiguration
	// key; that the API body took it then is inferred, docs/fleetsim-inferred.md 59).
	{"is_internal", "8.13.0", fleetServerHostWrites},
	// security_artifacts_url and security_artifacts_proxy_id (Elastic
	// Defend artifact downloads through the download source):
	// elastic/kibana#267819 "[Fleet] Support download settings at Fleet
	// level for Elastic defend" (opened 2026-05-05, resolving #265346 of
	// 2026-04), after 9.4 branched: inferred as 9.5.0, no backport found
	// (docs/fleetsim-inferred.md 59).
	{"security_artifacts_url", versionSecurityArtifacts, downloadSourceWrites},
	{"security_artifacts_proxy_id", versionSecurityArtifacts, downloadSourceWrites},
}

// versionSecurityArtifacts: the download source's security_artifacts_* keys.
const versionSecurityArtifacts kversion.Gate = "9.5.0"

// versionedNestedField is a key inside an object-typed body key (parent)
// that a Kibana version without since does not know: refused as
// "[request body.<parent>.<key>]: definition for this key is missing".
type versionedNestedField struct {
	parent, name string
	since        kversion.Gate
	routes       []string
}

// versionedNestedFields are the nested body keys that came after their
// parent. The agent policy advanced_settings keys follow
// AGENT_POLICY_ADVANCED_SETTINGS (common/settings/agent_policy_settings.ts),
// whose api_field names getSettingsAPISchema turns into the keys of a
// closed schema.object; agent_limits_go_max_procs, agent_download_timeout,
// agent_download_target_directory (elastic/kibana#179795) and
// agent_logging_level (elastic/kibana#180607, v8.14.0) came with
// advanced_settings itself; agent_logging_metrics_period is not dated and
// not gated (docs/fleetsim-inferred.md 59).
var versionedNestedFields = []versionedNestedField{
	// Download source secrets.auth: with auth (versionDownloadSourceAuth).
	{"secrets", "auth", kversion.Gate(versionDownloadSourceAuth), downloadSourceWrites},
	// The log file settings: elastic/kibana#200274, which
	// elastic/docs-content#5654 names as exposing them "prior to 9.0",
	// for elastic/kibana#192237; elastic/elastic-agent#188 answers
	// "available in 8.17". Inferred as 8.17.0 (the pull request's labels
	// were not read).
	{"advanced_settings", "agent_logging_to_files", gateAgentLogFiles, agentPolicyWrites},
	{"advanced_settings", "agent_logging_files_rotateeverybytes", gateAgentLogFiles, agentPolicyWrites},
	{"advanced_settings", "agent_logging_files_keepfiles", gateAgentLogFiles, agentPolicyWrites},
	{"advanced_settings", "agent_logging_files_interval", gateAgentLogFiles, agentPolicyWrites},
	// elastic/kibana#233345 "[Fleet] Allow to configure monitoring runtime
	// in agent policy", merged 2025-08-28, before 9.2 branched; no
	// backport found: inferred as 9.2.0.
	{"advanced_settings", "agent_monitoring_runtime_experimental", "9.2.0", agentPolicyWrites},
	// elastic/kibana#245819 "[Fleet] add agent internal yaml settings",
	// merged 2025-12-10; elastic/kibana#248416 reports the field on 9.3.0
	// BC4. Inferred as 9.3.0, no backport found.
	{"advanced_settings", "agent_internal", "9.3.0", agentPolicyWrites},
}

// gateAgentLogFiles: the advanced_settings log file keys (versionedNestedFields).
const gateAgentLogFiles kversion.Gate = "8.17.0"

// versionedRoutes are the route families that came with a Kibana version
// (before it: 404), by pattern prefix.
var versionedRoutes = []struct{ prefix, since string }{
	// elastic/kibana#134889, the agent binary download source API
	// (elastic/kibana#133828), documented for 8.4.0 (elastic/observability-docs#2006).
	{"/api/fleet/agent_download_sources", "8.4.0"},
	// elastic/kibana#145017 "[Fleet] Add crud UI for fleet proxy": "a new set
	// of CRUD API under /api/fleet/proxies", labelled v8.7.0.
	{"/api/fleet/proxies", versionProxies},
	// elastic/kibana#142746 "[Fleet] Add new APIs and preconfiguration for
	// Fleet server hosts per policy": "Add new CRUD Apis to manage Fleet
	// server hosts: /api/fleet/fleet_server_hosts,
	// /api/fleet/fleet_server_hosts/{itemId}", labelled v8.6.0.
	{"/api/fleet/fleet_server_hosts", "8.6.0"},
	// The remote-sync routes: versionRemoteSync.
	{"/api/fleet/remote_synced_integrations/", versionRemoteSync},
}

// Reusable integration policies (a package policy on several agent
// policies): in 8.15 behind a feature flag, off by default, so a create or
// update naming more than one agent policy is refused (elastic/kibana#187980:
// 400 "Reusable integration policies are not supported"); generally
// available from 8.16 (elastic/kibana#188707).
const versionReusablePolicies = "8.16.0"

// routesForVersion is rs as a Kibana version serves them: without the
// routes it lacks (404) and without the body keys it does not know.
func routesForVersion(version string, rs []*route) []*route {
	rs = slices.DeleteFunc(rs, func(r *route) bool { return !routeAvailable(version, r.pattern) })
	for _, r := range rs {
		if !versionAtLeast(version, versionReusablePolicies) && slices.Contains(packagePolicyWrites, r.method+" "+r.pattern) {
			r.handle = refuseSharedPackagePolicy(r.handle)
		}
		body, ok := r.body.(tObject)
		if !ok {
			continue
		}
		var drop []string
		for _, f := range versionedFields {
			if !f.since.Has(version) && slices.Contains(f.routes, r.method+" "+r.pattern) {
				drop = append(drop, f.name)
			}
		}
		for _, f := range versionedNestedFields {
			if !f.since.Has(version) && slices.Contains(f.routes, r.method+" "+r.pattern) {
				body = body.withoutNested(f.parent, f.name)
			}
		}
		r.body = body.without(drop...)
	}
	return rs
}

// routeAvailable says whether a Kibana version has a route.
func routeAvailable(version, pattern string) bool {
	for _, r := range versionedRoutes {
		if strings.HasPrefix(pattern, r.prefix) && !versionAtLeast(version, r.since) {
			return false
		}
	}
	return true
}

// without is the object with the named keys removed (not yet in a version).
func (t tObject) without(names ...string) tObject {
	fs := slices.DeleteFunc(slices.Clone(t.fields), func(f field) bool { return slices.Contains(names, f.name) })
	return tObject{fields: fs, unknowns: t.unknowns, validate: t.validate}
}

// withoutNested is the object with key removed from its object field
// parent.
func (t tObject) withoutNested(parent, key string) tObject {
	fs := slices.Clone(t.fields)
	for i, f := range fs {
		if inner, ok := f.t.(tObject); ok && f.name == parent {
			fs[i].t = inner.without(key)
		}
	}
	return tObject{fields: fs, unknowns: t.unknowns, validate: t.validate}
}

// refuseSharedPackagePolicy wraps a package policy write of a Kibana
// before versionReusablePolicies.
func refuseSharedPackagePolicy(h handlerFunc) handlerFunc {
	return func(c *Cluster, r *kreq) *kresp {
		if ids, _ := r.body["policy_ids"].([]any); len(ids) > 1 {
			return kerr(http.StatusBadRequest, "Reusable integration policies are not supported")
		}
		return h(c, r)
	}
}
