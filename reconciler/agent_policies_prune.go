package reconciler

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/fleetform/fleetform/internal/kversion"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// The prune of owned agent policies and Kibana's refusals to delete one
// without force (x-pack/platform/plugins/shared/fleet/server/services/
// agent_policy.ts, delete; fleetform never sends force), which the plan
// mirrors: such a prune is blocked with Kibana's reason rather than planned
// as a delete Kibana refuses at apply. The rules, in delete's order:
//
//  1. a hosted (is_managed) policy: "Cannot delete hosted agent policy <id>"
//     (HostedAgentPolicyRestrictionRelatedError);
//  2. a policy with agents assigned — force does not lift it: "Cannot
//     delete an agent policy that is assigned to any active or inactive
//     agents" (FleetError; from 8.12.2, elastic/kibana#175815, before it
//     "Cannot delete agent policy that is assigned to agent(s)"). Which
//     agents count depends on the version (agent_policies_prune_agents.go:
//     inactive ones from 8.12.2, unenrolled ones on 8.12.2 – 8.13.x only).
//     An agentless (supports_agentless) policy is exempt
//     (gateAgentlessDeleteWithAgents, elastic/kibana#216513): Kibana
//     unenrolls its agents and deletes it;
//  3. a policy holding a managed (is_managed) package policy: "Cannot delete
//     agent policy <id> that contains managed package policies"
//     (PackagePolicyRestrictionRelatedError).
//
// A preconfigured policy, the default policy and the default Fleet Server
// policy are deleted like any other (a preconfigured one's deletion is
// recorded so that setup does not recreate it). The API tests under
// x-pack/platform/test/fleet_api_integration/apis/agent_policy/ pin 1 and 2.

// gateAgentlessDeleteWithAgents is where an agentless policy with agents is
// deleted (its agents unenrolled): elastic/kibana#216513 (main, 9.1.0), and
// on 8.19 from 8.19.0 — inferred: elastic/kibana#290489 "[8.19] [Fleet]
// Force-revoke agents when deleting an agentless policy" changes exactly
// that deletion on 8.19, and the fix reached the older 8.17 line in
// July 2025 (elastic/kibana#226280). Its patches on 8.17, 8.18 and 9.0
// are not known (docs/fleetsim-inferred.md item 58). fleetsim's
// policies.go holds the same gate.
const gateAgentlessDeleteWithAgents kversion.Gate = "8.19.0 9.1.0"

// agentPolicyPruneObservation is what rules 2 and 3 need beyond the agent
// policy list, read only for a plan that prunes an agent policy
// (observeAgentPolicyPrune).
type agentPolicyPruneObservation struct {
	// agents is each prune candidate's agent count, as the agent policy
	// list counts them (kibana.ListOptions.WithAgentCount); a candidate
	// the count list did not return is absent.
	agents map[string]int
	// deleteOnly is, on Kibana 8.12.2 – 8.14.x, each candidate's agents
	// that delete counts and the list does not (deleteOnlyStatuses, read by
	// countDeleteOnlyAgents); nil elsewhere.
	deleteOnly map[string]int
	// deleteOnlyStatuses names those agents' statuses.
	deleteOnlyStatuses []string
}

// agentPolicyCountChunk is how many prune candidates one count request
// names (its kuery ORs their names; Kibana counts at most 100 a page).
const agentPolicyCountChunk = 50

// agentPolicyPruneCandidates are the owned agent policies a plan of doc
// with prune would delete, but for Kibana's refusals: recorded on this
// cluster, not adopted, no longer declared, in Fleet and not hosted (rule 1
// needs nothing more), by id.
func (r *Reconciler) agentPolicyPruneCandidates(doc *schema.Document, obs *observation) []kibana.AgentPolicy {
	declared := make(map[string]bool, len(doc.AgentPolicies))
	for _, p := range doc.AgentPolicies {
		declared[p.ID] = true
	}
	var out []kibana.AgentPolicy
	for _, key := range sortedKeys(obs.records) {
		rec := obs.records[key]
		if rec.Kind != plan.KindAgentPolicy || rec.Cluster != r.cfg.Cluster || rec.Adopted || declared[rec.ID] {
			continue
		}
		if have, ok := obs.policies[rec.ID]; ok && !have.IsManaged {
			out = append(out, have)
		}
	}
	return out
}

// askAgentCount reports whether the agent policy list must be asked for
// agent counts (noAgentCount=false, kibana.ListOptions.WithAgentCount):
// from 8.7 (elastic/kibana#151119, which added noAgentCount); before, the
// list counts agents anyway and refuses the unknown key with a 400. An
// unknown version is asked.
func askAgentCount(kibanaVersion string) bool {
	return kibanaVersion == "" || kibanaAtLeast(kibanaVersion, "8.7.0")
}

// observeAgentPolicyPrune reads, for a plan with prune that would delete
// owned agent policies, what Kibana's refusals depend on: their agent
// counts, one agent policy list request per agentPolicyCountChunk of them
// narrowed by name (names are unique in Fleet) — on Kibana 8.12.2 – 8.14.x
// with one agent list request per chunk for the agents delete counts and
// the list does not (countDeleteOnlyAgents) —, and the integration
// policies (integrationPolicyKind's observation) when the plan did not
// list them already. A plan that prunes no agent policy sends nothing.
func (r *Reconciler) observeAgentPolicyPrune(ctx context.Context, doc *schema.Document, obs *observation, prune bool) error {
	if !prune {
		return nil
	}
	cands := r.agentPolicyPruneCandidates(doc, obs)
	if len(cands) == 0 {
		return nil
	}
	want := make(map[string]bool, len(cands))
	for _, p := range cands {
		want[p.ID] = true
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		counted = make(map[string]int, len(cands))
		hidden  map[string]int
		errs    = make([]error, 0, 2)
		setIP   func(*observation)
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	statuses := deleteOnlyStatuses(obs.kibanaVersion)
	if len(statuses) > 0 {
		hidden = make(map[string]int, len(cands))
	}
	for chunk := range slices.Chunk(cands, agentPolicyCountChunk) {
		if len(statuses) > 0 {
			wg.Go(func() {
				n, err := r.countDeleteOnlyAgents(ctx, chunk, statuses)
				if err != nil {
					fail(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, p := range chunk {
					hidden[p.ID] = n[p.ID]
				}
			})
		}
		wg.Go(func() {
			list, err := r.cfg.Fleet.ListAgentPolicies(ctx, kibana.ListOptions{Kuery: agentPolicyNameKuery(chunk), WithAgentCount: askAgentCount(obs.kibanaVersion)})
			if err != nil {
				fail(fmt.Errorf("count the agents of the agent policies to prune: %w", err))
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, p := range list {
				if want[p.ID] {
					counted[p.ID] = p.Agents
				}
			}
		})
	}
	if obs.ip == nil {
		wg.Go(func() {
			set, err := integrationPolicyKind{}.observe(ctx, r)
			if err != nil {
				fail(err)
				return
			}
			setIP = set
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("observe: %w", errs[0])
	}
	if setIP != nil {
		setIP(obs)
	}
	obs.agentPolicyPrune = &agentPolicyPruneObservation{agents: counted, deleteOnly: hidden, deleteOnlyStatuses: statuses}
	return nil
}

// agentPolicyNameKuery selects the agent policies named as ps are:
// ingest-agent-policies.name is a keyword, so a quoted value matches the
// whole name (Kibana's normalizeKuery maps the type prefix onto the saved
// object type in use).
func agentPolicyNameKuery(ps []kibana.AgentPolicy) string {
	terms := make([]string, len(ps))
	for i, p := range ps {
		terms[i] = `ingest-agent-policies.name:"` + kqlEscape(p.Name) + `"`
	}
	return strings.Join(terms, " or ")
}

// kqlEscape escapes a value for a quoted KQL string.
func kqlEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// agentPolicyDeleteRefusal explains why Kibana would refuse to delete
// agent policy have without force (rules 1–3 above), or returns "".
func agentPolicyDeleteRefusal(obs *observation, have kibana.AgentPolicy) string {
	if have.IsManaged {
		return fmt.Sprintf("agent policy %s is hosted (is_managed); Kibana refuses it (Cannot delete hosted agent policy %s%s)", have.ID, have.ID, hostedAgentPolicyRestriction)
	}
	if ap := obs.agentPolicyPrune; ap != nil {
		exempt := have.SupportsAgentless && (obs.kibanaVersion == "" || kibanaAtLeast(obs.kibanaVersion, gateAgentlessDeleteWithAgents))
		if n, extra := ap.agents[have.ID], ap.deleteOnly[have.ID]; n+extra > 0 && !exempt {
			msg := "Cannot delete an agent policy that is assigned to any active or inactive agents"
			if obs.kibanaVersion != "" && !kibanaAtLeast(obs.kibanaVersion, "8.12.2") {
				msg = "Cannot delete agent policy that is assigned to agent(s)"
			}
			what := fmt.Sprintf("%d agent%s assigned", n+extra, plural(n+extra))
			if extra > 0 {
				what += fmt.Sprintf(" (%d of them %s, which Kibana %s counts for a delete but not in the agent policy list)", extra, strings.Join(ap.deleteOnlyStatuses, " or "), obs.kibanaVersion)
			}
			advice := "reassign or unenroll them first"
			if slices.Contains(ap.deleteOnlyStatuses, "unenrolled") {
				advice = "reassign them, or unenroll and then delete them (DELETE /api/fleet/agents/<id>), first"
			}
			return fmt.Sprintf("%s to agent policy %s; Kibana refuses it, forced or not (%s); %s", what, have.ID, msg, advice)
		}
	}
	if obs.ip != nil {
		var managed []string
		for _, id := range sortedKeys(obs.ip.policies) {
			if pp := obs.ip.policies[id]; pp.Raw["is_managed"] == true && slices.Contains(pp.PolicyIDs, have.ID) {
				managed = append(managed, id)
			}
		}
		if len(managed) > 0 {
			return fmt.Sprintf("agent policy %s holds managed integration policies (%s, is_managed: true); Kibana refuses it (Cannot delete agent policy %s that contains managed package policies%s)",
				have.ID, strings.Join(managed, ", "), have.ID, packagePolicyRestriction)
		}
	}
	return ""
}
