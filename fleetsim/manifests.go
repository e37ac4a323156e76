package fleetsim

import "slices"

// Package manifests of the built-in registry: the policy templates, inputs,
// data streams, streams and vars that package policies are built from and
// validated against. They keep only what package policies need from the real
// manifests in elastic/integrations (packages/<name>/manifest.yml and
// packages/<name>/data_stream/<ds>/manifest.yml); one manifest serves every
// registry version of a package.
//
// A package of type input has no data streams: each of its policy
// templates names one input and carries the stream's vars. manifestOf
// answers such a package normalized as Kibana's getNormalizedInputs and
// getNormalizedDataStreams (FLEET/common/services/policy_template.ts) see
// it — per template one input of the template's input type and one data
// stream, dataset <package>.<template>, whose one stream has the template's
// vars plus data_stream.dataset when absent — so package policies are
// built and validated from it like any other; the package info answer
// shows the templates as written (epm_info.go).

// pkgManifest is the policy-relevant part of a package's manifests.
type pkgManifest struct {
	Name string
	Type string // integration | input | content
	// Limited is isPackageLimited: a policy template with multiple: false,
	// so an agent policy holds at most one policy of the package.
	Limited         bool
	Vars            []varDef
	PolicyTemplates []policyTemplate
	DataStreams     []dataStreamDef
	// VarGroups are the package-level var_groups (package-spec 3.6.1,
	// elastic/package-spec#1059 and #1120).
	VarGroups []varGroup
	// raw is a normalized input package's manifest as written.
	raw *pkgManifest
}

type policyTemplate struct {
	Name   string
	Inputs []inputDef
	// An input-only template (packages of type input): the input type,
	// the data stream type (logs, metrics, …) and the stream's vars.
	Input string
	Type  string
	Vars  []varDef
}

type inputDef struct {
	Type string
	Vars []varDef
	// RequiredVars are the input's required_vars (package-spec 3.3.2,
	// elastic/package-spec#855).
	RequiredVars []requiredVarGroup
}

// dataStreamDef is data_stream/<name>/manifest.yml; Dataset is <package>.<name>.
type dataStreamDef struct {
	Type    string // logs | metrics | traces | synthetics
	Dataset string
	Streams []streamDef
}

type streamDef struct {
	Input        string
	Disabled     bool // enabled: false in the manifest
	Vars         []varDef
	RequiredVars []requiredVarGroup // required_vars (package-spec 3.3.2)
	VarGroups    []varGroup         // var_groups (package-spec 3.6.0)
}

// requiredVarGroup is one entry of required_vars (RegistryRequiredVars):
// the group is met when each of its conditions is — the var has a truthy
// value, equal (===) to Value when Value is truthy. A stream or input
// needs one group met.
type requiredVarGroup struct {
	Name string
	Vars []requiredVar
}

type requiredVar struct {
	Name  string
	Value any // nil: presence only
}

// varGroup is a RegistryVarGroup: mutually exclusive options, each naming
// the vars it shows; the selected option's name is stored in the policy's
// var_group_selections.
type varGroup struct {
	Name     string
	Required bool
	Options  []varGroupOption
}

type varGroupOption struct {
	Name string
	Vars []string
}

// varDef is a RegistryVarsEntry.
type varDef struct {
	Name     string
	Type     string // text | password | bool | integer | yaml | select | url | duration
	Title    string
	Multi    bool
	Required bool
	Secret   bool
	Default  any // JSON-shaped: string, bool, float64, []any
	// DefaultNull is a manifest's `default: null` (or empty `default:`):
	// varsReducer gives the var the value null, which is defined, where an
	// absent default leaves it undefined.
	DefaultNull bool
	// Options are a select var's option values (RegistryVarsEntry options[].value).
	Options []any
	// MinDuration and MaxDuration bound a duration var; URLAllowedSchemes
	// restricts a url var (package-spec 3.5 / 1.3, read by Kibana 9.2+).
	MinDuration, MaxDuration string
	URLAllowedSchemes        []string
}

func (v varDef) label() string {
	if v.Title != "" {
		return v.Title
	}
	return v.Name
}

// manifestOf returns the manifest of a registry package, or nil; a
// package of type input normalized (see the file comment), its manifest as
// written in raw.
func manifestOf(name string) *pkgManifest {
	for i := range normalizedManifests {
		if normalizedManifests[i].Name == name {
			return &normalizedManifests[i]
		}
	}
	return nil
}

// normalizedManifests are manifests with every package of type input
// normalized.
var normalizedManifests = func() []pkgManifest {
	out := make([]pkgManifest, len(manifests))
	for i := range manifests {
		out[i] = manifests[i]
		if manifests[i].Type == "input" {
			out[i] = normalizeInputPackage(&manifests[i])
		}
	}
	return out
}()

// normalizeInputPackage is getNormalizedInputs and getNormalizedDataStreams
// of a package of type input. The added data_stream.dataset var is
// DATA_STREAM_DATASET_VAR with the template's name as its default
// (addDatasetVarIfNotPresent; the default since elastic/kibana#151140,
// v8.7.0).
func normalizeInputPackage(m *pkgManifest) pkgManifest {
	n := pkgManifest{Name: m.Name, Type: m.Type, Limited: m.Limited, Vars: m.Vars, VarGroups: m.VarGroups, raw: m}
	for _, pt := range m.PolicyTemplates {
		vars := slices.Clone(pt.Vars)
		if !slices.ContainsFunc(vars, func(v varDef) bool { return v.Name == datasetVarName }) {
			vars = append(vars, varDef{Name: datasetVarName, Type: "text", Title: "Dataset name", Required: true, Default: pt.Name})
		}
		n.PolicyTemplates = append(n.PolicyTemplates, policyTemplate{Name: pt.Name, Inputs: []inputDef{{Type: pt.Input}}})
		n.DataStreams = append(n.DataStreams, dataStreamDef{Type: pt.Type, Dataset: m.Name + "." + pt.Name,
			Streams: []streamDef{{Input: pt.Input, Vars: vars}}})
	}
	return n
}

// datasetVarName is DATASET_VAR_NAME.
const datasetVarName = "data_stream.dataset"

func strs(s ...string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

var processorsVar = varDef{Name: "processors", Type: "yaml", Title: "Processors"}

var manifests = []pkgManifest{
	// packages/nginx: one policy template; logs from files or Splunk
	// (httpjson, whose password is a secret var), metrics from stub_status.
	{
		Name: "nginx", Type: "integration",
		PolicyTemplates: []policyTemplate{{Name: "nginx", Inputs: []inputDef{
			{Type: "logfile"},
			{Type: "httpjson", Vars: []varDef{
				{Name: "url", Type: "text", Title: "URL of Splunk Enterprise Server", Required: true, Default: "https://server.example.com:8089"},
				{Name: "username", Type: "text", Title: "Splunk REST API Username"},
				{Name: "password", Type: "password", Title: "Splunk REST API Password", Secret: true},
				{Name: "token", Type: "password", Title: "Splunk Authorization Token", Secret: true},
				{Name: "ssl", Type: "yaml", Title: "SSL Configuration"},
			}},
			{Type: "nginx/metrics", Vars: []varDef{
				{Name: "hosts", Type: "text", Title: "Hosts", Multi: true, Required: true, Default: strs("http://127.0.0.1:80")},
			}},
		}}},
		DataStreams: []dataStreamDef{
			{Type: "logs", Dataset: "nginx.access", Streams: []streamDef{
				{Input: "logfile", Vars: []varDef{
					{Name: "paths", Type: "text", Title: "Paths", Multi: true, Required: true, Default: strs("/var/log/nginx/access.log*")},
					{Name: "tags", Type: "text", Title: "Tags", Multi: true, Required: true, Default: strs("nginx-access")},
					{Name: "preserve_original_event", Type: "bool", Title: "Preserve original event", Required: true, Default: false},
					processorsVar,
					{Name: "ignore_older", Type: "text", Title: "Ignore events older than", Default: "72h"},
				}},
				{Input: "httpjson", Disabled: true, Vars: []varDef{
					{Name: "interval", Type: "text", Title: "Interval to query Splunk Enterprise REST API", Required: true, Default: "10s"},
					{Name: "search", Type: "text", Title: "Splunk search string", Required: true, Default: "search sourcetype=nginx:plus:access"},
					{Name: "tags", Type: "text", Title: "Tags", Multi: true, Default: strs("forwarded", "nginx-access")},
					{Name: "preserve_original_event", Type: "bool", Title: "Preserve original event", Required: true, Default: false},
					processorsVar,
				}},
			}},
			{Type: "logs", Dataset: "nginx.error", Streams: []streamDef{
				{Input: "logfile", Vars: []varDef{
					{Name: "paths", Type: "text", Title: "Paths", Multi: true, Required: true, Default: strs("/var/log/nginx/error.log*")},
					{Name: "tags", Type: "text", Title: "Tags", Multi: true, Required: true, Default: strs("nginx-error")},
					{Name: "preserve_original_event", Type: "bool", Title: "Preserve original event", Required: true, Default: false},
					processorsVar,
					{Name: "ignore_older", Type: "text", Title: "Ignore events older than", Default: "72h"},
				}},
				{Input: "httpjson", Disabled: true, Vars: []varDef{
					{Name: "interval", Type: "text", Title: "Interval to query Splunk Enterprise REST API", Required: true, Default: "10s"},
					{Name: "search", Type: "text", Title: "Splunk search string", Required: true, Default: "search sourcetype=nginx:plus:error"},
					{Name: "tags", Type: "text", Title: "Tags", Multi: true, Default: strs("forwarded", "nginx-error")},
					processorsVar,
				}},
			}},
			{Type: "metrics", Dataset: "nginx.stubstatus", Streams: []streamDef{
				{Input: "nginx/metrics", Vars: []varDef{
					{Name: "period", Type: "text", Title: "Period", Required: true, Default: "10s"},
					{Name: "server_status_path", Type: "text", Title: "Server Status Path", Required: true, Default: "/nginx_status"},
					{Name: "tags", Type: "text", Title: "Tags", Multi: true},
					processorsVar,
				}},
			}},
		},
	},
	// packages/system: logs from files, metrics from system/metrics.
	{
		Name: "system", Type: "integration",
		PolicyTemplates: []policyTemplate{{Name: "system", Inputs: []inputDef{
			{Type: "logfile"},
			{Type: "system/metrics"},
		}}},
		DataStreams: []dataStreamDef{
			{Type: "logs", Dataset: "system.auth", Streams: []streamDef{{Input: "logfile", Vars: []varDef{
				{Name: "paths", Type: "text", Title: "Paths", Multi: true, Required: true, Default: strs("/var/log/auth.log*", "/var/log/secure*")},
				{Name: "tags", Type: "text", Title: "Tags", Multi: true, Default: strs("system-auth")},
				{Name: "ignore_older", Type: "text", Title: "Ignore events older than", Default: "72h"},
				processorsVar,
			}}}},
			{Type: "logs", Dataset: "system.syslog", Streams: []streamDef{{Input: "logfile", Vars: []varDef{
				{Name: "paths", Type: "text", Title: "Paths", Multi: true, Required: true, Default: strs("/var/log/messages*", "/var/log/syslog*", "/var/log/system*")},
				{Name: "tags", Type: "text", Title: "Tags", Multi: true},
				{Name: "ignore_older", Type: "text", Title: "Ignore events older than", Default: "72h"},
				processorsVar,
			}}}},
			{Type: "metrics", Dataset: "system.cpu", Streams: []streamDef{{Input: "system/metrics", Vars: []varDef{
				{Name: "period", Type: "text", Title: "Period", Required: true, Default: "10s"},
				{Name: "cpu.metrics", Type: "text", Title: "Cpu metrics", Multi: true, Required: true, Default: strs("percentages", "normalized_percentages")},
				{Name: "tags", Type: "text", Title: "Tags", Multi: true},
				processorsVar,
			}}}},
			{Type: "metrics", Dataset: "system.memory", Streams: []streamDef{{Input: "system/metrics", Vars: []varDef{
				{Name: "period", Type: "text", Title: "Period", Required: true, Default: "10s"},
				{Name: "tags", Type: "text", Title: "Tags", Multi: true},
				processorsVar,
			}}}},
		},
	},
	// packages/fleet_server: one input, configured by input-level vars.
	{
		Name: "fleet_server", Type: "integration", Limited: true,
		PolicyTemplates: []policyTemplate{{Name: "fleet_server", Inputs: []inputDef{{Type: "fleet-server", Vars: []varDef{
			{Name: "host", Type: "text", Title: "Host", Multi: true, Default: strs("0.0.0.0")},
			{Name: "port", Type: "integer", Title: "Port", Multi: true, Default: []any{8220.0}},
			{Name: "max_agents", Type: "integer", Title: "Max agents"},
			{Name: "max_connections", Type: "integer", Title: "Max connections"},
			{Name: "custom", Type: "yaml", Title: "Custom fleet-server configurations"},
		}}}}},
	},
	// packages/endpoint (Elastic Defend): one input; its configuration lives
	// in inputs[0].config, which the Endpoint callbacks manage.
	{
		Name: "endpoint", Type: "integration", Limited: true,
		PolicyTemplates: []policyTemplate{{Name: "endpoint", Inputs: []inputDef{{Type: "endpoint"}}}},
	},
	// packages/elastic_agent: data streams only, no policy templates (the
	// agent's own monitoring; installed with monitoring_enabled).
	{Name: "elastic_agent", Type: "integration"},
	// packages/azure (Azure Logs): package-level vars, two of them secret:
	// true — connection_string and storage_account_key
	// (packages/azure/manifest.yml in elastic/integrations), names that do
	// not say "secret". Of its policy templates only activitylogs is kept
	// (input azure-eventhub, data stream activitylogs).
	{
		Name: "azure", Type: "integration",
		Vars: []varDef{
			{Name: "eventhub", Type: "text", Title: "Event Hub Name", Required: true},
			{Name: "consumer_group", Type: "text", Title: "Consumer Group", Required: true, Default: "$Default"},
			{Name: "connection_string", Type: "password", Title: "Connection String", Required: true, Secret: true},
			{Name: "storage_account", Type: "text", Title: "Storage Account", Required: true},
			{Name: "storage_account_key", Type: "password", Title: "Storage Account Key", Required: true, Secret: true},
			{Name: "resource_manager_endpoint", Type: "text", Title: "Resource Manager Endpoint"},
		},
		PolicyTemplates: []policyTemplate{{Name: "activitylogs", Inputs: []inputDef{{Type: "azure-eventhub"}}}},
		DataStreams: []dataStreamDef{
			{Type: "logs", Dataset: "azure.activitylogs", Streams: []streamDef{{Input: "azure-eventhub", Vars: []varDef{
				{Name: "tags", Type: "text", Title: "Tags", Multi: true, Default: strs("azure-activitylogs", "forwarded")},
				{Name: "preserve_original_event", Type: "bool", Title: "Preserve original event", Required: true, Default: false},
				processorsVar,
			}}}},
		},
	},
	// packages/elastic_security 0.4.0 (elastic/integrations, manifest.yml
	// and data_stream/alert/manifest.yml): one cel input, the alert
	// stream's authentication chosen by the auth_type select with its
	// credentials in required_vars groups — the stream's vars as in the
	// manifest (trimmed of those that do not bear on it); the three groups'
	// names and conditions are inferred from elastic/integrations#20033
	// ("three required_vars groups keyed off an auth_type select var"), as
	// the stored manifest versions do not hold them
	// (docs/fleetsim-inferred.md item 56).
	{
		Name: "elastic_security", Type: "integration",
		PolicyTemplates: []policyTemplate{{Name: "elastic_security", Inputs: []inputDef{{Type: "cel"}}}},
		DataStreams: []dataStreamDef{
			{Type: "logs", Dataset: "elastic_security.alert", Streams: []streamDef{{Input: "cel",
				RequiredVars: []requiredVarGroup{
					{Name: "api_auth", Vars: []requiredVar{{Name: "auth_type", Value: "api_auth"}, {Name: "api_key"}}},
					{Name: "basic_auth", Vars: []requiredVar{{Name: "auth_type", Value: "basic_auth"}, {Name: "username"}, {Name: "password"}}},
					{Name: "bearer_auth", Vars: []requiredVar{{Name: "auth_type", Value: "bearer_auth"}, {Name: "bearer_token"}}},
				},
				Vars: []varDef{
					{Name: "auth_type", Type: "select", Title: "Authentication Type", Required: true, Default: "api_auth", Options: []any{"api_auth", "basic_auth", "bearer_auth"}},
					{Name: "url", Type: "url", Title: "URL", Required: true},
					{Name: "username", Type: "text", Title: "[Basic Auth] Username"},
					{Name: "password", Type: "password", Title: "[Basic Auth] Password", Secret: true},
					{Name: "api_key", Type: "password", Title: "[API Auth] API Key", Secret: true},
					{Name: "bearer_token", Type: "password", Title: "[Bearer Auth] Bearer Token", Secret: true},
					{Name: "space_id", Type: "text", Title: "Space ID", Required: true, Default: "default"},
					{Name: "interval", Type: "text", Title: "Interval", Required: true, Default: "5m"},
					{Name: "tags", Type: "text", Title: "Tags", Multi: true, Required: true, Default: strs("forwarded", "elastic_security-alert")},
					processorsVar,
				}}}},
		},
	},
	// packages/log 2.3.1 (Custom Logs, type input; elastic/integrations
	// packages/log/manifest.yml at commit 1a96e5c5): one input-only policy
	// template, logs, of input logfile; its data_stream.dataset var is
	// required and has no default.
	{
		Name: "log", Type: "input",
		PolicyTemplates: []policyTemplate{{Name: "logs", Type: "logs", Input: "logfile", Vars: []varDef{
			{Name: "paths", Type: "text", Title: "Log file path", Multi: true, Required: true},
			{Name: "exclude_files", Type: "text", Title: "Exclude files", Multi: true},
			{Name: "ignore_older", Type: "text", Title: "Ignore events older than", Default: "72h"},
			{Name: "data_stream.dataset", Type: "text", Title: "Dataset name", Required: true},
			{Name: "tags", Type: "text", Title: "Tags", Multi: true},
			processorsVar,
			{Name: "custom", Type: "yaml", Title: "Custom configurations", Default: ""},
		}}},
	},
	// packages/apm: one input (apm) with input-level vars.
	{
		Name: "apm", Type: "integration", Limited: true,
		PolicyTemplates: []policyTemplate{{Name: "apmserver", Inputs: []inputDef{{Type: "apm", Vars: []varDef{
			{Name: "host", Type: "text", Title: "Host", Required: true, Default: "localhost:8200"},
			{Name: "url", Type: "text", Title: "URL", Required: true, Default: "http://localhost:8200"},
			{Name: "secret_token", Type: "text", Title: "Secret token", Secret: true},
		}}}}},
	},
}
