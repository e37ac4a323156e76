package fleetsim

import "slices"

// setup is POST /api/fleet/setup: ensure the default output and clean
// preconfigured outputs that kibana.yml (the seed) no longer declares.
func (c *Cluster) setup(_ *kreq) *kresp {
	now := c.now()
	declared := c.sim.preconfiguredIDs(c.cfg.Name)
	var nonFatal []any
	for _, raw := range c.sim.preconfiguredOutputs(c.cfg.Name) {
		if _, err := c.ensurePreconfiguredOutput(raw, now); err != nil {
			nonFatal = append(nonFatal, map[string]any{"message": err.Error()})
		}
	}
	if err := c.ensurePreconfiguredDownloadSources(c.sim.preconfiguredDownloadSources(c.cfg.Name), now); err != nil {
		nonFatal = append(nonFatal, map[string]any{"message": err.Error()})
	}
	for _, soID := range sortedKeys(c.st.Outputs) {
		o := c.st.Outputs[soID]
		if !o.flag("is_preconfigured") || slices.Contains(declared, o.id()) {
			continue
		}
		if o.flag("is_default") || o.flag("is_default_monitoring") {
			o.Attrs["is_preconfigured"] = false
			c.st.putOutput(o, now)
			continue
		}
		for _, p := range c.st.AgentPolicies {
			changed := false
			for _, k := range []string{"data_output_id", "monitoring_output_id"} {
				if p.Attrs[k] == o.id() {
					p.Attrs[k] = nil
					changed = true
				}
			}
			if changed {
				c.bumpPolicy(p, now)
			}
		}
		delete(c.st.Outputs, soID)
	}
	if c.st.defaultOutput(false) == nil {
		o := &output{SOID: outputIDToUUID(defaultOutputID), Attrs: map[string]any{
			"output_id": defaultOutputID, "name": "default", "type": typeES, "is_default": true,
			"is_default_monitoring": c.st.defaultOutput(true) == nil, "hosts": []any{normalizeHost(c.ESURL())},
		}}
		if c.hasPresets() {
			o.Attrs["preset"] = "balanced"
		}
		if c.st.Outputs[o.SOID] == nil {
			c.st.putOutput(o, now)
		}
	}
	if nonFatal == nil {
		nonFatal = []any{}
	}
	return ok(map[string]any{"isInitialized": true, "nonFatalErrors": nonFatal})
}
