package fleetsim

// Package manifests of the built-in registry: the policy templates, inputs,
// data streams, streams and vars that package policies are built from and
// validated against. They keep only what package policies need from the real
// manifests in elastic/integrations (packages/<name>/manifest.yml and
// packages/<name>/data_stream/<ds>/manifest.yml); one manifest serves every
// registry version of a package.

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
}

type policyTemplate struct {
	Name   string
	Inputs []inputDef
}

type inputDef struct {
	Type string
	Vars []varDef
}

// dataStreamDef is data_stream/<name>/manifest.yml; Dataset is <package>.<name>.
type dataStreamDef struct {
	Type    string // logs | metrics | traces | synthetics
	Dataset string
	Streams []streamDef
}

type streamDef struct {
	Input    string
	Disabled bool // enabled: false in the manifest
	Vars     []varDef
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

// manifestOf returns the manifest of a registry package, or nil.
func manifestOf(name string) *pkgManifest {
	for i := range manifests {
		if manifests[i].Name == name {
			return &manifests[i]
		}
	}
	return nil
}

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
