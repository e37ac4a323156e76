package fleetsim

import (
	"errors"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/fleetform/fleetform/internal/kversion"
)

// defaultInactivityTimeout is the schema default of inactivity_timeout.
const defaultInactivityTimeout = 1209600.0

var (
	// agentPolicyBase is AgentPolicyBaseSchema (types/models/agent_policy.ts).
	agentPolicyBase = tObject{fields: []field{
		{name: "id", t: tString{}},
		{name: "space_ids", t: tArray{elem: tString{}}},
		{name: "name", t: tString{minLen: 1, nonBlank: true}, required: true},
		{name: "namespace", t: tValidated{inner: tString{minLen: 1}, fn: validateNamespace}, required: true},
		{name: "description", t: tString{}},
		{name: "is_managed", t: tBool{}},
		{name: "has_fleet_server", t: tBool{}},
		{name: "is_default", t: tBool{}},
		{name: "is_default_fleet_server", t: tBool{}},
		{name: "unenroll_timeout", t: tValidated{inner: tNumber{min: &zero}, fn: validateInteger}},
		{name: "inactivity_timeout", t: tValidated{inner: tNumber{min: &zero}, fn: validateInteger}, def: defaultInactivityTimeout},
		{name: "monitoring_enabled", t: tArray{elem: tEnum{"logs", "metrics", "traces"}}},
		{name: "keep_monitoring_alive", t: tNullOr{tBool{}}},
		{name: "data_output_id", t: tNullOr{tString{}}},
		{name: "monitoring_output_id", t: tNullOr{tString{}}},
		{name: "download_source_id", t: tNullOr{tString{}}},
		{name: "fleet_server_host_id", t: tNullOr{tString{}}},
		{name: "agent_features", t: tArray{elem: tObject{fields: []field{{name: "name", t: tString{}, required: true}, {name: "enabled", t: tBool{}, required: true}}}}},
		{name: "is_protected", t: tBool{}},
		{name: "overrides", t: tNullOr{tValidated{inner: tRecord{}, fn: validateOverrides}}},
		// getSettingsAPISchema('AGENT_POLICY_ADVANCED_SETTINGS'): advanced_settings.go.
		{name: "advanced_settings", t: advancedSettingsSchema},
		{name: "supports_agentless", t: tNullOr{tBool{}}},
		{name: "global_data_tags", t: tValidated{inner: tArray{elem: tObject{fields: []field{
			{name: "name", t: tString{}, required: true},
			{name: "value", t: tOneOfScalar{"string", "number"}, required: true},
		}}}, fn: validateGlobalDataTags}},
		{name: "agentless", t: tObject{fields: []field{{name: "resources", t: tObject{fields: []field{{name: "requests", t: tObject{fields: []field{
			{name: "memory", t: tValidated{inner: tString{}, fn: matchOr(`^\d+(Mi|Gi)$`, "Invalid memory format")}},
			{name: "cpu", t: tValidated{inner: tString{}, fn: matchOr(`^(\d+m|\d+(\.\d+)?)$`, "Invalid CPU format")}},
		}}}}}}}}},
		{name: "monitoring_pprof_enabled", t: tBool{}},
		{name: "monitoring_http", t: tObject{fields: []field{
			{name: "enabled", t: tBool{}},
			{name: "host", t: tString{}}, // maybe(string({defaultValue})): maybe drops the default (inferred)
			{name: "port", t: tNumber{min: &zero, max: &maxMonitoringPort}},
			{name: "buffer", t: tObject{fields: []field{{name: "enabled", t: tBool{}, def: false}}}},
		}}},
		{name: "monitoring_diagnostics", t: tObject{fields: []field{
			{name: "limit", t: tObject{fields: []field{{name: "interval", t: tString{}}, {name: "burst", t: tNumber{}}}}},
			{name: "uploader", t: tObject{fields: []field{{name: "max_retries", t: tNumber{}}, {name: "init_dur", t: tString{}}, {name: "max_dur", t: tString{}}}}},
		}}},
		{name: "required_versions", t: tNullOr{tArray{elem: tObject{fields: []field{
			{name: "version", t: tString{}, required: true},
			{name: "percentage", t: tNumber{min: &zero, max: &hundred}, required: true},
		}}}}},
	}}
	// NewAgentPolicySchema adds force; UpdateAgentPolicyRequestSchema adds bumpRevision too.
	newAgentPolicySchema    = agentPolicyBase.with(field{name: "force", t: tBool{}})
	updateAgentPolicySchema = agentPolicyBase.with(field{name: "force", t: tBool{}}, field{name: "bumpRevision", t: tBool{}})
	deleteAgentPolicySchema = tObject{fields: []field{{name: "agentPolicyId", t: tString{}, required: true}, {name: "force", t: tBool{}}}}
	// Query schemas are plain schema.object (types/rest_spec/agent_policy.ts,
	// package_policy.ts): an unknown key is "[request query.<key>]: definition
	// for this key is missing".
	createAgentPolicyQuery = tObject{fields: []field{{name: "sys_monitoring", t: tBool{}}}}
	formatQuery            = tObject{fields: []field{{name: "format", t: tEnum{"simplified", "legacy"}}}}
	listAgentPoliciesQuery = tObject{validate: perPageWithAgentCount, fields: []field{
		{name: "page", t: tNumber{}, def: 1.0},
		{name: "perPage", t: tNumber{}, def: 20.0},
		{name: "sortField", t: tString{}},
		{name: "sortOrder", t: tEnum{"desc", "asc"}},
		{name: "showUpgradeable", t: tBool{}},
		// kuery's validate is validateKuery(value, [agent policy SO type], mappings, true):
		// a bad key or bad syntax is a 400 at request query.kuery.
		{name: "kuery", t: tValidated{inner: tString{}, fn: validateAgentPolicyKuery}},
		{name: "noAgentCount", t: tBool{}},
		{name: "withAgentCount", t: tBool{}},
		{name: "full", t: tBool{}},
		{name: "format", t: tEnum{"simplified", "legacy"}},
	}}
	bulkGetSchema = tObject{fields: []field{
		{name: "ids", t: tArray{elem: tString{}}, required: true},
		{name: "ignoreMissing", t: tBool{}},
		{name: "full", t: tBool{}},
	}}
	bulkGetQuery             = formatQuery
	listPackagePoliciesQuery = tObject{fields: []field{
		{name: "page", t: tNumber{}, def: 1.0},
		{name: "perPage", t: tNumber{}, def: 20.0},
		{name: "sortField", t: tString{}},
		{name: "sortOrder", t: tEnum{"desc", "asc"}},
		{name: "showUpgradeable", t: tBool{}},
		{name: "kuery", t: tString{}},
		{name: "format", t: tEnum{"simplified", "legacy"}},
		{name: "withAgentCount", t: tBool{}},
	}}
)

var (
	zero              = 0.0
	hundred           = 100.0
	maxMonitoringPort = 65353.0 // sic: the schema's max
)

// validateNamespace is AgentPolicyNamespaceSchema's validate: isValidNamespace
// (common/services/is_valid_namespace.ts).
func validateNamespace(v any) string {
	ns, _ := v.(string)
	switch {
	case strings.TrimSpace(ns) == "":
		return "Namespace is required"
	case ns != strings.ToLower(ns):
		return "Namespace must be lowercase"
	case invalidNamespaceChars.MatchString(ns):
		return "Namespace contains invalid characters"
	case len(ns) > 100:
		return "Namespace cannot be more than 100 bytes"
	}
	return ""
}

// validateInteger is isInteger: "${n} is not a valid integer".
func validateInteger(v any) string {
	f, _ := v.(float64)
	if f != math.Trunc(f) {
		return strconv.FormatFloat(f, 'f', -1, 64) + " is not a valid integer"
	}
	return ""
}

// validateOverrides: "inputs overrides is not allowed".
func validateOverrides(v any) string {
	m, _ := v.(map[string]any)
	for k := range m {
		if inputsOverride.MatchString(k) {
			return "inputs overrides is not allowed"
		}
	}
	return ""
}

var inputsOverride = regexp.MustCompile(`^inputs(\.)?`)

// validateGlobalDataTags is validateGlobalDataTagInput.
func validateGlobalDataTags(v any) string {
	tags, _ := v.([]any)
	seen := map[string]bool{}
	var dups, spaces, errs []string
	for _, t := range tags {
		name, _ := t.(map[string]any)["name"].(string)
		if regexp.MustCompile(`\s`).MatchString(name) {
			spaces = append(spaces, "'"+name+"'")
		}
		trimmed := strings.TrimSpace(name)
		if seen[trimmed] {
			dups = append(dups, "'"+trimmed+"'")
		}
		seen[trimmed] = true
	}
	if len(dups) > 0 {
		errs = append(errs, "Found duplicate tag names: ["+strings.Join(dups, ", ")+"], duplicate tag names are not allowed.")
	}
	if len(spaces) > 0 {
		errs = append(errs, "Found tag names with spaces: ["+strings.Join(spaces, ", ")+"], tag names with spaces are not allowed.")
	}
	return strings.Join(errs, " ")
}

func matchOr(pattern, msg string) func(any) string {
	re := regexp.MustCompile(pattern)
	return func(v any) string {
		if s, _ := v.(string); !re.MatchString(s) {
			return msg
		}
		return ""
	}
}

// validateAgentPolicyKuery refuses a kuery naming a key the agent policy
// mappings lack, or one with a field but broken syntax; a kuery without any
// field (free text) passes.
func validateAgentPolicyKuery(v any) string {
	k, _ := v.(string)
	if strings.TrimSpace(k) == "" {
		return ""
	}
	_, err := parseKuery(k)
	var unknown unknownFieldError
	switch {
	case errors.As(err, &unknown):
		return err.Error()
	case err != nil && strings.Contains(k, ":"):
		return err.Error()
	}
	return ""
}

// validateRequiredVersions is validateRequiredVersions of
// services/agent_policies/required_versions.ts, as agentPolicyService.create
// and .update (services/agent_policy.ts) call it with the request body's
// required_versions. Absent or null, nothing is checked (`if
// (!requiredVersions) return`); a list, even an empty one, is checked (an
// empty array is truthy in JavaScript). In order:
//
//   - the enableAutomaticAgentUpgrades experimental flag
//     (common/experimental_features.ts): off by default until
//     elastic/kibana#219932 "[Fleet] enable feature flag
//     enableAutomaticAgentUpgrades" (merged 2025-05, backported to 8.19 only),
//     so a stock 9.0.x refuses every list with AgentPolicyInvalidError (400);
//   - from 9.1.0, the Enterprise licence (elastic/kibana#224393 "[Fleet] Add
//     license gate around agents automatic upgrades feature", merged
//     2025-06-18): `licenseService.isEnterprise()` (an active enterprise or
//     trial licence) or FleetUnauthorizedError, a 403 with the message
//     (errors/handlers.ts fleetErrorToResponseOptions);
//   - checkTargetVersionsValidity (common/services/agent_utils.ts), wrapped as
//     `Policy "<name>" failed required_versions validation: <error>` (400).
//
// The update passes `agentPolicy.name ?? id` as the name. The Agents 'All'
// privilege check on a changed required_versions (elastic/kibana#232429) is
// not modelled: fleetsim grants Fleet's sub-feature privileges only as a whole
// (kibana.go allowed). The message forms before the 9.0 release
// (`Duplicate versions not allowed in required_versions`, then
// `Policy "<name>" failed validation: duplicate versions not allowed in
// required_versions`) did not ship: docs/fleetsim-inferred.md item 55.
func (c *Cluster) validateRequiredVersions(name string, v any) *kresp {
	rvs, ok := v.([]any)
	if !ok {
		return nil
	}
	if !gateAutomaticUpgrades.Has(c.cfg.Version) {
		return badRequest(`Policy "%s" failed validation: required_versions are not allowed when automatic upgrades feature is disabled`, name)
	}
	if gateRequiredVersionsLicence.Has(c.cfg.Version) && !c.licenceAtLeastEnterprise() {
		return kerr(http.StatusForbidden, "Agents auto upgrades feature requires at least Enterprise license")
	}
	if msg := checkTargetVersionsValidity(rvs); msg != "" {
		return badRequest(`Policy "%s" failed required_versions validation: %s`, name, msg)
	}
	return nil
}

// The required_versions gates, per release line (kversion.Gate; sources in
// docs/fleetsim-inferred.md item 58), the same as fleetform's
// reconciler/agent_policies_required_versions.go:
const (
	// gateRequiredVersions: the key (elastic/kibana#206600, v9.0.0), on 8.19
	// from 8.19.0 (elastic/kibana#217461, the 8.x backport).
	gateRequiredVersions kversion.Gate = "8.19.0 9.0.0"
	// gateAutomaticUpgrades: the enableAutomaticAgentUpgrades flag on by
	// default (elastic/kibana#219932, 9.1.0; its 8.19 backport
	// elastic/kibana#221210, merged 2025-05-21). 9.0.x keeps it off.
	gateAutomaticUpgrades kversion.Gate = "8.19.0 9.1.0"
	// gateRequiredVersionsLicence: the Enterprise licence gate
	// (elastic/kibana#224393, 9.1.0; its 8.19 backport
	// elastic/kibana#229752, merged 2025-07-29, 8.19.0's release day: from
	// 8.19.1, inferred).
	gateRequiredVersionsLicence kversion.Gate = "8.19.1 9.1.0"
)

// checkTargetVersionsValidity is common/services/agent_utils.ts in its
// newest form: each rule over the whole list before the next. A
// percentage below 1 (0, 0.5) is "percentage must be greater than 0"; an
// absent one compares false in JavaScript (undefined < 1) and is
// "percentage is required" (the request schema requires it first).
func checkTargetVersionsValidity(rvs []any) string {
	item := func(rv any) map[string]any { m, _ := rv.(map[string]any); return m }
	seen := map[string]bool{}
	for _, rv := range rvs {
		ver, _ := item(rv)["version"].(string)
		if seen[ver] {
			return "duplicate versions not allowed"
		}
		seen[ver] = true
	}
	for _, rv := range rvs {
		if p, ok := item(rv)["percentage"].(float64); ok && p < 1 {
			return "percentage must be greater than 0"
		}
	}
	for _, rv := range rvs {
		if p, _ := item(rv)["percentage"].(float64); p == 0 {
			return "percentage is required"
		}
	}
	for _, rv := range rvs {
		ver, _ := item(rv)["version"].(string)
		if !semverPattern.MatchString(strings.TrimSpace(ver)) {
			return "invalid semver version " + ver
		}
	}
	sum := 0.0
	for _, rv := range rvs {
		p, _ := item(rv)["percentage"].(float64)
		sum += p
	}
	if sum > 100 {
		return "sum of percentages cannot exceed 100"
	}
	return ""
}

// semverPattern is semver's valid() for a plain version (an optional "v" or "=" prefix).
var semverPattern = regexp.MustCompile(`^[v=]?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$`)

func str(v any) string { s, _ := v.(string); return s }

// perPageWithAgentCount is GetAgentPoliciesRequestSchema's object validate.
func perPageWithAgentCount(q map[string]any) string {
	perPage, _ := q["perPage"].(float64)
	if perPage > 100 && (q["full"] == true || q["noAgentCount"] == false || q["withAgentCount"] == true) {
		return "perPage should be less or equal to 100 when fetching full policies or agent count."
	}
	return ""
}
