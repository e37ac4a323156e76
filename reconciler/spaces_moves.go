package reconciler

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Agent policy space moves Kibana refuses. The update handler
// (server/routes/agent_policy/handlers.ts updateAgentPolicyHandler) runs
// updateAgentPolicySpaces (server/services/spaces/agent_policy.ts) for a
// body with non-empty space_ids on a space-aware Fleet, before
// agentPolicyService.update; its refusals, in its order (each a 400):
//
//  1. a hosted (is_managed) policy without force, whether or not the
//     spaces change (the check precedes the comparison):
//     HostedAgentPolicyRestrictionRelatedError("Cannot update hosted agent
//     policy <id> space "), whose constructor (server/errors/index.ts)
//     appends " in Fleet because the agent policy is managed by an external
//     orchestration solution, …" — two spaces before "in".
//  2. the spaces unchanged (compared sorted): nothing more is checked.
//  3. an integration policy of the agent policy with more than one
//     policy_ids: "Agent policies using reusable integration policies
//     cannot be moved to a different space." (FleetError). The integration
//     policies are packagePolicyService.findAllForAgentPolicy through the
//     request space's client — those the repository's space sees (its own,
//     in that space or "*"), latest revisions only — and their policy_ids
//     count every agent policy, of whatever space (#197487, "Couple agent
//     and package policies spaces", v8.17.0).
//  4. privileges to add and to remove spaces (spaces.go), then the names
//     (spaces_names.go).
//
// agent_policy.test.ts "throw when trying to change space to a policy with
// reusable package policies" and "throw when trying to change a managed
// policies space" pin 1 and 3; no API test does. Nothing else is refused:
// enrolled agents, enrollment keys and uninstall tokens move with the
// policy, and neither the default nor a Fleet Server nor an agentless
// policy is treated apart.
//
// The create handler (createAgentPolicyHandler) runs updateAgentPolicySpaces
// too, after it created the policy in the request's space, whenever the
// body has space_ids (its condition `spaceIds.length > 1 ||
// (spaceIds.length === 0 && spaceIds[0]) !== spaceId` is always true for a
// non-empty list): a hosted policy created with space_ids is left in the
// request's space and answered with refusal 1 — half an apply.
//
// fleetform never sends force. apply writes agent policies before the
// integration policies and before any delete (plan order), so Kibana sees
// the observed integration policies when the move runs: a plan that also
// takes the shared integration policy off the other agent policies still
// needs the move in a later apply (that change depends on the blocked move
// and is blocked with it, blockDependents).

// planSpaceMoves blocks, with Kibana's message, an agent policy space_ids
// change that updateAgentPolicySpaces refuses before any other check
// (refusals 1 and 3), and a hosted create with space_ids. It runs before
// the privilege and name checks of planSpaces and planSpaceNames, which
// skip what it blocked.
func (r *Reconciler) planSpaceMoves(ctx context.Context, doc *schema.Document, c *computed) {
	if c.obs.kibanaVersion == "" || !kibanaAtLeast(c.obs.kibanaVersion, spaceAwareSince) {
		return
	}
	for i := range doc.AgentPolicies {
		p := &doc.AgentPolicies[i]
		key := plan.Key(r.cfg.Cluster, plan.KindAgentPolicy, p.ID)
		s, ok := c.steps[key]
		if !ok || len(c.obs.foreign[key]) > 0 {
			continue
		}
		have, exists := c.obs.policies[p.ID]
		if !exists {
			continue
		}
		moved := slices.ContainsFunc(s.change.Fields, func(f plan.FieldDiff) bool { return f.Path == "space_ids" })
		if !moved {
			continue
		}
		switch {
		case have.IsManaged && (s.change.Action == plan.Update || s.change.Action == plan.Blocked):
			// agent_policies.go blocks every change of a hosted policy;
			// with space_ids in the body Kibana answers refusal 1 first.
			s.change.Action, s.change.Reason = plan.Blocked, hostedMoveRefusal(p.ID, false)
		case s.change.Action == plan.Update:
			if why := r.reusableMoveRefusal(ctx, c, p.ID); why != "" {
				s.change.Action, s.change.Reason = plan.Blocked, why
			}
		}
	}
}

// planHostedCreates blocks the create of a hosted (is_managed: true)
// agent policy with space_ids on a space-aware Fleet: Kibana creates it,
// then refuses to move it (refusal 1 above). It runs after the checks
// the create handler makes before it creates (privileges, names).
func (r *Reconciler) planHostedCreates(ctx context.Context, doc *schema.Document, c *computed) {
	if c.obs.kibanaVersion == "" || !kibanaAtLeast(c.obs.kibanaVersion, spaceAwareSince) {
		return
	}
	for i := range doc.AgentPolicies {
		p := &doc.AgentPolicies[i]
		s, ok := c.steps[plan.Key(r.cfg.Cluster, plan.KindAgentPolicy, p.ID)]
		if !ok || s.change.Action != plan.Create || p.IsManaged == nil || !*p.IsManaged || len(p.SpaceIDs) == 0 {
			continue
		}
		if !r.spaceAware(ctx, c) {
			return // updateAgentPolicySpaces does nothing
		}
		s.change.Action, s.change.Reason = plan.Blocked, hostedMoveRefusal(p.ID, true)
	}
}

// hostedMoveRefusal is why a hosted agent policy cannot get space_ids.
func hostedMoveRefusal(id string, create bool) string {
	msg := fmt.Sprintf("Cannot update hosted agent policy %s space %s", id, hostedAgentPolicyRestriction)
	if create {
		return fmt.Sprintf("agent policy %s: is_managed: true with space_ids; Kibana would create it in the repository's space, then refuse to set its spaces (%s) and leave it there: create it without space_ids or without is_managed", id, msg)
	}
	return fmt.Sprintf("agent policy %s is hosted (is_managed) and fleetform does not force changes onto it; moving it to other spaces, Kibana would refuse it (%s)", id, msg)
}

// reusableMoveRefusal is refusal 3 for agent policy id, or "": one of its
// integration policies, as the repository's space sees them, is in other
// agent policies too.
func (r *Reconciler) reusableMoveRefusal(ctx context.Context, c *computed, id string) string {
	ips := r.integrationPoliciesOf(ctx, c, id) // spaces_names.go
	var shared []string
	for _, ipID := range sortedKeys(ips) {
		ip := ips[ipID]
		if len(ip.PolicyIDs) > 1 && slices.Contains(ip.PolicyIDs, id) {
			o := otherPolicyIDs(ip, id)
			shared = append(shared, fmt.Sprintf("%s (also in agent %s %s)", ip.ID, pick(len(o), "policy", "policies"), strings.Join(o, ", ")))
		}
	}
	if len(shared) == 0 {
		return ""
	}
	n := len(shared)
	return fmt.Sprintf("agent policy %s: its integration %s %s %s reusable; moving it to other spaces, Kibana would refuse it (Agent policies using reusable integration policies cannot be moved to a different space.): take %s off the other agent policies in one apply, then move %s in the next",
		id, pick(n, "policy", "policies"), strings.Join(shared, ", "), pick(n, "is", "are"), pick(n, "it", "them"), id)
}

// otherPolicyIDs is ip's agent policies but id.
func otherPolicyIDs(ip kibana.IntegrationPolicy, id string) []string {
	return slices.DeleteFunc(slices.Clone(ip.PolicyIDs), func(s string) bool { return s == id })
}
