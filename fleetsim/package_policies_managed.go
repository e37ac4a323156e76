package fleetsim

import (
	"fmt"
	"net/http"
)

// Kibana's refusals of writes to managed integration policies and to the
// integrations of hosted (is_managed) agent policies, with Kibana's
// messages. Sources (elastic/kibana):
//   - FLEET/server/services/package_policy.ts: create calls
//     validateIsNotHostedPolicy for every policy id ("Cannot update
//     integrations of hosted agent policy <id>", unless force); update throws
//     PackagePolicyRestrictionRelatedError(`Cannot update package policy
//     ${id}`) when the request itself says is_managed: true without force
//     (`packagePolicyUpdate.is_managed && !options?.force`) — the stored
//     is_managed and the agent policies' are not checked on update; delete
//     throws PackagePolicyRestrictionRelatedError(`Cannot delete package
//     policy ${id}`) for an is_managed package policy, then
//     HostedAgentPolicyRestrictionRelatedError('Cannot remove integrations
//     of hosted agent policy') when one of its agent policies is hosted,
//     both unless force;
//   - FLEET/server/errors/index.ts: both errors append why to the message,
//     and (errors/handlers.ts) answer 400;
//   - x-pack/platform/test/fleet_api_integration/apis/package_policy/
//     create.ts, update.ts ("should work with valid values on hosted
//     policies", "should work with multiple policy ids") and delete.ts
//     ("should fail on hosted agent policies", one and bulk, and with
//     ?force=true).

// HostedAgentPolicyRestrictionRelatedError and
// PackagePolicyRestrictionRelatedError append these to their message.
const (
	hostedAgentPolicyRestriction = " in Fleet because the agent policy is managed by an external orchestration solution, such as Elastic Cloud, Kubernetes, etc. Please make changes using your orchestration solution."
	packagePolicyRestriction     = " in Fleet because the package policy is managed by an external orchestration solution, such as Elastic Cloud, Kubernetes, etc. Please make changes using your orchestration solution."
)

// refuseCreateInHosted is create's validateIsNotHostedPolicy for policy id
// p (nil when p is not hosted or force is set).
func refuseCreateInHosted(p *agentPolicy, id string, force bool) *kresp {
	if p.flag("is_managed") && !force {
		return badRequest("Cannot update integrations of hosted agent policy %s%s", id, hostedAgentPolicyRestriction)
	}
	return nil
}

// refuseManagedUpdate is update's check of the request's is_managed: only a
// full-format body can carry it (the simplified schema has no is_managed).
func refuseManagedUpdate(id string, body map[string]any) *kresp {
	if body["is_managed"] == true && body["force"] != true {
		return badRequest("Cannot update package policy %s%s", id, packagePolicyRestriction)
	}
	return nil
}

// refuseDelete is delete's per-policy result when Kibana refuses it: an
// is_managed package policy, then one in a hosted agent policy; nil when
// force is set or neither applies. Like fleetErrorToResponseOptions, the
// result has no name.
func (c *Cluster) refuseDelete(pp *packagePolicy, force bool) map[string]any {
	if force {
		return nil
	}
	var msg string
	switch {
	case pp.IsManaged != nil && *pp.IsManaged:
		msg = fmt.Sprintf("Cannot delete package policy %s%s", pp.ID, packagePolicyRestriction)
	case c.inHostedAgentPolicy(pp):
		msg = "Cannot remove integrations of hosted agent policy" + hostedAgentPolicyRestriction
	default:
		return nil
	}
	return map[string]any{"id": pp.ID, "success": false, "statusCode": http.StatusBadRequest, "body": map[string]any{"message": msg}}
}

func (c *Cluster) inHostedAgentPolicy(pp *packagePolicy) bool {
	for _, pid := range pp.PolicyIDs {
		if p := c.st.AgentPolicies[pid]; p != nil && p.flag("is_managed") {
			return true
		}
	}
	return false
}

// simplifiedIsManaged refuses is_managed in a simplified body: only the
// full-format schemas (PackagePolicyBaseSchema) have it, so Kibana's oneOf
// of the two formats fails; a create is simplified unless inputs is an
// array (CreatePackagePolicyRequestBodySchema requires one), an update only
// when inputs is an object. The message is the one-schema form fleetsim
// gives for any unknown key.
func simplifiedIsManaged(body map[string]any, create bool) *kresp {
	if _, ok := body["is_managed"]; !ok {
		return nil
	}
	_, isArray := body["inputs"].([]any)
	_, isObject := body["inputs"].(map[string]any)
	if (create && !isArray) || (!create && isObject) {
		return badRequest("[request body.is_managed]: definition for this key is missing")
	}
	return nil
}

// readIsManaged is the full-format body's is_managed, stored as given
// (create and update with force); nil when the body has none.
func readIsManaged(body map[string]any) *bool {
	if b, ok := body["is_managed"].(bool); ok {
		return &b
	}
	return nil
}
