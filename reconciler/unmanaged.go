package reconciler

import (
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// listUnmanaged adds to the plan the Fleet objects of the main cluster that
// the document does not declare and no fleetform instance owns: what
// `fleetform import` would take over. Objects Kibana manages itself
// (kibana.yml-preconfigured, is_managed policies) are left out: no
// repository can own them.
func (r *Reconciler) listUnmanaged(doc *schema.Document, c *computed) {
	known := func(kind, id string) bool {
		key := plan.Key(r.cfg.Cluster, kind, id)
		_, owned := c.obs.records[key]
		return owned || len(c.obs.foreign[key]) > 0
	}
	for _, id := range sortedKeys(c.obs.outputs) {
		o := c.obs.outputs[id]
		if _, declared := doc.Output(id); declared || known(plan.KindOutput, id) || isTrue(o["is_preconfigured"]) {
			continue
		}
		name, _ := o["name"].(string)
		c.plan.AddUnmanaged(plan.Object{Cluster: r.cfg.Cluster, Kind: plan.KindOutput, ID: id, Name: name})
	}
	declaredPolicies := map[string]bool{}
	for _, p := range doc.AgentPolicies {
		declaredPolicies[p.ID] = true
	}
	for _, id := range sortedKeys(c.obs.policies) {
		p := c.obs.policies[id]
		if declaredPolicies[id] || known(plan.KindAgentPolicy, id) || p.IsPreconfigured || p.IsManaged {
			continue
		}
		c.plan.AddUnmanaged(plan.Object{Cluster: r.cfg.Cluster, Kind: plan.KindAgentPolicy, ID: id, Name: p.Name})
	}
	declaredPackages := map[string]bool{}
	for _, p := range doc.Packages {
		declaredPackages[p.Name] = true
	}
	for _, name := range sortedKeys(c.obs.packages) {
		if declaredPackages[name] || known(plan.KindPackage, name) {
			continue
		}
		c.plan.AddUnmanaged(plan.Object{Cluster: r.cfg.Cluster, Kind: plan.KindPackage, ID: name})
	}
}
