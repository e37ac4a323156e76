package fleetsim

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
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

// validateRequiredVersions is services/agent_policies/required_versions.ts
// (automatic upgrades enabled): AgentPolicyInvalidError, a 400.
func validateRequiredVersions(name string, v any) *kresp {
	rvs, _ := v.([]any)
	if len(rvs) == 0 {
		return nil
	}
	seen := map[string]bool{}
	sum := 0.0
	for _, rv := range rvs {
		m, _ := rv.(map[string]any)
		ver, _ := m["version"].(string)
		if seen[ver] {
			return badRequest("Policy %q failed validation: duplicate versions not allowed in required_versions", name)
		}
		seen[ver] = true
	}
	for _, rv := range rvs {
		ver, _ := rv.(map[string]any)["version"].(string)
		if !semverPattern.MatchString(ver) {
			return badRequest("Policy %q failed validation: invalid semver version %s in required_versions", name, ver)
		}
		p, _ := rv.(map[string]any)["percentage"].(float64)
		sum += p
	}
	if sum > 100 {
		return badRequest("Policy %q failed validation: sum of required_versions percentages cannot exceed 100", name)
	}
	return nil
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

// Read-only fields of GET (revision, status, updated_at, agents,
// package_policies, is_preconfigured, …) are not in the request schemas, so
// validation refuses them by name (trap 2).

func (c *Cluster) sortedPolicies() []*agentPolicy {
	ps := make([]*agentPolicy, 0, len(c.st.AgentPolicies))
	for _, p := range c.st.AgentPolicies {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *agentPolicy) int { return int(a.Seq - b.Seq) })
	return ps
}

func (c *Cluster) packagePoliciesOf(policyID string) []*packagePolicy {
	var out []*packagePolicy
	for _, id := range sortedKeys(c.st.PackagePolicies) {
		pp := c.st.PackagePolicies[id]
		if slices.Contains(pp.PolicyIDs, policyID) {
			out = append(out, pp)
		}
	}
	return out
}

func (c *Cluster) policyHasPackage(p *agentPolicy, names ...string) bool {
	for _, pp := range c.st.PackagePolicies {
		if slices.Contains(pp.PolicyIDs, p.ID) && slices.Contains(names, pp.PackageName) {
			return true
		}
	}
	return false
}

// restrictedKind names why a policy may only use elasticsearch outputs
// ("Fleet Server", "Synthetics", "agentless"), or "".
func restrictedKind(c *Cluster, p *agentPolicy) string {
	switch {
	case p.flag("has_fleet_server") || c.policyHasPackage(p, "fleet_server"):
		return "Fleet Server"
	case c.policyHasPackage(p, "synthetics"):
		return "Synthetics"
	case p.flag("supports_agentless"):
		return "agentless"
	}
	return ""
}

// allowedOutputTypes is getAllowedOutputTypesForAgentPolicy.
func (c *Cluster) allowedOutputTypes(p *agentPolicy) []string {
	if p.flag("has_fleet_server") || c.policyHasPackage(p, "fleet_server", "apm", "synthetics") || p.flag("supports_agentless") {
		return []string{typeES}
	}
	return nil
}

// validateOutputForPolicy checks the effective data output's type (3.4 step 2).
func (c *Cluster) validateOutputForPolicy(p *agentPolicy, dataOutputID any) *kresp {
	allowed := c.allowedOutputTypes(p)
	if allowed == nil {
		return nil
	}
	var o *output
	if id, ok := dataOutputID.(string); ok && id != "" {
		o = c.st.outputByID(id)
	} else {
		o = c.st.defaultOutput(false)
	}
	if o == nil || slices.Contains(allowed, o.typ()) {
		return nil
	}
	return kerrType(http.StatusBadRequest, "OutputInvalidError", "Output of type %q is not usable with policy %q.", o.typ(), p.str("name"))
}

// policiesUsingOutput: policies whose data output is id, or that follow the
// default when the output is (or becomes) the default.
func (c *Cluster) policiesUsingOutput(id string, isDefault bool) []*agentPolicy {
	var out []*agentPolicy
	for _, p := range c.sortedPolicies() {
		d, _ := p.Attrs["data_output_id"].(string)
		if d == id || (isDefault && d == "") {
			out = append(out, p)
		}
	}
	return out
}

// pinPoliciesToOutput is updateAgentPoliciesDataOutputId: Fleet Server,
// Synthetics and agentless policies that follow the default are pinned to
// the previous default (trap 12). APM policies are not pinned.
func (c *Cluster) pinPoliciesToOutput(prevDefault, _ string, _ bool, now time.Time) {
	for _, p := range c.sortedPolicies() {
		if d, _ := p.Attrs["data_output_id"].(string); d != "" {
			continue
		}
		if restrictedKind(c, p) == "" {
			continue
		}
		p.Attrs["data_output_id"] = prevDefault
		c.bumpPolicy(p, now)
	}
}

func (c *Cluster) bumpPolicy(p *agentPolicy, now time.Time) {
	c.st.touchPolicies()
	p.Attrs["revision"] = float64(p.revision() + 1)
	p.UpdatedAt = now
	p.Attrs["updated_at"] = now.Format(time.RFC3339Nano)
	p.cache = nil
}

func (c *Cluster) bumpAllPolicies(now time.Time) {
	for _, p := range c.st.AgentPolicies {
		c.bumpPolicy(p, now)
	}
}

func (c *Cluster) bumpPoliciesUsing(outputID string, now time.Time) {
	for _, p := range c.st.AgentPolicies {
		if p.Attrs["data_output_id"] == outputID || p.Attrs["monitoring_output_id"] == outputID {
			c.bumpPolicy(p, now)
		}
	}
}

func (c *Cluster) defaultPolicyUsesAPM() bool {
	for _, p := range c.st.AgentPolicies {
		if d, _ := p.Attrs["data_output_id"].(string); d == "" && c.policyHasPackage(p, "apm") {
			return true
		}
	}
	return false
}

// licenceAtLeastPlatinum is licenseService.hasAtLeast('platinum').
func (c *Cluster) licenceAtLeastPlatinum() bool {
	switch c.node.License() {
	case "platinum", "enterprise", "trial":
		return true
	}
	return false
}

// policyView is the AgentPolicy response object.
// policyView is the AgentPolicy response object. The agent count appears
// only where the list was asked for it (withAgentCount=true or
// noAgentCount=false); package_policies with full or on a single GET.
func (c *Cluster) policyView(p *agentPolicy, full bool) map[string]any {
	v := make(map[string]any, len(p.Attrs)+4)
	for k, val := range p.Attrs {
		v[k] = val
	}
	v["id"] = p.ID
	// space_ids is the saved object's namespaces, not what a body sent
	// (apis/agent_policy/agent_policy.ts "should support empty space_ids":
	// sent [], answered ["default"]); fleetsim has the default space only.
	delete(v, "space_ids")
	if versionAtLeast(c.cfg.Version, versionSpaceAwareness) {
		v["space_ids"] = []any{"default"}
	}
	if full {
		pps := []any{}
		for _, pp := range c.packagePoliciesOf(p.ID) {
			pps = append(pps, pp.view(false))
		}
		v["package_policies"] = pps
	}
	return v
}

func (c *Cluster) policyJSON(p *agentPolicy) []byte {
	if p.cache == nil {
		p.cache, _ = marshalJSON(c.policyView(p, false))
	}
	return p.cache
}

func (c *Cluster) listAgentPolicies(r *kreq) *kresp {
	q := r.query
	page := int(q["page"].(float64))
	perPage := int(q["perPage"].(float64))
	full, _ := q["full"].(bool)
	withCount, _ := q["withAgentCount"].(bool)
	if page < 1 {
		page = 1
	}
	var filter func(*agentPolicy) bool
	if k, _ := q["kuery"].(string); strings.TrimSpace(k) != "" {
		if f, err := parseKuery(k); err != nil {
			// A bare word (free-text KQL, no field) searches name and description.
			filter = searchFilter(k)
		} else {
			filter = f
		}
	}
	sortField, _ := q["sortField"].(string)
	if sortField != "name" {
		sortField = "updated_at"
	}
	desc := q["sortOrder"] != "asc"
	sorted := c.sortedPolicyList(sortField, desc)
	ps := sorted
	if filter != nil {
		ps = make([]*agentPolicy, 0, len(sorted))
		for _, p := range sorted {
			if filter(p) {
				ps = append(ps, p)
			}
		}
	}
	total := len(ps)
	start := min((page-1)*perPage, total)
	end := min(start+perPage, total)
	withAgents := withCount || q["noAgentCount"] == false
	page_ := make([][]byte, 0, end-start)
	size := 64
	for _, p := range ps[start:end] {
		var b []byte
		if full || withAgents {
			v := c.policyView(p, full)
			if withAgents {
				v["agents"] = float64(p.Agents)
			}
			b, _ = marshalJSON(v)
		} else {
			b = c.policyJSON(p)
		}
		page_ = append(page_, b)
		size += len(b) + 1
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Grow(size)
	buf.WriteString(`{"items":[`)
	for i, b := range page_ {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
	}
	fmt.Fprintf(buf, `],"total":%d,"page":%d,"perPage":%d}`, total, page, perPage)
	return pooledResponse(buf)
}

// sortedPolicyList returns every agent policy in list order, cached until
// a policy changes.
func (c *Cluster) sortedPolicyList(field string, desc bool) []*agentPolicy {
	key := fmt.Sprint(field, desc)
	if ps, ok := c.st.policyOrder[key]; ok {
		return ps
	}
	ps := make([]*agentPolicy, 0, len(c.st.AgentPolicies))
	for _, p := range c.st.AgentPolicies {
		ps = append(ps, p)
	}
	sortPolicies(ps, field, desc)
	if c.st.policyOrder == nil {
		c.st.policyOrder = map[string][]*agentPolicy{}
	}
	c.st.policyOrder[key] = ps
	return ps
}

// sortPolicies orders a list page: by updated_at (the default) or name,
// creation order breaking ties.
func sortPolicies(ps []*agentPolicy, field string, desc bool) {
	type key struct {
		t    int64
		name string
		seq  int64
		p    *agentPolicy
	}
	keys := make([]key, len(ps))
	for i, p := range ps {
		keys[i] = key{t: p.UpdatedAt.UnixNano(), seq: p.Seq, p: p}
		if field == "name" {
			keys[i].name = p.str("name")
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		var r int
		if field == "name" {
			r = strings.Compare(a.name, b.name)
		} else {
			r = cmp.Compare(a.t, b.t)
		}
		r = cmp.Or(r, cmp.Compare(a.seq, b.seq))
		if desc {
			return -r
		}
		return r
	})
	for i, k := range keys {
		ps[i] = k.p
	}
}

func (c *Cluster) bulkGetAgentPolicies(r *kreq) *kresp {
	ignore, _ := r.body["ignoreMissing"].(bool)
	full, _ := r.body["full"].(bool)
	items := []any{}
	for _, v := range r.body["ids"].([]any) {
		id := v.(string)
		p := c.st.AgentPolicies[id]
		if p == nil {
			if ignore {
				continue
			}
			return policyNotFound(id)
		}
		items = append(items, c.policyView(p, full))
	}
	return ok(map[string]any{"items": items})
}

func policyNotFound(id string) *kresp {
	return kerr(http.StatusNotFound, "Saved object [ingest-agent-policies/%s] not found", id)
}

func (c *Cluster) getAgentPolicy(r *kreq) *kresp {
	p := c.st.AgentPolicies[r.params["agentPolicyId"]]
	if p == nil {
		return policyNotFound(r.params["agentPolicyId"])
	}
	return ok(map[string]any{"item": c.policyView(p, true)})
}

func (c *Cluster) nameTaken(name, exceptID string) []string {
	var ids []string
	for _, p := range c.sortedPolicies() {
		if p.ID != exceptID && p.str("name") == name {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

func nameExists(ids []string, name string) *kresp {
	if len(ids) == 1 {
		return kerr(http.StatusConflict, "Agent Policy '%s' already exists with name '%s'", ids[0], name)
	}
	return kerr(http.StatusConflict, "Agent Policies '%s' already exist with name '%s'", strings.Join(ids, ","), name)
}

// checkPerPolicyOutputLicence is 3.4 step 3 (trap 15).
func (c *Cluster) checkPerPolicyOutputLicence(p *agentPolicy) *kresp {
	d, _ := p.Attrs["data_output_id"].(string)
	m, _ := p.Attrs["monitoring_output_id"].(string)
	if d == "" && m == "" {
		return nil
	}
	if (p.flag("is_managed") && p.flag("is_preconfigured")) || p.flag("has_fleet_server") || c.policyHasPackage(p, "fleet_server", "synthetics") {
		return nil
	}
	if !c.licenceAtLeastPlatinum() {
		return badRequest("Invalid licence to set per policy output, you need platinum licence")
	}
	return nil
}

func (c *Cluster) createAgentPolicy(r *kreq) *kresp {
	body := r.body
	delete(body, "force") // a request option, never stored
	name := body["name"].(string)
	if resp := validateRequiredVersions(name, body["required_versions"]); resp != nil {
		return resp
	}
	if ids := c.nameTaken(name, ""); len(ids) > 0 {
		return nameExists(ids, name)
	}
	id, _ := body["id"].(string)
	if id == "" {
		if hasFS, _ := body["has_fleet_server"].(bool); hasFS && c.st.AgentPolicies["fleet-server-policy"] == nil {
			id = "fleet-server-policy"
			body["is_default_fleet_server"] = true
		} else {
			id = uuid.NewString()
		}
	}
	if c.st.AgentPolicies[id] != nil {
		return kerr(http.StatusConflict, "Saved object [ingest-agent-policies/%s] conflict", id)
	}
	now := c.now()
	attrs := cloneMap(body)
	delete(attrs, "id")
	attrs["status"] = "active"
	attrs["is_managed"] = body["is_managed"] == true
	attrs["is_protected"] = body["is_protected"] == true
	attrs["revision"] = 1.0
	attrs["updated_at"] = now.Format(time.RFC3339Nano)
	attrs["updated_by"] = cmpOr(r.principal.Username, "elastic")
	attrs["schema_version"] = "1.1.1"
	p := &agentPolicy{ID: id, Attrs: attrs, Seq: c.st.nextSeq(), UpdatedAt: now}
	if resp := c.validateOutputForPolicy(p, attrs["data_output_id"]); resp != nil {
		return resp
	}
	if resp := c.checkPerPolicyOutputLicence(p); resp != nil {
		return resp
	}
	c.st.AgentPolicies[id] = p
	c.st.touchPolicies()
	if p.flag("has_fleet_server") {
		c.addPackagePolicy(p, "fleet_server", now)
	}
	if sys, _ := r.query["sys_monitoring"].(bool); sys {
		c.addPackagePolicy(p, "system", now)
	}
	c.installMonitoringPackage(p, now)
	return ok(map[string]any{"item": c.policyView(p, true)})
}

// addPackagePolicy installs pkg if needed and adds a package policy for it.
func (c *Cluster) addPackagePolicy(p *agentPolicy, pkg string, now time.Time) {
	inst := c.st.Packages[pkg]
	if inst == nil || inst.Status != "installed" {
		latest := registryLatest(pkg)
		if latest == nil {
			return
		}
		c.st.Packages[pkg] = &installation{Name: pkg, Version: latest.Version, Status: "installed", Source: "registry", UpdatedAt: now}
		inst = c.st.Packages[pkg]
	}
	n := 1
	for _, pp := range c.st.PackagePolicies {
		if pp.PackageName == pkg {
			n++
		}
	}
	pp := &packagePolicy{ID: uuid.NewString(), Name: fmt.Sprintf("%s-%d", pkg, n), Namespace: cmpOr(p.str("namespace"), "default"),
		PolicyIDs: []string{p.ID}, PackageName: pkg, PackageVer: inst.Version, Revision: 1, CreatedAt: now, UpdatedAt: now}
	c.st.PackagePolicies[pp.ID] = pp
}

func (c *Cluster) updateAgentPolicy(r *kreq) *kresp {
	id := r.params["agentPolicyId"]
	p := c.st.AgentPolicies[id]
	if p == nil {
		return policyNotFound(id)
	}
	body := r.body
	force, _ := body["force"].(bool)
	bump := body["bumpRevision"] != false // _update bumps unless told not to, even for a no-op PUT
	delete(body, "force")
	delete(body, "bumpRevision")
	if resp := validateRequiredVersions(cmpOr(str(body["name"]), p.str("name")), body["required_versions"]); resp != nil {
		return resp
	}
	if p.str("status") == "inactive" {
		return badRequest("Agent policy %s cannot be updated because it is inactive", id)
	}
	if p.flag("is_managed") && !force {
		for _, k := range sortedKeys(body) {
			if k == "namespace" {
				continue
			}
			if !reflect.DeepEqual(body[k], p.Attrs[k]) {
				return badRequest("Cannot update %s in Fleet because the agent policy is managed by an external orchestration solution, such as Elastic Cloud, Kubernetes, etc. Please make changes using your orchestration solution.", k)
			}
		}
	}
	name := body["name"].(string)
	if ids := c.nameTaken(name, id); len(ids) > 0 {
		return nameExists(ids, name)
	}
	merged := &agentPolicy{ID: p.ID, Attrs: cloneMap(p.Attrs), Agents: p.Agents}
	for k, v := range body {
		if k != "id" {
			merged.Attrs[k] = v
		}
	}
	outputsChanged := !reflect.DeepEqual(merged.Attrs["data_output_id"], p.Attrs["data_output_id"]) ||
		!reflect.DeepEqual(merged.Attrs["monitoring_output_id"], p.Attrs["monitoring_output_id"])
	if outputsChanged {
		if resp := c.validateOutputForPolicy(merged, merged.Attrs["data_output_id"]); resp != nil {
			return resp
		}
		if resp := c.checkPerPolicyOutputLicence(merged); resp != nil {
			return resp
		}
	}
	now := c.now()
	p.Attrs = merged.Attrs
	// agentPolicyService.update: monitoring on makes sure elastic_agent is
	// installed (ensureInstalledPackage: the latest, installed with force).
	// apis/agent_policy/agent_policy.ts "should return a 200 if updating
	// monitoring_enabled on a policy".
	if mon, _ := p.Attrs["monitoring_enabled"].([]any); len(mon) > 0 {
		if inst := c.st.Packages["elastic_agent"]; inst == nil || inst.Status != "installed" {
			_, _ = c.install("elastic_agent", "", true)
		}
	}
	if bump {
		c.bumpPolicy(p, now)
	} else {
		p.UpdatedAt = now
		p.Attrs["updated_at"] = now.Format(time.RFC3339Nano)
	}
	p.Attrs["updated_by"] = cmpOr(r.principal.Username, "system")
	p.cache = nil
	c.st.touchPolicies()
	return ok(map[string]any{"item": c.policyView(p, true)})
}

func (c *Cluster) deleteAgentPolicy(r *kreq) *kresp {
	id := r.body["agentPolicyId"].(string)
	p := c.st.AgentPolicies[id]
	if p == nil {
		return policyNotFound(id)
	}
	force, _ := r.body["force"].(bool)
	if p.flag("is_managed") && !force {
		return badRequest("Cannot delete hosted agent policy %s", id)
	}
	if p.Agents > 0 {
		return badRequest("Cannot delete an agent policy that is assigned to any active or inactive agents")
	}
	for _, ppID := range sortedKeys(c.st.PackagePolicies) {
		pp := c.st.PackagePolicies[ppID]
		pp.PolicyIDs = slices.DeleteFunc(pp.PolicyIDs, func(s string) bool { return s == id })
		if len(pp.PolicyIDs) == 0 {
			delete(c.st.PackagePolicies, ppID)
		}
	}
	delete(c.st.AgentPolicies, id)
	c.st.touchPolicies()
	return ok(map[string]any{"id": id, "name": p.str("name")})
}

// view is the PackagePolicy object; agents only appears where the API
// counts them (the list with withAgentCount=true).
func (pp *packagePolicy) view(withAgents bool) map[string]any {
	v := map[string]any{
		"id":         pp.ID,
		"name":       pp.Name,
		"namespace":  pp.Namespace,
		"enabled":    true,
		"policy_ids": pp.PolicyIDs,
		"package":    map[string]any{"name": pp.PackageName, "version": pp.PackageVer, "title": registryTitle(pp.PackageName)},
		"inputs":     pp.inputsView(),
		"revision":   pp.Revision,
		"created_at": pp.CreatedAt.Format(time.RFC3339Nano),
		"created_by": "elastic",
		"updated_at": pp.UpdatedAt.Format(time.RFC3339Nano),
		"updated_by": "elastic",
	}
	if withAgents {
		v["agents"] = pp.Agents
	}
	if len(pp.PolicyIDs) > 0 {
		v["policy_id"] = pp.PolicyIDs[0]
	}
	if pp.OutputID != nil {
		v["output_id"] = *pp.OutputID
	} else {
		v["output_id"] = nil
	}
	return v
}

// --- kuery ---------------------------------------------------------------

var kueryTerm = regexp.MustCompile(`^\s*(?:(?:fleet|ingest)-agent-policies\.)?([^\s:()"]+)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|([^\s()"]+))\s*`)

// parseKuery understands the KQL Fleet clients use on agent policies:
// field:"value" or field:value terms joined by `or`/`and` (and binds tighter),
// with optional parentheses around the whole expression.
func parseKuery(k string) (func(*agentPolicy) bool, error) {
	s := strings.TrimSpace(k)
	for strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	var ors [][]func(*agentPolicy) bool
	var ands []func(*agentPolicy) bool
	rest := s
	for {
		m := kueryTerm.FindStringSubmatchIndex(rest)
		if m == nil {
			return nil, fmt.Errorf("KQLSyntaxError: Expected field:value but found %q", rest)
		}
		fieldName := rest[m[2]:m[3]]
		var value string
		if m[4] >= 0 {
			value = strings.ReplaceAll(rest[m[4]:m[5]], `\"`, `"`)
		} else {
			value = rest[m[6]:m[7]]
		}
		if !slices.Contains(agentPolicyFields, fieldName) {
			return nil, unknownFieldError{field: fieldName}
		}
		ands = append(ands, kueryMatch(fieldName, value))
		rest = rest[m[1]:]
		if rest == "" {
			break
		}
		lower := strings.ToLower(rest)
		switch {
		case strings.HasPrefix(lower, "and "):
			rest = rest[4:]
		case strings.HasPrefix(lower, "or "):
			ors = append(ors, ands)
			ands = nil
			rest = rest[3:]
		default:
			return nil, fmt.Errorf("KQLSyntaxError: Expected AND, OR or end of input but %q found", rest)
		}
	}
	ors = append(ors, ands)
	return func(p *agentPolicy) bool {
		for _, group := range ors {
			all := true
			for _, f := range group {
				if !f(p) {
					all = false
					break
				}
			}
			if all {
				return true
			}
		}
		return false
	}, nil
}

// agentPolicyFields are the mapped fields of ingest-agent-policies a kuery may name.
var agentPolicyFields = []string{"id", "name", "namespace", "description", "is_managed", "is_default", "is_default_fleet_server",
	"has_fleet_server", "is_preconfigured", "status", "updated_at", "updated_by", "revision", "data_output_id",
	"monitoring_output_id", "download_source_id", "fleet_server_host_id", "supports_agentless", "is_protected",
	"inactivity_timeout", "unenroll_timeout", "monitoring_enabled", "schema_version", "space_ids", "agents"}

type unknownFieldError struct{ field string }

func (e unknownFieldError) Error() string {
	return fmt.Sprintf("This key '%s' does NOT exist in ingest-agent-policies saved object index patterns", e.field)
}

// searchFilter is the SO `search` fallback: the term in the name or description.
func searchFilter(term string) func(*agentPolicy) bool {
	t := strings.ToLower(strings.Trim(strings.TrimSpace(term), `"*`))
	return func(p *agentPolicy) bool {
		return strings.Contains(strings.ToLower(p.str("name")), t) || strings.Contains(strings.ToLower(p.str("description")), t)
	}
}

func kueryMatch(fieldName, value string) func(*agentPolicy) bool {
	return func(p *agentPolicy) bool {
		var v any
		if fieldName == "id" {
			v = p.ID
		} else {
			v = p.Attrs[fieldName]
		}
		switch t := v.(type) {
		case string:
			if value == "*" {
				return t != ""
			}
			return t == value
		case bool:
			return fmt.Sprint(t) == value
		case float64:
			return fmt.Sprint(t) == value
		case nil:
			return false
		}
		return fmt.Sprint(v) == value
	}
}

// inputsView is the policy's inputs, [] when it has none.
func (pp *packagePolicy) inputsView() []any {
	out := make([]any, 0, len(pp.Inputs))
	for _, in := range pp.Inputs {
		out = append(out, in)
	}
	return out
}
