package elastic

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/fleetform/fleetform/secret"
)

// ServiceToken is a minted service-account token; Value is the bearer credential.
type ServiceToken struct {
	Name  string
	Value secret.Value
}

func servicePath(ns, svc string) string {
	return "/_security/service/" + pathEscape(ns) + "/" + pathEscape(svc) + "/credential"
}

// CreateServiceToken mints a token for service account ns/svc (for a remote
// output: "elastic", "fleet-server-remote"). An empty name lets
// Elasticsearch choose one. A named create is safe to repeat (a repeat is a
// 409 conflict, never a second token); an unnamed one is not retried once
// it may have reached the cluster.
func (c *Client) CreateServiceToken(ctx context.Context, ns, svc, name string) (ServiceToken, error) {
	path, method := servicePath(ns, svc)+"/token", http.MethodPost
	if name != "" {
		path += "/" + pathEscape(name)
	}
	var out struct {
		Created bool `json:"created"`
		Token   struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"token"`
	}
	err := c.doJSON(ctx, call{method: method, path: path, safePost: name != "",
		send: func(ctx context.Context) (*esapi.Response, error) {
			if name == "" {
				// esapi sends PUT for an unnamed token, which the
				// rest-api-spec (and Elasticsearch: 405) allow only as POST.
				return c.raw(ctx, http.MethodPost, path)
			}
			return esapi.SecurityCreateServiceTokenRequest{Namespace: ns, Service: svc, Name: name}.Do(ctx, c.es)
		}}, &out)
	if err != nil {
		return ServiceToken{}, err
	}
	if out.Token.Value == "" {
		return ServiceToken{}, errors.New(method + " " + path + ": answer has no token value")
	}
	return ServiceToken{Name: out.Token.Name, Value: secret.New(out.Token.Value)}, nil
}

// ServiceCredentials lists the tokens of a service account: Tokens are the
// index-stored ones (deletable through the API), FileTokens those from
// service_tokens files on the nodes. Both sorted.
type ServiceCredentials struct {
	Tokens     []string
	FileTokens []string
}

// ListServiceTokens returns the token names of service account ns/svc.
func (c *Client) ListServiceTokens(ctx context.Context, ns, svc string) (ServiceCredentials, error) {
	var out struct {
		Tokens           map[string]any `json:"tokens"`
		NodesCredentials struct {
			FileTokens map[string]any `json:"file_tokens"`
		} `json:"nodes_credentials"`
	}
	err := c.doJSON(ctx, call{method: http.MethodGet, path: servicePath(ns, svc),
		send: func(ctx context.Context) (*esapi.Response, error) {
			return esapi.SecurityGetServiceCredentialsRequest{Namespace: ns, Service: svc}.Do(ctx, c.es)
		}}, &out)
	if err != nil {
		return ServiceCredentials{}, err
	}
	var sc ServiceCredentials
	for n := range out.Tokens {
		sc.Tokens = append(sc.Tokens, n)
	}
	for n := range out.NodesCredentials.FileTokens {
		sc.FileTokens = append(sc.FileTokens, n)
	}
	slices.Sort(sc.Tokens)
	slices.Sort(sc.FileTokens)
	return sc, nil
}

// DeleteServiceToken deletes a token; found is false when it did not exist.
func (c *Client) DeleteServiceToken(ctx context.Context, ns, svc, name string) (found bool, err error) {
	var out struct {
		Found bool `json:"found"`
	}
	k := call{method: http.MethodDelete, path: servicePath(ns, svc) + "/token/" + pathEscape(name),
		send: func(ctx context.Context) (*esapi.Response, error) {
			return esapi.SecurityDeleteServiceTokenRequest{Namespace: ns, Service: svc, Name: name}.Do(ctx, c.es)
		}}
	status, b, err := c.do(ctx, k, true)
	if err != nil || status == http.StatusNotFound {
		return false, err
	}
	if err := decode(k, b, &out); err != nil {
		return false, err
	}
	return out.Found, nil
}

// RoleDescriptor limits what an API key may do.
type RoleDescriptor struct {
	Cluster      []string               `json:"cluster,omitempty"`
	Indices      []IndexPrivileges      `json:"indices,omitempty"`
	Applications []ApplicationPrivilege `json:"applications,omitempty"`
	Metadata     map[string]any         `json:"metadata,omitempty"`
}

// IndexPrivileges grants privileges on index names or patterns.
type IndexPrivileges struct {
	Names      []string `json:"names"`
	Privileges []string `json:"privileges"`
}

// ApplicationPrivilege grants application privileges, e.g. Kibana's
// {Application: "kibana-.kibana", Privileges: ["feature_fleet.read"], Resources: ["*"]}.
type ApplicationPrivilege struct {
	Application string   `json:"application"`
	Privileges  []string `json:"privileges"`
	Resources   []string `json:"resources"`
}

// CreateAPIKey creates an API key named name, limited by roleDescriptors
// (nil: the creator's privileges) and tagged with metadata (fleetform marks
// its keys there to find them again). It returns the key id and the
// "encoded" credential (base64 id:key) for an Authorization: ApiKey header.
// Not retried once it may have reached the cluster: each try mints a key.
func (c *Client) CreateAPIKey(ctx context.Context, name string, roleDescriptors map[string]RoleDescriptor, metadata map[string]any) (id string, encoded secret.Value, err error) {
	body := map[string]any{"name": name}
	if roleDescriptors != nil {
		body["role_descriptors"] = roleDescriptors
	}
	if metadata != nil {
		body["metadata"] = metadata
	}
	var out struct {
		ID      string `json:"id"`
		Encoded string `json:"encoded"`
	}
	err = c.doJSON(ctx, call{method: http.MethodPut, path: "/_security/api_key", unsafe: true,
		send: func(ctx context.Context) (*esapi.Response, error) {
			b, err := jsonBody(body)
			if err != nil {
				return nil, err
			}
			return esapi.SecurityCreateAPIKeyRequest{Body: b}.Do(ctx, c.es)
		}}, &out)
	if err != nil {
		return "", secret.Value{}, err
	}
	if out.Encoded == "" {
		return "", secret.Value{}, errors.New("PUT /_security/api_key: answer has no encoded key")
	}
	return out.ID, secret.New(out.Encoded), nil
}

// APIKey is an API key's description (never its credential).
type APIKey struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Username    string         `json:"username"`
	Realm       string         `json:"realm"`
	Creation    int64          `json:"creation"`   // epoch millis
	Expiration  int64          `json:"expiration"` // epoch millis, 0 = never
	Invalidated bool           `json:"invalidated"`
	Metadata    map[string]any `json:"metadata"`
}

// GetAPIKeys lists API keys named name (wildcards allowed; "" for all),
// only the caller's own when owner is true. Invalidated keys are included;
// check Invalidated.
func (c *Client) GetAPIKeys(ctx context.Context, name string, owner bool) ([]APIKey, error) {
	var out struct {
		APIKeys []APIKey `json:"api_keys"`
	}
	r := esapi.SecurityGetAPIKeyRequest{Name: name}
	if owner {
		r.Owner = ptr(true)
	}
	err := c.doJSON(ctx, call{method: http.MethodGet, path: "/_security/api_key",
		send: func(ctx context.Context) (*esapi.Response, error) { return r.Do(ctx, c.es) }}, &out)
	return out.APIKeys, err
}

// InvalidateAPIKey invalidates the keys with the given ids and returns the
// ids Elasticsearch invalidated now (already invalid ones are not listed).
func (c *Client) InvalidateAPIKey(ctx context.Context, ids ...string) ([]string, error) {
	var out struct {
		InvalidatedAPIKeys []string `json:"invalidated_api_keys"`
		ErrorCount         int      `json:"error_count"`
		ErrorDetails       []Cause  `json:"error_details"`
	}
	err := c.doJSON(ctx, call{method: http.MethodDelete, path: "/_security/api_key",
		send: func(ctx context.Context) (*esapi.Response, error) {
			b, err := jsonBody(map[string]any{"ids": ids})
			if err != nil {
				return nil, err
			}
			return esapi.SecurityInvalidateAPIKeyRequest{Body: b}.Do(ctx, c.es)
		}}, &out)
	if err != nil {
		return nil, err
	}
	if out.ErrorCount > 0 {
		errs := make([]error, 0, len(out.ErrorDetails))
		for _, d := range out.ErrorDetails {
			errs = append(errs, errors.New("DELETE /_security/api_key: "+d.Type+": "+d.Reason))
		}
		return out.InvalidatedAPIKeys, errors.Join(errs...)
	}
	return out.InvalidatedAPIKeys, nil
}
