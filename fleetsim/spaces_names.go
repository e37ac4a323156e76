package fleetsim

// Names across spaces: where Kibana looks for another policy of the same
// name once Fleet is space-aware (x-pack/platform/plugins/shared/fleet/
// server/; elastic/kibana#239631, backported to 9.1 and 9.2 by #241885 and
// #241884 — fleetsim applies it at every space-aware version,
// docs/fleetsim-inferred.md 52). Pinned by
// x-pack/platform/test/fleet_api_integration/apis/space_awareness/
// agent_policies.ts and package_policies.ts; fleetsim's own tests are
// spaces_names_test.go.
//
//   - Agent policies (nameTakenIn): services/agent_policy.ts
//     requireUniqueName finds, with an unscoped client, the agent policies
//     of that name in namespaces: space_ids — those of the spaces named and
//     those in "*"; a "*" among space_ids searches every space.
//   - Package policies, create and update (packagePolicyNameConflict):
//     services/package_policy.ts requireUniqueName gets the space_ids of
//     the request's agent policies, flattened (not deduplicated). More than
//     one: it lists every package policy of that name in every space
//     (spaceId '*', the internal client without the spaces extension); a
//     create is refused by any of them, an update by one, not itself, whose
//     spaceIds share one of those spaces literally ("*" matches only "*").
//     Otherwise the request's space is looked at (its space-scoped list,
//     which also holds the package policies in "*").
//   - A move (packagePolicyNamesFree): validatePackagePoliciesUniqueNameAcrossSpaces.

import (
	"net/http"
	"slices"
)

// integrationNameExists is PackagePolicyNameExistsError's message from
// requireUniqueName (a 409).
func integrationNameExists(name string) *kresp {
	return kerr(http.StatusConflict, "An integration policy with the name %s already exists. Please rename it or choose a different name.", name)
}

// packagePolicyNameTaken is the request-space lookup: another package
// policy of that name the request's space sees.
func (c *Cluster) packagePolicyNameTaken(r *kreq, name, exceptID string) bool {
	for _, pp := range c.st.PackagePolicies {
		// The name lookup is the request's space-scoped list (spaces.go).
		if pp.ID != exceptID && pp.Name == name && c.packagePolicyVisible(pp, r) {
			return true
		}
	}
	return false
}

// packagePolicyNameConflict is package_policy.ts requireUniqueName for a
// create (exceptID "") or an update of package policy exceptID into agent
// policies policyIDs: a 409, or nil. space_awareness/package_policies.ts
// "should not allow to add a package policy to a multispace policy that
// has name conflict with another policy in a different space" (create) and
// "should prevent updating package policy name already in multiple spaces
// when name conflicts exist" (update, from the other space).
func (c *Cluster) packagePolicyNameConflict(r *kreq, name, exceptID string, policyIDs []string) *kresp {
	spaces := c.flatAgentPolicySpaces(policyIDs)
	if len(spaces) <= 1 {
		if c.packagePolicyNameTaken(r, name, exceptID) {
			return integrationNameExists(name)
		}
		return nil
	}
	for _, id := range sortedKeys(c.st.PackagePolicies) {
		pp := c.st.PackagePolicies[id]
		if pp.Name != name {
			continue
		}
		if exceptID == "" || pp.ID != exceptID && slices.ContainsFunc(pp.spaceIDs(), func(s string) bool { return slices.Contains(spaces, s) }) {
			return integrationNameExists(name)
		}
	}
	return nil
}

// flatAgentPolicySpaces is `agentPolicies.flatMap((ap) => ap.space_ids ??
// [])` of package_policy.ts create and update: nil before space
// awareness (the legacy saved objects have no namespaces).
func (c *Cluster) flatAgentPolicySpaces(policyIDs []string) []string {
	if !c.spaceAware() {
		return nil
	}
	var spaces []string
	for _, id := range policyIDs {
		if p := c.st.AgentPolicies[id]; p != nil {
			spaces = append(spaces, p.spaceIDs()...)
		}
	}
	return spaces
}

// reusableAcrossSpaces is validateReusableIntegrationsAndSpaceAwareness
// (services/package_policy.ts): a package policy of more than one agent
// policy may not use one in several spaces or in "*" — a 400 FleetError.
// Create runs it once space-aware, update for each agent policy alone.
// space_awareness/package_policies.ts "should not allow to add a reusable
// package policy to a multi-space agent policy in the default space", "…
// to an all space agent policy …", "should not allow to make a policy used
// in multiple space reusable", "… used in all space reusable".
func (c *Cluster) reusableAcrossSpaces(policyIDs []string) *kresp {
	if len(policyIDs) <= 1 || !c.spaceAware() {
		return nil
	}
	for _, id := range policyIDs {
		if p := c.st.AgentPolicies[id]; p != nil && multiSpace(p.spaceIDs()) {
			return badRequest("Reusable integration policies cannot be used with agent policies belonging to multiple spaces.")
		}
	}
	return nil
}

// multiSpace says whether an agent policy's space_ids hold several spaces
// or "*" (the condition of updatePackagePolicySpaces and of
// validateReusableIntegrationsAndSpaceAwareness).
func multiSpace(spaces []string) bool {
	return len(spaces) > 1 || slices.Contains(spaces, allSpaces)
}

// createdPackagePolicySpaces is what packagePolicyService.create does with
// spaces after it writes the package policy once space-aware: an agent
// policy in several spaces or in "*" gives the package policy its spaces
// (updatePackagePolicySpaces, services/spaces/package_policy.ts;
// elastic/kibana#197487; space_awareness/package_policies.ts "should allow
// to add a package policy to an all agent policy in the default space"
// expects spaceIds "*").
func (c *Cluster) createdPackagePolicySpaces(pp *packagePolicy) {
	if !c.spaceAware() {
		return
	}
	for _, id := range pp.PolicyIDs {
		if p := c.st.AgentPolicies[id]; p != nil && multiSpace(p.spaceIDs()) {
			pp.Spaces = slices.Clone(p.spaceIDs())
		}
	}
}

// packagePolicyNamesFree is validatePackagePoliciesUniqueNameAcrossSpaces
// (server/services/spaces/policy_namespaces.ts), run when an agent policy
// moves: for each of its package policies, another package policy of that
// name in any space whose space_ids hold one of the new spaces (checked in
// sorted order: the deepEqual before it sorts newSpaceIds in place) is a
// PackagePolicyNameExistsError, a 409. The comparison is literal: a
// package policy in "*" conflicts only with a move into "*", and one in a
// named space never with a move into "*".
func (c *Cluster) packagePolicyNamesFree(pps []*packagePolicy, next []string) *kresp {
	sorted := slices.Sorted(slices.Values(next))
	for _, pp := range pps {
		var taken []string
		for _, other := range c.st.PackagePolicies {
			if other.ID != pp.ID && other.Name == pp.Name {
				taken = append(taken, other.spaceIDs()...)
			}
		}
		for _, s := range sorted {
			if slices.Contains(taken, s) {
				return kerr(http.StatusConflict, "An integration policy with the name %s already exists in space \"%s\". Please rename it or choose a different name.", pp.Name, s)
			}
		}
	}
	return nil
}

// nameTakenIn is agent_policy.ts requireUniqueName scoped to spaces: the
// ids of other agent policies with that name sharing one of the spaces (a
// "*" on either side shares every space). Before 9.1 names are unique
// across the whole cluster.
func (c *Cluster) nameTakenIn(name, exceptID string, spaces []string) []string {
	var ids []string
	for _, p := range c.sortedPolicies() {
		if p.ID == exceptID || p.str("name") != name {
			continue
		}
		if c.spaceAware() && !sharesSpace(spaces, p.spaceIDs()) {
			continue
		}
		ids = append(ids, p.ID)
	}
	return ids
}
