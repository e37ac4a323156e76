package fleetsim

import "time"

// How a change to a Fleet settings object that agent policies refer to (a
// download source, a Fleet Server host) reaches those policies. A policy
// that names none uses the default, so a change to the default concerns
// every policy; a change to another, only the policies that name it.

// bumpPoliciesAfterUpdate is what the settings update handlers do after
// writing o: bump every agent policy when o is the default, otherwise
// those whose attribute ref ("download_source_id", "fleet_server_host_id")
// names o.
func (c *Cluster) bumpPoliciesAfterUpdate(o *settingsObject, ref string, now time.Time) {
	if o.flag("is_default") {
		c.bumpAllPolicies(now)
		return
	}
	c.bumpPoliciesWith(ref, o.ID, now)
}

// bumpPoliciesWith bumps the agent policies whose attribute k is id.
func (c *Cluster) bumpPoliciesWith(k, id string, now time.Time) {
	for _, p := range c.st.AgentPolicies {
		if p.Attrs[k] == id {
			c.bumpPolicy(p, now)
		}
	}
}

// clearPolicyReference sets attribute k to null on the agent policies that
// name id, bumping them.
func (c *Cluster) clearPolicyReference(k, id string, now time.Time) {
	for _, p := range c.st.AgentPolicies {
		if p.Attrs[k] == id {
			p.Attrs[k] = nil
			c.bumpPolicy(p, now)
		}
	}
}

// unsetDefaultExcept clears is_default on every object of objs but exceptID
// (a new default replaces the old one).
func unsetDefaultExcept(objs map[string]*settingsObject, exceptID string) {
	for _, o := range objs {
		if o.ID != exceptID && o.flag("is_default") {
			o.Attrs["is_default"] = false
		}
	}
}
