package kibana

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strconv"
)

// IntegrationPolicy is a package policy as the integration-policy kind reads
// and writes it (PackagePolicy in epm.go is the thin form package sync
// reads): Kibana's simplified format, the one kibana.yml preconfiguration and the Terraform provider
// use: inputs keyed "<policy_template>-<input type>", streams keyed by data
// stream ("<package>.<dataset>"), vars as plain values. Secret vars come back
// as {"isSecretRef": true, "id": …}. Raw keeps everything Kibana returned.
type IntegrationPolicy struct {
	ID          string
	Name        string
	Namespace   string
	Description *string
	Enabled     bool
	PolicyIDs   []string
	// OutputID is the integration's own output; nil follows the agent policy.
	OutputID *string
	Package  PackageRef
	Inputs   map[string]SimplifiedInput
	Vars     map[string]any
	Revision int
	// SecretReferences are the Fleet secret ids the policy's vars use.
	SecretReferences []string
	Raw              map[string]any
}

// SimplifiedInput is one input of the simplified format.
type SimplifiedInput struct {
	Enabled *bool                       `json:"enabled,omitempty"`
	Vars    map[string]any              `json:"vars,omitempty"`
	Streams map[string]SimplifiedStream `json:"streams,omitempty"`
}

// SimplifiedStream is one stream of a simplified input, keyed by dataset.
type SimplifiedStream struct {
	Enabled *bool          `json:"enabled,omitempty"`
	Vars    map[string]any `json:"vars,omitempty"`
}

// UnmarshalJSON fills the typed fields and Raw from one decode.
func (p *IntegrationPolicy) UnmarshalJSON(b []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	var typed struct {
		Inputs  map[string]SimplifiedInput `json:"inputs"`
		Vars    map[string]any             `json:"vars"`
		Package PackageRef                 `json:"package"`
		Refs    []struct {
			ID string `json:"id"`
		} `json:"secret_references"`
		PolicyIDs []string `json:"policy_ids"`
	}
	// A full-format answer (inputs as an array) still fills the rest.
	if _, isArray := raw["inputs"].([]any); isArray {
		rest := maps.Clone(raw)
		delete(rest, "inputs")
		b, _ = json.Marshal(rest)
	}
	if err := json.Unmarshal(b, &typed); err != nil {
		return err
	}
	*p = IntegrationPolicy{
		ID: str(raw, "id"), Name: str(raw, "name"), Namespace: str(raw, "namespace"), Description: optStr(raw, "description"),
		Enabled: raw["enabled"] != false, PolicyIDs: typed.PolicyIDs, OutputID: optStr(raw, "output_id"),
		Package: typed.Package, Inputs: typed.Inputs, Vars: typed.Vars, Revision: num(raw, "revision"), Raw: raw,
	}
	for _, r := range typed.Refs {
		p.SecretReferences = append(p.SecretReferences, r.ID)
	}
	return nil
}

// IntegrationPolicyListOptions narrows ListPackagePolicies.
type IntegrationPolicyListOptions struct {
	// Kuery filters on ingest-package-policies fields, e.g.
	// `ingest-package-policies.package.name:nginx`.
	Kuery string
	// PerPage is the page size (default and maximum 1000).
	PerPage int
}

const maxPackagePolicyPage = 1000

var simplified = url.Values{"format": {"simplified"}}

// ListPackagePolicies returns every package policy matching opts in the
// simplified format, following Kibana's total across pages (4,000 policies
// are 4 requests).
func (c *Client) ListIntegrationPolicies(ctx context.Context, opts IntegrationPolicyListOptions) ([]IntegrationPolicy, error) {
	perPage := opts.PerPage
	if perPage <= 0 || perPage > maxPackagePolicyPage {
		perPage = maxPackagePolicyPage
	}
	q := url.Values{"perPage": {strconv.Itoa(perPage)}, "format": {"simplified"}}
	if opts.Kuery != "" {
		q.Set("kuery", opts.Kuery)
	}
	return listPaged(ctx, c, "/api/fleet/package_policies", q, func(p IntegrationPolicy) string { return p.ID })
}

// GetPackagePolicy returns one package policy (simplified format).
func (c *Client) GetIntegrationPolicy(ctx context.Context, id string) (IntegrationPolicy, error) {
	var resp itemResponse[IntegrationPolicy]
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/fleet/package_policies/" + url.PathEscape(id), query: simplified}, &resp)
	return resp.Item, err
}

// CreatePackagePolicy creates a package policy. A body whose inputs is a map
// (or absent) is the simplified format, an array the full one; Kibana
// installs the package when it is not installed, and bumps the revision of
// every agent policy in policy_ids. Not retried once it may have reached
// Kibana: list to see whether it exists before posting again (a repeated
// name is a 409).
func (c *Client) CreateIntegrationPolicy(ctx context.Context, body map[string]any) (IntegrationPolicy, error) {
	var resp itemResponse[IntegrationPolicy]
	err := c.do(ctx, request{method: http.MethodPost, path: "/api/fleet/package_policies", query: simplified, body: body}, &resp)
	return resp.Item, err
}

// UpdatePackagePolicy replaces a package policy. In the simplified format
// Kibana rebuilds the inputs from the package's defaults plus the body, so
// send every input and var that is managed; omitted top-level fields keep
// their values. A secret var keeps its secret when sent as the reference.
func (c *Client) UpdateIntegrationPolicy(ctx context.Context, id string, body map[string]any) (IntegrationPolicy, error) {
	var resp itemResponse[IntegrationPolicy]
	err := c.do(ctx, request{method: http.MethodPut, path: "/api/fleet/package_policies/" + url.PathEscape(id), query: simplified, body: body}, &resp)
	return resp.Item, err
}

// DeletePackagePolicy deletes a package policy and its secrets; a missing
// one is not an error (Kibana answers 200 to make the call idempotent).
func (c *Client) DeleteIntegrationPolicy(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/api/fleet/package_policies/" + url.PathEscape(id)}, nil)
}
