package fleetsim

import (
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Package-policy (integration policy) routes: list, get, create, update,
// delete and bulk get, in the full and the simplified format.
//
// Sources: FLEET/server/routes/package_policy/handlers.ts,
// FLEET/server/services/package_policy.ts,
// FLEET/server/services/package_policies/utils.ts (preflight: reusable
// policies and output_id licence and types), FLEET/common/services/output_helpers.ts.

var (
	packagePolicyBody = tObject{fields: []field{
		{name: "id", t: tString{}},
		{name: "name", t: tString{}},
		{name: "description", t: tString{}},
		{name: "namespace", t: tString{}},
		{name: "policy_id", t: nullableString},
		{name: "policy_ids", t: tArray{elem: tString{}}},
		{name: "output_id", t: nullableString},
		{name: "enabled", t: tBool{}},
		{name: "is_managed", t: tBool{}},
		{name: "package", t: tObject{fields: []field{
			{name: "name", t: tString{}, required: true},
			{name: "version", t: tString{}, required: true},
			{name: "title", t: tString{}},
			{name: "experimental_data_stream_features", t: tAny{}},
			{name: "requires_root", t: tAny{}},
		}}},
		{name: "inputs", t: tAny{}},
		{name: "vars", t: tAny{}},
		{name: "force", t: tBool{}},
		{name: "supports_agentless", t: tNullable{inner: tBool{}}},
		{name: "overrides", t: packagePolicyOverrides},
		{name: "version", t: tString{}},
		{name: "spaceIds", t: tAny{}},
		{name: "additional_datastreams_permissions", t: tNullOr{inner: tValidated{inner: tArray{elem: tString{}, max: 1000}, fn: validateAdditionalDatastreamsPermissions}}},
	}}
	// VALIDATE_DATASTREAMS_PERMISSION_REGEX, alternation and all (only the
	// first branch is anchored at the start, only the last at the end).
	datastreamsPermissionRE = regexp.MustCompile(`^(logs)|(metrics)|(traces)|(synthetics)|(profiles)-(.*)$`)
	// overrides: oneOf([literal(null), object({inputs: maybe(recordOf(string, any,
	// {validate}))})]) (types/models/package_policy.ts).
	packagePolicyOverrides = tNullOr{inner: tObject{fields: []field{
		{name: "inputs", t: tValidated{inner: tRecord{}, fn: func(v any) string {
			for k := range v.(map[string]any) {
				if strings.HasPrefix(k, "compiled_inputs") || strings.HasPrefix(k, "compiled_stream") {
					return "Overrides of compiled_inputs and compiled_stream are not allowed"
				}
			}
			return ""
		}}},
	}}}
	createPackagePolicyBody    = packagePolicyBody.with(field{name: "name", t: tString{}, required: true})
	packagePolicyFormatQuery   = tObject{fields: []field{{name: "format", t: tEnum{"simplified", "legacy"}}}}
	bulkGetPackagePoliciesBody = tObject{fields: []field{
		{name: "ids", t: tArray{elem: tString{}}, required: true},
		{name: "ignoreMissing", t: tBool{}},
	}}
	deletePackagePoliciesBody = tObject{fields: []field{
		{name: "packagePolicyIds", t: tArray{elem: tString{}}, required: true},
		{name: "force", t: tBool{}},
	}}
	deleteOnePackagePolicyQuery = tObject{fields: []field{{name: "force", t: tBool{}}}}
)

// validateAdditionalDatastreamsPermissions is the schema's validate
// (types/models/package_policy.ts).
func validateAdditionalDatastreamsPermissions(v any) string {
	for _, e := range v.([]any) {
		if s, _ := e.(string); !datastreamsPermissionRE.MatchString(s) {
			return fmt.Sprintf("%s is not a valid datastream permissions, it should match logs|metrics|traces|synthetics|profiles)-*", s)
		}
	}
	return ""
}

// packagePolicyRoutes are registered in routes().
func packagePolicyRoutes() []*route {
	const read, all = "fleet-agent-policies-read", "fleet-agent-policies-all"
	return []*route{
		{method: "GET", pattern: "/api/fleet/package_policies", priv: privRead, privTag: read, query: listPackagePoliciesQuery, handle: (*Cluster).listPackagePoliciesAPI},
		{method: "POST", pattern: "/api/fleet/package_policies", priv: privWrite, privTag: all, query: packagePolicyFormatQuery, body: createPackagePolicyBody, handle: (*Cluster).createPackagePolicy},
		{method: "POST", pattern: "/api/fleet/package_policies/_bulk_get", priv: privRead, privTag: read, query: packagePolicyFormatQuery, body: bulkGetPackagePoliciesBody, handle: (*Cluster).bulkGetPackagePolicies},
		{method: "POST", pattern: "/api/fleet/package_policies/delete", priv: privWrite, privTag: all, body: deletePackagePoliciesBody, handle: (*Cluster).deletePackagePolicies},
		{method: "GET", pattern: "/api/fleet/package_policies/{packagePolicyId}", priv: privRead, privTag: read, query: packagePolicyFormatQuery, handle: (*Cluster).getPackagePolicyAPI},
		{method: "PUT", pattern: "/api/fleet/package_policies/{packagePolicyId}", priv: privWrite, privTag: all, query: packagePolicyFormatQuery, body: packagePolicyBody, handle: (*Cluster).updatePackagePolicy},
		{method: "DELETE", pattern: "/api/fleet/package_policies/{packagePolicyId}", priv: privWrite, privTag: all, query: deleteOnePackagePolicyQuery, handle: (*Cluster).deleteOnePackagePolicy},
	}
}

// licenceAtLeastEnterprise is licenseService.hasAtLeast('enterprise')
// (LICENCE_FOR_OUTPUT_PER_INTEGRATION, LICENCE_FOR_MULTIPLE_AGENT_POLICIES).
func (c *Cluster) licenceAtLeastEnterprise() bool {
	switch c.node.License() {
	case "enterprise", "trial":
		return true
	}
	return false
}

// sameClusterRestrictedPackages may only send to elasticsearch outputs
// (getAllowedOutputTypesForIntegration).
var sameClusterRestrictedPackages = []string{"fleet_server", "synthetics", "apm"}

// preflight is preflightCheckPackagePolicy.
func (c *Cluster) preflightPackagePolicy(pp *packagePolicy) *kresp {
	if !c.licenceAtLeastEnterprise() && len(pp.PolicyIDs) != 1 {
		return badRequest("Reusable integration policies are only available with an Enterprise license")
	}
	if pp.OutputID != nil && *pp.OutputID != "" {
		if !c.licenceAtLeastEnterprise() {
			return badRequest("Output per integration is only available with an enterprise license")
		}
		o := c.st.outputByID(*pp.OutputID)
		if o == nil {
			return kerr(http.StatusNotFound, "Saved object [ingest-outputs/%s] not found", outputIDToUUID(*pp.OutputID))
		}
		restricted := slices.Contains(sameClusterRestrictedPackages, pp.PackageName) || pp.SupportsAgentless
		if restricted && o.typ() != typeES {
			return badRequest("Output type %q is not usable with package %q", o.typ(), pp.PackageName)
		}
	}
	return nil
}

// ppInput is the part of a create/update body that sets inputs and vars.
type ppInput struct {
	inputs     []map[string]any
	vars       map[string]any
	simplified bool
}

// readInputs is isSimplifiedCreatePackagePolicyRequest and the conversion:
// a body whose inputs is an array is the full format; otherwise simplified.
func (c *Cluster) readInputs(m *pkgManifest, body map[string]any) (ppInput, *kresp) {
	if arr, ok := body["inputs"].([]any); ok {
		var out ppInput
		for i, e := range arr {
			in, ok := e.(map[string]any)
			if !ok {
				return out, badRequest("[request body.inputs.%d]: expected a plain object value, but found [%s] instead.", i, typeDetect(e, true))
			}
			in = cloneMap(in)
			if _, ok := in["streams"].([]any); !ok {
				in["streams"] = []any{}
			}
			if _, ok := in["enabled"].(bool); !ok {
				in["enabled"] = true
			}
			// create.ts: an input whose streams are all disabled is disabled.
			if ss := in["streams"].([]any); len(ss) > 0 && !slices.ContainsFunc(ss, func(s any) bool {
				m, _ := s.(map[string]any)
				return m["enabled"] != false
			}) {
				in["enabled"] = false
			}
			out.inputs = append(out.inputs, in)
		}
		if v, ok := body["vars"].(map[string]any); ok {
			out.vars = cloneMap(v)
		}
		return out, nil
	}
	simpleInputs, _ := body["inputs"].(map[string]any)
	simpleVars, _ := body["vars"].(map[string]any)
	inputs, vars, err := applySimplified(c.cfg.Version, m, simpleInputs, simpleVars)
	if err != nil {
		return ppInput{}, badRequest("%s", err.Error())
	}
	return ppInput{inputs: inputs, vars: vars, simplified: true}, nil
}

func (c *Cluster) createPackagePolicy(r *kreq) *kresp {
	body := r.body
	force, _ := body["force"].(bool)
	pkg, _ := body["package"].(map[string]any)
	if pkg == nil {
		return badRequest("[request body.package]: expected a plain object value, but found [undefined] instead.")
	}
	name, version := pkg["name"].(string), pkg["version"].(string)
	if registryFind(name, version) == nil {
		return packageNotFound(name, version)
	}
	if resp := simplifiedIsManaged(body, true); resp != nil {
		return resp
	}
	m := manifestOf(name)
	in, resp := c.readInputs(m, body)
	if resp != nil {
		return resp
	}
	now := c.now()
	user := cmpOr(r.principal.Username, "elastic")
	pp := &packagePolicy{
		ID: cmpOr(strField(body, "id"), uuid.NewString()), Name: strings.TrimSpace(body["name"].(string)), Namespace: strField(body, "namespace"),
		PolicyIDs: policyIDsOf(body), PackageName: name, PackageVer: version, Inputs: in.inputs, Vars: in.vars,
		Disabled: body["enabled"] == false, SupportsAgentless: body["supports_agentless"] == true,
		Revision: 1, CreatedAt: now, UpdatedAt: now, CreatedBy: user, UpdatedBy: user,
	}
	if d, ok := body["description"].(string); ok {
		pp.Description = &d
	}
	if a, ok := body["additional_datastreams_permissions"].([]any); ok {
		pp.AdditionalDatastreamsPermissions = a
	}
	if o, ok := body["output_id"].(string); ok { // "" is stored as given; null as none
		pp.OutputID = &o
	}
	pp.IsManaged = readIsManaged(body)
	if resp := c.preflightPackagePolicy(pp); resp != nil {
		return resp
	}
	for i, id := range pp.PolicyIDs {
		p := c.st.AgentPolicies[id]
		if p == nil || !c.policyVisible(p, r) {
			return c.policyNotFound(id)
		}
		if resp := refuseCreateInHosted(p, id, force); resp != nil {
			return resp
		}
		// validateReusableIntegrationsAndSpaceAwareness runs in the loop,
		// with the agent policies read so far (spaces_names.go).
		if len(pp.PolicyIDs) > 1 {
			if resp := c.reusableAcrossSpaces(pp.PolicyIDs[:i+1]); resp != nil {
				return resp
			}
		}
	}
	if c.spaceAware() && r.spaceID() != defaultSpace {
		// Created through the space-scoped saved-objects client (spaces.go).
		pp.Spaces = []string{r.spaceID()}
	}
	if resp := c.packagePolicyNameConflict(r, pp.Name, "", pp.PolicyIDs); resp != nil { // spaces_names.go
		return resp
	}
	if c.st.PackagePolicies[pp.ID] != nil {
		return kerr(http.StatusConflict, "Saved object [%s/%s] conflict", c.packagePolicyType(), pp.ID)
	}
	if m != nil && m.Limited {
		for _, id := range pp.PolicyIDs {
			if c.agentPolicyHasPackage(id, name) {
				return badRequest("Unable to create integration policy. Integration '%s' already exists on this agent policy.", name)
			}
		}
	}
	if resp := packagePolicyInvalid(c.cfg.Version, m, pp.Name, pp.Namespace, pp.Inputs, pp.Vars); resp != nil {
		return resp
	}
	if inst := c.st.Packages[name]; inst == nil || inst.Status != "installed" {
		if _, ierr := c.install(name, version, force); ierr != nil {
			return kerr(ierr.status, "%s", ierr.message)
		}
	}
	assignStreamIDs(pp)
	c.st.PackagePolicies[pp.ID] = pp
	if resp := c.checkAgentPolicyOutputs(pp.PackageName, pp.PolicyIDs); resp != nil {
		delete(c.st.PackagePolicies, pp.ID)
		return resp
	}
	pp.SecretRefs = c.storeVarSecrets(m, pp.Inputs, pp.Vars)
	c.bumpPoliciesByID(pp.PolicyIDs, now)
	// The answer is the saved object as created, in the request's space:
	// updatePackagePolicySpaces then gives it the spaces of a multi-space
	// agent policy, and a later read shows them (spaces_names.go).
	item := c.ppItem(pp, r, r.query["format"] == "simplified", false)
	c.createdPackagePolicySpaces(pp)
	return ok(map[string]any{"item": item})
}

// checkAgentPolicyOutputs re-runs the agent policies' output rule now that
// they hold the package policy (a Fleet Server, APM or Synthetics
// integration needs an elasticsearch data output).
func (c *Cluster) checkAgentPolicyOutputs(pkg string, ids []string) *kresp {
	if !slices.Contains(sameClusterRestrictedPackages, pkg) {
		return nil // nothing else narrows an agent policy's output types
	}
	for _, id := range ids {
		if p := c.st.AgentPolicies[id]; p != nil {
			if resp := c.validateOutputForPolicy(p, p.Attrs["data_output_id"]); resp != nil {
				return resp
			}
		}
	}
	return nil
}

func (c *Cluster) bumpPoliciesByID(ids []string, now time.Time) {
	for _, id := range ids {
		if p := c.st.AgentPolicies[id]; p != nil {
			c.bumpPolicy(p, now)
		}
	}
}

// assignStreamIDs is assignStreamIdToInput: <input type>-<dataset>-<policy id>.
func assignStreamIDs(pp *packagePolicy) {
	for _, in := range pp.Inputs {
		typ, _ := in["type"].(string)
		ss, _ := in["streams"].([]any)
		for _, s := range ss {
			st, _ := s.(map[string]any)
			ds, _ := st["data_stream"].(map[string]any)
			st["id"] = fmt.Sprintf("%s-%v-%s", typ, ds["dataset"], pp.ID)
		}
	}
}

// agentPolicyHasPackage is doesAgentPolicyAlreadyIncludePackage.
func (c *Cluster) agentPolicyHasPackage(policyID, pkg string) bool {
	for _, pp := range c.st.PackagePolicies {
		if pp.PackageName == pkg && slices.Contains(pp.PolicyIDs, policyID) {
			return true
		}
	}
	return false
}

func policyIDsOf(body map[string]any) []string {
	ids := stringList(body["policy_ids"])
	if p, ok := body["policy_id"].(string); ok && p != "" && len(ids) == 0 {
		ids = []string{p}
	}
	return ids
}

func strField(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func (c *Cluster) updatePackagePolicy(r *kreq) *kresp {
	id := r.params["packagePolicyId"]
	old := c.st.PackagePolicies[id]
	if old == nil || !c.packagePolicyVisible(old, r) {
		return kerr(http.StatusNotFound, "Package policy not found")
	}
	body := r.body
	// packagePolicyService.update does not check hosted agent policies
	// (update.ts "should work with multiple policy ids" adds one without
	// force); force is accepted and changes nothing here.
	next := *old
	next.jsonCache = [2][]byte{}
	next.Inputs, next.Vars = cloneInputs(old.Inputs), cloneMapOrNil(old.Vars)
	if v, ok := body["name"].(string); ok {
		next.Name = strings.TrimSpace(v) // packagePolicyService.update trims the name
	}
	if v, ok := body["namespace"].(string); ok {
		next.Namespace = v
	}
	if v, ok := body["description"].(string); ok {
		next.Description = &v
	}
	if _, ok := body["policy_ids"]; ok {
		next.PolicyIDs = policyIDsOf(body)
	} else if _, ok := body["policy_id"]; ok {
		next.PolicyIDs = policyIDsOf(body)
	}
	// keepPolicyIdInSync: clearing policy_ids stores policy_id: null
	// (update.ts "should work with no policy ids").
	next.NullPolicyID = len(next.PolicyIDs) == 0 && (len(old.PolicyIDs) > 0 || old.NullPolicyID)
	if v, ok := body["output_id"]; ok { // null clears it (stored null), "" is stored as given
		if s, ok := v.(string); ok {
			next.OutputID = &s
		} else {
			next.OutputID = nil
		}
	}
	if v := readIsManaged(body); v != nil {
		next.IsManaged = v
	}
	if v, ok := body["enabled"].(bool); ok {
		next.Disabled = !v
	}
	if v, ok := body["additional_datastreams_permissions"]; ok {
		next.AdditionalDatastreamsPermissions, _ = v.([]any)
	}
	if pkg, ok := body["package"].(map[string]any); ok {
		name, version := pkg["name"].(string), pkg["version"].(string)
		if registryFind(name, version) == nil {
			return packageNotFound(name, version)
		}
		next.PackageName, next.PackageVer = name, version
	}
	m := manifestOf(next.PackageName)
	// updatePackagePolicyHandler: inputs given as a map is the simplified
	// request (inputs and vars rebuilt from the package's defaults plus the
	// body); otherwise inputs and vars, when given, replace the stored ones.
	if simple, ok := body["inputs"].(map[string]any); ok {
		if resp := simplifiedIsManaged(body, false); resp != nil {
			return resp
		}
		if _, hasPkg := body["package"]; !hasPkg {
			return badRequest("Package is required")
		}
		simpleVars, _ := body["vars"].(map[string]any)
		inputs, vars, err := applySimplified(c.cfg.Version, m, simple, simpleVars)
		if err != nil {
			return badRequest("%s", err.Error())
		}
		next.Inputs, next.Vars = inputs, vars
	} else {
		if _, ok := body["inputs"].([]any); ok {
			in, resp := c.readInputs(m, body)
			if resp != nil {
				return resp
			}
			next.Inputs = in.inputs
		}
		if v, ok := body["vars"].(map[string]any); ok {
			next.Vars = cloneMap(v)
		}
	}
	if !slices.Equal(next.PolicyIDs, old.PolicyIDs) || !reflect.DeepEqual(next.OutputID, old.OutputID) {
		if resp := c.preflightPackagePolicy(&next); resp != nil {
			return resp
		}
	}
	if resp := refuseManagedUpdate(id, body); resp != nil {
		return resp
	}
	for _, pid := range next.PolicyIDs {
		// agentPolicyService.get with the request's client: one in another
		// space is not found.
		p := c.st.AgentPolicies[pid]
		if p == nil || !c.policyVisible(p, r) {
			return c.policyNotFound(pid)
		}
	}
	if next.Name != old.Name {
		if resp := c.packagePolicyNameConflict(r, next.Name, id, next.PolicyIDs); resp != nil { // spaces_names.go
			return resp
		}
	}
	if resp := packagePolicyInvalid(c.cfg.Version, m, next.Name, next.Namespace, next.Inputs, next.Vars); resp != nil {
		return resp
	}
	// update runs validateReusableIntegrationsAndSpaceAwareness for each
	// agent policy alone, space-aware or not (services/package_policy.ts).
	for _, pid := range next.PolicyIDs {
		if p := c.st.AgentPolicies[pid]; multiSpace(p.spaceIDs()) && len(next.PolicyIDs) > 1 {
			return badRequest("Reusable integration policies cannot be used with agent policies belonging to multiple spaces.")
		}
	}
	now := c.now()
	next.Revision = old.Revision + 1
	next.UpdatedAt = now
	next.UpdatedBy = cmpOr(r.principal.Username, "elastic")
	assignStreamIDs(&next)
	c.st.PackagePolicies[id] = &next
	if resp := c.checkAgentPolicyOutputs(next.PackageName, next.PolicyIDs); resp != nil {
		c.st.PackagePolicies[id] = old
		return resp
	}
	next.SecretRefs = c.storeVarSecrets(m, next.Inputs, next.Vars)
	for _, sid := range old.SecretRefs {
		if !slices.Contains(next.SecretRefs, sid) {
			c.node.DeleteFleetSecret(sid)
		}
	}
	affected := slices.Clone(old.PolicyIDs)
	for _, pid := range next.PolicyIDs {
		if !slices.Contains(affected, pid) {
			affected = append(affected, pid)
		}
	}
	c.bumpPoliciesByID(affected, now)
	return ok(map[string]any{"item": c.ppItem(&next, r, r.query["format"] == "simplified", false)})
}

func cloneInputs(in []map[string]any) []map[string]any {
	out := make([]map[string]any, len(in))
	for i, m := range in {
		out[i] = cloneMap(m)
	}
	return out
}

func cloneMapOrNil(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return cloneMap(m)
}

// deletePackagePolicies is POST /package_policies/delete: one result per id.
func (c *Cluster) deletePackagePolicies(r *kreq) *kresp {
	force, _ := r.body["force"].(bool)
	out := []any{}
	for _, id := range stringList(r.body["packagePolicyIds"]) {
		out = append(out, c.deleteOne(r, id, force))
	}
	return ok(out)
}

// deleteOnePackagePolicy is DELETE /package_policies/{id}: a 404 is ignored
// so that the call is idempotent.
func (c *Cluster) deleteOnePackagePolicy(r *kreq) *kresp {
	id := r.params["packagePolicyId"]
	force, _ := r.query["force"].(bool)
	res := c.deleteOne(r, id, force)
	if res["success"] == false && res["statusCode"] != http.StatusNotFound {
		status, _ := res["statusCode"].(int)
		b, _ := res["body"].(map[string]any)
		msg, _ := b["message"].(string)
		return kerr(status, "%s", msg)
	}
	return ok(map[string]any{"id": id})
}

func (c *Cluster) deleteOne(r *kreq, id string, force bool) map[string]any {
	pp := c.st.PackagePolicies[id]
	if pp == nil || !c.packagePolicyVisible(pp, r) {
		return c.packagePolicyMissing(id)
	}
	if res := c.refuseDelete(pp, force); res != nil {
		return res
	}
	now := c.now()
	delete(c.st.PackagePolicies, id)
	for _, sid := range pp.SecretRefs {
		c.node.DeleteFleetSecret(sid)
	}
	c.bumpPoliciesByID(pp.PolicyIDs, now)
	res := map[string]any{"id": id, "name": pp.Name, "success": true, "policy_ids": pp.PolicyIDs,
		"package": map[string]any{"name": pp.PackageName, "title": registryTitle(pp.PackageName), "version": pp.PackageVer}}
	if len(pp.PolicyIDs) > 0 {
		res["policy_id"] = pp.PolicyIDs[0]
	}
	if pp.OutputID != nil {
		res["output_id"] = *pp.OutputID
	}
	return res
}

func (c *Cluster) getPackagePolicyAPI(r *kreq) *kresp {
	pp := c.st.PackagePolicies[r.params["packagePolicyId"]]
	if pp == nil || !c.packagePolicyVisible(pp, r) {
		return kerr(http.StatusNotFound, "Package policy not found")
	}
	return ok(map[string]any{"item": c.ppItem(pp, r, r.query["format"] == "simplified", false)})
}

func (c *Cluster) bulkGetPackagePolicies(r *kreq) *kresp {
	ignore, _ := r.body["ignoreMissing"].(bool)
	simplified := r.query["format"] == "simplified"
	items := []any{}
	for _, id := range stringList(r.body["ids"]) {
		pp := c.st.PackagePolicies[id]
		if pp != nil && !c.packagePolicyVisible(pp, r) {
			pp = nil
		}
		if pp == nil {
			if ignore {
				continue
			}
			return kerr(http.StatusNotFound, "Package policy %s not found", id)
		}
		items = append(items, c.ppItem(pp, r, simplified, false))
	}
	return ok(map[string]any{"items": items})
}
