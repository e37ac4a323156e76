package esim

import (
	"testing"
)

// TestPrivileges_ClusterPrivilegeResolver checks named cluster privileges
// against the action patterns of ClusterPrivilegeResolver (x-pack core
// security/authz/privilege): "*" crosses "/" as in Automatons.patterns, an
// action name used as a privilege grants it and its sub-actions, manage
// excludes the security actions. Every cluster action fleetform sends is
// listed with the narrowest privilege Elasticsearch grants it by.
func TestPrivileges_ClusterPrivilegeResolver(t *testing.T) {
	for _, tc := range []struct {
		priv, action string
		want         bool
	}{
		{"monitor", "cluster:monitor/main", true},
		{"monitor", "cluster:monitor/xpack/license/get", true}, // "*" crosses "/"
		{"monitor", "cluster:monitor/settings", true},
		{"monitor", "cluster:monitor/remote/info", true},
		{"monitor", "cluster:monitor/ccr/follow_info", true},
		{"monitor", "cluster:monitor/ccr/follow_stats", true},
		{"monitor", "cluster:admin/settings/update", false},
		{"manage", "cluster:admin/settings/update", true},
		{"manage", "cluster:admin/xpack/ccr/pause_follow", true},
		{"manage", "cluster:admin/xpack/security/api_key/create", false}, // ALL_SECURITY_PATTERN excluded
		{"manage", "cluster:admin/xpack/security/service_account/token/create", false},
		{"manage_ccr", "cluster:admin/xpack/ccr/pause_follow", true},
		{"manage_ccr", "cluster:admin/xpack/ccr/resume_follow", true},
		{"manage_ccr", "cluster:monitor/ccr/follow_info", false},
		{"manage_security", "cluster:admin/xpack/security/api_key/invalidate", true},
		{"manage_security", "cluster:admin/xpack/security/service_account/token/delete", true},
		{"manage_api_key", "cluster:admin/xpack/security/api_key/get", true},
		{"manage_api_key", "cluster:admin/xpack/security/service_account/token/create", false},
		{"manage_service_account", "cluster:admin/xpack/security/service_account/credential/get", true},
		{"read_security", "cluster:admin/xpack/security/service_account/credential/get", true},
		{"read_security", "cluster:admin/xpack/security/service_account/token/create", false},
		{"all", "cluster:admin/xpack/security/api_key/create", true},
		{"none", "cluster:monitor/main", false},
		{"cluster:admin/xpack/security/api_key", "cluster:admin/xpack/security/api_key/create", true}, // an action name as privilege
		{"cluster:monitor/main", "cluster:monitor/state", false},
	} {
		if got := clusterGrantedBy([]string{tc.priv}, tc.action, false); got != tc.want {
			t.Errorf("%s grants %s = %v, want %v", tc.priv, tc.action, got, tc.want)
		}
	}
}

// TestPrivileges_IndexPrivilege checks named index privileges against
// IndexPrivilege's automatons, for every index action fleetform sends.
func TestPrivileges_IndexPrivilege(t *testing.T) {
	for _, tc := range []struct {
		priv, action string
		want         bool
	}{
		{"read", "indices:data/read/search", true},
		{"read", "indices:data/read/get", true},
		{"read", "indices:data/read/open_point_in_time", true},
		{"read", "indices:data/write/index", false},
		{"write", "indices:data/write/index", true},
		{"write", "indices:data/write/delete", true},
		{"index", "indices:data/write/index", true},
		{"index", "indices:data/write/delete", false},
		{"delete", "indices:data/write/delete", true},
		{"create_doc", "indices:data/write/index", true},
		{"create_index", "indices:admin/create", true},
		{"create_index", "indices:admin/delete", false},
		{"delete_index", "indices:admin/delete", true},
		{"view_index_metadata", "indices:admin/get", true},
		{"view_index_metadata", "indices:admin/mappings/get", true},
		{"view_index_metadata", "indices:admin/create", false},
		{"manage", "indices:admin/get", true},
		{"manage", "indices:admin/open", true},
		{"manage", "indices:admin/xpack/ccr/put_follow", true},
		{"manage_follow_index", "indices:admin/xpack/ccr/put_follow", true},
		{"manage_follow_index", "indices:admin/xpack/ccr/unfollow", true},
		{"manage_follow_index", "indices:admin/close", true},
		{"manage_follow_index", "indices:admin/open", false}, // only manage opens an index
		{"monitor", "indices:monitor/stats", true},
		{"all", "indices:admin/delete", true},
		{"indices:data/read", "indices:data/read/search", true}, // an action name as privilege
	} {
		if got := indexPrivilegeGrants(tc.priv, tc.action); got != tc.want {
			t.Errorf("%s grants %s = %v, want %v", tc.priv, tc.action, got, tc.want)
		}
	}
}

// TestPrivileges_MonitorGrantsLicense: path.Match-style matching, where
// "*" stops at "/", refused GET /_license to a monitor-only caller; ES
// grants it.
func TestPrivileges_MonitorGrantsLicense(t *testing.T) {
	c := newCluster(t, nil, Config{})
	tok := c.must(t, 200, "POST", "/_security/service/elastic/fleet-server-remote/credential/token/t1", nil)
	bearer := "Bearer " + get(tok, "token", "value").(string)
	for _, path := range []string{"/_license", "/_remote/info", "/_cluster/settings"} {
		if r := c.do(t, "GET", path, nil, bearer); r.status != 200 {
			t.Errorf("GET %s with monitor: %d %s", path, r.status, r.raw)
		}
	}
}

// TestPrivileges_ManageOwnAPIKey follows ManageOwnApiKeyClusterPrivilege:
// a caller holding only manage_own_api_key may create keys, and get or
// invalidate keys only as its own: a user by owner=true (or its username
// and realm), an API key only itself by id. Other keys are refused with 403.
func TestPrivileges_ManageOwnAPIKey(t *testing.T) {
	c := newCluster(t, nil, Config{})
	others := c.must(t, 200, "POST", "/_security/api_key", map[string]any{"name": "superusers-key"})["id"].(string)
	tok := c.must(t, 200, "POST", "/_security/service/elastic/fleet-server/credential/token/t1", nil)
	bearer := "Bearer " + get(tok, "token", "value").(string)
	mine := c.do(t, "POST", "/_security/api_key", map[string]any{"name": "fleet-servers-key"}, bearer)
	if mine.status != 200 {
		t.Fatalf("create own key: %d %s", mine.status, mine.raw)
	}
	const denied = "action [cluster:admin/xpack/security/api_key/invalidate] is unauthorized for service account [elastic/fleet-server]"
	r := c.do(t, "DELETE", "/_security/api_key", map[string]any{"ids": []string{others}}, bearer)
	if typ, reason := errOf(t, r); r.status != 403 || typ != "security_exception" || reason != denied {
		t.Errorf("invalidate another user's key by id: %d %s", r.status, r.raw)
	}
	r = c.do(t, "DELETE", "/_security/api_key", map[string]any{"ids": []string{mine.body["id"].(string)}}, bearer)
	if r.status != 403 {
		t.Errorf("invalidate by id without owner (ES requires owner or username+realm): %d %s", r.status, r.raw)
	}
	r = c.do(t, "GET", "/_security/api_key", nil, bearer)
	if r.status != 403 {
		t.Errorf("get all keys without owner: %d %s", r.status, r.raw)
	}
	if r := c.do(t, "GET", "/_security/api_key?owner=true", nil, bearer); r.status != 200 || len(get(r.body, "api_keys").([]any)) != 1 {
		t.Errorf("get own keys: %d %s", r.status, r.raw)
	}
	r = c.do(t, "DELETE", "/_security/api_key", map[string]any{"ids": []string{others, mine.body["id"].(string)}, "owner": true}, bearer)
	if r.status != 200 || len(get(r.body, "invalidated_api_keys").([]any)) != 1 || get(r.body, "invalidated_api_keys", 0) != mine.body["id"] {
		t.Errorf("invalidate with owner=true touches only the caller's key: %d %s", r.status, r.raw)
	}
	// An API key holding manage_own_api_key may invalidate itself by id, nothing else.
	key := c.must(t, 200, "POST", "/_security/api_key", map[string]any{"name": "own-only",
		"role_descriptors": map[string]any{"r": map[string]any{"cluster": []string{"manage_own_api_key"}}}})
	auth := "ApiKey " + key["encoded"].(string)
	if r := c.do(t, "DELETE", "/_security/api_key", map[string]any{"ids": []string{others}}, auth); r.status != 403 {
		t.Errorf("API key invalidating another key: %d %s", r.status, r.raw)
	}
	if r := c.do(t, "DELETE", "/_security/api_key", map[string]any{"ids": []string{key["id"].(string)}}, auth); r.status != 200 {
		t.Errorf("API key invalidating itself: %d %s", r.status, r.raw)
	}
}
