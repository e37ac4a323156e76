package fleetsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fleetform/fleetform/fleetsim/esim"
)

// apiVersion is the only public Fleet API version.
const apiVersion = "2023-10-31"

// privilege is what a route needs from the caller (Fleet's route authz).
type privilege int

const (
	privRead privilege = iota
	privWrite
)

type handlerFunc func(c *Cluster, r *kreq) *kresp

type route struct {
	method  string
	pattern string
	parts   []string
	priv    privilege
	privTag string // Kibana privilege named in the 403 message
	query   vtype  // nil: query parameters are not validated (ignored)
	body    vtype  // nil: no body schema
	handle  handlerFunc
	// unlocked handlers take c.mu themselves (they call other listeners).
	unlocked bool
}

// kreq is a request that passed Kibana's lifecycle: auth, xsrf, version, validation.
type kreq struct {
	http      *http.Request
	params    map[string]string
	query     map[string]any
	body      map[string]any
	principal esim.Principal
	space     string // the /s/{space} prefix; "" for the default space (spaces.go)
}

// kresp is a handler's answer; raw wins over body when set.
type kresp struct {
	status int
	body   any
	raw    []byte
	pooled *bytes.Buffer // raw's buffer, returned to bufPool once written
}

// bufPool recycles the large buffers of list responses.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func pooledResponse(buf *bytes.Buffer) *kresp {
	return &kresp{status: http.StatusOK, raw: buf.Bytes(), pooled: buf}
}

func ok(body any) *kresp { return &kresp{status: http.StatusOK, body: body} }

// kerr is Kibana's error body: {statusCode, error, message, attributes?}.
func kerr(status int, format string, args ...any) *kresp {
	return &kresp{status: status, body: errorBody{StatusCode: status, Error: http.StatusText(status), Message: fmt.Sprintf(format, args...)}}
}

// kerrType is a FleetError that Kibana reports with attributes.type.
func kerrType(status int, typ string, format string, args ...any) *kresp {
	r := kerr(status, format, args...)
	b := r.body.(errorBody)
	b.Attributes = map[string]any{"type": typ}
	r.body = b
	return r
}

type errorBody struct {
	StatusCode int            `json:"statusCode"`
	Error      string         `json:"error"`
	Message    string         `json:"message"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

func (c *Cluster) routes() []*route {
	rs := []*route{
		{method: "GET", pattern: "/api/fleet/outputs", priv: privRead, privTag: "fleet-settings-read", handle: (*Cluster).listOutputs},
		{method: "POST", pattern: "/api/fleet/outputs", priv: privWrite, privTag: "fleet-settings-all", body: c.outputSchemas.create, handle: (*Cluster).createOutput},
		{method: "GET", pattern: "/api/fleet/outputs/{outputId}", priv: privRead, privTag: "fleet-settings-read", handle: (*Cluster).getOutput},
		{method: "PUT", pattern: "/api/fleet/outputs/{outputId}", priv: privWrite, privTag: "fleet-settings-all", body: c.outputSchemas.update, handle: (*Cluster).updateOutput},
		{method: "DELETE", pattern: "/api/fleet/outputs/{outputId}", priv: privWrite, privTag: "fleet-settings-all", handle: (*Cluster).deleteOutput},
		{method: "GET", pattern: "/api/fleet/outputs/{outputId}/health", priv: privRead, privTag: "fleet-settings-read", handle: (*Cluster).outputHealth},

		{method: "GET", pattern: "/api/fleet/agent_policies", priv: privRead, privTag: "fleet-agent-policies-read", query: listAgentPoliciesQuery, handle: (*Cluster).listAgentPolicies},
		{method: "POST", pattern: "/api/fleet/agent_policies", priv: privWrite, privTag: "fleet-agent-policies-all", query: createAgentPolicyQuery, body: newAgentPolicySchema, handle: (*Cluster).createAgentPolicy},
		{method: "POST", pattern: "/api/fleet/agent_policies/_bulk_get", priv: privRead, privTag: "fleet-agent-policies-read", query: bulkGetQuery, body: bulkGetSchema, handle: (*Cluster).bulkGetAgentPolicies},
		{method: "GET", pattern: "/api/fleet/agent_policies/{agentPolicyId}", priv: privRead, privTag: "fleet-agent-policies-read", query: formatQuery, handle: (*Cluster).getAgentPolicy},
		{method: "PUT", pattern: "/api/fleet/agent_policies/{agentPolicyId}", priv: privWrite, privTag: "fleet-agent-policies-all", query: formatQuery, body: updateAgentPolicySchema, handle: (*Cluster).updateAgentPolicy},
		{method: "POST", pattern: "/api/fleet/agent_policies/delete", priv: privWrite, privTag: "fleet-agent-policies-all", body: deleteAgentPolicySchema, handle: (*Cluster).deleteAgentPolicy},

		{method: "GET", pattern: "/api/fleet/epm/packages", priv: privRead, privTag: "integrations-read", query: listPackagesQuery, handle: (*Cluster).listPackages},
		{method: "GET", pattern: "/api/fleet/epm/packages/installed", priv: privRead, privTag: "integrations-read", query: installedPackagesQuery, handle: (*Cluster).listInstalledPackages},
		{method: "GET", pattern: "/api/fleet/epm/packages/{pkgName}", priv: privRead, privTag: "integrations-read", query: packageInfoQuery, handle: (*Cluster).getPackage},
		{method: "GET", pattern: "/api/fleet/epm/packages/{pkgName}/{pkgVersion}", priv: privRead, privTag: "integrations-read", query: packageInfoQuery, handle: (*Cluster).getPackage},
		{method: "POST", pattern: "/api/fleet/epm/packages/_bulk", priv: privWrite, privTag: "integrations-all", query: bulkInstallQuery, body: bulkInstallSchema, handle: (*Cluster).bulkInstallPackages, unlocked: true},
		{method: "POST", pattern: "/api/fleet/epm/packages/{pkgName}", priv: privWrite, privTag: "integrations-all", query: installPackageQuery, body: installPackageSchema, handle: (*Cluster).installPackage, unlocked: true},
		{method: "POST", pattern: "/api/fleet/epm/packages/{pkgName}/{pkgVersion}", priv: privWrite, privTag: "integrations-all", query: installPackageQuery, body: installPackageSchema, handle: (*Cluster).installPackage, unlocked: true},
		{method: "DELETE", pattern: "/api/fleet/epm/packages/{pkgName}", priv: privWrite, privTag: "integrations-all", query: uninstallPackageQuery, handle: (*Cluster).uninstallPackage},
		{method: "DELETE", pattern: "/api/fleet/epm/packages/{pkgName}/{pkgVersion}", priv: privWrite, privTag: "integrations-all", query: uninstallPackageQuery, handle: (*Cluster).uninstallPackage},

		{method: "POST", pattern: "/api/fleet/service_tokens", priv: privWrite, privTag: "fleet-agents-all", body: serviceTokenSchema, handle: (*Cluster).createServiceToken},
		{method: "POST", pattern: "/api/fleet/setup", priv: privWrite, privTag: "fleet-setup", handle: (*Cluster).setup},

		{method: "GET", pattern: "/api/fleet/remote_synced_integrations/status", priv: privRead, privTag: "fleet-settings-read", handle: (*Cluster).remoteSyncedStatus},
		{method: "GET", pattern: "/api/fleet/remote_synced_integrations/{outputId}/remote_status", priv: privRead, privTag: "fleet-settings-read", handle: (*Cluster).remoteStatus, unlocked: true},
	}
	// Package policies, Fleet Server hosts, proxies and download sources.
	rs = append(rs, packagePolicyRoutes()...)
	rs = append(rs, agentRoutes()...)
	rs = append(rs, settingsRoutes()...)
	rs = append(rs, spaceRoutes()...)
	rs = append(rs, spaceMigrationRoutes(c.cfg.Version)...)
	rs = routesForVersion(c.cfg.Version, rs)
	for _, r := range rs {
		r.parts = strings.Split(strings.Trim(r.pattern, "/"), "/")
	}
	return rs
}

// match finds the route for a path; a literal segment beats a parameter.
func match(routes []*route, method, path string) (*route, map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best *route
	var bestParams map[string]string
	bestScore := -1
	pathKnown := false
	for _, r := range routes {
		if len(r.parts) != len(segs) {
			continue
		}
		params := map[string]string{}
		score := 0
		matched := true
		for i, p := range r.parts {
			if strings.HasPrefix(p, "{") {
				params[strings.Trim(p, "{}")] = segs[i]
				continue
			}
			if p != segs[i] {
				matched = false
				break
			}
			score++
		}
		if !matched {
			continue
		}
		pathKnown = true
		if r.method == method && score > bestScore {
			best, bestParams, bestScore = r, params, score
		}
	}
	return best, bestParams, pathKnown
}

var spacePrefix = regexp.MustCompile(`^/s/([^/]+)(/(?:api|internal)/.*)$`)

var publicVersionRegex = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// validRouteVersion is isValidRouteVersion for public routes
// (@kbn/core-http-router-server-internal, versioned_router/is_valid_route_version.ts):
// the YYYY-MM-DD pattern and a real calendar date (moment(...).isValid()).
func validRouteVersion(v string) bool {
	if !publicVersionRegex.MatchString(v) {
		return false
	}
	_, err := time.Parse("2006-01-02", v)
	return err == nil
}

// internalVersion is the only version of the internal routes fleetsim
// serves (API_VERSIONS.internal.v1).
const internalVersion = "1"

var internalVersionRegex = regexp.MustCompile(`^[1-9][0-9]*$`)

// isInternalRoute is a route registered with access: 'internal'; all of
// Kibana's live under /internal.
func isInternalRoute(rt *route) bool { return strings.HasPrefix(rt.pattern, "/internal/") }

// routeVersion is the versioned router's choice of handler
// (@kbn/core-http-router-server-internal, versioned_router/core_versioned_route.ts
// getVersion and handle; route_version_utils.ts isValidRouteVersion): without
// the header a public route takes its default version and, in production, an
// internal route takes "1"; a public version must be a YYYY-MM-DD date, an
// internal one a whole number greater than 0; a valid version without a
// handler is refused naming the ones there are.
func routeVersion(rt *route, header string) (string, *kresp) {
	available := apiVersion
	if isInternalRoute(rt) {
		available = internalVersion
	}
	v := header
	if v == "" {
		return available, nil
	}
	switch {
	case isInternalRoute(rt) && !internalVersionRegex.MatchString(v):
		return "", kerr(http.StatusBadRequest, `Invalid version number. Received "%s", expected a string containing _only_ a finite, whole number greater than 0.`, v)
	case !isInternalRoute(rt) && !validRouteVersion(v):
		return "", kerr(http.StatusBadRequest, `Invalid version. Received "%s", expected a valid date string formatted as YYYY-MM-DD.`, v)
	case v != available:
		return "", kerr(http.StatusBadRequest, `No version "%s" available for [%s] [%s]. Available versions are: [%s]`, v, strings.ToLower(rt.method), rt.pattern, available)
	}
	return v, nil
}

// serveKibana runs Kibana's request lifecycle for one request.
func (c *Cluster) serveKibana(w http.ResponseWriter, hr *http.Request) {
	resp, version := c.handleKibana(hr)
	if resp == nil {
		c.serveStatus(w, hr)
		return
	}
	writeKibanaVersion(w, resp, version)
}

// handleKibana answers a request and the API version the answer carries
// ("" when the versioned router was not reached).
func (c *Cluster) handleKibana(hr *http.Request) (*kresp, string) {
	space, path := spaceOf(hr.URL.Path)
	if path == "/api/status" {
		return nil, ""
	}
	rt, params, _ := match(c.routeTable, hr.Method, path)
	if rt == nil {
		return kerr(http.StatusNotFound, "Not Found"), ""
	}
	// Authentication (Kibana asks Elasticsearch).
	authz := hr.Header.Get("Authorization")
	if authz == "" {
		return kerr(http.StatusUnauthorized, "Unauthorized"), ""
	}
	principal, err := c.node.Authenticate(authz)
	if err != nil {
		if strings.HasPrefix(authz, "ApiKey ") {
			return kerr(http.StatusUnauthorized, "[security_exception\n\tRoot causes:\n\t\tsecurity_exception: unable to authenticate with provided credentials and anonymous access is not allowed for this request]: unable to authenticate with provided credentials and anonymous access is not allowed for this request"), ""
		}
		user := basicUser(authz)
		return kerr(http.StatusUnauthorized, "[security_exception\n\tRoot causes:\n\t\tsecurity_exception: unable to authenticate user [%s] for REST request [/_security/_authenticate]]: unable to authenticate user [%s] for REST request [/_security/_authenticate]", user, user), ""
	}
	// CSRF protection (onPostAuth).
	if hr.Method != http.MethodGet && hr.Method != http.MethodHead && hr.Header.Get("kbn-xsrf") == "" {
		return kerr(http.StatusBadRequest, "Request must contain a kbn-xsrf header."), ""
	}
	// Route authorization.
	if !allowed(principalAtSpace(principal, space), rt) {
		return kerr(http.StatusForbidden, "API [%s %s] is unauthorized for user, this action is granted by the Kibana privileges [%s]", hr.Method, path, rt.privTag), ""
	}
	// Versioned router.
	q := hr.URL.Query()
	if q.Has("apiVersion") {
		return kerr(http.StatusBadRequest, `Use of query parameter "apiVersion" is not allowed. Please specify the API version using the "elastic-api-version" header.`), ""
	}
	version, resp := routeVersion(rt, hr.Header.Get("elastic-api-version"))
	if resp != nil {
		return resp, version
	}
	// Request validation: params, query, body.
	kr := &kreq{http: hr, params: params, principal: principal, space: space}
	if id, ok := params["outputId"]; ok && len(id) > 50 && versionAtLeast(c.cfg.Version, "9.3.0") {
		return kerr(http.StatusBadRequest, "[request params.outputId]: value has length [%d] but it must have a maximum length of [50].", len(id)), version
	}
	if resp := validateQuery(rt, q, kr); resp != nil {
		return resp, version
	}
	raw, err := io.ReadAll(io.LimitReader(hr.Body, 16<<20))
	if err != nil {
		return kerr(http.StatusBadRequest, "Invalid request payload JSON format"), version
	}
	var body any
	present := len(bytes.TrimSpace(raw)) > 0
	if present {
		var resp *kresp
		if body, resp = parsePayload(hr.Header.Get("Content-Type"), raw); resp != nil {
			return resp, version
		}
	}
	if rt.body != nil {
		m, verr := validateBody(rt.body, body, present)
		if verr != nil {
			return kerr(http.StatusBadRequest, "%s", verr.Error()), version
		}
		kr.body = m
	}
	if rt.unlocked {
		return rt.handle(c, kr), version
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleInstalls(c.now()) // epm_install.go
	resp = rt.handle(c, kr)
	if resp.status < 400 && hr.Method != http.MethodGet {
		c.sim.markDirty()
	}
	return resp, version
}

// parsePayload is hapi's payload parsing (subtext) for the content types a
// Kibana JSON route receives: JSON (the default without a Content-Type),
// text/* as a string, and anything else refused with 415.
func parsePayload(contentType string, raw []byte) (any, *kresp) {
	mt, _, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mt, err = "application/json", nil
	}
	switch {
	case err != nil:
		return nil, kerr(http.StatusBadRequest, "Invalid content-type header")
	case mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"):
		var body any
		if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&body); err != nil {
			return nil, kerr(http.StatusBadRequest, "Invalid request payload JSON format")
		}
		return body, nil
	case strings.HasPrefix(mt, "text/"):
		return string(raw), nil
	}
	return nil, kerr(http.StatusUnsupportedMediaType, "Unsupported Media Type")
}

// remoteStatus and other handlers that call out over HTTP must not hold c.mu;
// they are dispatched through unlockedRoutes.

func validateQuery(rt *route, q map[string][]string, kr *kreq) *kresp {
	if rt.query == nil {
		return nil
	}
	in := map[string]any{}
	for k, vs := range q {
		if len(vs) > 1 {
			arr := make([]any, len(vs))
			for i, v := range vs {
				arr[i] = v
			}
			in[k] = arr
		} else {
			in[k] = vs[0]
		}
	}
	out, err := rt.query.check("request query", coerceQuery(rt.query, in), true)
	if err != nil {
		return kerr(http.StatusBadRequest, "%s", err.Error())
	}
	kr.query, _ = out.(map[string]any)
	return nil
}

func writeKibana(w http.ResponseWriter, resp *kresp, versioned bool) {
	version := ""
	if versioned {
		version = apiVersion
	}
	writeKibanaVersion(w, resp, version)
}

// writeKibanaVersion writes an answer; version, when set, is the
// elastic-api-version header the versioned router adds (injectVersionHeader).
func writeKibanaVersion(w http.ResponseWriter, resp *kresp, version string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if version != "" {
		h.Set("elastic-api-version", version)
	}
	h.Set("kbn-name", "fleetsim")
	raw := resp.raw
	if raw == nil {
		var err error
		raw, err = json.Marshal(resp.body)
		if err != nil {
			resp.status = http.StatusInternalServerError
			raw = []byte(`{"statusCode":500,"error":"Internal Server Error","message":"An internal server error occurred."}`)
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	w.WriteHeader(resp.status)
	_, _ = w.Write(raw)
	if resp.pooled != nil && resp.pooled.Cap() <= 8<<20 {
		resp.pooled.Reset()
		bufPool.Put(resp.pooled)
	}
}

func basicUser(authz string) string {
	r := &http.Request{Header: http.Header{"Authorization": {authz}}}
	u, _, _ := r.BasicAuth()
	return u
}

// allowed decides Fleet route authorization from the authenticated principal:
// superusers may do everything; API keys and users need Kibana application
// privileges on kibana-.kibana: feature_fleetv2 (Fleet) and feature_fleet
// (Integrations), read or all. Installing and removing packages needs both
// Fleet all and Integrations all (common/authz.ts installPackages /
// removePackages; apis/epm/delete.ts: 403 for fleet all + integrations read
// and for integrations all alone); every other route takes either feature.
// Fleet's settings sub-feature privileges (feature_fleetv2.settings_read,
// settings_all) grant the routes tagged fleet-settings-read/-all alone
// (apis/download_sources/crud.ts: 200 for the fleet_settings_read_only user).
func allowed(p esim.Principal, rt *route) bool {
	if p.Superuser {
		return true
	}
	var fleetRead, fleetAll, intRead, intAll, settingsRead, settingsAll, kibanaAll bool
	for _, a := range p.Applications {
		if a.Application != "kibana-.kibana" && a.Application != "*" {
			continue
		}
		for _, priv := range a.Privileges {
			switch priv {
			case "all", "*":
				fleetRead, fleetAll, intRead, intAll, kibanaAll = true, true, true, true, true
			case "read":
				fleetRead, intRead = true, true
			case "feature_fleetv2.all":
				fleetRead, fleetAll = true, true
			case "feature_fleetv2.read":
				fleetRead = true
			case "feature_fleet.all":
				intRead, intAll = true, true
			case "feature_fleet.read":
				intRead = true
			case "feature_fleetv2.settings_all":
				settingsRead, settingsAll = true, true
			case "feature_fleetv2.settings_read":
				settingsRead = true
			}
		}
	}
	switch {
	case isSpacesRoute(rt) && rt.method == http.MethodGet:
		return true // the spaces client authorizes reads itself (spaces.go)
	case isSpacesRoute(rt):
		return kibanaAll
	case rt.privTag == "fleet-settings-all" && settingsAll, rt.privTag == "fleet-settings-read" && settingsRead:
		return true
	case rt.privTag == "integrations-all":
		return fleetAll && intAll
	case rt.priv == privWrite:
		return fleetAll || intAll
	}
	return fleetRead || intRead
}

// coerceQuery converts query strings into the types the schema expects,
// as Kibana's query validation does for numbers, booleans and arrays.
func coerceQuery(t vtype, in map[string]any) map[string]any {
	obj, ok := t.(tObject)
	if !ok {
		return in
	}
	for _, f := range obj.fields {
		v, ok := in[f.name]
		if !ok {
			continue
		}
		s, isStr := v.(string)
		switch f.t.(type) {
		case tNumber:
			if n, err := strconv.ParseFloat(s, 64); isStr && err == nil {
				in[f.name] = n
			}
		case tBool:
			if isStr && (s == "true" || s == "false") {
				in[f.name] = s == "true"
			}
		case tArray:
			if isStr {
				in[f.name] = []any{s}
			}
		}
	}
	return in
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func decodeJSON(raw []byte, v any) error { return json.Unmarshal(raw, v) }

func marshalJSON(v any) ([]byte, error) { return json.Marshal(v) }
