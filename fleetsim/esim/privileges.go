package esim

import (
	"net/http"
	"slices"
	"strings"
)

// Privileges follow Elasticsearch's model (x-pack core
// security/authz/privilege): a named privilege is a set of action patterns
// compiled into an automaton (Automatons.patterns), where "*" matches any
// run of characters, "/" included — "monitor" grants
// "cluster:monitor/xpack/license/get". A privilege that is itself an action
// name grants that action and its sub-actions (ClusterPrivilegeResolver and
// IndexPrivilege: actionToPattern adds "*").

// actionPattern is one action pattern with the patterns it excludes
// (ActionClusterPrivilege(name, included, excluded)).
type actionPattern struct {
	include, exclude []string
}

func (ap actionPattern) grants(action string) bool {
	return slices.ContainsFunc(ap.include, func(p string) bool { return globMatch(p, action) }) &&
		!slices.ContainsFunc(ap.exclude, func(p string) bool { return globMatch(p, action) })
}

// Cluster action patterns, from ClusterPrivilegeResolver.
var (
	allClusterPattern  = []string{"cluster:*", "indices:admin/template/*", "indices:admin/index_template/*"}
	allSecurityPattern = []string{"cluster:admin/xpack/security/*"}
	manageAPIKeyAction = "cluster:admin/xpack/security/api_key/*"
)

// clusterPrivileges are the named cluster privileges (ClusterPrivilegeResolver;
// the Fleet secrets privileges are x-pack fleet's).
var clusterPrivileges = map[string]actionPattern{
	"none": {},
	"all":  {include: allClusterPattern},
	"monitor": {include: []string{"cluster:monitor/*", "indices:admin/template/get", "cluster:admin/component_template/get",
		"indices:admin/index_template/get"}},
	"manage":                 {include: allClusterPattern, exclude: allSecurityPattern},
	"manage_security":        {include: append(slices.Clone(allSecurityPattern), "cluster:admin/xpack/security/delegate_pki")},
	"manage_api_key":         {include: []string{manageAPIKeyAction}},
	"manage_service_account": {include: []string{"cluster:admin/xpack/security/service_account/*"}},
	"manage_token":           {include: []string{"cluster:admin/xpack/security/token/*"}},
	"manage_saml": {include: []string{"cluster:admin/xpack/security/saml/*", "cluster:admin/xpack/security/token/invalidate",
		"cluster:admin/xpack/security/token/refresh", "cluster:admin/xpack/security/saml/metadata"}},
	"read_security": {include: []string{"cluster:admin/xpack/security/api_key/get", "cluster:admin/xpack/security/api_key/query",
		"cluster:admin/xpack/security/service_account/get", "cluster:admin/xpack/security/service_account/credential/get*",
		"cluster:admin/xpack/security/user/get", "cluster:admin/xpack/security/role/get", "cluster:admin/xpack/security/user/has_privileges"}},
	"manage_ccr":              {include: []string{"cluster:admin/xpack/ccr/*", "cluster:monitor/state", "cluster:admin/xpack/security/user/has_privileges"}},
	"read_ccr":                {include: []string{"cluster:monitor/state", "cluster:admin/xpack/security/user/has_privileges"}},
	"manage_ilm":              {include: []string{"cluster:admin/ilm/*"}},
	"manage_pipeline":         {include: []string{"cluster:admin/ingest/pipeline/*"}},
	"manage_ingest_pipelines": {include: []string{"cluster:admin/ingest/pipeline/*"}},
	"manage_index_templates":  {include: []string{"indices:admin/template/*", "indices:admin/index_template/*", "cluster:admin/component_template/*"}},
	"read_pipeline":           {include: []string{"cluster:admin/ingest/pipeline/get", "cluster:admin/ingest/pipeline/simulate"}},
	"transport_client":        {include: []string{"cluster:monitor/nodes/liveness", "cluster:monitor/state"}},
	// manage_own_api_key matches the API key actions, then
	// ManageOwnApiKeyClusterPrivilege checks the request (ownAPIKeysOnly).
	"manage_own_api_key":  {include: []string{manageAPIKeyAction}},
	"read_fleet_secrets":  {include: []string{"cluster:admin/fleet/secrets/get"}},
	"write_fleet_secrets": {include: []string{"cluster:admin/fleet/secrets/post", "cluster:admin/fleet/secrets/delete"}},
}

// isClusterAction is ClusterPrivilegeResolver.isClusterAction: a privilege
// name that matches the "all" patterns is an action pattern.
func isClusterAction(name string) bool {
	return slices.ContainsFunc(allClusterPattern, func(p string) bool { return globMatch(p, name) })
}

// clusterGrantedBy reports whether any of privs grants the cluster action,
// leaving manage_own_api_key out when skipOwn is set.
func clusterGrantedBy(privs []string, action string, skipOwn bool) bool {
	for _, p := range privs {
		p = strings.ToLower(p)
		if skipOwn && p == "manage_own_api_key" {
			continue
		}
		if isClusterAction(p) {
			if globMatch(p+"*", action) {
				return true
			}
			continue
		}
		if ap, ok := clusterPrivileges[p]; ok && ap.grants(action) {
			return true
		}
	}
	return false
}

// ownAPIKeysOnly reports whether p reaches an API key action only through
// manage_own_api_key, so the request must name the caller's own keys.
func (p Principal) ownAPIKeysOnly(action string) bool {
	if p.Superuser {
		return false
	}
	only := func(privs []string) bool { return privs != nil && !clusterGrantedBy(privs, action, true) }
	return only(p.Cluster) || only(p.LimitedByCluster)
}

// ownsAPIKeys is ManageOwnApiKeyClusterPrivilege.checkIfUserIsOwnerOfApiKeys:
// an API key may name only itself (by id); a user must ask for its owned
// keys (owner=true) or name itself by username and realm.
func (p Principal) ownsAPIKeys(ids []string, username, realm string, owner bool) bool {
	if p.APIKeyID != "" {
		return len(ids) > 0 && !slices.ContainsFunc(ids, func(id string) bool { return id != p.APIKeyID })
	}
	if owner {
		return true
	}
	return username != "" && realm != "" && username == p.Username && realm == p.realm()
}

// realm is the realm the simulator authenticates p in (see CreateAPIKey).
func (p Principal) realm() string {
	switch {
	case p.ServiceAccount != "":
		return "_service_account"
	case p.Username == "elastic":
		return "reserved"
	}
	return "default_native"
}

// indexPrivileges are the named index privileges (IndexPrivilege).
var indexPrivileges = map[string]actionPattern{
	"none":                {},
	"all":                 {include: []string{"indices:*", "internal:transport/proxy/indices:*"}},
	"read":                {include: []string{"indices:data/read/*"}},
	"read_cross_cluster":  {include: []string{"internal:transport/proxy/indices:data/read/*", "indices:admin/shards/search_shards"}},
	"create":              {include: []string{"indices:data/write/index*", "indices:data/write/bulk*"}},
	"create_doc":          {include: []string{"indices:data/write/index", "indices:data/write/index[*", "indices:data/write/index:op_type/create", "indices:data/write/bulk*"}},
	"index":               {include: []string{"indices:data/write/index*", "indices:data/write/bulk*", "indices:data/write/update*"}},
	"delete":              {include: []string{"indices:data/write/delete*", "indices:data/write/bulk*"}},
	"write":               {include: []string{"indices:data/write/*", "indices:admin/mapping/auto_put"}},
	"monitor":             {include: []string{"indices:monitor/*"}},
	"manage":              {include: []string{"indices:monitor/*", "indices:admin/*", "indices:data/read/field_caps*"}},
	"create_index":        {include: []string{"indices:admin/create", "indices:admin/auto_create", "indices:admin/data_stream/create"}},
	"delete_index":        {include: []string{"indices:admin/delete", "indices:admin/data_stream/delete"}},
	"view_index_metadata": {include: []string{"indices:admin/aliases/get", "indices:admin/get", "indices:admin/mappings/fields/get*", "indices:admin/mappings/get", "indices:admin/shards/search_shards", "indices:admin/validate/query*", "indices:monitor/settings/get", "indices:admin/ilm/explain", "indices:admin/data_stream/get", "indices:admin/resolve/index", "indices:data/read/field_caps*"}},
	"manage_follow_index": {include: []string{"indices:admin/xpack/ccr/put_follow", "indices:admin/xpack/ccr/unfollow", "indices:admin/close*", "indices:admin/data_stream/promote", "indices:admin/rollover"}},
	"manage_leader_index": {include: []string{"indices:admin/xpack/ccr/forget_follower*"}},
	"manage_ilm":          {include: []string{"indices:admin/ilm/*"}},
	"maintenance":         {include: []string{"indices:admin/refresh*", "indices:admin/flush*", "indices:admin/synced_flush", "indices:admin/forcemerge*"}},
	"auto_configure":      {include: []string{"indices:admin/mapping/auto_put", "indices:admin/auto_create"}},
}

// indexPrivilegeGrants reports whether one index privilege name grants action.
func indexPrivilegeGrants(priv, action string) bool {
	priv = strings.ToLower(priv)
	if ap, ok := indexPrivileges[priv]; ok {
		return ap.grants(action)
	}
	if indexPrivileges["all"].grants(priv) { // an action name: it and its sub-actions
		return globMatch(priv+"*", action)
	}
	return false
}

// authorize checks whether p may run action, on the index expressions given
// for index actions ("indices:…").
func (p Principal) authorize(action string, indices ...string) *Error {
	if p.Superuser || action == "" {
		return nil
	}
	if strings.HasPrefix(action, "indices:") {
		allowed := len(indices) > 0
		for _, ix := range indices {
			if !p.indexAllowed(action, ix) {
				allowed = false
				break
			}
		}
		if allowed {
			return nil
		}
	} else if clusterGrantedBy(p.Cluster, action, false) && (p.LimitedByCluster == nil || clusterGrantedBy(p.LimitedByCluster, action, false)) {
		return nil
	}
	return p.denied(action, indices...)
}

// denied is the 403 for an action p may not run.
func (p Principal) denied(action string, indices ...string) *Error {
	// AuthorizationDenialMessages: who, then the indices for index actions.
	// (ES 8.x adds ", this action is granted by the … privileges [...]";
	// the simulator leaves that hint out rather than guess the lists.)
	on := ""
	if strings.HasPrefix(action, "indices:") {
		on = " on indices [" + strings.Join(indices, ",") + "]"
	}
	switch {
	case p.APIKeyID != "":
		return newErr(http.StatusForbidden, "security_exception", "action [%s] is unauthorized for API key id [%s] of user [%s]%s", action, p.APIKeyID, p.Username, on)
	case p.ServiceAccount != "":
		return newErr(http.StatusForbidden, "security_exception", "action [%s] is unauthorized for service account [%s]%s", action, p.ServiceAccount, on)
	}
	return newErr(http.StatusForbidden, "security_exception", "action [%s] is unauthorized for user [%s] with effective roles [%s]%s", action, p.Username, strings.Join(p.Roles, ","), on)
}

func (p Principal) indexAllowed(action, expr string) bool {
	for _, ip := range p.Indices {
		if !slices.ContainsFunc(ip.Names, func(pat string) bool { return globMatch(pat, expr) }) {
			continue
		}
		for _, priv := range ip.Privileges {
			if indexPrivilegeGrants(priv, action) {
				return true
			}
		}
	}
	return false
}

// globMatch matches ES-style simple wildcards: only '*' is special.
func globMatch(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, part := range parts[1:] {
		last := i == len(parts)-2
		if last {
			return strings.HasSuffix(s, part)
		}
		j := strings.Index(s, part)
		if j < 0 {
			return false
		}
		s = s[j+len(part):]
	}
	return true
}
