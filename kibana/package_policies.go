package kibana

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// IntegrationPolicy is a package policy as the integration-policy kind reads
// and writes it (PackagePolicy in epm.go is the thin form package sync
// reads): Kibana's simplified format, the one kibana.yml preconfiguration and the Terraform provider
// use: inputs keyed "<policy_template>-<input type>", streams keyed by data
// stream ("<package>.<dataset>"), vars as plain values. Secret vars come back
// as {"isSecretRef": true, "id": …}.
//
// The inputs and package vars are most of a list's bytes (4,000 policies
// are megabytes of them), so a List keeps them as JSON: Input and
// PackageVars decode what is asked for, Decode all of them. Get, Create and
// Update return them decoded.
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
	// Inputs and Vars are nil until Decode (see the type's comment).
	Inputs   map[string]SimplifiedInput
	Vars     map[string]any
	Revision int
	// SecretReferences are the Fleet secret ids the policy's vars use.
	SecretReferences []string
	// Raw holds the top-level fields the typed ones do not cover
	// (supports_agentless, is_managed, additional_datastreams_permissions) next to id,
	// name, namespace and revision; inputs and vars once decoded.
	Raw map[string]any

	rawInputs json.RawMessage // the simplified inputs object; nil when there is none
	rawVars   json.RawMessage
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

// ipJSON is the JSON of a package policy. It has no UnmarshalJSON of its
// own, so a list page decodes in one pass (encoding/json hands a method
// each item's bytes after scanning them, and the method scans them again);
// the inputs object is kept whole, split only when an input is read.
type ipJSON struct {
	ID                               string                `json:"id"`
	Name                             string                `json:"name"`
	Namespace                        string                `json:"namespace"`
	Description                      *string               `json:"description"`
	Enabled                          *bool                 `json:"enabled"`
	PolicyIDs                        []string              `json:"policy_ids"`
	OutputID                         *string               `json:"output_id"`
	Package                          PackageRef            `json:"package"`
	Revision                         int                   `json:"revision"`
	SupportsAgentless                *bool                 `json:"supports_agentless"`
	IsManaged                        *bool                 `json:"is_managed"`
	AdditionalDatastreamsPermissions []any                 `json:"additional_datastreams_permissions"`
	SecretReferences                 []struct{ ID string } `json:"secret_references"`
	Vars                             json.RawMessage       `json:"vars"`
	Inputs                           json.RawMessage       `json:"inputs"`
}

// UnmarshalJSON fills the top-level fields and keeps inputs and vars as
// JSON (a full-format answer's inputs array is not kept), in one pass.
func (p *IntegrationPolicy) UnmarshalJSON(b []byte) error {
	var w ipJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = w.policy()
	return nil
}

// policy is the IntegrationPolicy of w with inputs and vars kept as JSON
// (a full-format answer's inputs array is not kept).
func (w *ipJSON) policy() IntegrationPolicy {
	p := IntegrationPolicy{
		ID: w.ID, Name: w.Name, Namespace: w.Namespace, Description: w.Description, Enabled: w.Enabled == nil || *w.Enabled,
		PolicyIDs: w.PolicyIDs, OutputID: w.OutputID, Package: w.Package, Revision: w.Revision,
		Raw: map[string]any{"id": w.ID, "name": w.Name, "namespace": w.Namespace, "revision": float64(w.Revision)},
	}
	if v := bytes.TrimSpace(w.Inputs); len(v) > 0 && v[0] == '{' {
		p.rawInputs = v
	}
	if w.SupportsAgentless != nil {
		p.Raw["supports_agentless"] = *w.SupportsAgentless
	}
	if w.IsManaged != nil {
		p.Raw["is_managed"] = *w.IsManaged
	}
	if w.AdditionalDatastreamsPermissions != nil {
		p.Raw["additional_datastreams_permissions"] = w.AdditionalDatastreamsPermissions
	}
	if v := bytes.TrimSpace(w.Vars); len(v) > 0 && v[0] == '{' {
		p.rawVars = v
	}
	for _, r := range w.SecretReferences {
		p.SecretReferences = append(p.SecretReferences, r.ID)
	}
	return p
}

// inputs splits the inputs object kept by a list (nil when there is none).
func (p *IntegrationPolicy) inputs() (map[string]json.RawMessage, error) {
	if p.rawInputs == nil {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(p.rawInputs, &m); err != nil {
		return nil, fmt.Errorf("package policy %s inputs: %w", p.ID, err)
	}
	return m, nil
}

// InputNames lists the policy's simplified input keys, sorted.
func (p *IntegrationPolicy) InputNames() []string {
	var names []string
	if p.Inputs != nil {
		for k := range p.Inputs {
			names = append(names, k)
		}
	} else {
		raw, _ := p.inputs() // an object: splits
		for k := range raw {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}

// Input returns one simplified input, decoding it when the policy came
// from a list.
func (p *IntegrationPolicy) Input(name string) (SimplifiedInput, bool, error) {
	if p.Inputs != nil {
		in, ok := p.Inputs[name]
		return in, ok, nil
	}
	if p.rawInputs == nil {
		return SimplifiedInput{}, false, nil
	}
	b, ok, err := objectMember(p.rawInputs, name)
	if err != nil { // not read as an object (never, as encoding/json accepted it): decode it
		raw, err := p.inputs()
		if err != nil {
			return SimplifiedInput{}, false, err
		}
		b, ok = raw[name]
	}
	if !ok {
		return SimplifiedInput{}, false, nil
	}
	in, err := decodeSimplifiedInput(b)
	if err != nil {
		return SimplifiedInput{}, false, fmt.Errorf("package policy %s input %s: %w", p.ID, name, err)
	}
	return in, true, nil
}

// PackageVars returns the package-level vars, decoding them when the
// policy came from a list.
func (p *IntegrationPolicy) PackageVars() (map[string]any, error) {
	if p.Vars != nil || p.rawVars == nil {
		return p.Vars, nil
	}
	v, err := decodeVars(p.rawVars)
	if err != nil {
		return nil, fmt.Errorf("package policy %s vars: %w", p.ID, err)
	}
	return v, nil
}

// Decode fills Inputs, Vars and Raw's inputs and vars.
func (p *IntegrationPolicy) Decode() error {
	if p.Inputs == nil && p.rawInputs != nil {
		raw, err := p.inputs()
		if err != nil {
			return err
		}
		inputs := make(map[string]SimplifiedInput, len(raw))
		rawInputs := make(map[string]any, len(raw))
		for name, b := range raw {
			var in SimplifiedInput
			var anyIn any
			if err := json.Unmarshal(b, &in); err != nil {
				return fmt.Errorf("package policy %s input %s: %w", p.ID, name, err)
			}
			_ = json.Unmarshal(b, &anyIn) // valid: decoded just above
			inputs[name], rawInputs[name] = in, anyIn
		}
		p.Inputs = inputs
		p.Raw["inputs"] = rawInputs
	}
	if p.Vars == nil && p.rawVars != nil {
		if err := json.Unmarshal(p.rawVars, &p.Vars); err != nil {
			return fmt.Errorf("package policy %s vars: %w", p.ID, err)
		}
		var anyVars any
		_ = json.Unmarshal(p.rawVars, &anyVars)
		p.Raw["vars"] = anyVars
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
	return listPagedDecoded(ctx, c, "/api/fleet/package_policies", q, func(p IntegrationPolicy) string { return p.ID }, decodeIntegrationPolicyPage)
}

// GetPackagePolicy returns one package policy (simplified format).
func (c *Client) GetIntegrationPolicy(ctx context.Context, id string) (IntegrationPolicy, error) {
	var resp itemResponse[IntegrationPolicy]
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/fleet/package_policies/" + url.PathEscape(id), query: simplified}, &resp)
	return decoded(resp.Item, err)
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
	return decoded(resp.Item, err)
}

// UpdatePackagePolicy replaces a package policy. In the simplified format
// Kibana rebuilds the inputs from the package's defaults plus the body, so
// send every input and var that is managed; omitted top-level fields keep
// their values. A secret var keeps its secret when sent as the reference.
func (c *Client) UpdateIntegrationPolicy(ctx context.Context, id string, body map[string]any) (IntegrationPolicy, error) {
	var resp itemResponse[IntegrationPolicy]
	err := c.do(ctx, request{method: http.MethodPut, path: "/api/fleet/package_policies/" + url.PathEscape(id), query: simplified, body: body}, &resp)
	return decoded(resp.Item, err)
}

// decoded is p with its inputs and vars decoded.
func decoded(p IntegrationPolicy, err error) (IntegrationPolicy, error) {
	if err != nil {
		return p, err
	}
	return p, p.Decode()
}

// DeletePackagePolicy deletes a package policy and its secrets; a missing
// one is not an error (Kibana answers 200 to make the call idempotent).
func (c *Client) DeleteIntegrationPolicy(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/api/fleet/package_policies/" + url.PathEscape(id)}, nil)
}
