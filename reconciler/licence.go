package reconciler

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// LicenseSource reads a cluster's licence; *elastic.Client (GET /_license)
// implements it.
type LicenseSource interface {
	License(ctx context.Context) (elastic.License, error)
}

// PolicyOutputLicenseError is Kibana's 400 for an agent policy that sets
// data_output_id or monitoring_output_id below a platinum licence (trap 15).
const PolicyOutputLicenseError = "Invalid licence to set per policy output, you need platinum licence"

// licenseRank orders Elastic licence types as Kibana's licensing plugin does.
var licenseRank = map[string]int{"basic": 10, "standard": 20, "gold": 30, "platinum": 40, "enterprise": 50, "trial": 60}

// LicenseAtLeast reports whether licence have is at least want.
func LicenseAtLeast(have, want string) bool {
	return licenseRank[strings.ToLower(have)] >= licenseRank[want]
}

// LicenseLevel is the licence type Kibana acts on: the type of an active
// licence, "expired" for any other status.
func LicenseLevel(l elastic.License) string {
	if l.Status != "" && l.Status != "active" {
		return "expired"
	}
	return l.Type
}

// PolicyOutputLicenseProblem returns Kibana's refusal of per-policy outputs
// on the agent policies named, with the cluster's licence, or "" when
// license is at least platinum or no policy is named.
func PolicyOutputLicenseProblem(cluster, license string, policies []string) string {
	if len(policies) == 0 || LicenseAtLeast(license, "platinum") {
		return ""
	}
	return fmt.Sprintf("%s (%s licence is %q; agent policies: %s)", PolicyOutputLicenseError,
		cluster, license, strings.Join(slices.Sorted(slices.Values(policies)), ", "))
}

// BlockedByPolicyOutputLicense reports whether ch is an agent policy change
// the plan blocked because the main cluster's licence is below platinum.
func BlockedByPolicyOutputLicense(ch plan.Change) bool {
	return ch.Kind == plan.KindAgentPolicy && ch.Action == plan.Blocked && strings.HasPrefix(ch.Reason, PolicyOutputLicenseError)
}

// setsPolicyOutput reports whether some declared agent policy sets a
// per-policy output or required_versions (declaresRequiredVersions), an
// integration policy asks for an enterprise feature (needsEnterprise), or a
// remote output turns Kibana's integration sync on (syncsIntegrations):
// only then does observe read the licence.
func setsPolicyOutput(doc *schema.Document) bool {
	return needsEnterprise(doc) || declaresRequiredVersions(doc) || syncsIntegrations(doc) || slices.ContainsFunc(doc.AgentPolicies, func(p schema.AgentPolicy) bool {
		return p.DataOutputID != nil || p.MonitoringOutputID != nil
	})
}

// exemptPackages are the integrations whose agent policies Kibana lets set
// a per-policy output below platinum.
var exemptPackages = []string{"fleet_server", "synthetics"}

// needsPolicyOutputLicense reports whether Kibana runs the platinum check
// for a declared policy with the fields fleetform would send (want), given
// the observed policy (nil on create), before looking at its package
// policies. Kibana checks on create, and on update only when
// data_output_id or monitoring_output_id changes; the resulting policy
// must then set one, and is exempt when it is managed and preconfigured or
// runs Fleet Server (fleet-api.md §3.4 step 3).
func needsPolicyOutputLicense(want map[string]any, have *kibana.AgentPolicy) bool {
	sets := func(v any) bool { s, _ := v.(string); return s != "" }
	if !sets(want["data_output_id"]) && !sets(want["monitoring_output_id"]) {
		return false
	}
	if have == nil {
		return true
	}
	if (have.IsManaged && have.IsPreconfigured) || have.HasFleetServer {
		return false
	}
	return derefOrNil(have.DataOutputID) != want["data_output_id"] || derefOrNil(have.MonitoringOutputID) != want["monitoring_output_id"]
}

// SyncIntegrationsLicenseError is Kibana's refusal of a
// remote_elasticsearch output whose create or update body sets
// sync_integrations: true below an Enterprise licence:
// remoteSyncIntegrationsCheck (server/services/output.ts) throws
// OutputUnauthorizedError unless canEnableSyncIntegrations(), which wants
// licenseService.isEnterprise() (an active enterprise or trial licence).
const SyncIntegrationsLicenseError = "Remote sync integrations require at least an Enterprise license."

// syncIntegrationsRefusal returns why Kibana would refuse the create or
// update of output o with the fields the plan sends (all of them on create
// or on a type change, the changed ones otherwise), or "". A licence not
// read ("") blocks nothing, nor does a Kibana before sync_integrations,
// where blockUnsupported names the version instead.
func syncIntegrationsRefusal(c *computed, cluster string, o *schema.Output, sendsAll bool, fields []plan.FieldDiff) string {
	if o.Type != "remote_elasticsearch" || o.SyncIntegrations == nil || !*o.SyncIntegrations {
		return ""
	}
	if !sendsAll && !slices.Contains(topKeys(fields), "sync_integrations") {
		return ""
	}
	if v := c.obs.kibanaVersion; v != "" && !kibanaAtLeast(v, featSyncIntegrations.since) {
		return ""
	}
	if c.obs.license == "" || LicenseAtLeast(c.obs.license, "enterprise") {
		return ""
	}
	return fmt.Sprintf("%s (%s licence is %q; output %s sets sync_integrations: true); upgrade the licence, or set sync_via: direct to let fleetform sync the integrations instead",
		SyncIntegrationsLicenseError, cluster, c.obs.license, o.ID)
}

// syncsIntegrations reports whether some declared remote output turns
// Kibana's integration sync on: then observe reads the licence.
func syncsIntegrations(doc *schema.Document) bool {
	return slices.ContainsFunc(doc.Outputs, func(o schema.Output) bool {
		return o.Type == "remote_elasticsearch" && o.SyncIntegrations != nil && *o.SyncIntegrations
	})
}
