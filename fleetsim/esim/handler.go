package esim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// maxBodyBytes caps request bodies (ES's http.max_content_length is 100mb;
// the simulator's callers send far less).
const maxBodyBytes = 16 << 20

// call is one request being served.
type call struct {
	r      *http.Request
	params map[string]string
	query  url.Values
	body   []byte
	who    Principal
	head   http.Header // extra response headers
}

type handlerFunc func(n *Node, c *call) (int, any, *Error)

// route is one REST endpoint. action is the ES action name checked against
// the caller's privileges; index actions ("indices:…") are checked against
// the {index} path part. Query parameters not listed for the API are refused,
// as ES refuses them.
type route struct {
	method  string
	pattern string
	action  string
	api     string // the rest-api-spec name, e.g. "ccr.follow"; its parameters are in apiParams
	h       handlerFunc
}

var routes = []route{
	{"GET", "/", "cluster:monitor/main", "info", (*Node).hInfo},
	{"HEAD", "/", "cluster:monitor/main", "ping", (*Node).hInfo},
	{"GET", "/_license", "cluster:monitor/xpack/license/get", "license.get", (*Node).hLicense},
	{"GET", "/_security/_authenticate", "", "security.authenticate", (*Node).hAuthenticate},

	{"POST", "/_security/service/{namespace}/{service}/credential/token/{name}", "cluster:admin/xpack/security/service_account/token/create", "security.create_service_token", (*Node).hCreateServiceToken},
	{"PUT", "/_security/service/{namespace}/{service}/credential/token/{name}", "cluster:admin/xpack/security/service_account/token/create", "security.create_service_token", (*Node).hCreateServiceToken},
	{"POST", "/_security/service/{namespace}/{service}/credential/token", "cluster:admin/xpack/security/service_account/token/create", "security.create_service_token", (*Node).hCreateServiceToken},
	{"DELETE", "/_security/service/{namespace}/{service}/credential/token/{name}", "cluster:admin/xpack/security/service_account/token/delete", "security.delete_service_token", (*Node).hDeleteServiceToken},
	{"GET", "/_security/service/{namespace}/{service}/credential", "cluster:admin/xpack/security/service_account/credential/get", "security.get_service_credentials", (*Node).hGetServiceCredentials},

	{"POST", "/_security/api_key", "cluster:admin/xpack/security/api_key/create", "security.create_api_key", (*Node).hCreateAPIKey},
	{"PUT", "/_security/api_key", "cluster:admin/xpack/security/api_key/create", "security.create_api_key", (*Node).hCreateAPIKey},
	{"GET", "/_security/api_key", "cluster:admin/xpack/security/api_key/get", "security.get_api_key", (*Node).hGetAPIKeys},
	{"DELETE", "/_security/api_key", "cluster:admin/xpack/security/api_key/invalidate", "security.invalidate_api_key", (*Node).hInvalidateAPIKeys},

	{"GET", "/_cluster/settings", "cluster:monitor/settings", "cluster.get_settings", (*Node).hGetSettings},
	{"PUT", "/_cluster/settings", "cluster:admin/settings/update", "cluster.put_settings", (*Node).hPutSettings},
	{"GET", "/_cluster/health", "cluster:monitor/health", "cluster.health", (*Node).hHealth},
	{"GET", "/_remote/info", "cluster:monitor/remote/info", "cluster.remote_info", (*Node).hRemoteInfo},

	{"POST", "/_fleet/secret", "cluster:admin/fleet/secrets/post", "fleet.post_secret", (*Node).hPostSecret},
	{"GET", "/_fleet/secret/{id}", "cluster:admin/fleet/secrets/get", "fleet.get_secret", (*Node).hGetSecret},
	{"DELETE", "/_fleet/secret/{id}", "cluster:admin/fleet/secrets/delete", "fleet.delete_secret", (*Node).hDeleteSecret},

	// Without an index a search is authorized in hSearch: on all indices, or
	// on a point in time's own indices.
	{"GET", "/_search", "", "search", (*Node).hSearch},
	{"POST", "/_search", "", "search", (*Node).hSearch},
	{"GET", "/_mapping", "indices:admin/mappings/get", "indices.get_mapping", (*Node).hGetMapping},
	// RBACEngine authorizes closing a point in time like clearing a scroll:
	// any authenticated caller may (the context would expire anyway).
	{"DELETE", "/_pit", "", "close_point_in_time", (*Node).hClosePIT},
	{"GET", "/_count", "indices:data/read/search", "count", (*Node).hCount},
	{"POST", "/_count", "indices:data/read/search", "count", (*Node).hCount},

	{"PUT", "/{index}", "indices:admin/create", "indices.create", (*Node).hCreateIndex},
	{"HEAD", "/{index}", "indices:admin/get", "indices.exists", (*Node).hIndexExists},
	{"GET", "/{index}", "indices:admin/get", "indices.get", (*Node).hGetIndex},
	{"DELETE", "/{index}", "indices:admin/delete", "indices.delete", (*Node).hDeleteIndex},
	{"GET", "/{index}/_mapping", "indices:admin/mappings/get", "indices.get_mapping", (*Node).hGetMapping},
	{"POST", "/{index}/_close", "indices:admin/close", "indices.close", (*Node).hCloseIndex},
	{"POST", "/{index}/_open", "indices:admin/open", "indices.open", (*Node).hOpenIndex},
	{"POST", "/{index}/_refresh", "indices:admin/refresh", "indices.refresh", (*Node).hRefresh},
	{"GET", "/{index}/_refresh", "indices:admin/refresh", "indices.refresh", (*Node).hRefresh},

	{"GET", "/{index}/_doc/{id}", "indices:data/read/get", "get", (*Node).hGetDoc},
	{"HEAD", "/{index}/_doc/{id}", "indices:data/read/get", "exists", (*Node).hGetDoc},
	{"PUT", "/{index}/_doc/{id}", "indices:data/write/index", "index", (*Node).hIndexDoc},
	{"POST", "/{index}/_doc/{id}", "indices:data/write/index", "index", (*Node).hIndexDoc},
	{"POST", "/{index}/_doc", "indices:data/write/index", "index", (*Node).hIndexDoc},
	{"PUT", "/{index}/_create/{id}", "indices:data/write/index", "create", (*Node).hCreateDoc},
	{"POST", "/{index}/_create/{id}", "indices:data/write/index", "create", (*Node).hCreateDoc},
	{"DELETE", "/{index}/_doc/{id}", "indices:data/write/delete", "delete", (*Node).hDeleteDoc},
	{"GET", "/{index}/_search", "indices:data/read/search", "search", (*Node).hSearch},
	{"POST", "/{index}/_search", "indices:data/read/search", "search", (*Node).hSearch},
	{"POST", "/{index}/_pit", "indices:data/read/open_point_in_time", "open_point_in_time", (*Node).hOpenPIT},
	{"GET", "/{index}/_count", "indices:data/read/search", "count", (*Node).hCount},
	{"POST", "/{index}/_count", "indices:data/read/search", "count", (*Node).hCount},

	{"PUT", "/{index}/_ccr/follow", "indices:admin/xpack/ccr/put_follow", "ccr.follow", (*Node).hFollow},
	{"POST", "/{index}/_ccr/pause_follow", "cluster:admin/xpack/ccr/pause_follow", "ccr.pause_follow", (*Node).hPauseFollow},
	{"POST", "/{index}/_ccr/resume_follow", "cluster:admin/xpack/ccr/resume_follow", "ccr.resume_follow", (*Node).hResumeFollow},
	{"POST", "/{index}/_ccr/unfollow", "indices:admin/xpack/ccr/unfollow", "ccr.unfollow", (*Node).hUnfollow},
	{"GET", "/{index}/_ccr/info", "cluster:monitor/ccr/follow_info", "ccr.follow_info", (*Node).hFollowInfo},
	{"GET", "/{index}/_ccr/stats", "cluster:monitor/ccr/follow_stats", "ccr.follow_stats", (*Node).hFollowStats},
}

// routeSegments holds each route pattern's segments, split once: every
// request is matched against every route.
var routeSegments = sync.OnceValue(func() map[string][]string {
	m := make(map[string][]string, len(routes))
	for _, rt := range routes {
		m[rt.pattern] = splitPath(rt.pattern)
	}
	return m
})

// match reports whether the path segments fit a route pattern and returns its parameters.
func (rt route) match(segs []string) (map[string]string, bool) {
	pat, ok := routeSegments()[rt.pattern]
	if !ok {
		pat = splitPath(rt.pattern)
	}
	if len(pat) != len(segs) {
		return nil, false
	}
	var params map[string]string
	for i, p := range pat {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" || p == "{index}" && strings.HasPrefix(segs[i], "_") {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// Handler serves the Elasticsearch REST API of the node.
func (n *Node) Handler() http.Handler {
	return http.HandlerFunc(n.serveHTTP)
}

func (n *Node) serveHTTP(w http.ResponseWriter, r *http.Request) {
	n.record(r)
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	segs := splitPath(r.URL.EscapedPath())
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			segs[i] = u
		}
	}
	var (
		found   *route
		params  map[string]string
		allowed []string
	)
	for i := range routes {
		p, ok := routes[i].match(segs)
		if !ok {
			continue
		}
		if routes[i].method == r.Method {
			found, params = &routes[i], p
			break
		}
		allowed = append(allowed, routes[i].method)
	}
	if found == nil {
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ","))
			writeJSON(w, r, http.StatusMethodNotAllowed, map[string]any{
				"error":  "Incorrect HTTP method for uri [" + r.URL.RequestURI() + "] and method [" + r.Method + "], allowed: [" + strings.Join(allowed, ", ") + "]",
				"status": http.StatusMethodNotAllowed,
			})
			return
		}
		writeJSON(w, r, http.StatusBadRequest, map[string]any{
			"error":  "no handler found for uri [" + r.URL.RequestURI() + "] and method [" + r.Method + "]",
			"status": http.StatusBadRequest,
		})
		return
	}
	// ES's order: the RestController checks the content type, the security
	// filter authenticates, the handler validates parameters, the action is
	// authorized.
	if e := checkContentType(r); e != nil {
		writeJSON(w, r, http.StatusNotAcceptable, map[string]any{"error": e.Reason, "status": http.StatusNotAcceptable})
		return
	}
	who, aerr := n.authenticate(r.Header.Get("Authorization"), r.URL.RequestURI())
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	if e := checkParams(r, found.api); e != nil {
		writeError(w, r, e)
		return
	}
	indices := []string{"*"}
	if ix, ok := params["index"]; ok {
		indices = strings.Split(ix, ",")
	}
	if e := who.authorize(found.action, indices...); e != nil {
		writeError(w, r, e)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeError(w, r, newErr(http.StatusRequestEntityTooLarge, "content_too_long_exception", "request body is too large"))
		return
	}
	c := &call{r: r, params: params, query: r.URL.Query(), body: body, who: who, head: w.Header()}
	status, resp, e := found.h(n, c)
	if e != nil {
		writeError(w, r, e)
		return
	}
	if r.Method == http.MethodHead || resp == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		return
	}
	writeJSON(w, r, status, resp)
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var b []byte
	switch t := v.(type) {
	case []byte:
		b = t
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			status = http.StatusInternalServerError
			b = ErrorBody(status, "exception", "esim: encode response: "+err.Error())
		}
	}
	if _, ok := r.URL.Query()["pretty"]; ok {
		var buf bytes.Buffer
		if json.Indent(&buf, b, "", "  ") == nil {
			buf.WriteByte('\n')
			b = buf.Bytes()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	// As Elasticsearch answers a buffered response: with its length (a
	// client sizes its read buffer from it).
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

func writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	for k, vs := range e.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if e.Type == "" { // a bare status, e.g. HEAD 404
		w.WriteHeader(e.Status)
		return
	}
	writeJSON(w, r, e.Status, e.Body())
}

func (c *call) requireBody() *Error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return newErr(http.StatusBadRequest, "parse_exception", "request body is required")
	}
	return nil
}

func (c *call) boolParam(name string, def bool) (bool, *Error) {
	v, ok := c.query[name]
	if !ok {
		return def, nil
	}
	switch v[0] {
	case "", "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errIllegalArgument("Failed to parse value [%s] only [true] or [false] are allowed.", v[0])
}

func (c *call) int64Param(name string) (*int64, *Error) {
	v := c.query.Get(name)
	if v == "" {
		return nil, nil
	}
	i, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, errIllegalArgument("Failed to parse long parameter [%s] with value [%s]", name, v)
	}
	return &i, nil
}

func (c *call) checkRefresh() *Error {
	switch v := c.query.Get("refresh"); v {
	case "", "true", "false", "wait_for":
		return nil
	default:
		return errIllegalArgument("Unknown value for refresh: [%s].", v)
	}
}

func (c *call) expandWildcards() (expandWildcards, *Error) {
	return parseExpandWildcards(c.query.Get("expand_wildcards"))
}

// indicesOptions reads expand_wildcards, then ignore_unavailable (default
// false): the options of a request that names indices by expression.
func (c *call) indicesOptions() (expandWildcards, bool, *Error) {
	ew, e := c.expandWildcards()
	if e != nil {
		return expandWildcards{}, false, e
	}
	ignore, e := c.boolParam("ignore_unavailable", false)
	return ew, ignore, e
}

// seqNoParams reads if_seq_no, then if_primary_term: a write's optimistic
// concurrency condition.
func (c *call) seqNoParams() (ifSeq, ifTerm *int64, e *Error) {
	if ifSeq, e = c.int64Param("if_seq_no"); e != nil {
		return nil, nil, e
	}
	ifTerm, e = c.int64Param("if_primary_term")
	return ifSeq, ifTerm, e
}

var shardsOK = map[string]any{"total": 2, "successful": 1, "failed": 0}
