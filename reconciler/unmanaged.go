package reconciler

import (
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// listUnmanaged adds to the plan the Fleet objects of the main cluster that
// the document does not declare and no fleetform instance owns: what
// `fleetform import` would take over. Each kind says which of its observed
// objects a repository could own (kind.ownable): objects Kibana manages
// itself (kibana.yml-preconfigured, is_managed policies) are left out. A
// kind that was not listed (nothing of it declared or recorded) shows none.
func (r *Reconciler) listUnmanaged(doc *schema.Document, c *computed) {
	for _, kk := range kinds {
		k, ok := kk.(ownableKind)
		if !ok {
			continue
		}
		declared := map[string]bool{}
		for _, id := range k.declared(doc) {
			declared[id] = true
		}
		for _, o := range k.ownable(c.obs) {
			key := plan.Key(r.cfg.Cluster, k.name(), o.ID)
			_, owned := c.obs.records[key]
			if declared[o.ID] || owned || len(c.obs.foreign[key]) > 0 {
				continue
			}
			o.Cluster, o.Kind = r.cfg.Cluster, k.name()
			c.plan.AddUnmanaged(o)
		}
	}
}

func (outputKind) ownable(obs *observation) []plan.Object {
	var out []plan.Object
	for _, id := range sortedKeys(obs.outputs) {
		o := obs.outputs[id]
		if !isTrue(o["is_preconfigured"]) {
			name, _ := o["name"].(string)
			out = append(out, plan.Object{ID: id, Name: name})
		}
	}
	return out
}

func (agentPolicyKind) ownable(obs *observation) []plan.Object {
	var out []plan.Object
	for _, id := range sortedKeys(obs.policies) {
		if p := obs.policies[id]; !p.IsPreconfigured && !p.IsManaged {
			out = append(out, plan.Object{ID: id, Name: p.Name})
		}
	}
	return out
}

func (packageKind) ownable(obs *observation) []plan.Object {
	out := make([]plan.Object, 0, len(obs.packages))
	for _, name := range sortedKeys(obs.packages) {
		out = append(out, plan.Object{ID: name})
	}
	return out
}

func (k objectKind) ownable(obs *observation) []plan.Object {
	var out []plan.Object
	objs := obs.objects[k.kind]
	for _, id := range sortedKeys(objs) {
		if o := objs[id]; !isTrue(o["is_preconfigured"]) {
			name, _ := o["name"].(string)
			out = append(out, plan.Object{ID: id, Name: name})
		}
	}
	return out
}
