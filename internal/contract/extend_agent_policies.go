package contract

import "github.com/getkin/kin-openapi/openapi3"

// extendAgentPolicies adds to the agent policy POST and PUT bodies the two
// fields of AgentPolicyBaseSchema (x-pack/platform/plugins/shared/fleet/
// server/types/models/agent_policy.ts) that the extract lacks and fleetform
// sends when a document declares them:
//
//   - required_versions: schema.maybe(schema.oneOf([schema.literal(null),
//     schema.arrayOf(schema.object({version: schema.string(), percentage:
//     schema.number({min: 0, max: 100})}))])) — a nullable array of closed
//     {version, percentage} objects, both required (elastic/kibana#206600,
//     9.0);
//   - agentless: schema.maybe(schema.object({resources: schema.maybe(
//     schema.object({requests: schema.maybe(schema.object({memory:
//     schema.maybe(schema.string()), cpu: schema.maybe(schema.string())}))}))}))
//     plus, in the newer build whose declaration file
//     (server/types/models/agent_policy.d.ts) stores it, cloud_connectors
//     {enabled: boolean (required), target_csp?: aws | azure | gcp}. The
//     memory and cpu formats (validateMemory, validateCPU: /^\d+(Mi|Gi)$/,
//     /^(\d+m|\d+(\.\d+)?)$/) are kept as patterns.
func extendAgentPolicies(doc *openapi3.T) {
	for _, schema := range requestBodySchemas(doc, []route{
		{"/api/fleet/agent_policies", "POST"},
		{"/api/fleet/agent_policies/{agentPolicyId}", "PUT"},
	}) {
		setProp(schema, "required_versions", requiredVersions())
		setProp(schema, "agentless", agentless())
		if as := schema.Properties["advanced_settings"]; as != nil && as.Value != nil {
			newerAdvancedSettings(as.Value)
		}
	}
}

func requiredVersions() *openapi3.Schema {
	pct := openapi3.NewFloat64Schema().WithMin(0).WithMax(100)
	entry := closedObject().
		WithProperty("version", openapi3.NewStringSchema()).
		WithProperty("percentage", pct)
	entry.Required = []string{"version", "percentage"}
	return nullable(openapi3.NewArraySchema().WithItems(entry))
}

func agentless() *openapi3.Schema {
	requests := closedObject().
		WithProperty("memory", openapi3.NewStringSchema().WithPattern(`^\d+(Mi|Gi)$`)).
		WithProperty("cpu", openapi3.NewStringSchema().WithPattern(`^(\d+m|\d+(\.\d+)?)$`))
	connectors := closedObject().
		WithProperty("enabled", openapi3.NewBoolSchema()).
		WithProperty("target_csp", openapi3.NewStringSchema().WithEnum("aws", "azure", "gcp"))
	connectors.Required = []string{"enabled"}
	return closedObject().
		WithProperty("resources", closedObject().WithProperty("requests", requests)).
		WithProperty("cloud_connectors", connectors)
}

// newerAdvancedSettings adds the advanced_settings keys of
// AGENT_POLICY_ADVANCED_SETTINGS (common/settings/agent_policy_settings.tsx)
// newer than the extract, each schema.maybe(schema.oneOf([literal(null),
// any({validate})])) like the others there: agent_monitoring_runtime_experimental
// (elastic/kibana#233345, 9.2) and agent_internal (elastic/kibana#245819,
// 9.3). fleetsim versions.go gates them by version.
func newerAdvancedSettings(s *openapi3.Schema) {
	for _, key := range []string{"agent_monitoring_runtime_experimental", "agent_internal"} {
		setProp(s, key, nullable(&openapi3.Schema{}))
	}
}
