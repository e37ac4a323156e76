package kibana

import (
	"context"
	"encoding/json"
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

// UnmarshalJSON fills the typed fields and Raw from one decode (the typed
// fields are taken from the decoded map: a list of 4,000 policies is not
// decoded twice).
func (p *IntegrationPolicy) UnmarshalJSON(b []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	pkg, _ := raw["package"].(map[string]any)
	*p = IntegrationPolicy{
		ID: str(raw, "id"), Name: str(raw, "name"), Namespace: str(raw, "namespace"), Description: optStr(raw, "description"),
		Enabled: raw["enabled"] != false, PolicyIDs: stringsOf(raw["policy_ids"]), OutputID: optStr(raw, "output_id"),
		Package: PackageRef{Name: str(pkg, "name"), Version: str(pkg, "version")}, Revision: num(raw, "revision"), Raw: raw,
	}
	p.Vars, _ = raw["vars"].(map[string]any)
	// A full-format answer (inputs as an array) still fills the rest.
	if inputs, ok := raw["inputs"].(map[string]any); ok {
		p.Inputs = make(map[string]SimplifiedInput, len(inputs))
		for name, v := range inputs {
			in, _ := v.(map[string]any)
			si := SimplifiedInput{Enabled: optBool(in, "enabled")}
			si.Vars, _ = in["vars"].(map[string]any)
			if streams, ok := in["streams"].(map[string]any); ok {
				si.Streams = make(map[string]SimplifiedStream, len(streams))
				for sname, sv := range streams {
					st, _ := sv.(map[string]any)
					ss := SimplifiedStream{Enabled: optBool(st, "enabled")}
					ss.Vars, _ = st["vars"].(map[string]any)
					si.Streams[sname] = ss
				}
			}
			p.Inputs[name] = si
		}
	}
	refs, _ := raw["secret_references"].([]any)
	for _, r := range refs {
		if m, ok := r.(map[string]any); ok {
			p.SecretReferences = append(p.SecretReferences, str(m, "id"))
		}
	}
	return nil
}

func stringsOf(v any) []string {
	l, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func optBool(m map[string]any, k string) *bool {
	b, ok := m[k].(bool)
	if !ok {
		return nil
	}
	return &b
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
