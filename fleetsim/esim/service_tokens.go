package esim

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// ServiceToken is a created service-account token. Value is the bearer credential.
type ServiceToken struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

var tokenNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,256}$`)

// CreateServiceToken mints a token for namespace/service; an empty name gets a
// random one. Errors are *Error as ES returns them: an account the node's
// version lacks (elastic/fleet-server-remote before 8.12) is a 400
// illegal_argument_exception, as IndexServiceAccountTokenStore.createToken
// answers (IllegalArgumentException "service account [" + accountId + "]
// does not exist", ServiceAccountId.toString() being "namespace/service").
func (n *Node) CreateServiceToken(namespace, service, name string) (ServiceToken, error) {
	account := namespace + "/" + service
	if _, ok := n.serviceAccount(account); !ok {
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
