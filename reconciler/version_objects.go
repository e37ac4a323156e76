package reconciler

import (
	"context"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
)

// The versioned agent policy, integration policy and output fields fleetform
// can send, each with the Kibana pull request that added it to the request
// schema and the version label it carries. A Kibana without it (since, per
// release line: kversion.Gate) refuses the key with 400 ("definition for
// this key is missing"); fleetsim's versions.go gates the same keys. Which
// 9.x gates reached the 8.19 line: docs/fleetsim-inferred.md item 58.
var (
	featIsProtected = feature{"is_protected", "8.9.0",
		"elastic/kibana#157077 \"[Fleet] add ingest-agent-policies.is_protected SO attribute\" (v8.9.0)"}
	featKeepMonitoringAlive = feature{"keep_monitoring_alive", "8.12.0",
		"elastic/kibana#168865 \"[Fleet] Add new keep_monitoring_alive flag to agent policies\" (v8.12.0)"}
	featGlobalDataTags = feature{"global_data_tags", "8.15.0",
		"elastic/kibana#183563 \"[Fleet] Add data tags to agent policy APIs\" (v8.15.0)"}
	featPolicySupportsAgentless = feature{"supports_agentless", "8.15.0",
		"elastic/kibana#182709 \"[Fleet] Add support_agentless property in agent policy schema\" (v8.15.0)"}
	// elastic/kibana#193361 adds monitoring_http, monitoring_pprof_enabled
	// and monitoring_diagnostics to the agent policy schema (v8.16.0).
	featMonitoringHTTP = feature{"monitoring_http", "8.16.0",
		"elastic/kibana#193361 \"[UII] Advanced agent monitoring options UI for HTTP endpoint and diagnostics\" (v8.16.0)"}
	featMonitoringPprof = feature{"monitoring_pprof_enabled", "8.16.0", "elastic/kibana#193361 (v8.16.0)"}
	featMonitoringDiag  = feature{"monitoring_diagnostics", "8.16.0", "elastic/kibana#193361 (v8.16.0)"}
	featAgentFeatures   = feature{"agent_features", "8.7.0",
		"elastic/kibana#150239 \"[Fleet] Add ability to show FQDN of agents\" (v8.7.0)"}
	featOverrides = feature{"overrides", "8.9.0",
		"elastic/kibana#159414 \"[Fleet] Allow to overrides agent policy\" (v8.9.0)"}
	featAdvancedSettings = feature{"advanced_settings", "8.14.0",
		"elastic/kibana#179795 \"[Fleet] Settings Framework API and UI\" (v8.14.0)"}
	featPolicySpaceIDs = feature{"space_ids", "8.16.0",
		"elastic/kibana#189663 \"[Fleet] Allow to move agent policy to another space\" (v8.16.0)"}
	// required_versions: 9.0.0 (elastic/kibana#206600, v9.0.0), and on
	// the 8.19 line from 8.19.0: elastic/kibana#217461 "[8.x][Fleet]
	// Backport auto upgrade feature to 8.x" (merged April 2025, the 8.x
	// branch that became 8.19). 8.18 has no such key.
	featRequiredVersions = feature{"required_versions", gateRequiredVersions,
		"elastic/kibana#206600 \"[Fleet] Added required_versions to agent policy and API with validation\" (v9.0.0); backported to 8.19 by elastic/kibana#217461"}
	featPolicyIDs = feature{"policy_ids", "8.15.0",
		"elastic/kibana#184636 \"[Fleet] introduce policy_ids in package policy SO\", released with 8.15 (elastic/kibana#188707)"}
	// 8.15 has reusable integration policies behind a feature flag and
	// answers 400 "Reusable integration policies are not supported"
	// (elastic/kibana#187980); generally available in 8.16 (elastic/kibana#188707).
	featSharedIntegrationPolicy = feature{"policy_ids naming more than one agent policy", "8.16.0",
		"elastic/kibana#187980, #188707: reusable integration policies GA in 8.16"}
	// Before 8.16 a package policy's output_id was stored but not used
	// (elastic/kibana#134821); integration-level outputs came with
	// elastic/kibana#189125 "[UII] Support integration-level outputs" (v8.16.0).
	featIntegrationOutput = feature{"output_id", "8.16.0",
		"elastic/kibana#189125 \"[UII] Support integration-level outputs\" (v8.16.0)"}
	// write_to_logs_streams: on a 9.2.0 SNAPSHOT in elastic/kibana#234563,
	// documented for 9.2 (elastic/docs-content#3855).
	featWriteToLogsStreams = feature{"write_to_logs_streams", "9.2.0",
		"elastic/kibana#234563 (9.2.0 SNAPSHOT), elastic/docs-content#3855 (release 9.2)"}
)

// agentPolicyFeatures lists the versioned fields a declared agent policy uses.
func agentPolicyFeatures(p *schema.AgentPolicy) []feature {
	var out []feature
	if p.IsProtected != nil {
		out = append(out, featIsProtected)
	}
	if p.KeepMonitoringAlive != nil {
		out = append(out, featKeepMonitoringAlive)
	}
	if p.GlobalDataTags != nil {
		out = append(out, featGlobalDataTags)
	}
	if p.SupportsAgentless != nil {
		out = append(out, featPolicySupportsAgentless)
	}
	if p.MonitoringHTTP != nil {
		out = append(out, featMonitoringHTTP)
	}
	if p.MonitoringPprof != nil {
		out = append(out, featMonitoringPprof)
	}
	if p.MonitoringDiag != nil {
		out = append(out, featMonitoringDiag)
	}
	if p.RequiredVersions != nil {
		out = append(out, featRequiredVersions)
	}
	if p.AgentFeatures != nil {
		out = append(out, featAgentFeatures)
	}
	if p.Overrides != nil {
		out = append(out, featOverrides)
	}
	if p.AdvancedSettings != nil {
		out = append(out, featAdvancedSettings)
	}
	if p.SpaceIDs != nil {
		out = append(out, featPolicySpaceIDs)
	}
	if p.InactivityTimeout != nil {
		out = append(out, featInactivityTimeout)
	}
	if p.Agentless != nil {
		out = append(out, featAgentless)
	}
	for _, f := range advancedSettingsFeatures {
		if _, ok := p.AdvancedSettings[strings.TrimPrefix(f.name, "advanced_settings.")]; ok {
			out = append(out, f)
		}
	}
	return out
}

// Versioned agent policy fields besides those above (fleetsim versions.go
// gates the same keys; docs/fleetsim-inferred.md 59).
var (
	featInactivityTimeout = feature{"inactivity_timeout", "8.7.0",
		"elastic/kibana#147432 \"[Fleet] Add agent policy inactivity_timeout experimental setting\" (v8.7.0)"}
	featAgentless = feature{"agentless", "8.18.0",
		"elastic/kibana#206042 \"[Fleet] Send Agentless API resources\" (v8.18.0; the schema key inferred)"}
	featPackagePolicySupportsAgentless = feature{"supports_agentless", "8.18.0",
		"elastic/kibana#199567 \"[UII] Add status tracking for agentless integrations\" (v8.18.0, v9.0.0)"}
	featOutputIsInternal = feature{"is_internal", "8.13.0",
		"elastic/kibana#175546, #175983 \"[Cloud Security] Add is_internal flag to fleet server hosts configuration\" (v8.13.0)"}
	featKafkaTopic = feature{"topic", "8.13.0",
		"elastic/kibana#177229 \"[Fleet] Replace topics key by topic for kafka output in full agent policy\" (v8.13.0)"}
)

// advancedSettingsFeatures are the advanced_settings keys that came after
// advanced_settings itself (AGENT_POLICY_ADVANCED_SETTINGS in
// common/settings/agent_policy_settings.ts; an older Kibana refuses
// "[request body.advanced_settings.<key>]: definition for this key is
// missing"). agent_logging_metrics_period is not dated, so not gated.
var advancedSettingsFeatures = []feature{
	{"advanced_settings.agent_logging_to_files", "8.17.0", "elastic/kibana#200274 (8.17, inferred: elastic/elastic-agent#188)"},
	{"advanced_settings.agent_logging_files_rotateeverybytes", "8.17.0", "elastic/kibana#200274 (8.17, inferred)"},
	{"advanced_settings.agent_logging_files_keepfiles", "8.17.0", "elastic/kibana#200274 (8.17, inferred)"},
	{"advanced_settings.agent_logging_files_interval", "8.17.0", "elastic/kibana#200274 (8.17, inferred)"},
	{"advanced_settings.agent_monitoring_runtime_experimental", "9.2.0",
		"elastic/kibana#233345 \"[Fleet] Allow to configure monitoring runtime in agent policy\" (merged 2025-08-28: 9.2, inferred)"},
	{"advanced_settings.agent_internal", "9.3.0",
		"elastic/kibana#245819 \"[Fleet] add agent internal yaml settings\" (on 9.3.0 BC4 per elastic/kibana#248416: 9.3, inferred)"},
}

// Versioned output fields besides those of version.go.
var featOutputShipper = feature{"shipper", "8.7.0",
	"elastic/kibana#145755 \"[Fleet] Add UI controls to setting/outputs to configure new shipper\" (v8.7.0)"}

// outputMoreFeatures lists the versioned fields of this file a declared
// output uses (outputFeatures adds them). allow_edit (elastic/kibana#157688,
// v8.9.0) is never sent: fleetform only reads it.
func outputMoreFeatures(o *schema.Output) []feature {
	var out []feature
	if o.Shipper != nil {
		out = append(out, featOutputShipper)
	}
	if o.IsInternal != nil {
		out = append(out, featOutputIsInternal)
	}
	if o.Type == "kafka" && o.Topic != "" {
		out = append(out, featKafkaTopic)
	}
	return out
}

// integrationPolicyFeatures lists the versioned fields a declared
// integration policy uses.
func integrationPolicyFeatures(p *schema.PackagePolicy) []feature {
	var out []feature
	if p.PolicyIDs != nil {
		out = append(out, featPolicyIDs)
	}
	if len(p.PolicyIDs) > 1 {
		out = append(out, featSharedIntegrationPolicy)
	}
	if id, ok := p.OutputID.Get(); ok && id != "" {
		out = append(out, featIntegrationOutput)
	}
	if p.AdditionalDatastreamsPermissions != nil {
		out = append(out, featAdditionalDatastreamsPermissions)
	}
	if p.SupportsAgentless != nil {
		out = append(out, featPackagePolicySupportsAgentless)
	}
	return out
}

// stepFeatures lists the versioned features the declaration behind a
// create or update step uses (nil: a kind without versioned fields).
func stepFeatures(st *step) []feature {
	switch s := st.data.(type) {
	case *outputStep:
		if s.out != nil {
			return outputFeatures(s.out)
		}
	case *policyStep:
		if s.pol != nil {
			return agentPolicyFeatures(s.pol)
		}
	case *ipStep:
		if s.body.want != nil {
			return integrationPolicyFeatures(s.body.want)
		}
	case *objectStep:
		return objectFeatures(st.change.Kind, s.obj)
	}
	return nil
}

// Versioned fields of the download source and Fleet Server host kinds.
var (
	featDownloadSourceProxy = feature{"proxy_id", "8.11.0",
		"elastic/kibana#164078 \"[Fleet][API] Add ability to set a proxy for agent download source\" (v8.11.0)"}
	featDownloadSourceSSL = feature{"ssl", "9.1.0",
		"elastic/kibana#213211 \"[Fleet] Add ssl fields to agent binary source settings\", from 9.1.0 (elastic/ingest-docs#1727)"}
	featDownloadSourceSecrets = feature{"secrets", "9.1.0",
		"elastic/kibana#213211 (secrets.ssl.key), from 9.1.0 (elastic/ingest-docs#1727)"}
	featFleetServerHostProxy = feature{"proxy_id", "8.7.0",
		"elastic/kibana#145017 \"[Fleet] Add crud UI for fleet proxy\": proxies referenced by outputs and Fleet Server hosts (v8.7.0)"}
	featOutputProxy        = feature{"proxy_id", "8.7.0", featFleetServerHostProxy.source}
	featFleetServerHostSSL = feature{"ssl", "9.1.0",
		"elastic/kibana#208091, Fleet Server host SSL settings from 9.1.0 (elastic/ingest-docs#1727)"}
	featFleetServerHostSecrets = feature{"secrets", "9.1.0",
		"elastic/kibana#208091 (secrets.ssl.*), from 9.1.0 (elastic/ingest-docs#1727)"}
	// Download source auth and secrets.auth: elastic/kibana#250557 (merged
	// 2026-01-27), documented for 9.4 by elastic/docs-content#6065.
	featDownloadSourceAuth = feature{"auth", "9.4.0",
		"elastic/kibana#250557 (download source authentication), 9.4 (elastic/docs-content#6065)"}
	featAdditionalDatastreamsPermissions = feature{"additional_datastreams_permissions", "9.1.0",
		"elastic/kibana#210452 \"[Fleet] Additional datastreams permissions API\" (v9.1.0)"}
	featFleetServerHostIsInternal = feature{"is_internal", "8.13.0",
		"elastic/kibana#175983 \"[Cloud Security] Add is_internal flag to fleet server hosts configuration\" (v8.13.0)"}
	// Elastic Defend artifact downloads: elastic/kibana#267819 (opened
	// 2026-05-05, after 9.4 branched): 9.5.0, inferred.
	featSecurityArtifactsURL = feature{"security_artifacts_url", "9.5.0",
		"elastic/kibana#267819 \"[Fleet] Support download settings at Fleet level for Elastic defend\" (9.5, inferred)"}
	featSecurityArtifactsProxy = feature{"security_artifacts_proxy_id", "9.5.0", featSecurityArtifactsURL.source}
)

// objectVersionedFields are, by object kind, the top-level keys that came
// with a Kibana version.
var objectVersionedFields = map[string][]feature{
	kindDownloadSource: {featDownloadSourceProxy, featDownloadSourceSSL, featDownloadSourceSecrets, featDownloadSourceAuth,
		featSecurityArtifactsURL, featSecurityArtifactsProxy},
	kindFleetServerHost: {featFleetServerHostProxy, featFleetServerHostSSL, featFleetServerHostSecrets, featFleetServerHostIsInternal},
}

// objectFeatures lists the versioned features a declared object of a
// settings kind uses: the kind's API itself (kindRoutes), a declared field,
// ssl for a declared ssl key (plain or secret), secrets for a secret stored
// in Fleet's secret storage.
func objectFeatures(kind string, o declaredObject) []feature {
	var out []feature
	if f, ok := kindRoutes[kind]; ok {
		out = append(out, f)
	}
	for _, f := range objectVersionedFields[kind] {
		_, declared := o.fields[f.name]
		for _, sp := range o.secrets {
			declared = declared || f.name == "secrets" && sp.Stored ||
				f.name == "ssl" && (strings.HasPrefix(sp.Path, "ssl.") || strings.HasPrefix(sp.Path, "secrets.ssl.")) ||
				f.name == "auth" && (strings.HasPrefix(sp.Path, "auth.") || strings.HasPrefix(sp.Path, "secrets.auth."))
		}
		if declared {
			out = append(out, f)
		}
	}
	return out
}

// versionLacks lists the versioned keys of kind that Kibana version v does
// not know: a PUT leaves them out of the keys it repeats (putKeeps), which
// such a Kibana refuses as unknown.
func versionLacks(v, kind string) []string {
	var out []string
	for _, f := range objectVersionedFields[kind] {
		if v != "" && !kibanaAtLeast(v, f.since) {
			out = append(out, f.name)
		}
	}
	return out
}

// kindRoutes are the settings kinds whose API came with a Kibana version:
// before it, listing them is a 404.
var kindRoutes = map[string]feature{
	kindProxy: {"the /api/fleet/proxies API", "8.7.0",
		"elastic/kibana#145017 \"[Fleet] Add crud UI for fleet proxy\": the CRUD API under /api/fleet/proxies (v8.7.0)"},
	kindFleetServerHost: {"the /api/fleet/fleet_server_hosts API", "8.6.0",
		"elastic/kibana#142746 \"[Fleet] Add new APIs and preconfiguration for Fleet server hosts per policy\" (v8.6.0)"},
	kindDownloadSource: {"the /api/fleet/agent_download_sources API", "8.4.0",
		"elastic/kibana#134889, the agent binary download source API (elastic/kibana#133828), documented for 8.4.0 (elastic/observability-docs#2006)"},
}

// kindAbsent reports whether listErr, from listing kind, is the 404 of a
// Kibana that predates the kind's API (kindRoutes; read with GET
// /api/status). Then the kind is observed empty, and its declared objects
// are blocked naming the version (stepFeatures) rather than failing the
// observation.
func (r *Reconciler) kindAbsent(ctx context.Context, kind string, listErr error) bool {
	f, ok := kindRoutes[kind]
	if !ok || !kibana.IsNotFound(listErr) {
		return false
	}
	vr, ok := r.cfg.Fleet.(VersionReader)
	if !ok {
		return false
	}
	v, err := vr.KibanaVersion(ctx)
	return err == nil && v != "" && !kibanaAtLeast(v, f.since)
}
