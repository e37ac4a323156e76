package contract

import "github.com/getkin/kin-openapi/openapi3"

// addAgentsRoute adds GET /api/fleet/agents, which the extract lacks and
// fleetform reads to count the agents Kibana 8.12.2 – 8.14.x's agent
// policy delete refuses for (reconciler/agent_policies_prune_agents.go).
// Its query is GetAgentsRequestSchema (x-pack/platform/plugins/shared/
// fleet/server/types/rest_spec/agent.ts, 9.x form): page, perPage (number),
// kuery (string, validateKuery against the agent mappings), showAgentless,
// showInactive, withMetrics, showUpgradeable, getStatusSummary (boolean),
// sortField (string), sortOrder (asc | desc), searchAfter (string), openPit
// (boolean); an object validate refuses page * perPage over SO_SEARCH_LIMIT
// (10000), which the spec cannot say.
func addAgentsRoute(doc *openapi3.T) {
	d := "OK"
	q := func(name string, s *openapi3.Schema) *openapi3.ParameterRef {
		return &openapi3.ParameterRef{Value: openapi3.NewQueryParameter(name).WithSchema(s)}
	}
	params := openapi3.Parameters{
		q("page", openapi3.NewFloat64Schema()),
		q("perPage", openapi3.NewFloat64Schema()),
		q("kuery", openapi3.NewStringSchema()),
		q("sortField", openapi3.NewStringSchema()),
		q("sortOrder", openapi3.NewStringSchema().WithEnum("asc", "desc")),
		q("searchAfter", openapi3.NewStringSchema()),
	}
	for _, b := range []string{"showAgentless", "showInactive", "withMetrics", "showUpgradeable", "getStatusSummary", "openPit"} {
		params = append(params, q(b, openapi3.NewBoolSchema()))
	}
	doc.Paths.Set("/api/fleet/agents", &openapi3.PathItem{Get: &openapi3.Operation{
		OperationID: "contract-get-agents", Parameters: params,
		Responses: openapi3.NewResponses(openapi3.WithStatus(200, &openapi3.ResponseRef{Value: &openapi3.Response{Description: &d}}))}})
}
