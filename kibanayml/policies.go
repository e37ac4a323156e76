package kibanayml

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/fleetform/fleetform/schema"
)

const ignoredOutputField = "WARNING: Kibana ignores later changes of this field in kibana.yml for unmanaged preconfigured policies; change it through fleetform apply or the API."

// policies renders xpack.fleet.agentPolicies: every declared field of each
// agent policy Kibana's PreconfiguredAgentPoliciesSchema accepts, and under
// package_policies the integration policies attached to it.
func (r *renderer) policies(pols []schema.AgentPolicy, pps []schema.PackagePolicy) (*yaml.Node, error) {
	// An integration policy goes under the first of its agent policies that
	// kibana.yml holds; kibana.yml cannot share one across agent policies.
	rendered := map[string]bool{}
	for _, p := range pols {
		if !p.Adopt {
			rendered[p.ID] = true
		}
	}
	under := map[string][]int{}
	for i, pp := range pps {
		if pp.Adopt {
			r.leftOut = append(r.leftOut, "integration policy "+pp.ID+" (adopted)")
			continue
		}
		home := slices.IndexFunc(pp.PolicyIDs, func(id string) bool { return rendered[id] })
		if home < 0 {
			r.leftOut = append(r.leftOut, "integration policy "+pp.ID+" (none of its agent policies is in kibana.yml)")
			continue
		}
		// The home agent policy first, then the others it is shared with.
		pps[i].PolicyIDs = append([]string{pp.PolicyIDs[home]}, slices.Delete(slices.Clone(pp.PolicyIDs), home, home+1)...)
		under[pp.PolicyIDs[home]] = append(under[pp.PolicyIDs[home]], i)
	}

	seq := sequence()
	for _, p := range pols {
		if p.Adopt {
			r.adopted = append(r.adopted, p.ID)
			continue
		}
		p.Adopt = false
		m, err := toNode(p)
		if err != nil {
			return nil, fmt.Errorf("kibanayml: agent policy %s: %w", p.ID, err)
		}
		for _, key := range []string{"data_output_id", "monitoring_output_id"} {
			if k, _ := lookup(m, key); k != nil {
				k.HeadComment = ignoredOutputField
			}
		}
		addSpaceID(m, p)
		if idx := under[p.ID]; len(idx) > 0 {
			list := sequence()
			for _, i := range idx {
				n, err := r.packagePolicy(pps[i])
				if err != nil {
					return nil, err
				}
				list.Content = append(list.Content, n)
			}
			addPair(m, "package_policies", list, "")
		}
		seq.Content = append(seq.Content, m)
	}
	return seq, nil
}

// packagePolicy renders one integration policy in Kibana's
// SimplifiedPackagePolicyPreconfiguredSchema: no policy_ids (the nesting
// says it) and package {name} only (the version is xpack.fleet.packages').
func (r *renderer) packagePolicy(pp schema.PackagePolicy) (*yaml.Node, error) {
	shared := pp.PolicyIDs[1:]
	pp.PolicyIDs = nil
	var version string
	if pp.Package != nil {
		version = pp.Package.Version
		pp.Package = &schema.PackagePolicyPackage{Name: pp.Package.Name}
	}
	n, err := toNode(pp)
	if err != nil {
		return nil, fmt.Errorf("kibanayml: integration policy %s: %w", pp.ID, err)
	}
	if k, _ := lookup(n, "package"); k != nil && version != "" {
		k.HeadComment = "Version " + version + " comes from xpack.fleet.packages: kibana.yml integration policies use the installed version."
	}
	if len(shared) > 0 {
		n.HeadComment = "WARNING: also attached to " + strings.Join(shared, ", ") + " in the desired state; kibana.yml attaches an integration policy to one agent policy. Attach it to the others with fleetform apply."
	}
	label := "integration policy " + pp.ID
	secretVars := func(prefix []string, v schema.Vars) {
		for _, name := range sortedKeys(v.SecretRefs()) {
			r.placeholder(label, pp.ID, n, append(slices.Clone(prefix), name))
		}
	}
	secretVars([]string{"vars"}, pp.Vars)
	for _, in := range sortedKeys(pp.Inputs) {
		secretVars([]string{"inputs", in, "vars"}, pp.Inputs[in].Vars)
		for _, st := range sortedKeys(pp.Inputs[in].Streams) {
			secretVars([]string{"inputs", in, "streams", st, "vars"}, pp.Inputs[in].Streams[st].Vars)
		}
	}
	return n, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
