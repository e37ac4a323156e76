package schema

// Output returns the output with the given id.
func (d *Document) Output(id string) (*Output, bool) {
	for i := range d.Outputs {
		if d.Outputs[i].ID == id {
			return &d.Outputs[i], true
		}
	}
	return nil, false
}

// Remote returns the remote cluster with the given name.
func (d *Document) Remote(name string) (*Remote, bool) {
	for i := range d.Clusters.Remotes {
		if d.Clusters.Remotes[i].Name == name {
			return &d.Clusters.Remotes[i], true
		}
	}
	return nil, false
}

// AgentPolicy returns the agent policy with the given id.
func (d *Document) AgentPolicy(id string) (*AgentPolicy, bool) {
	for i := range d.AgentPolicies {
		if d.AgentPolicies[i].ID == id {
			return &d.AgentPolicies[i], true
		}
	}
	return nil, false
}
