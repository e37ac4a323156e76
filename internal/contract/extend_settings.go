package contract

import "github.com/getkin/kin-openapi/openapi3"

// addDownloadSourceRoutes adds the agent download source routes, which the
// extract lacks: server/routes/download_source/index.ts registers
// GET/POST /api/fleet/agent_download_sources and GET/PUT/DELETE
// /api/fleet/agent_download_sources/{sourceId}; POST and PUT take
// DownloadSourceSchema (server/types/models/download_sources.ts, with id
// on POST only): name and host required, is_default, proxy_id,
// security_artifacts_proxy_id and security_artifacts_url nullable strings,
// ssl {certificate_authorities, certificate, key}, auth nullable
// {username, password, api_key, headers [{key, value}]} and secrets
// {ssl {key}, auth {password, api_key}} as secret references.
func addDownloadSourceRoutes(doc *openapi3.T) {
	ok := func() *openapi3.Responses {
		d := "OK"
		return openapi3.NewResponses(openapi3.WithStatus(200, &openapi3.ResponseRef{Value: &openapi3.Response{Description: &d}}))
	}
	xsrf := &openapi3.ParameterRef{Value: openapi3.NewHeaderParameter("kbn-xsrf").WithRequired(true).WithSchema(openapi3.NewStringSchema())}
	sourceID := &openapi3.ParameterRef{Value: openapi3.NewPathParameter("sourceId").WithSchema(openapi3.NewStringSchema())}
	body := func(withID bool) *openapi3.RequestBodyRef {
		s := closedObject().
			WithProperty("name", openapi3.NewStringSchema()).
			WithProperty("host", openapi3.NewStringSchema()).
			WithProperty("is_default", openapi3.NewBoolSchema()).
			WithProperty("proxy_id", nullable(openapi3.NewStringSchema())).
			WithProperty("security_artifacts_proxy_id", nullable(openapi3.NewStringSchema())).
			WithProperty("security_artifacts_url", nullable(openapi3.NewStringSchema())).
			WithProperty("ssl", closedObject().
				WithProperty("certificate_authorities", openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema())).
				WithProperty("certificate", openapi3.NewStringSchema()).
				WithProperty("key", openapi3.NewStringSchema())).
			WithProperty("auth", nullable(closedObject().
				WithProperty("username", openapi3.NewStringSchema()).
				WithProperty("password", openapi3.NewStringSchema()).
				WithProperty("api_key", openapi3.NewStringSchema()).
				WithProperty("headers", openapi3.NewArraySchema().WithItems(func() *openapi3.Schema {
					h := closedObject().WithProperty("key", openapi3.NewStringSchema()).WithProperty("value", openapi3.NewStringSchema())
					h.Required = []string{"key", "value"}
					return h
				}())))).
			WithProperty("secrets", closedObject().
				WithProperty("ssl", closedObject().WithProperty("key", secretRef())).
				WithProperty("auth", closedObject().WithProperty("password", secretRef()).WithProperty("api_key", secretRef())))
		if withID {
			s = s.WithProperty("id", openapi3.NewStringSchema())
		}
		s.Required = []string{"name", "host"}
		return &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithJSONSchema(s)}
	}
	doc.Paths.Set("/api/fleet/agent_download_sources", &openapi3.PathItem{
		Get:  &openapi3.Operation{OperationID: "contract-download-sources-list", Responses: ok()},
		Post: &openapi3.Operation{OperationID: "contract-download-sources-create", Responses: ok(), Parameters: openapi3.Parameters{xsrf}, RequestBody: body(true)},
	})
	doc.Paths.Set("/api/fleet/agent_download_sources/{sourceId}", &openapi3.PathItem{
		Get:    &openapi3.Operation{OperationID: "contract-download-sources-get", Responses: ok(), Parameters: openapi3.Parameters{sourceID}},
		Put:    &openapi3.Operation{OperationID: "contract-download-sources-update", Responses: ok(), Parameters: openapi3.Parameters{sourceID, xsrf}, RequestBody: body(false)},
		Delete: &openapi3.Operation{OperationID: "contract-download-sources-delete", Responses: ok(), Parameters: openapi3.Parameters{sourceID, xsrf}},
	})
}

// extendFleetServerHosts adds ssl and secrets to the Fleet Server host
// POST and PUT bodies, which the extract lacks: FleetServerHostBaseSchema
// (server/types/models/fleet_server_policy_config.ts) has ssl
// {certificate_authorities, certificate, key, es_certificate_authorities,
// es_certificate, es_key, agent_certificate_authorities,
// agent_certificate, agent_key, client_auth (optional | required | none)},
// nullable, and secrets {ssl {key, es_key, agent_key}} as secret
// references.
func extendFleetServerHosts(doc *openapi3.T) {
	strs := func() *openapi3.Schema { return openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema()) }
	for _, schema := range requestBodySchemas(doc, []route{
		{"/api/fleet/fleet_server_hosts", "POST"},
		{"/api/fleet/fleet_server_hosts/{itemId}", "PUT"},
	}) {
		s := schema
		ssl := closedObject().
			WithProperty("certificate_authorities", strs()).
			WithProperty("certificate", openapi3.NewStringSchema()).
			WithProperty("key", openapi3.NewStringSchema()).
			WithProperty("es_certificate_authorities", strs()).
			WithProperty("es_certificate", openapi3.NewStringSchema()).
			WithProperty("es_key", openapi3.NewStringSchema()).
			WithProperty("agent_certificate_authorities", strs()).
			WithProperty("agent_certificate", openapi3.NewStringSchema()).
			WithProperty("agent_key", openapi3.NewStringSchema()).
			WithProperty("client_auth", openapi3.NewStringSchema().WithEnum("optional", "required", "none"))
		setProp(s, "ssl", nullable(ssl))
		setProp(s, "secrets", closedObject().WithProperty("ssl", closedObject().
			WithProperty("key", secretRef()).WithProperty("es_key", secretRef()).WithProperty("agent_key", secretRef())))
	}
}
