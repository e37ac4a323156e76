package esim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
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
// of their built-in privileges.
var serviceAccounts = map[string]RoleDescriptor{
	"elastic/fleet-server": {
		Cluster: []string{"monitor", "manage_own_api_key", "read_fleet_secrets"},
		Indices: []IndexPrivilege{
			{Names: []string{"logs-*", "metrics-*", "traces-*", "synthetics-*", "profiling-*"}, Privileges: []string{"write", "create_index", "auto_configure"}},
			{Names: []string{".fleet-*"}, Privileges: []string{"all"}, AllowRestrictedIndices: true},
		},
	},
	"elastic/fleet-server-remote": {
		Cluster: []string{"monitor", "manage_own_api_key"},
		Indices: []IndexPrivilege{
			{Names: []string{"logs-*", "metrics-*", "traces-*", "synthetics-*", "profiling-*"}, Privileges: []string{"write", "create_index", "auto_configure"}},
		},
	},
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

// authError is the 401 ES sends when credentials are missing or wrong.
func authError(reason string) *Error {
	e := newErr(http.StatusUnauthorized, "security_exception", "%s", reason)
	challenges := []string{`Basic realm="security", charset="UTF-8"`, `Bearer realm="security"`, `ApiKey`}
	e.Meta = map[string]any{"header": map[string]any{"WWW-Authenticate": challenges}}
	e.Header = http.Header{"Www-Authenticate": challenges}
	return e
}

// Authenticate checks an Authorization header value ("Basic …", "ApiKey …" or
// "Bearer <service token>") and returns the principal. Failures wrap
// ErrUnauthenticated.
func (n *Node) Authenticate(authorization string) (Principal, error) {
	p, err := n.authenticate(authorization, "/")
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %s", ErrUnauthenticated, err.Reason)
	}
	return p, nil
}

// authenticate is Authenticate with the REST request path ES puts in its reasons.
func (n *Node) authenticate(authorization, uri string) (Principal, *Error) {
	scheme, cred, _ := strings.Cut(strings.TrimSpace(authorization), " ")
	cred = strings.TrimSpace(cred)
	switch {
	case authorization == "":
		return Principal{}, authError(fmt.Sprintf("missing authentication credentials for REST request [%s]", uri))
	case strings.EqualFold(scheme, "Basic"):
		return n.authBasic(cred, uri)
	case strings.EqualFold(scheme, "ApiKey"):
		return n.authAPIKey(cred)
	case strings.EqualFold(scheme, "Bearer"):
		return n.authServiceToken(cred)
	}
	return Principal{}, authError(fmt.Sprintf("missing authentication credentials for REST request [%s]", uri))
}

func (n *Node) authBasic(cred, uri string) (Principal, *Error) {
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return Principal{}, authError(fmt.Sprintf("missing authentication credentials for REST request [%s]", uri))
	}
	username, password, ok := strings.Cut(string(raw), ":")
	if !ok {
		return Principal{}, authError(fmt.Sprintf("missing authentication credentials for REST request [%s]", uri))
	}
	n.mu.Lock()
	u := n.st.Users[username]
	var roles []string
	if u != nil {
		roles = slices.Clone(u.Roles)
	}
	n.mu.Unlock()
	if u == nil || !verifyHash(u.PasswordHash, password) {
		return Principal{}, authError(fmt.Sprintf("unable to authenticate user [%s] for REST request [%s]", username, uri))
	}
	return principalForRoles(username, roles), nil
}

func principalForRoles(username string, roles []string) Principal {
	p := Principal{Username: username, Roles: roles}
	for _, r := range roles {
		if r == "superuser" {
			p.Superuser = true
			continue
		}
		if d, ok := builtinRoles[r]; ok {
			p.Cluster = append(p.Cluster, d.Cluster...)
			p.Indices = append(p.Indices, d.Indices...)
			p.Applications = append(p.Applications, d.Applications...)
		}
	}
	return p
}

const anonymousNotAllowed = "unable to authenticate with provided credentials and anonymous access is not allowed for this request"

func additionalFailure(detail string) *Error {
	e := authError(anonymousNotAllowed)
	e.Meta["additional_unsuccessful_credentials"] = detail
	return e
}

func (n *Node) authAPIKey(cred string) (Principal, *Error) {
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(cred); err != nil {
			return Principal{}, additionalFailure("API key: invalid ApiKey value")
		}
	}
	id, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return Principal{}, additionalFailure("API key: invalid ApiKey value")
	}
	n.mu.Lock()
	k := n.st.APIKeys[id]
	var cp apiKey
	if k != nil {
		cp = *k
	}
	now := n.now()
	n.mu.Unlock()
	switch {
	case k == nil:
		return Principal{}, additionalFailure(fmt.Sprintf("API key: unable to find apikey with id %s", id))
	case !verifyHash(cp.SecretHash, secret):
		return Principal{}, additionalFailure(fmt.Sprintf("API key: invalid credentials for API key [%s]", id))
	case cp.Invalidated:
		return Principal{}, additionalFailure(fmt.Sprintf("API key: api key [%s] has been invalidated", id))
	case cp.Expiration != nil && !now.Before(*cp.Expiration):
		return Principal{}, additionalFailure(fmt.Sprintf("API key: api key is expired"))
	}
	return cp.principal(), nil
}

// principal computes what the key may do: its role descriptors limited by its
// owner's roles. Without role descriptors the key has its owner's privileges.
func (k *apiKey) principal() Principal {
	owner := principalForRoles(k.Owner, k.OwnerRoles)
	if acct, ok := serviceAccounts[k.Owner]; ok {
		owner.Cluster, owner.Indices = acct.Cluster, acct.Indices
	}
	p := Principal{Username: k.Owner, APIKeyID: k.ID, APIKeyName: k.Name, Roles: k.OwnerRoles}
	if len(k.RoleDescriptors) == 0 {
		p.Superuser, p.Cluster, p.Indices, p.Applications = owner.Superuser, owner.Cluster, owner.Indices, owner.Applications
		return p
	}
	for _, name := range sortedKeys(k.RoleDescriptors) {
		d := k.RoleDescriptors[name]
		p.Cluster = append(p.Cluster, d.Cluster...)
		p.Indices = append(p.Indices, d.Indices...)
		p.Applications = append(p.Applications, d.Applications...)
	}
	// A key can never do more than its owner. A superuser owner limits nothing;
	// a key with "all" cluster and "*"/"all" indices under a superuser is a superuser.
	if owner.Superuser {
		p.Superuser = slices.Contains(p.Cluster, "all") && slices.ContainsFunc(p.Indices, func(ip IndexPrivilege) bool {
			return slices.Contains(ip.Names, "*") && slices.Contains(ip.Privileges, "all")
		})
		return p
	}
	p.LimitedByCluster = slices.Clone(owner.Cluster)
	if p.LimitedByCluster == nil {
		p.LimitedByCluster = []string{}
	}
	p.Applications = nil // reserved roles here carry no application privileges
	return p
}

// Service token values are base64 (no padding) of 0x00 0x01 0x00 0x01
// "ns/svc/name:secret", as ES encodes them.
var serviceTokenMagic = []byte{0, 1, 0, 1}

func encodeServiceToken(account, name, secret string) string {
	b := append(slices.Clone(serviceTokenMagic), []byte(account+"/"+name+":"+secret)...)
	return base64.RawStdEncoding.EncodeToString(b)
}

func (n *Node) authServiceToken(cred string) (Principal, *Error) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(cred, "="))
	if err != nil || len(raw) < 4 || string(raw[:4]) != string(serviceTokenMagic) {
		// Not a service token; ES would try OAuth2 bearer tokens, which we do not simulate.
		return Principal{}, additionalFailure("token service: invalid bearer token")
	}
	qualified, secret, ok := strings.Cut(string(raw[4:]), ":")
	i := strings.LastIndex(qualified, "/")
	if !ok || i < 0 {
		return Principal{}, additionalFailure("service account: invalid service account token")
	}
	account, name := qualified[:i], qualified[i+1:]
	n.mu.Lock()
	t := n.st.ServiceTokens[qualified]
	var hash string
	if t != nil {
		hash = t.SecretHash
	}
	n.mu.Unlock()
	if t == nil || !verifyHash(hash, secret) {
		// ServiceAccountService fails the request outright (no fallback to
		// anonymous), so the reason is its own message.
		return Principal{}, authError(fmt.Sprintf("failed to authenticate service account [%s] with token name [%s]", account, name))
	}
	d := serviceAccounts[account]
	return Principal{Username: account, ServiceAccount: account, TokenName: name, Cluster: d.Cluster, Indices: d.Indices}, nil
}

// ServiceToken is a created service-account token. Value is the bearer credential.
type ServiceToken struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

var tokenNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,256}$`)

// CreateServiceToken mints a token for namespace/service; an empty name gets a
// random one. Errors are *Error as ES returns them.
func (n *Node) CreateServiceToken(namespace, service, name string) (ServiceToken, error) {
	account := namespace + "/" + service
	if _, ok := serviceAccounts[account]; !ok {
		return ServiceToken{}, errIllegalArgument("service account [%s] does not exist", account)
	}
	if name == "" {
		name = "token_" + n.randomID(20)
	}
	if !tokenNameRE.MatchString(name) || strings.HasPrefix(name, "_") {
		return ServiceToken{}, newErr(http.StatusBadRequest, "action_request_validation_exception",
			"Validation Failed: 1: service account token name must have at least 1 character and at most 256 characters, contain alphanumeric characters and the special characters '-' and '_', and not start with '_';")
	}
	secret := n.randomID(22)
	key := account + "/" + name
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, exists := n.st.ServiceTokens[key]; exists {
		return ServiceToken{}, newErr(http.StatusConflict, "version_conflict_engine_exception",
			"[service_account_token-%s]: version conflict, document already exists (current version [1])", key).
			with("index_uuid", n.st.ClusterUUID, "shard", "0", "index", ".security-7")
	}
	n.st.ServiceTokens[key] = &serviceToken{Account: account, Name: name, SecretHash: n.hash(secret), Created: n.now().UTC()}
	return ServiceToken{Name: name, Value: encodeServiceToken(account, name, secret)}, nil
}

// ServiceTokenNames lists the token names of namespace/service, sorted.
func (n *Node) ServiceTokenNames(namespace, service string) []string {
	prefix := namespace + "/" + service + "/"
	n.mu.Lock()
	defer n.mu.Unlock()
	var names []string
	for k, t := range n.st.ServiceTokens {
		if strings.HasPrefix(k, prefix) {
			names = append(names, t.Name)
		}
	}
	sort.Strings(names)
	return names
}

// DeleteServiceToken deletes a token and reports whether it existed.
func (n *Node) DeleteServiceToken(namespace, service, name string) bool {
	key := namespace + "/" + service + "/" + name
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.st.ServiceTokens[key]
	delete(n.st.ServiceTokens, key)
	return ok
}

// APIKeyRequest is the body of POST /_security/api_key, plus the owner.
type APIKeyRequest struct {
	Name            string                    `json:"name"`
	Expiration      string                    `json:"expiration,omitempty"` // e.g. "1d"
	RoleDescriptors map[string]RoleDescriptor `json:"role_descriptors,omitempty"`
	Metadata        map[string]any            `json:"metadata,omitempty"`
	// ID and Key fix the generated values (for seeding); empty means random.
	ID  string `json:"-"`
	Key string `json:"-"`
}

// APIKey is a created API key. Encoded is base64("id:api_key"), the value of
// an "Authorization: ApiKey …" header.
type APIKey struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Expiration int64  `json:"expiration,omitempty"`
	Key        string `json:"api_key"`
	Encoded    string `json:"encoded"`
}

// CreateAPIKey creates an API key owned by owner (a user, or a service
// account such as "elastic/fleet-server"). An owner with no Roles, such as
// Principal{Username: "elastic"}, gets the roles of the user of that name.
func (n *Node) CreateAPIKey(owner Principal, req APIKeyRequest) (APIKey, error) {
	if req.Name == "" {
		return APIKey{}, newErr(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: api key name is required;")
	}
	if len(req.Name) > 1024 || strings.HasPrefix(req.Name, "_") {
		return APIKey{}, newErr(http.StatusBadRequest, "action_request_validation_exception",
			"Validation Failed: 1: api key name may not begin with an underscore;")
	}
	var exp *time.Time
	if req.Expiration != "" {
		d, err := parseESDuration(req.Expiration)
		if err != nil {
			return APIKey{}, errIllegalArgument("failed to parse setting [expiration] with value [%s] as a time value: unit is missing or unrecognized", req.Expiration)
		}
		t := n.now().Add(d).UTC()
		exp = &t
	}
	id, secret := req.ID, req.Key
	if id == "" {
		id = n.randomID(20)
	}
	if secret == "" {
		secret = n.randomID(22)
	}
	realm := "reserved"
	if owner.ServiceAccount != "" {
		realm = "_service_account"
	} else if owner.Username != "elastic" {
		realm = "default_native"
	}
	k := &apiKey{
		ID: id, Name: req.Name, SecretHash: n.hash(secret), Owner: owner.Username, Realm: realm,
		Created: n.now().UTC().Truncate(time.Millisecond), Expiration: exp,
		RoleDescriptors: req.RoleDescriptors, Metadata: req.Metadata, OwnerRoles: slices.Clone(owner.Roles),
	}
	if owner.Superuser && len(owner.Roles) == 0 {
		k.OwnerRoles = []string{"superuser"}
	}
	if k.RoleDescriptors == nil {
		k.RoleDescriptors = map[string]RoleDescriptor{}
	}
	if k.Metadata == nil {
		k.Metadata = map[string]any{}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(k.OwnerRoles) == 0 && owner.ServiceAccount == "" {
		// An owner given by name only (e.g. from a seed file) keeps its user's roles.
		if u := n.st.Users[owner.Username]; u != nil {
			k.OwnerRoles = slices.Clone(u.Roles)
		}
	}
	if _, dup := n.st.APIKeys[id]; dup {
		return APIKey{}, newErr(http.StatusConflict, "version_conflict_engine_exception",
			"[%s]: version conflict, document already exists (current version [1])", id)
	}
	n.st.APIKeys[id] = k
	out := APIKey{ID: id, Name: req.Name, Key: secret, Encoded: base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))}
	if exp != nil {
		out.Expiration = exp.UnixMilli()
	}
	return out, nil
}

// InvalidateAPIKey invalidates a key; it reports false when the id is unknown
// or already invalidated.
func (n *Node) InvalidateAPIKey(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := n.st.APIKeys[id]
	if k == nil || k.Invalidated {
		return false
	}
	now := n.now().UTC()
	k.Invalidated, k.InvalidatedAt = true, &now
	return true
}

func parseESDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		d      time.Duration
	}{{"nanos", time.Nanosecond}, {"micros", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			var v int64
			if _, err := fmt.Sscanf(num, "%d", &v); err != nil || fmt.Sprint(v) != num || v < 0 {
				return 0, fmt.Errorf("bad time value %q", s)
			}
			return time.Duration(v) * u.d, nil
		}
	}
	return 0, fmt.Errorf("bad time value %q", s)
}

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
