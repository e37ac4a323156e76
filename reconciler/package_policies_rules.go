package reconciler

import (
	"fmt"
	"slices"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Kibana's refusals of integration-policy writes, which the plan shows as
// blocked changes with Kibana's reason: create and update
// (integrationPolicyRefusals) and delete (integrationPolicyDeleteRefusal).

// Kibana's HostedAgentPolicyRestrictionRelatedError and
// PackagePolicyRestrictionRelatedError append these to their message
// (FLEET/server/errors/index.ts).
const (
	hostedAgentPolicyRestriction = " in Fleet because the agent policy is managed by an external orchestration solution, such as Elastic Cloud, Kubernetes, etc. Please make changes using your orchestration solution."
	packagePolicyRestriction     = " in Fleet because the package policy is managed by an external orchestration solution, such as Elastic Cloud, Kubernetes, etc. Please make changes using your orchestration solution."
)

// restrictedOutputPackages may only send their data to elasticsearch
// outputs (getAllowedOutputTypesForIntegration,
// FLEET/common/services/output_helpers.ts).
var restrictedOutputPackages = []string{"fleet_server", "synthetics", "apm"}

// integrationPolicyRefusals are the reasons Kibana would refuse the create
// or update of p (have nil: create), quoting its messages:
//   - preflightCheckPackagePolicy (FLEET/server/services/package_policies/utils.ts),
//     on create and when policy_ids or output_id change: policy_ids of other
//     than one agent policy, and an output_id, need an enterprise licence;
//     fleet_server, synthetics, apm and agentless policies only send to
//     elasticsearch outputs;
//   - validateReusableIntegrationsAndSpaceAwareness (package_policy.ts
//     create and update, space-aware): an integration policy of several
//     agent policies, one of them in several spaces or in "*"
//     (space_awareness/package_policies.ts "should not allow to add a
//     reusable package policy to a multi-space agent policy …");
//   - a create in a hosted (is_managed) agent policy (validateIsNotHostedPolicy
//     in create, FLEET/server/services/package_policy.ts). An update is not
//     refused for it: update checks no agent policy, and refuses a managed
//     package policy only when the request itself says is_managed: true
//     (`packagePolicyUpdate.is_managed && !options?.force`), which the
//     simplified body fleetform sends cannot carry — see
//     x-pack/platform/test/fleet_api_integration/apis/package_policy/update.ts
//     "should work with valid values on hosted policies";
//   - names are unique (PackagePolicyNameExistsError): in the request's
//     space, here; in every space when the agent policies' space_ids are
//     more than one (spaces_names.go asks the other spaces).
func (r *Reconciler) integrationPolicyRefusals(doc *schema.Document, obs *observation, ipo *ipObservation, p *schema.PackagePolicy, have *kibana.IntegrationPolicy, fields []plan.FieldDiff) []string {
	var out []string
	changed := func(path string) bool {
		return have == nil || slices.ContainsFunc(fields, func(f plan.FieldDiff) bool { return f.Path == path })
	}
	policyIDs := p.PolicyIDs
	if policyIDs == nil && have != nil {
		policyIDs = have.PolicyIDs
	}
	outputID, _ := p.OutputID.Get()
	if !p.OutputID.Set && have != nil {
		outputID = derefOr(have.OutputID)
	}
	preflight := changed("policy_ids") || changed("output_id")
	enterprise := obs.license == "" || LicenseAtLeast(obs.license, "enterprise")
	if preflight && !enterprise && len(policyIDs) != 1 {
		out = append(out, fmt.Sprintf("integration policy %s is in %d agent policies and the licence is %s; Kibana refuses it (Reusable integration policies are only available with an Enterprise license)", p.ID, len(policyIDs), obs.license))
	}
	if preflight && outputID != "" {
		pkg := ipPackageName(p, have)
		typ := r.outputType(doc, obs, outputID)
		agentless := (p.SupportsAgentless != nil && *p.SupportsAgentless) || (have != nil && isTrue(have.Raw["supports_agentless"]))
		switch {
		case !enterprise:
			out = append(out, fmt.Sprintf("integration policy %s sets output_id %s and the licence is %s; Kibana refuses it (Output per integration is only available with an enterprise license)", p.ID, outputID, obs.license))
		case typ != "" && typ != "elasticsearch" && (slices.Contains(restrictedOutputPackages, pkg) || agentless):
			out = append(out, fmt.Sprintf("integration policy %s of package %s sends to output %s of type %s, and %s integrations only send to elasticsearch outputs; Kibana refuses it (Output type %q is not usable with package %q)", p.ID, pkg, outputID, typ, pkg, typ, pkg))
		}
	}
	if len(policyIDs) > 1 && obs.kibanaVersion != "" && kibanaAtLeast(obs.kibanaVersion, spaceAwareSince) {
		for _, id := range policyIDs {
			if sp := agentPolicySpaces(r.cfg.Space, doc, obs, id); len(sp) > 1 || slices.Contains(sp, allSpaces) {
				out = append(out, fmt.Sprintf("integration policy %s is in %d agent policies and agent policy %s is in spaces %s; Kibana refuses it (Reusable integration policies cannot be used with agent policies belonging to multiple spaces.)", p.ID, len(policyIDs), id, quoteJoin(sp)))
				break
			}
		}
	}
	for _, id := range policyIDs {
		if ap, ok := obs.policies[id]; ok && ap.IsManaged && have == nil {
			out = append(out, fmt.Sprintf("agent policy %s is hosted (is_managed) and fleetform does not force integrations into it; Kibana refuses it (Cannot update integrations of hosted agent policy %s%s)", id, id, hostedAgentPolicyRestriction))
		}
	}
	name := p.Name
	if name != "" && (have == nil || have.Name != name) {
		// A rename into agent policies of several spaces is refused only by
		// a policy sharing one of them, literally, which this space's list
		// does not say: spaces_names.go checks it.
		if flat, _ := r.ipNameSpaces(doc, obs, policyIDs); !renameAcrossSpaces(obs, have, flat) {
			out = append(out, ownNameTaken(doc, ipo, p.ID, name)...)
		}
	}
	return out
}

// ownNameTaken is requireUniqueName in the request's space: another
// integration policy this space sees already has the name (and the
// document does not rename it away).
func ownNameTaken(doc *schema.Document, ipo *ipObservation, id, name string) []string {
	var out []string
	for _, other := range sortedKeys(ipo.policies) {
		if other != id && ipo.policies[other].Name == name && !renamedAway(doc, other, name) {
			out = append(out, fmt.Sprintf("integration policy %s already has the name %q; Kibana refuses it (An integration policy with the name %s already exists. Please rename it or choose a different name.)", other, name, name))
		}
	}
	return out
}

// renamedAway reports whether the document renames integration policy id
// away from name (then the name is free once that change applies).
func renamedAway(doc *schema.Document, id, name string) bool {
	p, ok := doc.PackagePolicy(id)
	return ok && p.Name != "" && p.Name != name
}

// integrationPolicyDeleteRefusal is why Kibana would refuse to delete have
// (packagePolicyService.delete, FLEET/server/services/package_policy.ts;
// fleetform never sends force), or "": an is_managed package policy
// (PackagePolicyRestrictionRelatedError), then one in a hosted agent policy
// (HostedAgentPolicyRestrictionRelatedError; apis/package_policy/delete.ts
// "should fail on hosted agent policies").
func integrationPolicyDeleteRefusal(obs *observation, have kibana.IntegrationPolicy) string {
	if have.Raw["is_managed"] == true {
		return fmt.Sprintf("integration policy %s is managed (is_managed: true, e.g. preconfigured in kibana.yml); Kibana refuses it (Cannot delete package policy %s%s)", have.ID, have.ID, packagePolicyRestriction)
	}
	for _, pid := range slices.Sorted(slices.Values(have.PolicyIDs)) {
		if ap, ok := obs.policies[pid]; ok && ap.IsManaged {
			return fmt.Sprintf("agent policy %s is hosted (is_managed); Kibana refuses it (Cannot remove integrations of hosted agent policy%s)", pid, hostedAgentPolicyRestriction)
		}
	}
	return ""
}
