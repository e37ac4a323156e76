package kibana

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// AgentPolicy is the part of an agent policy fleetform reads; Raw keeps
// everything Kibana returned. Output ids are nil when absent or null — both
// mean "the default output".
type AgentPolicy struct {
	ID                 string
	Name               string
	Namespace          string
	Description        *string
	DataOutputID       *string
	MonitoringOutputID *string
	FleetServerHostID  *string
	Revision           int
	IsManaged          bool
	IsPreconfigured    bool
	HasFleetServer     bool
	SupportsAgentless  bool
	InactivityTimeout  *int
	Agents             int
	Raw                map[string]any
}

// UnmarshalJSON fills Raw from Kibana's JSON and the typed fields from Raw
// (one decode: observing thousands of policies is on every plan's path).
// Raw keeps every field, those fleetform does not read too: an update
// sends an object field whole with its undeclared keys as observed, and
// repeats the stored output ids (reconciler.policyUpdateBody); the
// importer exports from it.
func (p *AgentPolicy) UnmarshalJSON(b []byte) error {
	if v, ok := parseJSONValue(b); ok {
		if raw, ok := v.(map[string]any); ok {
			*p = agentPolicyOf(raw)
			return nil
		}
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*p = agentPolicyOf(raw)
	return nil
}

// agentPolicyOf is the policy Kibana's JSON object raw describes.
func agentPolicyOf(raw map[string]any) AgentPolicy {
	// The optional fields point into one allocation rather than one each.
	var opt struct {
		description, dataOutput, monitoringOutput, fleetServerHost string
		inactivityTimeout                                          int
	}
	return AgentPolicy{
		ID: str(raw, "id"), Name: str(raw, "name"), Namespace: str(raw, "namespace"),
		Description: optStrIn(raw, "description", &opt.description), DataOutputID: optStrIn(raw, "data_output_id", &opt.dataOutput),
		MonitoringOutputID: optStrIn(raw, "monitoring_output_id", &opt.monitoringOutput),
		FleetServerHostID:  optStrIn(raw, "fleet_server_host_id", &opt.fleetServerHost), Revision: num(raw, "revision"),
		IsManaged: boolean(raw, "is_managed"), IsPreconfigured: boolean(raw, "is_preconfigured"),
		HasFleetServer: boolean(raw, "has_fleet_server"), SupportsAgentless: boolean(raw, "supports_agentless"),
		InactivityTimeout: optNumIn(raw, "inactivity_timeout", &opt.inactivityTimeout), Agents: num(raw, "agents"), Raw: raw,
	}
}

// optStrIn is the string at k, stored in *into; nil when absent or not a string.
func optStrIn(m map[string]any, k string, into *string) *string {
	if s, ok := m[k].(string); ok {
		*into = s
		return into
	}
	return nil
}

// optNumIn is the number at k, stored in *into; nil when absent or not a number.
func optNumIn(m map[string]any, k string, into *int) *int {
	if f, ok := m[k].(float64); ok {
		*into = int(f)
		return into
	}
	return nil
}

// decodeAgentPolicyPage decodes a page of the agent policy list in one
// pass (parseJSONValue) instead of encoding/json's four over every item
// (validate the page, skip each item, validate it, decode it). A page the
// parser leaves to encoding/json, or whose shape is not the plain
// {"items": [objects], "total": n} (keys differing only in case, which
// encoding/json folds onto the fields, an item that is not an object, a
// total that is not an integer), is decoded by encoding/json as before.
func decodeAgentPolicyPage(b []byte, page *itemsResponse[AgentPolicy]) error {
	if fastAgentPolicyPage(b, page) {
		return nil
	}
	*page = itemsResponse[AgentPolicy]{}
	return json.Unmarshal(b, page)
}

func fastAgentPolicyPage(b []byte, page *itemsResponse[AgentPolicy]) bool {
	obj, total, ok := parseJSONObject(b, "total")
	if !ok {
		return false
	}
	for k := range obj {
		if k != "items" && k != "total" && (strings.EqualFold(k, "items") || strings.EqualFold(k, "total")) {
			return false
		}
	}
	var out itemsResponse[AgentPolicy]
	if total != nil && string(total) != "null" {
		// As encoding/json decodes an int: an integer literal only.
		n, err := strconv.ParseInt(string(total), 10, 0)
		if err != nil {
			return false
		}
		out.Total = int(n)
	}
	switch items := obj["items"].(type) {
	case nil:
	case []any:
		out.Items = make([]AgentPolicy, len(items))
		for i, it := range items {
			raw, ok := it.(map[string]any)
			if !ok {
				return false
			}
			out.Items[i] = agentPolicyOf(raw)
		}
	default:
		return false
	}
	*page = out
	return true
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func boolean(m map[string]any, k string) bool { b, _ := m[k].(bool); return b }

func num(m map[string]any, k string) int { f, _ := m[k].(float64); return int(f) }

// ListOptions narrows ListAgentPolicies.
type ListOptions struct {
	// Kuery is a KQL filter on ingest-agent-policies fields, e.g.
	// `ingest-agent-policies.data_output_id:"x"`.
	Kuery string
	// PerPage is the page size: default and maximum 1000, or 100 with
	// WithAgentCount (Kibana refuses larger pages when it counts agents).
	PerPage int
	// WithAgentCount asks Kibana to fill each policy's Agents: the agents
	// assigned to it, inactive ones included from 8.15 (elastic/kibana#184517,
	// to match the check that refuses to delete a policy with agents). It is
	// sent as noAgentCount=false, which every version reads: before 8.16
	// Kibana counted unless noAgentCount was true, and withAgentCount is
	// unknown there (a 400); elastic/kibana#191661 (v8.16.0) made counting
	// opt-in with withAgentCount and kept noAgentCount=false as its
	// deprecated equivalent (GetAgentPoliciesRequestSchema in
	// server/types/rest_spec/agent_policy.ts; getAgentPoliciesHandler).
	WithAgentCount bool
}

const (
	maxPolicyPage           = 1000
	maxPolicyPageWithAgents = 100
)

// ListAgentPolicies returns every agent policy matching opts, following
// Kibana's total across pages (2,000 policies are 2 requests). A policy that
// appears on two pages (the list moved while it was read) is kept once.
func (c *Client) ListAgentPolicies(ctx context.Context, opts ListOptions) ([]AgentPolicy, error) {
	limit := maxPolicyPage
	if opts.WithAgentCount {
		limit = maxPolicyPageWithAgents
	}
	perPage := opts.PerPage
	if perPage <= 0 || perPage > limit {
		perPage = limit
	}
	q := url.Values{"perPage": {strconv.Itoa(perPage)}}
	if opts.Kuery != "" {
		q.Set("kuery", opts.Kuery)
	}
	if opts.WithAgentCount {
		q.Set("noAgentCount", "false")
	}
	return listPagedDecoded(ctx, c, "/api/fleet/agent_policies", q, func(p AgentPolicy) string { return p.ID }, decodeAgentPolicyPage)
}

// listPaged fetches page 1, 2, … of a {items, total, page, perPage} list
// until it holds total distinct items or a page comes back empty. If the
// list moved while it was read (an item changed pages, so fewer distinct
// items than total arrived), the whole walk is repeated, up to three times.
func listPaged[T any](ctx context.Context, c *Client, path string, q url.Values, id func(T) string) ([]T, error) {
	return listPagedDecoded(ctx, c, path, q, id, nil)
}

// listPagedDecoded is listPaged with decode reading each page's bytes
// (json.Unmarshal when nil).
func listPagedDecoded[T any](ctx context.Context, c *Client, path string, q url.Values, id func(T) string, decode func([]byte, *itemsResponse[T]) error) ([]T, error) {
	const walks = 3
	var got, total int
	for walk := 1; walk <= walks; walk++ {
		out, t, err := walkPages(ctx, c, path, q, id, decode)
		if err != nil {
			return nil, err
		}
		if len(out) >= t {
			return out, nil
		}
		got, total = len(out), t
		c.log.Info("kibana list moved while paging; reading it again", "path", path, "got", got, "total", total)
	}
	return nil, fmt.Errorf("GET %s: list kept changing while paging (%d of %d items)", c.pathFor(path), got, total)
}

func walkPages[T any](ctx context.Context, c *Client, path string, q url.Values, id func(T) string, decode func([]byte, *itemsResponse[T]) error) ([]T, int, error) {
	var out []T
	seen := map[string]bool{}
	for page := 1; ; page++ {
		pq := url.Values{}
		for k, v := range q {
			pq[k] = v
		}
		pq.Set("page", strconv.Itoa(page))
		var resp itemsResponse[T]
		var into any = &resp
		if decode != nil {
			into = bodyDecoder(func(b []byte) error { return decode(b, &resp) })
		}
		if err := c.do(ctx, request{method: http.MethodGet, path: path, query: pq}, into); err != nil {
			return nil, 0, fmt.Errorf("list page %d: %w", page, err)
		}
		before := len(out)
		for _, it := range resp.Items {
			if k := id(it); !seen[k] {
				seen[k] = true
				out = append(out, it)
			}
		}
		// A page with nothing new (a server ignoring page) ends the walk too.
		if len(out) == before || len(out) >= resp.Total {
			return out, resp.Total, nil
		}
	}
}

// GetAgentPolicy returns one agent policy (for checks after a write; observe
// with ListAgentPolicies).
func (c *Client) GetAgentPolicy(ctx context.Context, id string) (AgentPolicy, error) {
	var resp itemResponse[AgentPolicy]
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/fleet/agent_policies/" + url.PathEscape(id)}, &resp)
	return resp.Item, err
}

// CreateAgentPolicy creates an agent policy (body: Kibana's
// NewAgentPolicySchema; name and namespace are required). Not retried once it
// may have reached Kibana; a repeated create of the same id or name is a 409.
func (c *Client) CreateAgentPolicy(ctx context.Context, body map[string]any) (AgentPolicy, error) {
	var resp itemResponse[AgentPolicy]
	err := c.do(ctx, request{method: http.MethodPost, path: "/api/fleet/agent_policies", body: body}, &resp)
	return resp.Item, err
}

// UpdateAgentPolicy sends a partial update. Kibana needs name and namespace
// on every PUT, refuses read-only fields from GET, and resets an omitted
// inactivity_timeout to 1209600 (fleet-api.md §3.3, trap 2).
func (c *Client) UpdateAgentPolicy(ctx context.Context, id string, body map[string]any) (AgentPolicy, error) {
	var resp itemResponse[AgentPolicy]
	err := c.do(ctx, request{method: http.MethodPut, path: "/api/fleet/agent_policies/" + url.PathEscape(id), body: body}, &resp)
	return resp.Item, err
}

// DeleteAgentPolicy deletes an agent policy (POST /api/fleet/agent_policies/delete).
// Repeating it after a lost answer yields a 404, so it is retried like a DELETE
// and a 404 on a later try counts as done.
func (c *Client) DeleteAgentPolicy(ctx context.Context, id string) error {
	err := c.do(ctx, request{
		method: http.MethodPost, path: "/api/fleet/agent_policies/delete",
		body: map[string]any{"agentPolicyId": id}, safe: true, deleteLike: true,
	}, nil)
	return err
}
