package fleetsim

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Fleet proxies (/api/fleet/proxies) and what the three Fleet settings kinds
// share (Fleet Server hosts, proxies, agent download sources).
//
// Sources: FLEET/server/services/fleet_proxies.ts,
// FLEET/server/routes/fleet_proxies/handler.ts,
// FLEET/server/types/rest_spec/fleet_proxies.ts, FLEET/server/errors/index.ts
// (FleetProxyUnauthorizedError is a FleetUnauthorizedError: 403).

// settingsObject is a fleet-proxies, fleet-fleet-server-host or
// fleet-download-sources saved object. Attrs hold the API's attributes.
type settingsObject struct {
	ID    string         `json:"id"`
	Attrs map[string]any `json:"attrs"`
	Seq   int64          `json:"seq"`
}

func (o *settingsObject) str(k string) string { s, _ := o.Attrs[k].(string); return s }
func (o *settingsObject) flag(k string) bool  { b, _ := o.Attrs[k].(bool); return b }

// settingsRoutes are registered in routes().
func settingsRoutes() []*route {
	const read, all = "fleet-settings-read", "fleet-settings-all"
	return []*route{
		{method: "GET", pattern: "/api/fleet/proxies", priv: privRead, privTag: read, handle: (*Cluster).listProxies},
		{method: "POST", pattern: "/api/fleet/proxies", priv: privWrite, privTag: all, body: postProxySchema, handle: (*Cluster).createProxy},
		{method: "GET", pattern: "/api/fleet/proxies/{itemId}", priv: privRead, privTag: read, handle: (*Cluster).getProxy},
		{method: "PUT", pattern: "/api/fleet/proxies/{itemId}", priv: privWrite, privTag: all, body: putProxySchema, handle: (*Cluster).updateProxy},
		{method: "DELETE", pattern: "/api/fleet/proxies/{itemId}", priv: privWrite, privTag: all, handle: (*Cluster).deleteProxy},

		{method: "GET", pattern: "/api/fleet/fleet_server_hosts", priv: privRead, privTag: read, handle: (*Cluster).listFleetServerHosts},
		{method: "POST", pattern: "/api/fleet/fleet_server_hosts", priv: privWrite, privTag: all, body: postFleetServerHostSchema, handle: (*Cluster).createFleetServerHost},
		{method: "GET", pattern: "/api/fleet/fleet_server_hosts/{itemId}", priv: privRead, privTag: read, handle: (*Cluster).getFleetServerHost},
		{method: "PUT", pattern: "/api/fleet/fleet_server_hosts/{itemId}", priv: privWrite, privTag: all, body: putFleetServerHostSchema, handle: (*Cluster).updateFleetServerHost},
		{method: "DELETE", pattern: "/api/fleet/fleet_server_hosts/{itemId}", priv: privWrite, privTag: all, handle: (*Cluster).deleteFleetServerHost},

		{method: "GET", pattern: "/api/fleet/agent_download_sources", priv: privRead, privTag: read, handle: (*Cluster).listDownloadSources},
		{method: "POST", pattern: "/api/fleet/agent_download_sources", priv: privWrite, privTag: all, body: downloadSourceSchema, handle: (*Cluster).createDownloadSource},
		{method: "GET", pattern: "/api/fleet/agent_download_sources/{sourceId}", priv: privRead, privTag: read, handle: (*Cluster).getDownloadSource},
		{method: "PUT", pattern: "/api/fleet/agent_download_sources/{sourceId}", priv: privWrite, privTag: all, body: downloadSourceSchema, handle: (*Cluster).updateDownloadSource},
		{method: "DELETE", pattern: "/api/fleet/agent_download_sources/{sourceId}", priv: privWrite, privTag: all, handle: (*Cluster).deleteDownloadSource},
	}
}

// listSettings answers {items, total, page: 1, perPage: 10000}: Kibana lists
// these kinds in one page of SO_SEARCH_LIMIT.
func listSettings(m map[string]*settingsObject, view func(*settingsObject) map[string]any, less func(a, b *settingsObject) int) *kresp {
	objs := make([]*settingsObject, 0, len(m))
	for _, o := range m {
		objs = append(objs, o)
	}
	slices.SortFunc(objs, less)
	items := make([]any, 0, len(objs))
	for _, o := range objs {
		items = append(items, view(o))
	}
	return ok(map[string]any{"items": items, "total": len(items), "page": 1, "perPage": 10000})
}

func bySeq(a, b *settingsObject) int { return int(a.Seq - b.Seq) }

// proxyURL is PROXY_URL_REGEX (FLEET/common/constants): http, https or socks5.
var proxyURL = regexp.MustCompile(`^(http[s]?|socks5):\/\/[^\s$.?#].[^\s]*$`)

// tProxyURL is schema.string({validate: validateUrl}).
type tProxyURL struct{}

func (tProxyURL) check(path string, v any, present bool) (any, *validationError) {
	s, ok := v.(string)
	if !ok {
		return nil, verr(path, "expected value of type [string] but got [%s]", typeDetect(v, present))
	}
	if !proxyURL.MatchString(s) {
		return nil, verr(path, "Invalid URL")
	}
	return s, nil
}

var (
	proxyHeaders    = tNullable{inner: tAny{}}
	postProxySchema = tObject{fields: []field{
		{name: "id", t: tString{}},
		{name: "url", t: tProxyURL{}, required: true},
		{name: "name", t: tString{}, required: true},
		{name: "proxy_headers", t: proxyHeaders},
		{name: "certificate_authorities", t: nullableString},
		{name: "certificate", t: nullableString},
		{name: "certificate_key", t: nullableString},
		{name: "is_preconfigured", t: tBool{}, def: false},
	}}
	// putProxySchema: the nullable fields default to null, so a PUT that
	// omits them clears them (schema.nullable).
	putProxySchema = tObject{fields: []field{
		{name: "name", t: tString{}},
		{name: "url", t: tProxyURL{}},
		{name: "proxy_headers", t: proxyHeaders},
		{name: "certificate_authorities", t: nullableString},
		{name: "certificate", t: nullableString},
		{name: "certificate_key", t: nullableString},
	}}
)

func (c *Cluster) proxies() map[string]*settingsObject {
	if c.st.Proxies == nil {
		c.st.Proxies = map[string]*settingsObject{}
	}
	return c.st.Proxies
}

// proxyView is savedObjectToFleetProxy.
func proxyView(o *settingsObject) map[string]any {
	v := cloneMap(o.Attrs)
	v["id"] = o.ID
	if h, ok := v["proxy_headers"]; ok && h == nil {
		delete(v, "proxy_headers")
	}
	return v
}

func (c *Cluster) listProxies(_ *kreq) *kresp { return listSettings(c.proxies(), proxyView, bySeq) }

func (c *Cluster) getProxy(r *kreq) *kresp {
	o := c.proxies()[r.params["itemId"]]
	if o == nil {
		return kerr(http.StatusNotFound, "Fleet proxy %s not found", r.params["itemId"])
	}
	return ok(map[string]any{"item": proxyView(o)})
}

func (c *Cluster) createProxy(r *kreq) *kresp {
	attrs := cloneMap(r.body)
	id := cmpOr(strField(attrs, "id"), uuid.NewString())
	delete(attrs, "id")
	attrs["is_preconfigured"] = false
	if _, ok := attrs["proxy_headers"]; !ok {
		attrs["proxy_headers"] = nil
	}
	if c.proxies()[id] != nil {
		return kerr(http.StatusConflict, "Saved object [fleet-proxy/%s] conflict", id)
	}
	o := &settingsObject{ID: id, Attrs: attrs, Seq: c.st.nextSeq()}
	c.proxies()[id] = o
	return ok(map[string]any{"item": proxyView(o)})
}

func (c *Cluster) updateProxy(r *kreq) *kresp {
	id := r.params["itemId"]
	o := c.proxies()[id]
	if o == nil {
		return kerr(http.StatusNotFound, "Proxy %s not found", id)
	}
	for _, k := range []string{"proxy_headers", "certificate_authorities", "certificate", "certificate_key"} {
		if _, ok := r.body[k]; !ok {
			r.body[k] = nil
		}
	}
	for k, v := range r.body {
		o.Attrs[k] = v
	}
	hosts, outputs, sources := c.proxyUsers(id)
	c.bumpForProxyUsers(hosts, outputs, sources, c.now())
	return ok(map[string]any{"item": proxyView(o)})
}

// proxyUsers is getFleetProxyRelatedSavedObjects.
func (c *Cluster) proxyUsers(id string) (hosts []*settingsObject, outputs []*output, sources []*settingsObject) {
	for _, k := range sortedKeys(c.fleetServerHosts()) {
		if h := c.st.FleetServerHosts[k]; h.str("proxy_id") == id {
			hosts = append(hosts, h)
		}
	}
	for _, k := range sortedKeys(c.st.Outputs) {
		if o := c.st.Outputs[k]; o.str("proxy_id") == id {
			outputs = append(outputs, o)
		}
	}
	for _, k := range sortedKeys(c.downloadSources()) {
		if s := c.st.DownloadSources[k]; s.str("proxy_id") == id {
			sources = append(sources, s)
		}
	}
	return hosts, outputs, sources
}

// bumpForProxyUsers is bumpRelatedPolicies of the proxy handler.
func (c *Cluster) bumpForProxyUsers(hosts []*settingsObject, outputs []*output, sources []*settingsObject, now time.Time) {
	if slices.ContainsFunc(hosts, func(h *settingsObject) bool { return h.flag("is_default") }) ||
		slices.ContainsFunc(outputs, func(o *output) bool { return o.flag("is_default") || o.flag("is_default_monitoring") }) {
		c.bumpAllPolicies(now)
		return
	}
	for _, p := range c.st.AgentPolicies {
		use := slices.ContainsFunc(outputs, func(o *output) bool {
			return p.Attrs["data_output_id"] == o.id() || p.Attrs["monitoring_output_id"] == o.id()
		}) || slices.ContainsFunc(hosts, func(h *settingsObject) bool { return p.Attrs["fleet_server_host_id"] == h.ID }) ||
			slices.ContainsFunc(sources, func(s *settingsObject) bool { return p.Attrs["download_source_id"] == s.ID })
		if use {
			c.bumpPolicy(p, now)
		}
	}
}

func (c *Cluster) deleteProxy(r *kreq) *kresp {
	id := r.params["itemId"]
	o := c.proxies()[id]
	if o == nil {
		return kerr(http.StatusNotFound, "Fleet proxy %s not found", id)
	}
	if o.flag("is_preconfigured") {
		return kerr(http.StatusForbidden, "Cannot delete %s preconfigured proxy", id)
	}
	hosts, outputs, sources := c.proxyUsers(id)
	if slices.ContainsFunc(hosts, func(h *settingsObject) bool { return h.flag("is_preconfigured") }) ||
		slices.ContainsFunc(outputs, func(o *output) bool { return o.flag("is_preconfigured") }) {
		return kerr(http.StatusForbidden, "Cannot delete a proxy used in a preconfigured fleet server hosts or output.")
	}
	// updateRelatedSavedObject: every user loses its proxy_id.
	now := c.now()
	for _, h := range hosts {
		h.Attrs["proxy_id"] = nil
	}
	for _, out := range outputs {
		out.Attrs["proxy_id"] = nil
		c.st.putOutput(out, now)
	}
	for _, s := range sources {
		s.Attrs["proxy_id"] = nil
	}
	delete(c.st.Proxies, id)
	c.bumpForProxyUsers(hosts, outputs, sources, now)
	return ok(map[string]any{"id": id})
}

// Preconfigure stores a kibana.yml-preconfigured object of a Fleet settings
// kind, "proxies" (xpack.fleet.proxies) or "fleet_server_hosts"
// (xpack.fleet.fleetServerHosts), with is_preconfigured: true, as Kibana's
// setup does; obj needs an id. Download sources cannot be preconfigured.
func (c *Cluster) Preconfigure(kind string, obj map[string]any) error {
	id, _ := obj["id"].(string)
	if id == "" {
		return errors.New("fleetsim: a preconfigured object needs an id")
	}
	attrs := cloneMap(obj)
	delete(attrs, "id")
	attrs["is_preconfigured"] = true
	c.mu.Lock()
	defer c.mu.Unlock()
	var m map[string]*settingsObject
	switch kind {
	case "proxies":
		m = c.proxies()
	case "fleet_server_hosts":
		m = c.fleetServerHosts()
		if attrs["is_default"] == true {
			c.unsetDefaultFleetServerHost(id)
		}
	default:
		return fmt.Errorf("fleetsim: %q cannot be preconfigured (want proxies or fleet_server_hosts)", kind)
	}
	m[id] = &settingsObject{ID: id, Attrs: attrs, Seq: c.st.nextSeq()}
	c.sim.markDirty()
	return nil
}
