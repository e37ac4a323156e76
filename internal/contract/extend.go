package contract

import (
	"github.com/getkin/kin-openapi/openapi3"
)

// extend adds to the published extract what Kibana 9.1+ accepts and the
// extract (oas_docs/output/kibana.yaml at the commit its header names) lacks.
// Each addition cites the Kibana source it follows; anything not in that
// source stays refused (secrets.kibana_api_key, for one: it existed only
// during 9.1 development and was removed before GA, kibana PR #217472, so
// types/models/output.ts has no such key).
func extend(doc *openapi3.T) {
	extendOutputs(doc)
	addRoutes(doc)
	addDownloadSourceRoutes(doc)
	extendFleetServerHosts(doc)
	extendAgentPolicies(doc)
	addAgentsRoute(doc)
	extendPackagePolicies(doc)
}

// extendOutputs follows x-pack/platform/plugins/shared/fleet/server/types/
// models/output.ts: ElasticSearchSchema and ElasticSearchUpdateSchema gain
// write_to_logs_streams (null | boolean); RemoteElasticSearchSchema and its
// update schema gain sync_integrations (boolean), kibana_url and
// kibana_api_key (null | string), sync_uninstalled_integrations (boolean)
// and, from BaseSchema, secrets.ssl.key (a secret reference: {id, hash?} or
// a string), next to secrets.service_token.
func extendOutputs(doc *openapi3.T) {
	for _, schema := range requestBodySchemas(doc, []route{
		{"/api/fleet/outputs", "POST"},
		{"/api/fleet/outputs/{outputId}", "PUT"},
	}) {
		for _, alt := range schema.AnyOf {
			s := alt.Value
			if s == nil {
				continue
			}
			optionalShipperFields(s)
			switch outputType(s) {
			case "elasticsearch":
				setProp(s, "write_to_logs_streams", nullable(openapi3.NewBoolSchema()))
				addSecretSSLKey(s)
			case "remote_elasticsearch":
				setProp(s, "write_to_logs_streams", nullable(openapi3.NewBoolSchema()))
				setProp(s, "sync_integrations", openapi3.NewBoolSchema())
				setProp(s, "sync_uninstalled_integrations", openapi3.NewBoolSchema())
				setProp(s, "kibana_url", nullable(openapi3.NewStringSchema()))
				setProp(s, "kibana_api_key", nullable(openapi3.NewStringSchema()))
				addSecretSSLKey(s)
			}
		}
	}
}

// optionalShipperFields drops the extract's "required" on the shipper
// object's fields. BaseSchema in types/models/output.ts declares each of
// them as schema.nullable(…), which @kbn/config-schema defaults to null
// when the key is absent: a shipper with some fields is valid.
func optionalShipperFields(s *openapi3.Schema) {
	sh := s.Properties["shipper"]
	if sh == nil || sh.Value == nil {
		return
	}
	sh.Value.Required = nil
	for _, alt := range append(append(sh.Value.AnyOf, sh.Value.OneOf...), sh.Value.AllOf...) {
		if alt.Value != nil {
			alt.Value.Required = nil
		}
	}
}

func outputType(s *openapi3.Schema) string {
	t, ok := s.Properties["type"]
	if !ok || t.Value == nil || len(t.Value.Enum) != 1 {
		return ""
	}
	v, _ := t.Value.Enum[0].(string)
	return v
}

func setProp(s *openapi3.Schema, name string, v *openapi3.Schema) {
	if _, ok := s.Properties[name]; ok {
		return
	}
	if s.Properties == nil {
		s.Properties = openapi3.Schemas{}
	}
	s.Properties[name] = openapi3.NewSchemaRef("", v)
}

func nullable(s *openapi3.Schema) *openapi3.Schema { s.Nullable = true; return s }

// secretRef is output.ts secretRefSchema: {id: string, hash?: string} or a string.
func secretRef() *openapi3.Schema {
	obj := openapi3.NewObjectSchema().
		WithProperty("id", openapi3.NewStringSchema()).
		WithProperty("hash", openapi3.NewStringSchema())
	obj.Required = []string{"id"}
	obj.AdditionalProperties = openapi3.AdditionalProperties{Has: new(bool)}
	return &openapi3.Schema{AnyOf: openapi3.SchemaRefs{openapi3.NewSchemaRef("", obj), openapi3.NewSchemaRef("", openapi3.NewStringSchema())}}
}

func closedObject() *openapi3.Schema {
	o := openapi3.NewObjectSchema()
	o.AdditionalProperties = openapi3.AdditionalProperties{Has: new(bool)}
	return o
}

// addSecretSSLKey adds secrets.ssl.key (output.ts BaseSchema.secrets).
func addSecretSSLKey(s *openapi3.Schema) {
	secrets := s.Properties["secrets"]
	if secrets == nil || secrets.Value == nil {
		secrets = openapi3.NewSchemaRef("", closedObject())
		setProp(s, "secrets", secrets.Value)
		secrets = s.Properties["secrets"]
	}
	ssl := closedObject().WithProperty("key", secretRef())
	setProp(secrets.Value, "ssl", ssl)
}

// addRoutes adds the routes fleetform calls that the extract lacks.
func addRoutes(doc *openapi3.T) {
	ok := func() *openapi3.Responses {
		d := "OK"
		return openapi3.NewResponses(openapi3.WithStatus(200, &openapi3.ResponseRef{Value: &openapi3.Response{Description: &d}}))
	}
	xsrf := &openapi3.ParameterRef{Value: openapi3.NewHeaderParameter("kbn-xsrf").WithRequired(true).WithSchema(openapi3.NewStringSchema())}

	// server/routes/remote_synced_integrations/index.ts: STATUS_PATTERN
	// (/api/fleet/remote_synced_integrations/status, request: {}) and
	// INFO_PATTERN (/api/fleet/remote_synced_integrations/{outputId}/remote_status,
	// GetRemoteSyncedIntegrationsInfoRequestSchema: params {outputId}),
	// both availability since 9.1.0.
	doc.Paths.Set("/api/fleet/remote_synced_integrations/status", &openapi3.PathItem{
		Get: &openapi3.Operation{OperationID: "contract-remote-synced-status", Responses: ok()}})
	doc.Paths.Set("/api/fleet/remote_synced_integrations/{outputId}/remote_status", &openapi3.PathItem{
		Get: &openapi3.Operation{OperationID: "contract-remote-synced-info", Responses: ok(), Parameters: openapi3.Parameters{
			{Value: openapi3.NewPathParameter("outputId").WithSchema(openapi3.NewStringSchema())}}}})

	// The Spaces API's GET /api/spaces/space/{id}
	// (x-pack/platform/plugins/shared/spaces/server/routes/api/external/get.ts,
	// public, params {id}), which fleetform asks before using a space.
	doc.Paths.Set("/api/spaces/space/{id}", &openapi3.PathItem{
		Get: &openapi3.Operation{OperationID: "contract-spaces-get-space", Responses: ok(), Parameters: openapi3.Parameters{
			{Value: openapi3.NewPathParameter("id").WithSchema(openapi3.NewStringSchema())}}}})

	// The Spaces API's GET /api/spaces/space
	// (x-pack/platform/plugins/shared/spaces/server/routes/api/external/get_all.ts,
	// public, query {purpose?, include_authorized_purposes?}, neither sent),
	// which fleetform lists to check names in every space.
	doc.Paths.Set("/api/spaces/space", &openapi3.PathItem{
		Get: &openapi3.Operation{OperationID: "contract-spaces-get-all", Responses: ok()}})

	// server/routes/app/index.ts: POST /api/fleet/service_tokens,
	// GenerateServiceTokenRequestSchema body nullable({remote: boolean}).
	body := closedObject().WithProperty("remote", openapi3.NewBoolSchema())
	body.Nullable = true
	doc.Paths.Set("/api/fleet/service_tokens", &openapi3.PathItem{Post: &openapi3.Operation{
		OperationID: "contract-service-tokens", Responses: ok(), Parameters: openapi3.Parameters{xsrf},
		RequestBody: &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithJSONSchema(body)}}})

	// server/routes/epm/index.ts registers install and delete both with and
	// without the version (INSTALL_FROM_REGISTRY_PATTERN and
	// DELETE_PATTERN have an optional {pkgVersion?}); the extract folds them
	// into one path with pkgVersion required: false, which OpenAPI cannot
	// express. The versionless form is the same operation minus pkgVersion.
	if item := doc.Paths.Value("/api/fleet/epm/packages/{pkgName}/{pkgVersion}"); item != nil {
		short := &openapi3.PathItem{}
		for method, op := range map[string]*openapi3.Operation{"POST": item.Post, "DELETE": item.Delete} {
			if op == nil {
				continue
			}
			cp := *op
			cp.OperationID = op.OperationID + "-without-version"
			cp.Parameters = nil
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.In == "path" && p.Value.Name == "pkgVersion" {
					continue
				}
				cp.Parameters = append(cp.Parameters, p)
			}
			short.SetOperation(method, &cp)
		}
		doc.Paths.Set("/api/fleet/epm/packages/{pkgName}", short)
	}

	// server/routes/package_policy/index.ts: INFO_PATTERN, UPDATE_PATTERN
	// and DELETE_PATTERN (/api/fleet/package_policies/{packagePolicyId});
	// server/types/rest_spec/package_policy.ts: GetOnePackagePolicyRequestSchema
	// (params {packagePolicyId}, query {format?: simplified | legacy}),
	// UpdatePackagePolicyRequestSchema (body oneOf [UpdatePackagePolicyRequestBodySchema,
	// SimplifiedCreatePackagePolicyRequestBodySchema]: the simplified
	// alternative is the create route's, so the PUT takes the extract's POST
	// body), DeleteOnePackagePolicyRequestSchema (query {force?}).
	if item := doc.Paths.Value("/api/fleet/package_policies"); item != nil && item.Post != nil {
		id := &openapi3.ParameterRef{Value: openapi3.NewPathParameter("packagePolicyId").WithSchema(openapi3.NewStringSchema())}
		format := &openapi3.ParameterRef{Value: openapi3.NewQueryParameter("format").WithSchema(openapi3.NewStringSchema().WithEnum("simplified", "legacy"))}
		force := &openapi3.ParameterRef{Value: openapi3.NewQueryParameter("force").WithSchema(openapi3.NewBoolSchema())}
		doc.Paths.Set("/api/fleet/package_policies/{packagePolicyId}", &openapi3.PathItem{
			Get: &openapi3.Operation{OperationID: "contract-get-package-policy", Responses: ok(), Parameters: openapi3.Parameters{id, format}},
			Put: &openapi3.Operation{OperationID: "contract-put-package-policy", Responses: ok(), Parameters: openapi3.Parameters{xsrf, id, format},
				RequestBody: item.Post.RequestBody},
			Delete: &openapi3.Operation{OperationID: "contract-delete-package-policy", Responses: ok(), Parameters: openapi3.Parameters{xsrf, id, force}},
		})
	}
}

// route names one operation of the spec.
type route struct{ path, method string }

// requestBodySchemas returns the request body schemas (one per media type)
// of the routes the spec has; a route it lacks is left out.
func requestBodySchemas(doc *openapi3.T, routes []route) []*openapi3.Schema {
	var out []*openapi3.Schema
	for _, rt := range routes {
		item := doc.Paths.Value(rt.path)
		if item == nil {
			continue
		}
		op := item.GetOperation(rt.method)
		if op == nil || op.RequestBody == nil || op.RequestBody.Value == nil {
			continue
		}
		for _, media := range op.RequestBody.Value.Content {
			if media.Schema != nil && media.Schema.Value != nil {
				out = append(out, media.Schema.Value)
			}
		}
	}
	return out
}
