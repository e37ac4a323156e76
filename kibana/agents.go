package kibana

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// agentsSearchLimit is SO_SEARCH_LIMIT (common/constants): GET
// /api/fleet/agents refuses page * perPage above it
// (server/types/rest_spec/agent.ts GetAgentsRequestSchema, "You cannot use
// page and perPage page over 10000 agents").
const agentsSearchLimit = 10000

// agentsCountPage is how many agents one page of CountAgentsByPolicy holds.
const agentsCountPage = 1000

// AgentCounts are agents counted by their agent policy id.
type AgentCounts struct {
	ByPolicy map[string]int
	// Complete is false when more agents matched than Kibana lets a
	// kuery page through (SO_SEARCH_LIMIT): then ByPolicy holds the first
	// 10000 of Total only.
	Complete bool
	Total    int
}

// agentRef is the part of an agent document CountAgentsByPolicy reads.
type agentRef struct {
	ID       string `json:"id"`
	PolicyID string `json:"policy_id"`
}

// CountAgentsByPolicy lists the agents kuery selects (GET
// /api/fleet/agents?showInactive=&kuery=&perPage=1000&page=…; routes/agent/
// handlers.ts getAgentsHandler over services/agents/crud.ts
// getAgentsByKuery) and counts them by policy_id, paging up to Kibana's
// SO_SEARCH_LIMIT. A kuery that matches no agent costs one request.
func (c *Client) CountAgentsByPolicy(ctx context.Context, kuery string, showInactive bool) (AgentCounts, error) {
	out := AgentCounts{ByPolicy: map[string]int{}}
	seen := map[string]bool{}
	for page := 1; page*agentsCountPage <= agentsSearchLimit; page++ {
		q := url.Values{"perPage": {strconv.Itoa(agentsCountPage)}, "page": {strconv.Itoa(page)}, "showInactive": {strconv.FormatBool(showInactive)}}
		if kuery != "" {
			q.Set("kuery", kuery)
		}
		var resp itemsResponse[agentRef]
		if err := c.do(ctx, request{method: http.MethodGet, path: "/api/fleet/agents", query: q}, &resp); err != nil {
			return AgentCounts{}, fmt.Errorf("list agents page %d: %w", page, err)
		}
		out.Total = resp.Total
		before := len(seen)
		for _, a := range resp.Items {
			if !seen[a.ID] {
				seen[a.ID] = true
				out.ByPolicy[a.PolicyID]++
			}
		}
		if len(seen) >= resp.Total || len(seen) == before {
			break
		}
	}
	out.Complete = len(seen) >= out.Total
	return out, nil
}

// CountAgents is how many agents kuery selects (GET /api/fleet/agents with
// perPage=0, as agent policy delete itself counts: services/agent_policy.ts).
func (c *Client) CountAgents(ctx context.Context, kuery string, showInactive bool) (int, error) {
	q := url.Values{"perPage": {"0"}, "page": {"1"}, "showInactive": {strconv.FormatBool(showInactive)}}
	if kuery != "" {
		q.Set("kuery", kuery)
	}
	var resp itemsResponse[agentRef]
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/fleet/agents", query: q}, &resp); err != nil {
		return 0, err
	}
	return resp.Total, nil
}
