package fleetsim

import "time"

// installMonitoringPackage is agent_policy_create.ts: an agent policy created
// with monitoring_enabled (logs and/or metrics) gets the elastic_agent
// package installed, which adds it to what counts as installed for sync.
func (c *Cluster) installMonitoringPackage(p *agentPolicy, _ time.Time) {
	if mon, _ := p.Attrs["monitoring_enabled"].([]any); len(mon) == 0 {
		return
	}
	if inst := c.st.Packages["elastic_agent"]; inst != nil && inst.Status == "installed" {
		return
	}
	if _, ierr := c.install("elastic_agent", "", false); ierr != nil {
		c.sim.log.Warn("installing elastic_agent for agent monitoring failed", "cluster", c.cfg.Name, "policy", p.ID, "err", ierr.message)
	}
}
