package schema

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// AgentPolicy is a Fleet agent policy with every field Kibana's agent policy
// schema lets a client set (AgentPolicyBaseSchema in
// server/types/models/agent_policy.ts); only declared fields are managed.
// With Adopt set, fleetform manages only the output fields (data_output_id,
// monitoring_output_id, fleet_server_host_id) of an existing policy and
// never creates or deletes it. An absent or null output id means
// "the default output".
type AgentPolicy struct {
	ID                 string  `json:"id"`
	Name               string  `json:"name,omitempty"`      // required unless adopt
	Namespace          string  `json:"namespace,omitempty"` // required unless adopt
	Description        *string `json:"description,omitempty"`
	DataOutputID       *string `json:"data_output_id,omitempty"`       // null or absent: the default output
	MonitoringOutputID *string `json:"monitoring_output_id,omitempty"` // null or absent: the default monitoring output
	FleetServerHostID  *string `json:"fleet_server_host_id,omitempty"` // null or absent: the default Fleet Server host
	DownloadSourceID   *string `json:"download_source_id,omitempty"`   // null or absent: the default download source

	SpaceIDs            []string          `json:"space_ids,omitempty"`
	MonitoringEnabled   *[]string         `json:"monitoring_enabled,omitempty"` // logs, metrics, traces; [] disables monitoring
	KeepMonitoringAlive *bool             `json:"keep_monitoring_alive,omitempty"`
	InactivityTimeout   *int64            `json:"inactivity_timeout,omitempty"` // seconds; Kibana's default 1209600
	UnenrollTimeout     *int64            `json:"unenroll_timeout,omitempty"`   // seconds
	IsProtected         *bool             `json:"is_protected,omitempty"`       // tamper protection
	IsManaged           *bool             `json:"is_managed,omitempty"`
	GlobalDataTags      []GlobalDataTag   `json:"global_data_tags,omitempty"`
	AdvancedSettings    map[string]any    `json:"advanced_settings,omitempty"`
	AgentFeatures       []AgentFeature    `json:"agent_features,omitempty"`
	Overrides           map[string]any    `json:"overrides,omitempty"`
	SupportsAgentless   *bool             `json:"supports_agentless,omitempty"`
	Agentless           map[string]any    `json:"agentless,omitempty"`
	MonitoringPprof     *bool             `json:"monitoring_pprof_enabled,omitempty"`
	MonitoringHTTP      map[string]any    `json:"monitoring_http,omitempty"`
	MonitoringDiag      map[string]any    `json:"monitoring_diagnostics,omitempty"`
	RequiredVersions    []RequiredVersion `json:"required_versions,omitempty"`

	// Read by Kibana only when it creates the policy.
	IsDefault            *bool `json:"is_default,omitempty"`
	IsDefaultFleetServer *bool `json:"is_default_fleet_server,omitempty"`
	HasFleetServer       *bool `json:"has_fleet_server,omitempty"`

	Adopt bool `json:"adopt,omitempty"`
}

// GlobalDataTag is a field added to every input of the policy; Value is a
// string or a number.
type GlobalDataTag struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// AgentFeature turns an agent feature (e.g. fqdn) on or off.
type AgentFeature struct {
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
}

// RequiredVersion is an automatic-upgrade target: a version and the
// percentage of agents to upgrade to it.
type RequiredVersion struct {
	Version    string  `json:"version"`
	Percentage float64 `json:"percentage"`
}

// Kibana's well-known ids of objects it creates itself.
const (
	DefaultFleetServerHostID = "fleet-default-fleet-server-host" // DEFAULT_FLEET_SERVER_HOST_ID
	DefaultDownloadSourceID  = "fleet-default-download-source"   // DEFAULT_DOWNLOAD_SOURCE_ID
)

// adoptedPolicyFields are the keys an adopted agent policy may hold: fleetform
// manages only its output fields.
var adoptedPolicyFields = []string{"id", "adopt", "data_output_id", "monitoring_output_id", "fleet_server_host_id"}

var whitespaceRE = regexp.MustCompile(`\s`)

func (c *checker) agentPolicies(doc *Document) {
	outputs := map[string]bool{}
	for _, o := range doc.Outputs {
		outputs[o.ID] = true
	}
	for _, id := range WellKnownOutputIDs {
		outputs[id] = true
	}
	ids := map[string]int{}
	names := map[string]int{}
	for i, ap := range doc.AgentPolicies {
		p := fmt.Sprintf("/agent_policies/%d", i)
		if j, dup := ids[ap.ID]; dup && ap.ID != "" {
			c.at(p+"/id", "duplicate agent policy id %q (also at %s)", ap.ID, c.where(fmt.Sprintf("/agent_policies/%d/id", j)))
		} else {
			ids[ap.ID] = i
		}
		if ap.Name != "" {
			if j, dup := names[ap.Name]; dup {
				c.at(p+"/name", "duplicate agent policy name %q (also at %s); Kibana requires unique names", ap.Name, c.where(fmt.Sprintf("/agent_policies/%d/name", j)))
			} else {
				names[ap.Name] = i
			}
		}
		if ap.Adopt {
			raw, _ := c.raw(p)
			fields, _ := raw.(map[string]any)
			for _, k := range sortedNames(fields) {
				if !slices.Contains(adoptedPolicyFields, k) {
					c.at(p+"/"+escapePointerToken(k), "%s must be omitted with adopt: true (adopt manages only data_output_id, monitoring_output_id and fleet_server_host_id)", k)
				}
			}
		}
		for _, f := range []struct {
			key string
			id  *string
		}{{"data_output_id", ap.DataOutputID}, {"monitoring_output_id", ap.MonitoringOutputID}} {
			if f.id != nil && !outputs[*f.id] && !c.cannotTell("outputs") {
				c.at(p+"/"+f.key, "output %q is not declared in outputs (nor a Kibana well-known output such as %s)%s", *f.id, DefaultOutputID, didYouMean(*f.id, outputs))
			}
		}
		c.reference(p+"/fleet_server_host_id", ap.FleetServerHostID, "Fleet Server host", "fleet_server_hosts", c.fleetServerHostIDs(doc), DefaultFleetServerHostID)
		c.reference(p+"/download_source_id", ap.DownloadSourceID, "download source", "download_sources", c.downloadSourceIDs(doc), DefaultDownloadSourceID)
		c.globalDataTags(p+"/global_data_tags", ap.GlobalDataTags)
		c.requiredVersions(p+"/required_versions", ap.RequiredVersions)
		c.policySpaces(p+"/space_ids", ap.SpaceIDs, doc.Clusters.Main.Kibana.Space)
		// Kibana's overrides validation (agent_policy.ts).
		for k := range ap.Overrides {
			if k == "inputs" || strings.HasPrefix(k, "inputs.") {
				c.at(p+"/overrides/"+escapePointerToken(k), "inputs overrides is not allowed")
			}
		}
	}
}

// globalDataTags follows Kibana's validateGlobalDataTagInput, message for message.
func (c *checker) globalDataTags(p string, tags []GlobalDataTag) {
	seen := map[string]bool{}
	var duplicates, withSpaces []string
	for _, t := range tags {
		if whitespaceRE.MatchString(t.Name) {
			withSpaces = append(withSpaces, "'"+t.Name+"'")
		}
		name := strings.TrimSpace(t.Name)
		if seen[name] {
			duplicates = append(duplicates, "'"+name+"'")
		}
		seen[name] = true
	}
	var errs []string
	if len(duplicates) > 0 {
		errs = append(errs, fmt.Sprintf("Found duplicate tag names: [%s], duplicate tag names are not allowed.", strings.Join(duplicates, ", ")))
	}
	if len(withSpaces) > 0 {
		errs = append(errs, fmt.Sprintf("Found tag names with spaces: [%s], tag names with spaces are not allowed.", strings.Join(withSpaces, ", ")))
	}
	if len(errs) > 0 {
		c.at(p, "%s", strings.Join(errs, " "))
	}
}

// semverRE is what semver.valid accepts (node-semver, not loose): an
// optional "v" or "=", major.minor.patch, a pre-release and build metadata.
var semverRE = regexp.MustCompile(`^[=v]?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// requiredVersions follows Kibana's checkTargetVersionsValidity
// (common/services/agent_utils.ts), which the agent policy service runs
// on create and update (validateRequiredVersions): the first failing rule
// is Kibana's answer, so it is the one reported.
func (c *checker) requiredVersions(p string, rv []RequiredVersion) {
	seen := map[string]bool{}
	sum := 0.0
	for i, v := range rv {
		ip := fmt.Sprintf("%s/%d", p, i)
		switch {
		case seen[v.Version]:
			c.at(ip+"/version", "duplicate versions not allowed")
			return
		case v.Percentage < 1:
			c.at(ip+"/percentage", "percentage must be greater than 0")
			return
		case !semverRE.MatchString(strings.TrimSpace(v.Version)):
			c.at(ip+"/version", "invalid semver version %s", v.Version)
			return
		}
		seen[v.Version] = true
		sum += v.Percentage
	}
	if sum > 100 {
		c.at(p, "sum of percentages cannot exceed 100")
	}
}

// reference reports an id that names no declared object of a kind (nor the
// Kibana well-known one). Nothing is said when a file could not be parsed:
// the object may be in it.
func (c *checker) reference(p string, id *string, what, key string, declared map[string]bool, wellKnown string) {
	if id == nil || declared[*id] || *id == wellKnown || c.cannotTell(key) {
		return
	}
	hint := ""
	if wellKnown != "" {
		hint = fmt.Sprintf(" (nor Kibana's well-known %s)", wellKnown)
	}
	c.at(p, "%s %q is not declared in %s%s%s", what, *id, key, hint, didYouMean(*id, declared))
}

// didYouMean is " (did you mean "x"?)" when one of the declared ids is one
// edit away from id (a typo, a swap, a character missing or doubled), else
// "". Ids are often siblings two edits apart (remote-west, remote-east):
// those are not near misses.
func didYouMean(id string, declared map[string]bool) string {
	if s := suggest(id, sortedNames(declared)); s != "" && editDistance(id, s) == 1 {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// policySpaces refuses space_ids that leave the repository's space: from 9.1
// Kibana shows a policy only in the spaces of its space_ids (or "*"), and
// updating space_ids moves it (fleet server/services/spaces/agent_policy.ts),
// so fleetform, which reads Fleet through its own space, would lose sight of
// it and create it again.
func (c *checker) policySpaces(p string, ids []string, space string) {
	if space == "" {
		space = "default"
	}
	for i, id := range ids {
		if id == "?" {
			// Kibana answers "?" for a space the caller cannot read
			// (the security plugin's saved_objects_security_extension.ts getRedactedSpaces); it names no space.
			c.at(fmt.Sprintf("%s/%d", p, i), "\"?\" is how Kibana shows a space these credentials cannot read, not a space id; name the space, or leave space_ids out to keep Kibana's")
			return
		}
	}
	if len(ids) == 0 || c.m.incomplete || slices.Contains(ids, space) || slices.Contains(ids, "*") {
		return
	}
	c.at(p, "space_ids %q leave this repository's Kibana space %q (clusters.main.kibana.space): fleetform reads Fleet through that space and would no longer see the policy; include %q (or \"*\")", ids, space, space)
}
