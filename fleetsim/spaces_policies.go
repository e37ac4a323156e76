package fleetsim

// How space awareness shows in the agent and package policy answers: the
// delete of a policy the request's space does not see, and space_ids as the
// principal may read them.

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/fleetsim/esim"
)

// packagePolicyMissing is the result item of a package policy delete whose
// policy the request's space does not see (or that does not exist):
// packagePolicyService.delete reads the ids with the space-scoped
// saved-objects client (getByIDs, ignoreMissing) and answers each missing
// one with PackagePolicyNotFoundError(`Saved object
// [${savedObjectType}/${id}] not found`), a 404 (server/services/
// package_policy.ts delete, fleetErrorToResponseOptions). The route
// DELETE /package_policies/{id} ignores that 404 (idempotent), so a policy
// of another space answers 200 there and stays.
func (c *Cluster) packagePolicyMissing(id string) map[string]any {
	return map[string]any{"id": id, "success": false, "statusCode": http.StatusNotFound,
		"body": map[string]any{"message": fmt.Sprintf("Saved object [%s/%s] not found", c.packagePolicyType(), id)}}
}

// unknownSpace is UNKNOWN_SPACE, what Kibana answers for a space the
// principal may not read.
const unknownSpace = "?"

// readableSpace says whether the principal may read Fleet objects in
// space: a superuser, or Kibana application privileges (any Fleet or
// Integrations privilege, or the base read/all) on "*", "space:*" or
// "space:<id>".
func readableSpace(p esim.Principal, space string) bool {
	if p.Superuser {
		return true
	}
	for _, a := range p.Applications {
		if a.Application != "kibana-.kibana" && a.Application != "*" {
			continue
		}
		reads := slices.ContainsFunc(a.Privileges, func(priv string) bool {
			switch priv {
			case "all", "*", "read":
				return true
			}
			return strings.HasPrefix(priv, "feature_fleetv2.") || strings.HasPrefix(priv, "feature_fleet.")
		})
		if reads && (len(a.Resources) == 0 || slices.ContainsFunc(a.Resources, func(r string) bool {
			return r == "*" || r == "space:*" || r == "space:"+space
		})) {
			return true
		}
	}
	return false
}

// visibleSpaceIDs is the saved object's namespaces as the security
// extension answers them: a space the principal may not read becomes "?",
// "*" stays, and the list is sorted case-insensitively with the "?" last
// (security plugin, saved_objects_security_extension.ts getRedactedSpaces
// and namespaceComparator). space_awareness/agent_policies.ts "should
// return only spaces user can access": a policy in [default, test1] reads
// ["default", "?"] for a user with Fleet privileges in the default space
// only, from GET /agent_policies and GET /agent_policies/{id}.
func visibleSpaceIDs(ids []string, p esim.Principal) []string {
	out := make([]string, len(ids))
	for i, s := range ids {
		if s == allSpaces || readableSpace(p, s) {
			out[i] = s
		} else {
			out[i] = unknownSpace
		}
	}
	slices.SortStableFunc(out, namespaceComparator)
	return out
}

func namespaceComparator(a, b string) int {
	switch {
	case a == unknownSpace && b != unknownSpace:
		return 1
	case a != unknownSpace && b == unknownSpace:
		return -1
	}
	return strings.Compare(strings.ToUpper(a), strings.ToUpper(b))
}

// policySpacesFor is the space_ids of an agent policy answered to r.
func (c *Cluster) policySpacesFor(p *agentPolicy, r *kreq) []any {
	ids := p.spaceIDs()
	if r != nil {
		ids = visibleSpaceIDs(ids, r.principal)
	} else {
		ids = visibleSpaceIDs(ids, esim.Principal{Superuser: true})
	}
	out := make([]any, len(ids))
	for i, s := range ids {
		out[i] = s
	}
	return out
}

// spacesRedacted says whether r may not read one of the policy's spaces,
// so that its cached view (written for a reader of every space) will not do.
func (c *Cluster) spacesRedacted(p *agentPolicy, r *kreq) bool {
	if !c.spaceAware() || r == nil || r.principal.Superuser {
		return false
	}
	return slices.Contains(c.policySpacesFor(p, r), any(unknownSpace))
}

// redactPolicyView rewrites space_ids of a policy view for r, and the
// spaceIds of its package policies (packagePolicySpaces).
func (c *Cluster) redactPolicyView(v map[string]any, p *agentPolicy, r *kreq) map[string]any {
	if c.spaceAware() {
		v["space_ids"] = c.policySpacesFor(p, r)
		c.packagePolicySpaces(v, r)
	}
	return v
}

// packagePolicySpaces sets spaceIds on the package_policies of a full
// agent policy view, as r may read them (all, for r nil): the agent policy
// get and list read them with packagePolicyService.findAllForAgentPolicy
// (server/services/agent_policy.ts getByIds and list,
// withPackagePolicies), which maps each saved object with
// mapPackagePolicySavedObjectToPackagePolicy
// (server/services/package_policies/utils.ts) — `spaceIds: namespaces`
// when the saved object has namespaces, as on the package policy routes
// (ppItem); the simplified format keeps them
// (packagePolicyToSimplifiedPackagePolicy rewrites inputs and vars only).
// Nothing before space awareness. TestSpaces_FullAgentPolicyViewSpaceIDs.
func (c *Cluster) packagePolicySpaces(v map[string]any, r *kreq) {
	pps, _ := v["package_policies"].([]any)
	if !c.spaceAware() || len(pps) == 0 {
		return
	}
	for _, item := range pps {
		m, _ := item.(map[string]any)
		id, _ := m["id"].(string)
		if pp := c.st.PackagePolicies[id]; pp != nil {
			m["spaceIds"] = c.ppSpaceIDs(pp, r)
		}
	}
}
