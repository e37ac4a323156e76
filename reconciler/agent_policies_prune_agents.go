package reconciler

import (
	"context"
	"fmt"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
)

// Which agents Kibana's agent policy delete counts before it refuses
// (x-pack/platform/plugins/shared/fleet/server/services/agent_policy.ts
// delete), against what the agent policy list counts in its agents field
// (routes/agent_policy/handlers.ts populateAssignedAgentsCount), by
// version. An agent is online (enrolled, checking in), inactive (enrolled,
// past its policy's inactivity timeout) or unenrolled (active: false; the
// status runtime field, services/agents/build_status_runtime_field.ts,
// says unenrolled exactly when active is false).
//
//	Kibana           delete counts                  list counts
//	< 8.12.2         online                         online
//	8.12.2 – 8.13.x  online, inactive, unenrolled   online
//	8.14.x           online, inactive               online
//	≥ 8.15.0         online, inactive               online, inactive
//
// Before elastic/kibana#175815 (8.12.2) both are getAgentsByKuery with
// showInactive: false. #175815 made delete pass showInactive: true, which
// getAgentsByKuery (services/agents/crud.ts) then answered with every agent
// of the policy; the `and not status: unenrolled` clause that later delete
// kueries carry is needed by elastic/kibana#182118 (8.14.0), which unenrolls
// agents before it deletes the policies it resets (fleetsim-inferred.md
// 52). From 8.15.0 the list counts with showInactive: true
// (elastic/kibana#184517) and getAgentsByKuery leaves unenrolled agents out
// unless the kuery names them (elastic/kibana#187960), so the list and
// delete count the same agents; the newest delete counts `active: true`
// documents with esClient.count, the same set again.
//
// So only on 8.12.2 – 8.14.x does the plan need more than the list's
// count: the agents the list leaves out and delete counts, read from GET
// /api/fleet/agents (agentsAPI) one request per agentPolicyCountChunk
// candidates (a kuery naming them and those statuses), paged only when such
// agents exist. An unknown version is taken for the newest.

// agentsAPI is the agent read the prune of agent policies needs on 8.12.2 –
// 8.14.x; *kibana.Client implements it.
type agentsAPI interface {
	CountAgentsByPolicy(ctx context.Context, kuery string, showInactive bool) (kibana.AgentCounts, error)
	CountAgents(ctx context.Context, kuery string, showInactive bool) (int, error)
}

// versionDeleteCountsUnenrolledUntil is the first version whose agent
// policy delete no longer counts unenrolled agents (see above).
const versionDeleteCountsUnenrolledUntil = "8.14.0"

// versionListCountsInactive is elastic/kibana#184517 with #187960 (v8.15.0):
// from it the list counts what delete counts.
const versionListCountsInactive = "8.15.0"

// deleteOnlyStatuses are the agent statuses Kibana kibanaVersion's delete
// counts and its agent policy list does not; none outside 8.12.2 – 8.14.x.
func deleteOnlyStatuses(kibanaVersion string) []string {
	switch {
	case kibanaVersion == "", !kibanaAtLeast(kibanaVersion, "8.12.2"), kibanaAtLeast(kibanaVersion, versionListCountsInactive):
		return nil
	case !kibanaAtLeast(kibanaVersion, versionDeleteCountsUnenrolledUntil):
		return []string{"inactive", "unenrolled"}
	}
	return []string{"inactive"}
}

// deleteOnlyAgentsKuery selects the agents of ps in statuses.
func deleteOnlyAgentsKuery(ps []kibana.AgentPolicy, statuses []string) string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = `policy_id:"` + kqlEscape(p.ID) + `"`
	}
	st := make([]string, len(statuses))
	for i, s := range statuses {
		st[i] = "status:" + s
	}
	return "(" + strings.Join(ids, " or ") + ") and (" + strings.Join(st, " or ") + ")"
}

// countDeleteOnlyAgents counts, for each of ps, its agents in statuses
// (deleteOnlyStatuses): one agent list request when there are none, a page
// per 1000 when there are. Should more match than Kibana lets a kuery page
// through (10000), each policy is counted on its own (perPage=0).
func (r *Reconciler) countDeleteOnlyAgents(ctx context.Context, ps []kibana.AgentPolicy, statuses []string) (map[string]int, error) {
	api, err := clientFor[agentsAPI](r, plan.KindAgentPolicy)
	if err != nil {
		return nil, err
	}
	counts, err := api.CountAgentsByPolicy(ctx, deleteOnlyAgentsKuery(ps, statuses), true)
	if err != nil {
		return nil, fmt.Errorf("count the inactive agents of the agent policies to prune: %w", err)
	}
	if counts.Complete {
		return counts.ByPolicy, nil
	}
	for _, p := range ps {
		n, err := api.CountAgents(ctx, deleteOnlyAgentsKuery([]kibana.AgentPolicy{p}, statuses), true)
		if err != nil {
			return nil, fmt.Errorf("count the inactive agents of agent policy %s: %w", p.ID, err)
		}
		counts.ByPolicy[p.ID] = n
	}
	return counts.ByPolicy, nil
}
