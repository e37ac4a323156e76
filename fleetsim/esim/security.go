package esim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// ApplicationPrivilege is one entry of a role descriptor's "applications".
type ApplicationPrivilege struct {
	Application string   `json:"application"`
	Privileges  []string `json:"privileges"`
	Resources   []string `json:"resources"`
}

// IndexPrivilege is one entry of a role descriptor's "indices".
type IndexPrivilege struct {
	Names                  []string `json:"names"`
	Privileges             []string `json:"privileges"`
	AllowRestrictedIndices bool     `json:"allow_restricted_indices,omitempty"`
}

// RoleDescriptor is a role as API keys carry it in "role_descriptors".
type RoleDescriptor struct {
	Cluster      []string               `json:"cluster,omitempty"`
	Indices      []IndexPrivilege       `json:"indices,omitempty"`
	Applications []ApplicationPrivilege `json:"applications,omitempty"`
	RunAs        []string               `json:"run_as,omitempty"`
	Metadata     map[string]any         `json:"metadata,omitempty"`
}

// Principal is who a request authenticated as.
type Principal struct {
	Username       string // the user; for an API key its owner; for a service token the account ("elastic/fleet-server")
	APIKeyID       string // set when authenticated by API key
	Superuser      bool   // may do everything
	Applications   []ApplicationPrivilege
	ServiceAccount string // "elastic/fleet-server" when authenticated by a service token

	APIKeyName string   // the API key's name
	TokenName  string   // the service token's name
	Roles      []string // the user's roles (for an API key, its owner's)
	Cluster    []string // effective cluster privileges (unused when Superuser)
	// LimitedByCluster, for an API key, is its owner's cluster privileges:
	// an action needs both (the key's role is limited by the owner's).
	LimitedByCluster []string
	Indices          []IndexPrivilege
}

type user struct {
	Username     string   `json:"username"`
	PasswordHash string   `json:"password_hash"` // "saltHex:sha256Hex"
	Roles        []string `json:"roles"`
}

type serviceToken struct {
	Account    string    `json:"account"` // "elastic/fleet-server"
	Name       string    `json:"name"`
	SecretHash string    `json:"secret_hash"`
	Created    time.Time `json:"created"`
}

type apiKey struct {
	ID              string                    `json:"id"`
	Name            string                    `json:"name"`
	SecretHash      string                    `json:"secret_hash"`
	Owner           string                    `json:"owner"`
	Realm           string                    `json:"realm"`
	Created         time.Time                 `json:"created"`
	Expiration      *time.Time                `json:"expiration,omitempty"`
	Invalidated     bool                      `json:"invalidated"`
	InvalidatedAt   *time.Time                `json:"invalidated_at,omitempty"`
	RoleDescriptors map[string]RoleDescriptor `json:"role_descriptors"`
	Metadata        map[string]any            `json:"metadata"`
	OwnerRoles      []string                  `json:"owner_roles"`
}

// Service accounts ES ships that fleetform uses, with a simplified version
// of their built-in privileges (x-pack/plugin/security/src/main/java/org/
// elasticsearch/xpack/security/authc/service/ElasticServiceAccounts.java:
// FLEET_ACCOUNT, FLEET_REMOTE_ACCOUNT). A node has an account only from the
// version in serviceAccountSince on (Node.serviceAccount).
var serviceAccounts = map[string]RoleDescriptor{
	"elastic/fleet-server": {
		Cluster: []string{"monitor", "manage_own_api_key", "read_fleet_secrets"},
		Indices: []IndexPrivilege{
			{Names: []string{"logs-*", "metrics-*", "traces-*", "synthetics-*", "profiling-*"}, Privileges: []string{"write", "create_index", "auto_configure"}},
			{Names: []string{".fleet-*"}, Privileges: []string{"all"}, AllowRestrictedIndices: true},
		},
	},
	// FLEET_REMOTE_ACCOUNT: monitor and manage_own_api_key (Fleet Server
	// mints the agents' API keys on the remote with it), and writes to
	// logs-*, metrics-* and traces-*.
	"elastic/fleet-server-remote": {
		Cluster: []string{"monitor", "manage_own_api_key"},
		Indices: []IndexPrivilege{
			{Names: []string{"logs-*", "metrics-*", "traces-*"}, Privileges: []string{"write", "create_index", "auto_configure"}},
		},
	},
}

// FleetServerRemoteSince is the first Elasticsearch release with the
// elastic/fleet-server-remote service account: elastic/elasticsearch#100950
// "[Fleet] add fleet-server-remote service account", merged 2023-10-17 on
// main with no 8.11 backport; its Kibana counterpart, elastic/kibana#169252
// "[Fleet] Support for remote ES output", is labelled v8.12.0 and
// backport:skip (docs/fleetsim-inferred.md 61: the release is inferred).
const FleetServerRemoteSince = "8.12.0"

// serviceAccountSince is the first version of each account that came after
// the service accounts themselves (7.13).
var serviceAccountSince = map[string]string{
	"elastic/fleet-server-remote": FleetServerRemoteSince,
}

// serviceAccount is the built-in account of the node's version
// (ServiceAccountService.isServiceAccountPrincipal: ACCOUNTS holds the
// accounts of the running release, nothing else).
func (n *Node) serviceAccount(account string) (RoleDescriptor, bool) {
	d, ok := serviceAccounts[account]
	if since := serviceAccountSince[account]; ok && since != "" && !versionAtLeast(n.cfg.Version, since) {
		return RoleDescriptor{}, false
	}
	return d, ok
}

// builtinRoles are the reserved roles a user may hold; unknown roles grant nothing.
var builtinRoles = map[string]RoleDescriptor{
	"viewer": {
		Cluster: []string{"monitor"},
		Indices: []IndexPrivilege{{Names: []string{"*"}, Privileges: []string{"read", "view_index_metadata", "monitor"}}},
	},
	"editor": {
		Cluster: []string{"monitor"},
		Indices: []IndexPrivilege{{Names: []string{"*"}, Privileges: []string{"all"}}},
	},
	"kibana_system": {
		Cluster: []string{"monitor", "manage_index_templates", "manage_saml", "manage_token", "manage_api_key", "manage_ccr", "manage_pipeline", "manage_ilm", "read_fleet_secrets", "write_fleet_secrets", "manage_service_account"},
		Indices: []IndexPrivilege{{Names: []string{".kibana*", ".fleet-*", "fleet-*", "logs-*", "metrics-*"}, Privileges: []string{"all"}, AllowRestrictedIndices: true}},
	},
}

func (n *Node) hash(secret string) string {
	salt := make([]byte, 8)
	if err := n.readRandom(salt); err != nil {
		panic("esim: random source failed: " + err.Error())
	}
	return hashWithSalt(salt, secret)
}

func hashWithSalt(salt []byte, secret string) string {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(secret))
	return hex.EncodeToString(salt) + ":" + hex.EncodeToString(h.Sum(nil))
}

func verifyHash(stored, secret string) bool {
	saltHex, _, ok := strings.Cut(stored, ":")
	salt, err := hex.DecodeString(saltHex)
	if !ok || err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hashWithSalt(salt, secret)), []byte(stored)) == 1
}

func (n *Node) newUser(username, password string, roles []string) *user {
	return &user{Username: username, PasswordHash: n.hash(password), Roles: slices.Clone(roles)}
}

// AddUser creates or replaces a native user. Role "superuser" grants
// everything; "viewer", "editor" and "kibana_system" grant ES's reserved
// privileges (simplified); other role names grant nothing.
func (n *Node) AddUser(username, password string, roles ...string) {
	u := n.newUser(username, password, roles)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.st.Users[username] = u
}

// DeleteUser removes a user and reports whether it existed.
func (n *Node) DeleteUser(username string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.st.Users[username]
	delete(n.st.Users, username)
	return ok
}
