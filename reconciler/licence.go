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
// per-policy output or required_versions (declaresRequiredVersions), or an
// integration policy asks for an enterprise feature (needsEnterprise): only
// then does observe read the licence.
func setsPolicyOutput(doc *schema.Document) bool {
	return needsEnterprise(doc) || declaresRequiredVersions(doc) || slices.ContainsFunc(doc.AgentPolicies, func(p schema.AgentPolicy) bool {
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
