package fleetsim

// The answers of the package-policy (integration policy) routes: the list
// (GET /package_policies, paged, with its kuery), the items in the full and
// the simplified format, the spaceIds a space-aware Kibana adds, and the
// PackagePolicy view agent policies embed (their package_policies).

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fleetform/fleetform/fleetsim/esim"
)

// listPackagePoliciesAPI is GET /package_policies: creation order, paged,
// with an optional kuery on package.name, name, policy_ids or output_id.
func (c *Cluster) listPackagePoliciesAPI(r *kreq) *kresp {
	q := r.query
	page := max(int(q["page"].(float64)), 1)
	perPage := int(q["perPage"].(float64))
	var filter func(*packagePolicy) bool
	if k, _ := q["kuery"].(string); strings.TrimSpace(k) != "" {
		f, resp := c.packagePolicyKuery(k)
		if resp != nil {
			return resp
		}
		filter = f
	}
	// Creation order, ties by id (one sort: no map look-ups per comparison).
	type keyed struct {
		id string
		pp *packagePolicy
	}
	all := make([]keyed, 0, len(c.st.PackagePolicies))
	for id, pp := range c.st.PackagePolicies {
		if c.packagePolicyVisible(pp, r) && (filter == nil || filter(pp)) {
			all = append(all, keyed{id, pp})
		}
	}
	slices.SortFunc(all, func(a, b keyed) int {
		return cmp.Or(a.pp.CreatedAt.Compare(b.pp.CreatedAt), strings.Compare(a.id, b.id))
	})
	pps := make([]*packagePolicy, len(all))
	for i, k := range all {
		pps[i] = k.pp
	}
	total := len(pps)
	start := min((page-1)*perPage, total)
	end := min(start+perPage, total)
	withAgents, _ := q["withAgentCount"].(bool)
	simplified := q["format"] == "simplified"
	buf := bufPool.Get().(*bytes.Buffer)
	buf.WriteString(`{"items":[`)
	for i, pp := range pps[start:end] {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(c.ppListJSON(pp, r, simplified, withAgents))
	}
	fmt.Fprintf(buf, `],"total":%d,"page":%d,"perPage":%d}`, total, page, perPage)
	return pooledResponse(buf)
}

// ppListJSON is the list item's JSON, cached per format (agent counts,
// which seeds and tests change in place, and spaceIds a principal may not
// read all of, are never cached).
func (c *Cluster) ppListJSON(pp *packagePolicy, r *kreq, simplified, withAgents bool) []byte {
	spaces := c.ppSpaceIDs(pp, r)
	if withAgents || slices.Contains(spaces, any(unknownSpace)) {
		b, _ := marshalJSON(c.ppItem(pp, r, simplified, withAgents))
		return b
	}
	i := 0
	if simplified {
		i = 1
	}
	if key := strings.Join(pp.PolicyIDs, ",") + "|" + fmt.Sprint(spaces); key != pp.cacheKey {
		pp.jsonCache, pp.cacheKey = [2][]byte{}, key
	}
	if pp.jsonCache[i] == nil {
		pp.jsonCache[i], _ = marshalJSON(c.ppItem(pp, r, simplified, false))
	}
	return pp.jsonCache[i]
}

// ppItem is the PackagePolicy answered to r: apiView, with spaceIds once
// space-aware — mapPackagePolicySavedObjectToPackagePolicy
// (server/services/package_policies/utils.ts) adds `spaceIds: namespaces`
// when the saved object has namespaces (the multi-namespace
// fleet-package-policies), redacted like an agent policy's space_ids
// (visibleSpaceIDs). space_awareness/package_policies.ts "should allow to
// add a package policy to an all agent policy in the default space" reads
// spaceIds "*".
func (c *Cluster) ppItem(pp *packagePolicy, r *kreq, simplified, withAgents bool) map[string]any {
	v := pp.apiView(simplified, withAgents)
	if spaces := c.ppSpaceIDs(pp, r); spaces != nil {
		v["spaceIds"] = spaces
	}
	return v
}

// ppSpaceIDs is the spaceIds of pp answered to r, nil before space awareness.
func (c *Cluster) ppSpaceIDs(pp *packagePolicy, r *kreq) []any {
	if !c.spaceAware() {
		return nil
	}
	p := esim.Principal{Superuser: true}
	if r != nil {
		p = r.principal
	}
	ids := visibleSpaceIDs(pp.spaceIDs(), p)
	out := make([]any, len(ids))
	for i, s := range ids {
		out[i] = s
	}
	return out
}

// apiView is the PackagePolicy response: the full format, or with
// simplified inputs and vars (packagePolicyToSimplifiedPackagePolicy).
func (pp *packagePolicy) apiView(simplified, withAgents bool) map[string]any {
	v := map[string]any{
		"id":         pp.ID,
		"version":    "WzEsMV0=",
		"name":       pp.Name,
		"namespace":  pp.Namespace,
		"enabled":    !pp.Disabled,
		"policy_ids": pp.PolicyIDs,
		"package":    map[string]any{"name": pp.PackageName, "version": pp.PackageVer, "title": registryTitle(pp.PackageName)},
		"revision":   pp.Revision,
		"created_at": pp.CreatedAt.Format(time.RFC3339Nano),
		"created_by": cmpOr(pp.CreatedBy, "elastic"),
		"updated_at": pp.UpdatedAt.Format(time.RFC3339Nano),
		"updated_by": cmpOr(pp.UpdatedBy, "elastic"),
	}
	if pp.PolicyIDs == nil {
		v["policy_ids"] = []string{}
	}
	if len(pp.PolicyIDs) > 0 {
		v["policy_id"] = pp.PolicyIDs[0]
	} else if pp.NullPolicyID {
		v["policy_id"] = nil
	}
	if pp.OutputID != nil {
		v["output_id"] = *pp.OutputID
	} else {
		v["output_id"] = nil
	}
	if pp.Description != nil {
		v["description"] = *pp.Description
	}
	if pp.SupportsAgentless {
		v["supports_agentless"] = true
	}
	if pp.IsManaged != nil {
		v["is_managed"] = *pp.IsManaged
	}
	if pp.AdditionalDatastreamsPermissions != nil {
		v["additional_datastreams_permissions"] = pp.AdditionalDatastreamsPermissions
	}
	if withAgents {
		v["agents"] = pp.Agents
	}
	if len(pp.SecretRefs) > 0 {
		refs := make([]any, len(pp.SecretRefs))
		for i, id := range pp.SecretRefs {
			refs[i] = map[string]any{"id": id}
		}
		v["secret_references"] = refs
	}
	if simplified {
		v["inputs"] = simplifiedInputs(pp.Inputs)
		if pp.Vars != nil {
			v["vars"] = simplifiedVars(pp.Vars)
		}
		return v
	}
	v["inputs"] = pp.inputsView()
	if pp.Vars != nil {
		v["vars"] = pp.Vars
	}
	return v
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

// inputsView is the policy's inputs, [] when it has none.
func (pp *packagePolicy) inputsView() []any {
	out := make([]any, 0, len(pp.Inputs))
	for _, in := range pp.Inputs {
		out = append(out, in)
	}
	return out
}
