package fleetsim

import (
	"net/http"
	"slices"

	"github.com/google/uuid"
)

// Fleet Server hosts (/api/fleet/fleet_server_hosts).
//
// Sources: FLEET/server/services/fleet_server_host.ts,
// FLEET/server/routes/fleet_server_hosts/handler.ts,
// FLEET/server/types/rest_spec/fleet_server_policy_config.ts.

var (
	fleetServerHostSSL = tNullable{inner: tObject{fields: []field{
		{name: "certificate_authorities", t: tArray{elem: tString{}}},
		{name: "certificate", t: tString{}},
		{name: "key", t: tString{}},
		{name: "es_certificate_authorities", t: tArray{elem: tString{}}},
		{name: "es_certificate", t: tString{}},
		{name: "es_key", t: tString{}},
		{name: "agent_certificate_authorities", t: tArray{elem: tString{}}},
		{name: "agent_certificate", t: tString{}},
		{name: "agent_key", t: tString{}},
		{name: "client_auth", t: tEnum{"optional", "required", "none"}},
	}}}
	fleetServerHostSecrets = tObject{fields: []field{{name: "ssl", t: tObject{fields: []field{
		{name: "key", t: tNullable{inner: tSecretRef{}}},
		{name: "es_key", t: tNullable{inner: tSecretRef{}}},
		{name: "agent_key", t: tNullable{inner: tSecretRef{}}},
	}}}}}
	fleetServerHostBase = tObject{fields: []field{
		{name: "name", t: tString{}},
		{name: "host_urls", t: tArray{elem: tString{}}},
		{name: "is_default", t: tBool{}},
		{name: "is_internal", t: tBool{}},
		{name: "proxy_id", t: nullableString},
		{name: "secrets", t: fleetServerHostSecrets},
		{name: "ssl", t: fleetServerHostSSL},
	}}
	postFleetServerHostSchema = fleetServerHostBase.with(
		field{name: "id", t: tString{}},
		field{name: "name", t: tString{}, required: true},
		field{name: "host_urls", t: tArray{elem: tString{}}, required: true},
		field{name: "is_default", t: tBool{}, def: false},
		field{name: "is_preconfigured", t: tBool{}, def: false},
	)
	putFleetServerHostSchema = fleetServerHostBase
)

// fleetServerHostSecretPaths: secrets.ssl.<k> and the plain ssl.<k> it
// replaces when secret storage is off.
var fleetServerHostSecretPaths = []string{"key", "es_key", "agent_key"}

func (c *Cluster) fleetServerHosts() map[string]*settingsObject {
	if c.st.FleetServerHosts == nil {
		c.st.FleetServerHosts = map[string]*settingsObject{}
	}
	return c.st.FleetServerHosts
}

// fleetServerHostView is savedObjectToFleetServerHost: ssl and proxy_id only
// when set.
func fleetServerHostView(o *settingsObject) map[string]any {
	v := cloneMap(o.Attrs)
	v["id"] = o.ID
	if v["ssl"] == nil {
		delete(v, "ssl")
	}
	if p, _ := v["proxy_id"].(string); p == "" {
		delete(v, "proxy_id")
	}
	return v
}

func (c *Cluster) listFleetServerHosts(_ *kreq) *kresp {
	return listSettings(c.fleetServerHosts(), fleetServerHostView, bySeq)
}

func fleetServerNotFound(id string) *kresp {
	return kerr(http.StatusNotFound, "Fleet server %s not found", id)
}

func (c *Cluster) getFleetServerHost(r *kreq) *kresp {
	o := c.fleetServerHosts()[r.params["itemId"]]
	if o == nil {
		return fleetServerNotFound(r.params["itemId"])
	}
	return ok(map[string]any{"item": fleetServerHostView(o)})
}

// checkFleetServerHostBody is validateFleetServerHostSsl's sibling
// ensureNoDuplicateSecrets, and the host_urls size rule.
func checkFleetServerHostBody(body map[string]any) *kresp {
	if urls, ok := body["host_urls"].([]any); ok {
		if len(urls) < 1 {
			return badRequest("[request body.host_urls]: array size is [%d], but cannot be smaller than [1]", len(urls))
		}
		if len(urls) > 10 {
			return badRequest("[request body.host_urls]: array size is [%d], but cannot be greater than [10]", len(urls))
		}
	}
	for _, k := range fleetServerHostSecretPaths {
		plain, _ := getPath(body, []string{"ssl", k}).(string)
		if plain != "" && getPath(body, []string{"secrets", "ssl", k}) != nil {
			return badRequest("Cannot specify both ssl.%s and secrets.ssl.%s", k, k)
		}
	}
	return nil
}

// storeSSLSecrets writes string values at the secret paths to
// .fleet-secrets ({id}), or with storage off moves them to their plain
// field (ssl.key for secrets.ssl.key); references stay as they are.
func (c *Cluster) storeSSLSecrets(attrs map[string]any, keys [][]string) {
	enabled := c.secretStorageEnabled()
	for _, k := range keys {
		path := append([]string{"secrets"}, k...)
		s, ok := getPath(attrs, path).(string)
		if !ok {
			continue
		}
		if enabled {
			setPath(attrs, path, map[string]any{"id": c.node.CreateFleetSecret(s)})
		} else {
			deletePath(attrs, path)
			setPath(attrs, k, s)
		}
	}
	pruneEmptySecrets(attrs)
}

// secretIDsAt lists the secret ids stored at the secret paths.
func secretIDsAt(attrs map[string]any, keys [][]string) []string {
	var out []string
	for _, k := range keys {
		if id, ok := secretRefID(getPath(attrs, append([]string{"secrets"}, k...))); ok {
			out = append(out, id)
		}
	}
	return out
}

// replaceSecrets is extractAndUpdate…Secrets: with storage on, the update's
// secrets replace the stored ones (an omitted path is deleted) and the
// secrets no longer referenced are deleted from .fleet-secrets.
func (c *Cluster) replaceSecrets(attrs, body map[string]any, keys [][]string) {
	sec, sent := body["secrets"]
	delete(body, "secrets")
	if !c.secretStorageEnabled() {
		return
	}
	old := secretIDsAt(attrs, keys)
	if sent && sec != nil {
		attrs["secrets"] = sec
	} else {
		delete(attrs, "secrets")
	}
	now := secretIDsAt(attrs, keys)
	for _, id := range old {
		if !slices.Contains(now, id) {
			c.node.DeleteFleetSecret(id)
		}
	}
}

func (c *Cluster) unsetDefaultFleetServerHost(exceptID string) {
	unsetDefaultExcept(c.fleetServerHosts(), exceptID)
}

var fleetServerHostSecretKeys = [][]string{{"ssl", "key"}, {"ssl", "es_key"}, {"ssl", "agent_key"}}

func (c *Cluster) createFleetServerHost(r *kreq) *kresp {
	body := r.body
	if resp := checkFleetServerHostBody(body); resp != nil {
		return resp
	}
	attrs := cloneMap(body)
	id := strField(attrs, "id")
	delete(attrs, "id")
	if id == "" {
		id = uuid.NewString()
	}
	if c.fleetServerHosts()[id] != nil {
		return kerr(http.StatusConflict, "Saved object [fleet-fleet-server-host/%s] conflict", id)
	}
	attrs["is_preconfigured"] = false
	if urls, ok := attrs["host_urls"].([]any); ok {
		for i, u := range urls {
			urls[i] = normalizeHost(u.(string))
		}
	}
	if attrs["is_default"] == true {
		c.unsetDefaultFleetServerHost(id)
	}
	c.storeSSLSecrets(attrs, fleetServerHostSecretKeys)
	o := &settingsObject{ID: id, Attrs: attrs, Seq: c.st.nextSeq()}
	c.fleetServerHosts()[id] = o
	if o.flag("is_default") {
		c.bumpAllPolicies(c.now())
	}
	return ok(map[string]any{"item": fleetServerHostView(o)})
}

func (c *Cluster) updateFleetServerHost(r *kreq) *kresp {
	id := r.params["itemId"]
	o := c.fleetServerHosts()[id]
	if o == nil {
		return fleetServerNotFound(id)
	}
	body := r.body
	if resp := checkFleetServerHostBody(body); resp != nil {
		return resp
	}
	// proxy_id is schema.nullable: omitted means null.
	if _, ok := body["proxy_id"]; !ok {
		body["proxy_id"] = nil
	}
	if body["is_default"] == true {
		c.unsetDefaultFleetServerHost(id)
	}
	if urls, ok := body["host_urls"].([]any); ok {
		for i, u := range urls {
			urls[i] = normalizeHost(u.(string))
		}
	}
	c.storeSSLSecrets(body, fleetServerHostSecretKeys)
	c.replaceSecrets(o.Attrs, body, fleetServerHostSecretKeys)
	for k, v := range body {
		o.Attrs[k] = v
	}
	c.bumpPoliciesAfterUpdate(o, "fleet_server_host_id", c.now())
	return ok(map[string]any{"item": fleetServerHostView(o)})
}

func (c *Cluster) deleteFleetServerHost(r *kreq) *kresp {
	id := r.params["itemId"]
	o := c.fleetServerHosts()[id]
	if o == nil {
		return fleetServerNotFound(id)
	}
	if o.flag("is_preconfigured") {
		return kerr(http.StatusForbidden, "Cannot delete %s preconfigured fleet server host", id)
	}
	if o.flag("is_default") {
		return kerr(http.StatusForbidden, "Default Fleet Server hosts %s cannot be deleted.", id)
	}
	// removeFleetServerHostFromAll: policies using it fall back to the default.
	c.clearPolicyReference("fleet_server_host_id", id, c.now())
	delete(c.st.FleetServerHosts, id)
	for _, sid := range secretIDsAt(o.Attrs, fleetServerHostSecretKeys) {
		c.node.DeleteFleetSecret(sid)
	}
	return ok(map[string]any{"id": id})
}

func pruneEmptySecrets(attrs map[string]any) {
	sec, ok := attrs["secrets"].(map[string]any)
	if !ok {
		return
	}
	for k, v := range sec {
		if m, ok := v.(map[string]any); ok {
			for kk, vv := range m {
				if vv == nil {
					delete(m, kk)
				}
			}
			if len(m) == 0 {
				delete(sec, k)
			}
		} else if v == nil {
			delete(sec, k)
		}
	}
	if len(sec) == 0 {
		delete(attrs, "secrets")
	}
}
