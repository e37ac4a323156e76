package reconciler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/internal/kversion"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Kibana's refusals of an agent policy's required_versions (automatic agent
// upgrades) that depend on the cluster, not on the list itself — validate
// checks the list offline (schema/agent_policy.go requiredVersions).
// validateRequiredVersions (services/agent_policies/required_versions.ts),
// which agentPolicyService.create and .update call with the request body's
// required_versions, checks nothing when it is absent or null, and checks a
// list — even an empty one, which JavaScript holds true — first against the
// enableAutomaticAgentUpgrades experimental flag, then the licence.
// fleetform never sends an empty list or null: policyFields (canonicalMap)
// omits both, so required_versions is then not managed.
const (
	// RequiredVersionsLicenseError is Kibana's 403 (FleetUnauthorizedError)
	// below an Enterprise licence (gateRequiredVersionsLicence):
	// elastic/kibana#224393 "[Fleet] Add license gate around agents
	// automatic upgrades feature" (merged 2025-06-18).
	// licenseService.isEnterprise() wants an active enterprise or trial
	// licence.
	RequiredVersionsLicenseError = "Agents auto upgrades feature requires at least Enterprise license"
	// requiredVersionsFlagOff is Kibana's 400 (AgentPolicyInvalidError)
	// while the enableAutomaticAgentUpgrades flag is off, its default
	// before gateAutomaticUpgrades.
	requiredVersionsFlagOff = `Policy "%s" failed validation: required_versions are not allowed when automatic upgrades feature is disabled`
)

// The required_versions gates, per release line (kversion.Gate; sources in
// docs/fleetsim-inferred.md item 58). fleetsim's policies_schema.go holds
// the same values.
const (
	// gateRequiredVersions: the key, from 9.0.0 (elastic/kibana#206600) and
	// on 8.19 from 8.19.0 (elastic/kibana#217461, the 8.x backport).
	gateRequiredVersions kversion.Gate = "8.19.0 9.0.0"
	// gateAutomaticUpgrades: the enableAutomaticAgentUpgrades flag on by
	// default — elastic/kibana#219932 on main (9.1.0;
	// elastic/docs-content#2277 "stack: ga 9.1.0") and its 8.19 backport
	// elastic/kibana#221210 (merged 2025-05-21, before 8.19.0). 9.0.x keeps
	// it off.
	gateAutomaticUpgrades kversion.Gate = "8.19.0 9.1.0"
	// gateRequiredVersionsLicence: the Enterprise licence gate —
	// elastic/kibana#224393 (9.1.0) and its 8.19 backport
	// elastic/kibana#229752, merged 2025-07-29, the day 8.19.0 was
	// released, so from 8.19.1 (the patch is inferred).
	gateRequiredVersionsLicence kversion.Gate = "8.19.1 9.1.0"
)

// declaresRequiredVersions reports whether some declared agent policy sets
// required_versions: then observe reads the main cluster's licence. An
// empty list is never sent (policyFields: canonicalMap omits it), so it
// does not count.
func declaresRequiredVersions(doc *schema.Document) bool {
	return slices.ContainsFunc(doc.AgentPolicies, func(p schema.AgentPolicy) bool { return len(p.RequiredVersions) > 0 })
}

// requiredVersionsRefusal returns why Kibana would refuse the create (have
// nil) or update of agent policy id with the fields fleetform sends (want;
// fields, on update, the changes), or "". The request carries
// required_versions on create when it is declared and not null, on update
// when it changed (policyUpdateBody) to a list. Before 9.0.0 the key is
// unknown and blockUnsupported names the version it needs; on 9.0.x the
// flag is off; from 9.1.0 (or an unread version) the licence must be
// Enterprise (a licence not read, "", blocks nothing).
func (r *Reconciler) requiredVersionsRefusal(c *computed, id string, want map[string]any, have *kibana.AgentPolicy, fields []plan.FieldDiff) string {
	if want["required_versions"] == nil {
		return ""
	}
	if have != nil && !slices.Contains(topKeys(fields), "required_versions") {
		return ""
	}
	name, _ := want["name"].(string)
	if name == "" && have != nil {
		name = have.Name
	}
	v := c.obs.kibanaVersion
	switch {
	case v != "" && !kibanaAtLeast(v, featRequiredVersions.since):
		return ""
	case v != "" && !kibanaAtLeast(v, gateAutomaticUpgrades):
		return fmt.Sprintf("cluster %s runs Kibana %s, where automatic agent upgrades are off by default (the enableAutomaticAgentUpgrades experimental flag, on from %s); Kibana would refuse agent policy %s: "+requiredVersionsFlagOff+"; upgrade Kibana or remove required_versions from the declaration",
			r.cfg.Cluster, v, gateAutomaticUpgrades, id, name)
	case v != "" && !kibanaAtLeast(v, gateRequiredVersionsLicence):
		return ""
	case c.obs.license != "" && !LicenseAtLeast(c.obs.license, "enterprise"):
		return fmt.Sprintf("%s (%s licence is %q; agent policy %s sets required_versions); automatic agent upgrades need an Enterprise licence: upgrade the licence or remove required_versions from the declaration",
			RequiredVersionsLicenseError, r.cfg.Cluster, c.obs.license, id)
	}
	return ""
}

// BlockedByRequiredVersionsLicense reports whether ch is an agent policy
// change the plan blocked because the main cluster's licence is below
// Enterprise.
func BlockedByRequiredVersionsLicense(ch plan.Change) bool {
	return ch.Kind == plan.KindAgentPolicy && ch.Action == plan.Blocked && strings.HasPrefix(ch.Reason, RequiredVersionsLicenseError)
}
