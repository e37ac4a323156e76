package esim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Component templates and ingest pipelines: cluster metadata that Fleet's
// custom-asset sync reads on the main cluster and writes on the remote
// (fleet-api.md §5.3, §5.4 step 6). Both are stored exactly as ES returns
// them from GET, so a GET → PUT → GET round trip between two nodes is stable.

// assetState is the cluster metadata of this file; state.Assets holds it.
type assetState struct {
	// ComponentTemplates maps a name to {"template":…, "version"?, "_meta"?, "deprecated"?}.
	ComponentTemplates map[string]json.RawMessage `json:"component_templates,omitempty"`
	// Pipelines maps an id to the pipeline body as PUT.
	Pipelines map[string]json.RawMessage `json:"pipelines,omitempty"`
}

// assets returns the node's metadata, creating it on first use (a fresh or
// restored state has none). Callers hold n.mu.
func (n *Node) assets() *assetState {
	if n.st.Assets == nil {
		n.st.Assets = &assetState{}
	}
	if n.st.Assets.ComponentTemplates == nil {
		n.st.Assets.ComponentTemplates = map[string]json.RawMessage{}
	}
	if n.st.Assets.Pipelines == nil {
		n.st.Assets.Pipelines = map[string]json.RawMessage{}
	}
	return n.st.Assets
}

func init() {
	routes = append(routes,
		route{method: "GET", pattern: "/_component_template", action: "cluster:admin/component_template/get", api: "cluster.get_component_template", h: (*Node).hGetComponentTemplates},
		route{method: "GET", pattern: "/_component_template/{name}", action: "cluster:admin/component_template/get", api: "cluster.get_component_template", h: (*Node).hGetComponentTemplates},
		route{method: "HEAD", pattern: "/_component_template/{name}", action: "cluster:admin/component_template/get", api: "cluster.exists_component_template", h: (*Node).hComponentTemplateExists},
		route{method: "PUT", pattern: "/_component_template/{name}", action: "cluster:admin/component_template/put", api: "cluster.put_component_template", h: (*Node).hPutComponentTemplate},
		route{method: "POST", pattern: "/_component_template/{name}", action: "cluster:admin/component_template/put", api: "cluster.put_component_template", h: (*Node).hPutComponentTemplate},
		route{method: "DELETE", pattern: "/_component_template/{name}", action: "cluster:admin/component_template/delete", api: "cluster.delete_component_template", h: (*Node).hDeleteComponentTemplate},
		route{method: "GET", pattern: "/_ingest/pipeline", action: "cluster:admin/ingest/pipeline/get", api: "ingest.get_pipeline", h: (*Node).hGetPipelines},
		route{method: "GET", pattern: "/_ingest/pipeline/{id}", action: "cluster:admin/ingest/pipeline/get", api: "ingest.get_pipeline", h: (*Node).hGetPipelines},
		route{method: "PUT", pattern: "/_ingest/pipeline/{id}", action: "cluster:admin/ingest/pipeline/put", api: "ingest.put_pipeline", h: (*Node).hPutPipeline},
		route{method: "DELETE", pattern: "/_ingest/pipeline/{id}", action: "cluster:admin/ingest/pipeline/delete", api: "ingest.delete_pipeline", h: (*Node).hDeletePipeline},
	)
	// Their query parameters, from rest-api-spec cluster.*_component_template.json and ingest.*_pipeline.json.
	apiParams["cluster.get_component_template"] = []string{"flat_settings", "include_defaults", "local", "master_timeout", "settings_filter"}
	apiParams["cluster.exists_component_template"] = []string{"local", "master_timeout"}
	apiParams["cluster.put_component_template"] = []string{"cause", "create", "master_timeout"}
	apiParams["cluster.delete_component_template"] = []string{"master_timeout", "timeout"}
	apiParams["ingest.get_pipeline"] = []string{"master_timeout", "summary"}
	apiParams["ingest.put_pipeline"] = []string{"if_version", "master_timeout", "timeout"}
	apiParams["ingest.delete_pipeline"] = []string{"master_timeout", "timeout"}
	// The privileges that grant these actions are in clusterPrivileges
	// (privileges.go): manage, manage_index_templates, manage_pipeline, read_pipeline.
}

// ComponentTemplate is one entry of GET _component_template.
type ComponentTemplate struct {
	Name string `json:"name"`
	// Body is {"template":{…}, "version"?, "_meta"?, "deprecated"?}.
	Body json.RawMessage `json:"component_template"`
}

// Component-template body keys ES's parser knows (ComponentTemplate.PARSER).
var componentTemplateKeys = []string{"template", "version", "_meta", "deprecated"}

// PutComponentTemplate creates or replaces a component template. With create
// it fails when one exists, as PUT ?create=true does.
func (n *Node) PutComponentTemplate(name string, body json.RawMessage, create bool) error {
	if e := n.putComponentTemplate(name, body, create); e != nil {
		return e
	}
	return nil
}

func (n *Node) putComponentTemplate(name string, body json.RawMessage, create bool) *Error {
	if len(bytes.TrimSpace(body)) == 0 {
		return newErr(http.StatusBadRequest, "parse_exception", "request body is required")
	}
	obj, e := parseObject(body, "component_template", componentTemplateKeys)
	if e != nil {
		return e
	}
	tmpl, ok := obj["template"].(map[string]any)
	if !ok {
		if _, present := obj["template"]; !present {
			return errIllegalArgument("Required [template]")
		}
		return newErr(http.StatusBadRequest, "x_content_parse_exception", "[component_template] template doesn't support values of type: %s", jsonKind(obj["template"]))
	}
	if s, ok := tmpl["settings"].(map[string]any); ok {
		tmpl["settings"] = normalizeIndexSettings(s)
	}
	stored, err := json.Marshal(obj)
	if err != nil {
		return newErr(http.StatusInternalServerError, "exception", "esim: encode component template: %v", err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	a := n.assets()
	if _, exists := a.ComponentTemplates[name]; exists && create {
		return errIllegalArgument("component template [%s] already exists", name)
	}
	a.ComponentTemplates[name] = stored
	return nil
}

// normalizeIndexSettings is how ES stores index settings of a template:
// dotted keys nested, every key under "index.", scalar values as strings.
func normalizeIndexSettings(s map[string]any) map[string]any {
	flat := map[string]any{}
	flatten("", s, flat)
	out := map[string]any{}
	for k, v := range flat {
		if !strings.HasPrefix(k, "index.") {
			k = "index." + k
		}
		out[k] = settingString(v)
	}
	return nest(out)
}

// ComponentTemplates is GET _component_template/{name}: every template for
// "" or "*"; with a wildcard the matches (possibly none); otherwise the one
// template, or a resource_not_found_exception. The result is sorted by name.
func (n *Node) ComponentTemplates(name string) ([]ComponentTemplate, error) {
	out, e := n.componentTemplates(name)
	if e != nil {
		return nil, e
	}
	return out, nil
}

func (n *Node) componentTemplates(name string) ([]ComponentTemplate, *Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	a := n.assets()
	var out []ComponentTemplate
	switch {
	case name == "" || strings.Contains(name, "*"):
		for _, k := range sortedKeys(a.ComponentTemplates) {
			if name == "" || globMatch(name, k) {
				out = append(out, ComponentTemplate{Name: k, Body: slices.Clone(a.ComponentTemplates[k])})
			}
		}
	default:
		b, ok := a.ComponentTemplates[name]
		if !ok {
			return nil, newErr(http.StatusNotFound, "resource_not_found_exception", "component template matching [%s] not found", name)
		}
		out = append(out, ComponentTemplate{Name: name, Body: slices.Clone(b)})
	}
	return out, nil
}

// DeleteComponentTemplate deletes the templates name matches (a wildcard
// may match several). No match is index_template_missing_exception, except
// for "*" on a node without templates.
func (n *Node) DeleteComponentTemplate(name string) error {
	if e := n.deleteComponentTemplate(name); e != nil {
		return e
	}
	return nil
}

func (n *Node) deleteComponentTemplate(name string) *Error {
	n.mu.Lock()
	defer n.mu.Unlock()
	a := n.assets()
	var names []string
	for k := range a.ComponentTemplates {
		if globMatch(name, k) {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		if name == "*" || name == "_all" {
			return nil
		}
		return newErr(http.StatusNotFound, "index_template_missing_exception", "index_template [%s] missing", name)
	}
	for _, k := range names {
		delete(a.ComponentTemplates, k)
	}
	return nil
}

// Pipeline body keys ES's Pipeline.create consumes; any other key is refused.
var pipelineKeys = []string{"description", "processors", "on_failure", "version", "_meta", "deprecated", "field_access_pattern"}

// PutPipeline creates or replaces an ingest pipeline.
func (n *Node) PutPipeline(id string, body json.RawMessage) error {
	if e := n.putPipeline(id, body); e != nil {
		return e
	}
	return nil
}

func (n *Node) putPipeline(id string, body json.RawMessage) *Error {
	if len(bytes.TrimSpace(body)) == 0 {
		return newErr(http.StatusBadRequest, "parse_exception", "request body is required")
	}
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return newErr(http.StatusBadRequest, "parse_exception", "Failed to parse content to map")
	}
	procs, present := obj["processors"]
	if !present {
		return newErr(http.StatusBadRequest, "parse_exception", "[processors] required property is missing").with("property_name", "processors")
	}
	list, ok := procs.([]any)
	if !ok {
		return newErr(http.StatusBadRequest, "parse_exception", "[processors] property isn't a list, but of type [%s]", javaType(procs)).with("property_name", "processors")
	}
	for _, p := range list {
		m, ok := p.(map[string]any)
		if !ok || len(m) != 1 {
			return newErr(http.StatusBadRequest, "parse_exception", "[processors] property isn't a list of single-key maps").with("property_name", "processors")
		}
	}
	var unknown []string
	for _, k := range sortedKeys(obj) {
		if !slices.Contains(pipelineKeys, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		return newErr(http.StatusBadRequest, "parse_exception", "pipeline [%s] doesn't support one or more provided configuration parameters [%s]", id, strings.Join(unknown, ", "))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.assets().Pipelines[id] = slices.Clone(body)
	return nil
}

// Pipelines is GET _ingest/pipeline/{id}: the pipelines whose id matches
// (every one for "" or "*"). ES answers an empty result with 404 and {}.
func (n *Node) Pipelines(id string) map[string]json.RawMessage {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string]json.RawMessage{}
	for k, b := range n.assets().Pipelines {
		for _, pat := range strings.Split(id, ",") {
			if pat == "" || pat == "_all" || globMatch(pat, k) {
				out[k] = slices.Clone(b)
				break
			}
		}
	}
	return out
}

// DeletePipeline deletes the pipelines id matches; none is
// resource_not_found_exception "pipeline [id] is missing".
func (n *Node) DeletePipeline(id string) error {
	if e := n.deletePipeline(id); e != nil {
		return e
	}
	return nil
}

func (n *Node) deletePipeline(id string) *Error {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.assets().Pipelines
	var ids []string
	for k := range p {
		if globMatch(id, k) {
			ids = append(ids, k)
		}
	}
	if len(ids) == 0 {
		if strings.Contains(id, "*") {
			return nil // a wildcard that matches nothing deletes nothing
		}
		return newErr(http.StatusNotFound, "resource_not_found_exception", "pipeline [%s] is missing", id)
	}
	for _, k := range ids {
		delete(p, k)
	}
	return nil
}

// HTTP handlers.

func (n *Node) hGetComponentTemplates(c *call) (int, any, *Error) {
	list, e := n.componentTemplates(c.params["name"])
	if e != nil {
		return 0, nil, e
	}
	if list == nil {
		list = []ComponentTemplate{}
	}
	return http.StatusOK, map[string]any{"component_templates": list}, nil
}

func (n *Node) hComponentTemplateExists(c *call) (int, any, *Error) {
	list, _ := n.componentTemplates(c.params["name"])
	if len(list) == 0 {
		return 0, nil, &Error{Status: http.StatusNotFound}
	}
	return http.StatusOK, nil, nil
}

func (n *Node) hPutComponentTemplate(c *call) (int, any, *Error) {
	create, e := c.boolParam("create", false)
	if e != nil {
		return 0, nil, e
	}
	if e := n.putComponentTemplate(c.params["name"], c.body, create); e != nil {
		return 0, nil, e
	}
	return http.StatusOK, map[string]any{"acknowledged": true}, nil
}

func (n *Node) hDeleteComponentTemplate(c *call) (int, any, *Error) {
	if e := n.deleteComponentTemplate(c.params["name"]); e != nil {
		return 0, nil, e
	}
	return http.StatusOK, map[string]any{"acknowledged": true}, nil
}

func (n *Node) hGetPipelines(c *call) (int, any, *Error) {
	summary, e := c.boolParam("summary", false)
	if e != nil {
		return 0, nil, e
	}
	found := n.Pipelines(c.params["id"])
	out := make(map[string]json.RawMessage, len(found))
	for k, v := range found {
		if summary {
			v = json.RawMessage(`{}`) // ?summary=true lists the ids only
		}
		out[k] = v
	}
	if len(out) == 0 {
		return http.StatusNotFound, map[string]any{}, nil // GetPipelineResponse.status(): not found is 404 with {}
	}
	return http.StatusOK, out, nil
}

func (n *Node) hPutPipeline(c *call) (int, any, *Error) {
	if e := n.putPipeline(c.params["id"], c.body); e != nil {
		return 0, nil, e
	}
	return http.StatusOK, map[string]any{"acknowledged": true}, nil
}

func (n *Node) hDeletePipeline(c *call) (int, any, *Error) {
	if e := n.deletePipeline(c.params["id"]); e != nil {
		return 0, nil, e
	}
	return http.StatusOK, map[string]any{"acknowledged": true}, nil
}

// parseObject decodes a JSON object and refuses top-level keys outside
// known with ES's x_content_parse_exception "[line:col] [parser] unknown
// field [k]" (the position is where the key starts).
func parseObject(body []byte, parser string, known []string) (map[string]any, *Error) {
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, newErr(http.StatusBadRequest, "x_content_parse_exception", "[%s] failed to parse object", parser)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // {
		return nil, newErr(http.StatusBadRequest, "x_content_parse_exception", "[%s] failed to parse object", parser)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := tok.(string)
		end := int(dec.InputOffset())
		if !slices.Contains(known, key) {
			start := bytes.LastIndexByte(body[:end-1], '"') // the key's opening quote
			line, col := 1, 1
			for _, b := range body[:max(start, 0)] {
				if b == '\n' {
					line, col = line+1, 1
				} else {
					col++
				}
			}
			return nil, newErr(http.StatusBadRequest, "x_content_parse_exception", "[%d:%d] [%s] unknown field [%s]", line, col, parser, key)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			break
		}
	}
	return obj, nil
}

// jsonKind names a decoded JSON value's token type as ES's parser does.
func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "VALUE_STRING"
	case float64:
		return "VALUE_NUMBER"
	case bool:
		return "VALUE_BOOLEAN"
	case []any:
		return "START_ARRAY"
	case nil:
		return "VALUE_NULL"
	}
	return "START_OBJECT"
}

// javaType names a decoded JSON value's Java class, as ConfigurationUtils does.
func javaType(v any) string {
	switch v.(type) {
	case string:
		return "java.lang.String"
	case float64:
		return "java.lang.Integer"
	case bool:
		return "java.lang.Boolean"
	case map[string]any:
		return "java.util.HashMap"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
