package esim

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

func (n *Node) hInfo(c *call) (int, any, *Error) {
	n.mu.Lock()
	uuid := n.st.ClusterUUID
	n.mu.Unlock()
	return http.StatusOK, map[string]any{
		"name":         n.cfg.NodeName,
		"cluster_name": n.cfg.ClusterName,
		"cluster_uuid": uuid,
		"version": map[string]any{
			"number":                              n.cfg.Version,
			"build_flavor":                        "default",
			"build_type":                          "docker",
			"build_hash":                          "fleetsim",
			"build_date":                          "2025-07-01T00:00:00.000000000Z",
			"build_snapshot":                      false,
			"lucene_version":                      "10.2.2",
			"minimum_wire_compatibility_version":  "8.19.0",
			"minimum_index_compatibility_version": "8.0.0",
		},
		"tagline": "You Know, for Search",
	}, nil
}

func (n *Node) hLicense(c *call) (int, any, *Error) {
	n.mu.Lock()
	typ, uid, issued := n.st.License, n.st.LicenseUID, n.st.LicenseIssued
	n.mu.Unlock()
	lic := map[string]any{
		"status":               "active",
		"uid":                  uid,
		"type":                 typ,
		"issue_date":           issued.Format("2006-01-02T15:04:05.000Z"),
		"issue_date_in_millis": issued.UnixMilli(),
		"max_nodes":            1000,
		"max_resource_units":   nil,
		"issued_to":            n.cfg.ClusterName,
		"issuer":               "elasticsearch",
		"start_date_in_millis": -1,
	}
	var expiry time.Time
	switch typ {
	case LicenseTrial:
		expiry = issued.Add(30 * 24 * time.Hour)
	case LicensePlatinum:
		expiry = issued.AddDate(1, 0, 0)
		lic["max_nodes"], lic["issuer"] = 100, "API"
	case LicenseEnterprise:
		expiry = issued.AddDate(1, 0, 0)
		lic["max_nodes"], lic["max_resource_units"], lic["issuer"] = nil, 100, "API"
	}
	if !expiry.IsZero() {
		lic["expiry_date"] = expiry.Format("2006-01-02T15:04:05.000Z")
		lic["expiry_date_in_millis"] = expiry.UnixMilli()
	}
	return http.StatusOK, map[string]any{"license": lic}, nil
}

func (n *Node) hAuthenticate(c *call) (int, any, *Error) {
	p := c.who
	realm := map[string]any{"name": "reserved", "type": "reserved"}
	out := map[string]any{
		"username":             p.Username,
		"roles":                nonNil(p.Roles),
		"full_name":            nil,
		"email":                nil,
		"metadata":             map[string]any{},
		"enabled":              true,
		"authentication_type":  "realm",
		"authentication_realm": realm,
		"lookup_realm":         realm,
	}
	switch {
	case p.APIKeyID != "":
		realm = map[string]any{"name": "_es_api_key", "type": "_es_api_key"}
		out["roles"] = []string{}
		out["authentication_type"] = "api_key"
		out["authentication_realm"], out["lookup_realm"] = realm, realm
		out["api_key"] = map[string]any{"id": p.APIKeyID, "name": p.APIKeyName}
	case p.ServiceAccount != "":
		realm = map[string]any{"name": "_service_account", "type": "_service_account"}
		out["roles"] = []string{}
		out["full_name"] = "Service account - " + p.ServiceAccount
		out["metadata"] = map[string]any{"_elastic_service_account": true}
		out["authentication_type"] = "token"
		out["authentication_realm"], out["lookup_realm"] = realm, realm
		out["token"] = map[string]any{"name": p.TokenName, "type": "_service_account_index"}
	case p.Username == "elastic":
		out["metadata"] = map[string]any{"_reserved": true}
	default:
		realm = map[string]any{"name": "default_native", "type": "native"}
		out["authentication_realm"], out["lookup_realm"] = realm, realm
	}
	return http.StatusOK, out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (n *Node) hCreateServiceToken(c *call) (int, any, *Error) {
	if e := c.checkRefresh(); e != nil {
		return 0, nil, e
	}
	tok, err := n.CreateServiceToken(c.params["namespace"], c.params["service"], c.params["name"])
	if err != nil {
		return 0, nil, err.(*Error)
	}
	return http.StatusOK, map[string]any{"created": true, "token": tok}, nil
}

func (n *Node) hDeleteServiceToken(c *call) (int, any, *Error) {
	if e := c.checkRefresh(); e != nil {
		return 0, nil, e
	}
	if n.DeleteServiceToken(c.params["namespace"], c.params["service"], c.params["name"]) {
		return http.StatusOK, map[string]any{"found": true}, nil
	}
	return http.StatusNotFound, map[string]any{"found": false}, nil
}

// hGetServiceCredentials lists an account's tokens. Elasticsearch does not
// check that the account exists (TransportGetServiceAccountCredentialsAction
// → ServiceAccountService.findTokensFor → IndexServiceAccountTokenStore.
// findTokensFor searches the security index by username): an account the
// version lacks, or none at all, answers 200 with no token.
func (n *Node) hGetServiceCredentials(c *call) (int, any, *Error) {
	account := c.params["namespace"] + "/" + c.params["service"]
	tokens := map[string]any{}
	for _, name := range n.ServiceTokenNames(c.params["namespace"], c.params["service"]) {
		tokens[name] = map[string]any{}
	}
	return http.StatusOK, map[string]any{
		"service_account": account,
		"count":           len(tokens),
		"tokens":          tokens,
		"nodes_credentials": map[string]any{
			"_nodes":      map[string]any{"total": 1, "successful": 1, "failed": 0},
			"file_tokens": map[string]any{},
		},
	}, nil
}

func (n *Node) hCreateAPIKey(c *call) (int, any, *Error) {
	if e := c.requireBody(); e != nil {
		return 0, nil, e
	}
	var req APIKeyRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		return 0, nil, newErr(http.StatusBadRequest, "x_content_parse_exception", "[1:1] [api_key_request] failed to parse object: %s", err.Error())
	}
	if c.who.APIKeyID != "" && !allEmpty(req.RoleDescriptors) {
		return 0, nil, errIllegalArgument("creating derived api keys requires an explicit role descriptor that is empty (has no privileges)")
	}
	k, err := n.CreateAPIKey(c.who, req)
	if err != nil {
		return 0, nil, err.(*Error)
	}
	return http.StatusOK, k, nil
}

// allEmpty reports whether role descriptors were given and none grants anything,
// the only form in which an API key may create another (derived) key.
func allEmpty(rds map[string]RoleDescriptor) bool {
	if len(rds) == 0 {
		return false
	}
	for _, d := range rds {
		if len(d.Cluster)+len(d.Indices)+len(d.Applications)+len(d.RunAs) > 0 {
			return false
		}
	}
	return true
}

func (n *Node) hGetAPIKeys(c *call) (int, any, *Error) {
	owner, e := c.boolParam("owner", false)
	if e != nil {
		return 0, nil, e
	}
	activeOnly, e := c.boolParam("active_only", false)
	if e != nil {
		return 0, nil, e
	}
	id, name, username, realm := c.query.Get("id"), c.query.Get("name"), c.query.Get("username"), c.query.Get("realm_name")
	if owner && (username != "" || realm != "") {
		return 0, nil, newErr(http.StatusBadRequest, "action_request_validation_exception",
			"Validation Failed: 1: username or realm name must not be specified when retrieving owned API keys;")
	}
	const getAction = "cluster:admin/xpack/security/api_key/get"
	if c.who.ownAPIKeysOnly(getAction) && !c.who.ownsAPIKeys(nonEmpty(id), username, realm, owner) {
		return 0, nil, c.who.denied(getAction)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	list := []any{}
	for _, kid := range sortedKeys(n.st.APIKeys) {
		k := n.st.APIKeys[kid]
		switch {
		case id != "" && k.ID != id,
			name != "" && !globMatch(name, k.Name),
			username != "" && k.Owner != username,
			realm != "" && k.Realm != realm,
			owner && k.Owner != c.who.Username,
			activeOnly && (k.Invalidated || k.Expiration != nil && !n.now().Before(*k.Expiration)):
			continue
		}
		list = append(list, k.info())
	}
	return http.StatusOK, map[string]any{"api_keys": list}, nil
}

func (k *apiKey) info() map[string]any {
	out := map[string]any{
		"id":               k.ID,
		"name":             k.Name,
		"type":             "rest",
		"creation":         k.Created.UnixMilli(),
		"invalidated":      k.Invalidated,
		"username":         k.Owner,
		"realm":            k.Realm,
		"metadata":         k.Metadata,
		"role_descriptors": k.RoleDescriptors,
	}
	if k.Expiration != nil {
		out["expiration"] = k.Expiration.UnixMilli()
	}
	if k.InvalidatedAt != nil {
		out["invalidation"] = k.InvalidatedAt.UnixMilli()
	}
	return out
}

func (n *Node) hInvalidateAPIKeys(c *call) (int, any, *Error) {
	var req struct {
		ID       string   `json:"id"`
		IDs      []string `json:"ids"`
		Name     string   `json:"name"`
		Owner    bool     `json:"owner"`
		Username string   `json:"username"`
		Realm    string   `json:"realm_name"`
	}
	if e := c.requireBody(); e != nil {
		return 0, nil, e
	}
	if err := json.Unmarshal(c.body, &req); err != nil {
		return 0, nil, newErr(http.StatusBadRequest, "x_content_parse_exception", "[1:1] [invalidate_api_key] failed to parse object: %s", err.Error())
	}
	if req.ID != "" {
		req.IDs = append(req.IDs, req.ID)
	}
	if len(req.IDs) == 0 && req.Name == "" && req.Username == "" && req.Realm == "" && !req.Owner {
		return 0, nil, newErr(http.StatusBadRequest, "action_request_validation_exception",
			"Validation Failed: 1: One of [api key id(s), api key name, username, realm name] must be specified if [owner] flag is false;")
	}
	const invalidateAction = "cluster:admin/xpack/security/api_key/invalidate"
	if c.who.ownAPIKeysOnly(invalidateAction) && !c.who.ownsAPIKeys(req.IDs, req.Username, req.Realm, req.Owner) {
		return 0, nil, c.who.denied(invalidateAction)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	invalidated, previously := []string{}, []string{}
	now := n.now().UTC()
	for _, kid := range sortedKeys(n.st.APIKeys) {
		k := n.st.APIKeys[kid]
		switch {
		case len(req.IDs) > 0 && !contains(req.IDs, k.ID),
			req.Name != "" && !globMatch(req.Name, k.Name),
			req.Username != "" && k.Owner != req.Username,
			req.Realm != "" && k.Realm != req.Realm,
			req.Owner && k.Owner != c.who.Username:
			continue
		}
		if k.Invalidated {
			previously = append(previously, k.ID)
			continue
		}
		k.Invalidated, k.InvalidatedAt = true, &now
		invalidated = append(invalidated, k.ID)
	}
	return http.StatusOK, map[string]any{
		"invalidated_api_keys":            invalidated,
		"previously_invalidated_api_keys": previously,
		"error_count":                     0,
	}, nil
}

// nonEmpty is s as a list, empty when s is "".
func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func (n *Node) hGetSettings(c *call) (int, any, *Error) {
	flat, e := c.boolParam("flat_settings", false)
	if e != nil {
		return 0, nil, e
	}
	p, t := n.ClusterSettings()
	out := map[string]any{"persistent": p, "transient": t}
	if !flat {
		out = map[string]any{"persistent": nest(p), "transient": nest(t)}
	}
	if d, _ := c.boolParam("include_defaults", false); d {
		out["defaults"] = map[string]any{}
	}
	return http.StatusOK, out, nil
}

func (n *Node) hPutSettings(c *call) (int, any, *Error) {
	if e := c.requireBody(); e != nil {
		return 0, nil, e
	}
	flat, e := c.boolParam("flat_settings", false)
	if e != nil {
		return 0, nil, e
	}
	p, t, e := n.putClusterSettings(c.body)
	if e != nil {
		return 0, nil, e
	}
	if !flat {
		return http.StatusOK, map[string]any{"acknowledged": true, "persistent": nest(p), "transient": nest(t)}, nil
	}
	return http.StatusOK, map[string]any{"acknowledged": true, "persistent": p, "transient": t}, nil
}

func (n *Node) hHealth(c *call) (int, any, *Error) {
	n.mu.Lock()
	shards := 0
	for _, ix := range n.st.Indices {
		if !ix.Closed {
			shards++
		}
	}
	n.mu.Unlock()
	return http.StatusOK, map[string]any{
		"cluster_name": n.cfg.ClusterName, "status": "green", "timed_out": false,
		"number_of_nodes": 1, "number_of_data_nodes": 1,
		"active_primary_shards": shards, "active_shards": shards,
		"relocating_shards": 0, "initializing_shards": 0, "unassigned_shards": 0, "unassigned_primary_shards": 0,
		"delayed_unassigned_shards": 0, "number_of_pending_tasks": 0, "number_of_in_flight_fetch": 0,
		"task_max_waiting_in_queue_millis": 0, "active_shards_percent_as_number": 100.0,
	}, nil
}

func (n *Node) hRemoteInfo(c *call) (int, any, *Error) {
	return http.StatusOK, n.remoteInfoBody(), nil
}

func (n *Node) hPostSecret(c *call) (int, any, *Error) {
	var req map[string]any
	if e := c.requireBody(); e != nil {
		return 0, nil, e
	}
	if err := json.Unmarshal(c.body, &req); err != nil {
		return 0, nil, newErr(http.StatusBadRequest, "x_content_parse_exception", "[1:1] [post_secret_request] failed to parse object")
	}
	for k := range req {
		if k != "value" {
			return 0, nil, newErr(http.StatusBadRequest, "x_content_parse_exception", "[1:2] [post_secret_request] unknown field [%s]", k)
		}
	}
	v, ok := req["value"].(string)
	if !ok || strings.TrimSpace(v) == "" {
		return 0, nil, newErr(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: value is missing;")
	}
	return http.StatusCreated, map[string]any{"id": n.CreateFleetSecret(v)}, nil
}

func (n *Node) hGetSecret(c *call) (int, any, *Error) {
	v, ok := n.GetFleetSecret(c.params["id"])
	if !ok {
		return 0, nil, errNoSecret(c.params["id"])
	}
	return http.StatusOK, map[string]any{"id": c.params["id"], "value": v}, nil
}

func (n *Node) hDeleteSecret(c *call) (int, any, *Error) {
	if !n.DeleteFleetSecret(c.params["id"]) {
		return 0, nil, errNoSecret(c.params["id"])
	}
	return http.StatusOK, map[string]any{"deleted": true}, nil
}
