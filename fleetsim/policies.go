package fleetsim

import (
	"bytes"
	"cmp"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/fleetform/fleetform/internal/kversion"
	"github.com/google/uuid"
)

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

// policyView is the AgentPolicy response object. The agent count appears
// only where the list was asked for it (withAgentCount=true or
// noAgentCount=false, or by default before versionWithAgentCount);
// package_policies with full or on a single GET.
func (c *Cluster) policyView(p *agentPolicy, full bool) map[string]any {
	v := make(map[string]any, len(p.Attrs)+4)
	for k, val := range p.Attrs {
		v[k] = val
	}
	v["id"] = p.ID
	// space_ids is the saved object's namespaces, not what a body sent
	// (apis/agent_policy/agent_policy.ts "should support empty space_ids":
	// sent [], answered ["default"]); spaces.go keeps them.
	delete(v, "space_ids")
	if c.spaceAware() {
		v["space_ids"] = c.policySpacesFor(p, nil)
	}
	if full {
		pps := []any{}
		for _, pp := range c.packagePoliciesOf(p.ID) {
			pps = append(pps, pp.view(false))
		}
		v["package_policies"] = pps
		c.packagePolicySpaces(v, nil) // spaces_policies.go
	}
	return v
}

// policyViewAs is policyView for a route with a format query: with
// format=simplified the package policies are in the simplified format
// (apis/agent_policy/agent_policy.ts "should get one agent policy
// simplified format" and its list, PUT and bulk_get siblings).
func (c *Cluster) policyViewAs(p *agentPolicy, full bool, format any) map[string]any {
	v := c.policyView(p, full)
	if full && format == "simplified" {
		pps := []any{}
		for _, pp := range c.packagePoliciesOf(p.ID) {
			pps = append(pps, pp.apiView(true, false))
		}
		v["package_policies"] = pps
		c.packagePolicySpaces(v, nil)
	}
	return v
}

func (c *Cluster) policyJSON(p *agentPolicy) []byte {
	if p.cache == nil {
		p.cache, _ = marshalJSON(c.policyView(p, false))
	}
	return p.cache
}

// versionDeleteInactiveAgents is elastic/kibana#175815 "[Fleet] Prevent
// deletion of agent policies with inactive agents from UI" (v8.12.2,
// v8.13.0): the delete counts inactive agents too and says "Cannot delete
// an agent policy that is assigned to any active or inactive agents";
// before it, "Cannot delete agent policy that is assigned to agent(s)",
// thrown as a plain Error, which fleetErrorToResponseOptions
// (server/errors/handlers.ts: "not sure what type of error this is")
// answers with 500; the PR's FleetError answers 400. Elastic's own
// Fleet perf suite (8.2) expects that 500 with that message.
const versionDeleteInactiveAgents = "8.12.2"

// versionAgentlessDeleteWithAgents is elastic/kibana#216513 "[Fleet] Fix
// agentless policy deletion unenroll agents" (merged 2025-03-31, main then
// 9.1): an agentless (supports_agentless) policy is deleted although agents
// are assigned, which the delete unenrolls (`total > 0 &&
// !agentPolicy?.supports_agentless`). On 8.19 from 8.19.0 (inferred:
// elastic/kibana#290489 "[8.19] [Fleet] Force-revoke agents when deleting
// an agentless policy" changes that very unenroll-and-delete on 8.19).
// Its other backports are not all known (elastic/kibana#221868: "not
// backported to all branches"; elastic/kibana#226280 reached 8.17 in July
// 2025); elsewhere before 9.1 fleetsim refuses as for any policy
// (docs/fleetsim-inferred.md item 58). A kversion.Gate, the same as
// fleetform's reconciler/agent_policies_prune.go.
const versionAgentlessDeleteWithAgents kversion.Gate = "8.19.0 9.1.0"

// versionWithAgentCount is elastic/kibana#191661 "[Fleet] Stop fetching
// all full or with agentCount agent policies" (v8.16.0): it added the
// list's withAgentCount and made counting opt-in. Before it the list
// counted each policy's agents unless noAgentCount was true, and
// withAgentCount was an unknown query key (a 400); after it
// noAgentCount=false still asks for the counts (deprecated, "use
// withAgentCount instead").
const versionWithAgentCount = "8.16.0"

// versionNoAgentCount is elastic/kibana#151119 "[Fleet] Fix agent policy
// selection and creation when there are a large number of agent policies
// ( > 1k)" (v8.7.0, v8.8.0): "add `noAgentCount` query param to agent
// policies API". Before it GetAgentPoliciesRequestSchema's query was
// ListWithKuerySchema.extends({ full }) (server/types/rest_spec/
// agent_policy.ts), so noAgentCount is an unknown key (a 400), and the
// list always counted each policy's agents.
const versionNoAgentCount = "8.7.0"

func (c *Cluster) listAgentPolicies(r *kreq) *kresp {
	q := r.query
	page := int(q["page"].(float64))
	perPage := int(q["perPage"].(float64))
	full, _ := q["full"].(bool)
	withCount, _ := q["withAgentCount"].(bool)
	_, sentWithCount := q["withAgentCount"]
	countsByDefault := !versionAtLeast(c.cfg.Version, versionWithAgentCount)
	if sentWithCount && countsByDefault {
		return badRequest("[request query.withAgentCount]: definition for this key is missing")
	}
	if _, sent := q["noAgentCount"]; sent && !versionAtLeast(c.cfg.Version, versionNoAgentCount) {
		return badRequest("[request query.noAgentCount]: definition for this key is missing")
	}
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
	if c.spaceAware() {
		// The saved-objects find is scoped to the request's space (spaces.go).
		inner := filter
		filter = func(p *agentPolicy) bool { return c.policyVisible(p, r) && (inner == nil || inner(p)) }
	}
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
	withAgents := withCount || q["noAgentCount"] == false || countsByDefault && q["noAgentCount"] != true
	page_ := make([][]byte, 0, end-start)
	size := 64
	for _, p := range ps[start:end] {
		var b []byte
		if full || withAgents {
			v := c.redactPolicyView(c.policyViewAs(p, full, q["format"]), p, r)
			if withAgents {
				v["agents"] = float64(c.listAgentCount(p))
			}
			b, _ = marshalJSON(v)
		} else if c.spacesRedacted(p, r) {
			b, _ = marshalJSON(c.redactPolicyView(c.policyView(p, false), p, r))
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
		if p != nil && !c.policyVisible(p, r) {
			p = nil
		}
		if p == nil {
			if ignore {
				continue
			}
			return c.policyNotFound(id)
		}
		items = append(items, c.redactPolicyView(c.policyViewAs(p, full, r.query["format"]), p, r))
	}
	return ok(map[string]any{"items": items})
}

func (c *Cluster) policyNotFound(id string) *kresp {
	return kerr(http.StatusNotFound, "Saved object [%s/%s] not found", c.agentPolicyType(), id)
}

func (c *Cluster) getAgentPolicy(r *kreq) *kresp {
	p := c.st.AgentPolicies[r.params["agentPolicyId"]]
	if p == nil || !c.policyVisible(p, r) {
		return c.policyNotFound(r.params["agentPolicyId"])
	}
	return ok(map[string]any{"item": c.redactPolicyView(c.policyViewAs(p, true, r.query["format"]), p, r)})
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
	force, _ := body["force"].(bool)
	delete(body, "force") // a request option, never stored
	name := body["name"].(string)
	spaces, resp := c.newPolicySpaces(r, body)
	if resp != nil {
		return resp
	}
	if ids := c.nameTakenIn(name, "", spaces); len(ids) > 0 {
		return nameExists(ids, name)
	}
	refused := c.hostedCreateMoveRefused(r, body, force) // spaces.go
	if refused {
		spaces = []string{r.spaceID()}
	}
	id, _ := body["id"].(string)
	if id == "" {
		if hasFS, _ := body["has_fleet_server"].(bool); hasFS && c.st.AgentPolicies[c.fleetServerPolicyID(r)] == nil {
			id = c.fleetServerPolicyID(r)
			body["is_default_fleet_server"] = true
		} else {
			id = uuid.NewString()
		}
	}
	if c.st.AgentPolicies[id] != nil {
		return kerr(http.StatusConflict, "Saved object [%s/%s] conflict", c.agentPolicyType(), id)
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
	delete(attrs, "space_ids")
	p := &agentPolicy{ID: id, Attrs: attrs, Seq: c.st.nextSeq(), UpdatedAt: now}
	if c.spaceAware() && !slices.Equal(spaces, []string{defaultSpace}) {
		p.Spaces = spaces
	}
	if resp := c.validateOutputForPolicy(p, attrs["data_output_id"]); resp != nil {
		return resp
	}
	if resp := c.checkPerPolicyOutputLicence(p); resp != nil {
		return resp
	}
	// agentPolicyService.create validates required_versions after the name
	// and the outputs, before it stores the policy.
	if resp := c.validateRequiredVersions(name, body["required_versions"]); resp != nil {
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
	if refused {
		return hostedMoveRefused(id)
	}
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
	pp.Spaces = slices.Clone(p.Spaces)
	c.st.PackagePolicies[pp.ID] = pp
}

func (c *Cluster) updateAgentPolicy(r *kreq) *kresp {
	id := r.params["agentPolicyId"]
	p := c.st.AgentPolicies[id]
	if p == nil || !c.policyVisible(p, r) {
		return c.policyNotFound(id)
	}
	body := r.body
	force, _ := body["force"].(bool)
	bump := body["bumpRevision"] != false // _update bumps unless told not to, even for a no-op PUT
	delete(body, "force")
	delete(body, "bumpRevision")
	// agentPolicyService.update: validateRequiredVersions(agentPolicy.name ?? id, …).
	if resp := c.validateRequiredVersions(cmpOr(str(body["name"]), id), body["required_versions"]); resp != nil {
		return resp
	}
	// The route handler moves spaces (updateAgentPolicySpaces) before
	// agentPolicyService.update runs its own checks.
	if resp := c.moveSpaces(p, r, force); resp != nil {
		return resp
	}
	delete(body, "space_ids")
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
	if ids := c.nameTakenIn(name, id, p.spaceIDs()); len(ids) > 0 {
		return nameExists(ids, name)
	}
	merged := &agentPolicy{ID: p.ID, Attrs: cloneMap(p.Attrs), Agents: p.Agents, InactiveAgents: p.InactiveAgents, UnenrolledAgents: p.UnenrolledAgents}
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
	return ok(map[string]any{"item": c.redactPolicyView(c.policyViewAs(p, true, r.query["format"]), p, r)})
}

// deleteAgentPolicy is agentPolicyService.delete (server/services/
// agent_policy.ts) behind POST /api/fleet/agent_policies/delete, its
// refusals in its order: a hosted (is_managed) policy without force; a
// policy with agents, force or not; a policy holding a managed package
// policy without force. A preconfigured policy, the default policy and
// the default Fleet Server policy are deleted like any other (Kibana
// records a preconfigured one's deletion so that setup does not recreate
// it).
func (c *Cluster) deleteAgentPolicy(r *kreq) *kresp {
	id := r.body["agentPolicyId"].(string)
	p := c.st.AgentPolicies[id]
	if p == nil || !c.policyVisible(p, r) {
		return c.policyNotFound(id)
	}
	force, _ := r.body["force"].(bool)
	if p.flag("is_managed") && !force {
		return badRequest("Cannot delete hosted agent policy %s%s", id, hostedAgentPolicyRestriction)
	}
	// force does not lift this one; which agents count depends on the
	// version (deleteAgentCount, agents.go).
	if c.deleteAgentCount(p) > 0 && !(p.flag("supports_agentless") && versionAgentlessDeleteWithAgents.Has(c.cfg.Version)) {
		if !versionAtLeast(c.cfg.Version, versionDeleteInactiveAgents) {
			return kerr(http.StatusInternalServerError, "Cannot delete agent policy that is assigned to agent(s)")
		}
		return badRequest("Cannot delete an agent policy that is assigned to any active or inactive agents")
	}
	if !force {
		for _, ppID := range sortedKeys(c.st.PackagePolicies) {
			if pp := c.st.PackagePolicies[ppID]; slices.Contains(pp.PolicyIDs, id) && pp.IsManaged != nil && *pp.IsManaged {
				return badRequest("Cannot delete agent policy %s that contains managed package policies%s", id, packagePolicyRestriction)
			}
		}
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
