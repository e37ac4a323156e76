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

// find returns a pointer to the item of items whose id is id.
func find[T any](items []T, id string, idOf func(*T) string) (*T, bool) {
	for i := range items {
		if idOf(&items[i]) == id {
			return &items[i], true
		}
	}
	return nil, false
}

// PackagePolicy returns the integration policy with the given id.
func (d *Document) PackagePolicy(id string) (*PackagePolicy, bool) {
	return find(d.PackagePolicies, id, func(p *PackagePolicy) string { return p.ID })
}

// FleetServerHost returns the Fleet Server host with the given id.
func (d *Document) FleetServerHost(id string) (*FleetServerHost, bool) {
	return find(d.FleetServerHosts, id, func(h *FleetServerHost) string { return h.ID })
}

// Proxy returns the proxy with the given id.
func (d *Document) Proxy(id string) (*Proxy, bool) {
	return find(d.Proxies, id, func(p *Proxy) string { return p.ID })
}

// DownloadSource returns the download source with the given id.
func (d *Document) DownloadSource(id string) (*DownloadSource, bool) {
	return find(d.DownloadSources, id, func(s *DownloadSource) string { return s.ID })
}
