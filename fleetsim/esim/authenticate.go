package esim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

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
