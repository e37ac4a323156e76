package fleetsim

import (
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// Agent binary download sources (/api/fleet/agent_download_sources).
//
// Sources: FLEET/server/services/download_source.ts,
// FLEET/server/routes/download_source/handler.ts,
// FLEET/server/types/models/download_sources.ts (DownloadSourceError is a
// FleetError: 400).

// Kibana's ensureDefault creates this one at setup.
const (
	defaultDownloadSourceID  = "fleet-default-download-source"
	defaultDownloadSourceURI = "https://artifacts.elastic.co/downloads/"
)

var (
	downloadSourceSchema = tObject{fields: []field{
		{name: "id", t: tString{}},
		{name: "name", t: tString{}, required: true},
		{name: "host", t: tURI{}, required: true},
		{name: "is_default", t: tBool{}, def: false},
		{name: "proxy_id", t: nullableString},
		{name: "security_artifacts_proxy_id", t: nullableString},
		{name: "security_artifacts_url", t: tNullable{inner: tURI{}}},
		{name: "ssl", t: tObject{fields: []field{
			{name: "certificate_authorities", t: tArray{elem: tString{}}},
			{name: "certificate", t: tString{}},
			{name: "key", t: tString{}},
		}}},
		{name: "auth", t: tNullable{inner: tObject{fields: []field{
			{name: "username", t: tString{}},
			{name: "password", t: tString{}},
			{name: "api_key", t: tString{}},
			{name: "headers", t: tArray{elem: tObject{fields: []field{
				{name: "key", t: tString{}, required: true},
				{name: "value", t: tString{}, required: true},
			}}}},
		}}}},
		{name: "secrets", t: tObject{fields: []field{
			{name: "ssl", t: tObject{fields: []field{{name: "key", t: tSecretRef{}}}}},
			{name: "auth", t: tObject{fields: []field{{name: "password", t: tSecretRef{}}, {name: "api_key", t: tSecretRef{}}}}},
		}}},
	}}
	downloadSourceSecretKeys = [][]string{{"ssl", "key"}, {"auth", "password"}, {"auth", "api_key"}}
)

// downloadSources returns the download sources, creating the default one
// the first time (Kibana's setup runs ensureDefault).
func (c *Cluster) downloadSources() map[string]*settingsObject {
	if c.st.DownloadSources == nil {
		c.st.DownloadSources = map[string]*settingsObject{
			defaultDownloadSourceID: {ID: defaultDownloadSourceID, Seq: c.st.nextSeq(), Attrs: map[string]any{
				"name": "Elastic Artifacts", "is_default": true, "host": defaultDownloadSourceURI,
			}},
		}
	}
	return c.st.DownloadSources
}

// downloadSourceView is savedObjectToDownloadSource.
func downloadSourceView(o *settingsObject) map[string]any {
	v := cloneMap(o.Attrs)
	v["id"] = o.ID
	if v["ssl"] == nil {
		delete(v, "ssl")
	}
	if v["auth"] == nil {
		delete(v, "auth") // crud.ts: auth: null leaves auth undefined
	}
	return v
}

// listDownloadSources sorts by is_default descending (the default first).
func (c *Cluster) listDownloadSources(_ *kreq) *kresp {
	return listSettings(c.downloadSources(), downloadSourceView, func(a, b *settingsObject) int {
		if a.flag("is_default") != b.flag("is_default") {
			if a.flag("is_default") {
				return -1
			}
			return 1
		}
		return bySeq(a, b)
	})
}

func downloadSourceNotFound(id string) *kresp {
	return kerr(http.StatusNotFound, "Agent binary source %s not found", id)
}

func (c *Cluster) getDownloadSource(r *kreq) *kresp {
	o := c.downloadSources()[r.params["sourceId"]]
	if o == nil {
		return downloadSourceNotFound(r.params["sourceId"])
	}
	return ok(map[string]any{"item": downloadSourceView(o)})
}

// requireUniqueDownloadSourceName is requireUniqueName.
func (c *Cluster) requireUniqueDownloadSourceName(name, id string) *kresp {
	var ids []string
	for _, k := range sortedKeys(c.downloadSources()) {
		if c.st.DownloadSources[k].str("name") == name {
			ids = append(ids, k)
		}
	}
	if len(ids) == 0 || (id != "" && containsStr(ids, id)) {
		return nil
	}
	if len(ids) == 1 {
		return badRequest("Download Source '%s' already exists with name '%s'", ids[0], name)
	}
	return badRequest("Download Sources '%s' already exist with name '%s'", strings.Join(ids, ","), name)
}

func containsStr(ss []string, s string) bool {
	for _, e := range ss {
		if e == s {
			return true
		}
	}
	return false
}

func (c *Cluster) checkDownloadSourceProxy(body map[string]any) *kresp {
	if p, _ := body["proxy_id"].(string); p != "" && c.proxies()[p] == nil {
		return badRequest("Proxy %s not found", p)
	}
	return nil
}

// validateDownloadSource is the handler's validateDownloadSource: a value
// plain or secret, not both; username/password or api_key, not both;
// username and password together.
func validateDownloadSource(body map[string]any) *kresp {
	for _, k := range downloadSourceSecretKeys {
		if jsTruthy(getPath(body, k)) && jsTruthy(getPath(body, append([]string{"secrets"}, k...))) {
			return badRequest("Cannot specify both %s and secrets.%s", strings.Join(k, "."), strings.Join(k, "."))
		}
	}
	at := func(p ...string) bool { return jsTruthy(getPath(body, p)) }
	hasUserOrPassword := at("auth", "username") || at("auth", "password") || at("secrets", "auth", "password")
	hasAPIKey := at("auth", "api_key") || at("secrets", "auth", "api_key")
	if hasUserOrPassword && hasAPIKey {
		return badRequest("Cannot specify both username/password and api_key authentication")
	}
	hasUser := at("auth", "username")
	hasPassword := at("auth", "password") || at("secrets", "auth", "password")
	if hasUser != hasPassword {
		return badRequest("Username and password must be provided together")
	}
	return nil
}

func (c *Cluster) unsetDefaultDownloadSource(exceptID string) {
	unsetDefaultExcept(c.downloadSources(), exceptID)
}

func (c *Cluster) createDownloadSource(r *kreq) *kresp {
	body := r.body
	if body["auth"] == nil {
		delete(body, "auth") // the POST handler drops auth: null
	}
	if resp := validateDownloadSource(body); resp != nil {
		return resp
	}
	attrs := cloneMap(body)
	id := strField(attrs, "id")
	delete(attrs, "id")
	if resp := c.requireUniqueDownloadSourceName(strField(attrs, "name"), id); resp != nil {
		return resp
	}
	if resp := c.checkDownloadSourceProxy(attrs); resp != nil {
		return resp
	}
	if id == "" {
		id = uuid.NewString()
	}
	if c.downloadSources()[id] != nil {
		return kerr(http.StatusConflict, "Saved object [fleet-agent-download-sources/%s] conflict", id)
	}
	if attrs["is_default"] == true {
		c.unsetDefaultDownloadSource(id)
	}
	c.storeDownloadSourceSecrets(attrs)
	o := &settingsObject{ID: id, Attrs: attrs, Seq: c.st.nextSeq()}
	c.st.DownloadSources[id] = o
	if o.flag("is_default") {
		c.bumpAllPolicies(c.now())
	}
	return ok(map[string]any{"item": downloadSourceView(o)})
}

func (c *Cluster) updateDownloadSource(r *kreq) *kresp {
	id := r.params["sourceId"]
	body := r.body
	delete(body, "id")
	if resp := validateDownloadSource(body); resp != nil {
		return resp
	}
	o := c.downloadSources()[id]
	if o == nil {
		return kerr(http.StatusNotFound, "Download source %s not found", id)
	}
	if resp := c.checkDownloadSourceProxy(body); resp != nil {
		return resp
	}
	if resp := c.requireUniqueDownloadSourceName(strField(body, "name"), id); resp != nil {
		return resp
	}
	if body["is_default"] == true {
		c.unsetDefaultDownloadSource(id)
	}
	c.updateDownloadSourceSecrets(o.Attrs, body)
	for k, v := range body {
		o.Attrs[k] = v
	}
	// The handler bumps every policy when the source is the default,
	// otherwise those that use it.
	c.bumpPoliciesAfterUpdate(o, "download_source_id", c.now())
	return ok(map[string]any{"item": downloadSourceView(o)})
}

func (c *Cluster) deleteDownloadSource(r *kreq) *kresp {
	id := r.params["sourceId"]
	o := c.downloadSources()[id]
	if o == nil {
		return downloadSourceNotFound(id)
	}
	if o.flag("is_default") {
		return badRequest("Default Download source %s cannot be deleted.", id)
	}
	// removeDefaultSourceFromAll: policies using it fall back to the default.
	c.clearPolicyReference("download_source_id", id, c.now())
	for _, sid := range secretIDsAt(o.Attrs, downloadSourceSecretKeys) {
		c.node.DeleteFleetSecret(sid)
	}
	delete(c.st.DownloadSources, id)
	return ok(map[string]any{"id": id})
}
