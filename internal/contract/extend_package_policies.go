package contract

import "github.com/getkin/kin-openapi/openapi3"

// extendPackagePolicies adds to the integration policy POST and PUT bodies
// (every alternative: the legacy and the simplified format) the field of
// PackagePolicyBaseSchema (x-pack/platform/plugins/shared/fleet/server/
// types/models/package_policy.ts) that the extract lacks and fleetform sends
// when a document declares it:
//
//   - additional_datastreams_permissions: schema.maybe(schema.oneOf([
//     schema.literal(null), schema.arrayOf(schema.string(), {validate:
//     validateAdditionalDatastreamsPermissions, maxSize: 1000})]))
//     (elastic/kibana#210452, 9.1) — a nullable array of strings; the
//     validation of each name is Kibana's own and is left to fleetsim.
func extendPackagePolicies(doc *openapi3.T) {
	for _, schema := range requestBodySchemas(doc, []route{
		{"/api/fleet/package_policies", "POST"},
		{"/api/fleet/package_policies/{packagePolicyId}", "PUT"},
	}) {
		alts := []*openapi3.Schema{schema}
		for _, alt := range schema.AnyOf {
			if alt.Value != nil {
				alts = append(alts, alt.Value)
			}
		}
		for _, s := range alts {
			if s.Type != nil && s.Type.Is("object") {
				setProp(s, "additional_datastreams_permissions", nullable(openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema()).WithMaxItems(1000)))
			}
		}
	}
}
