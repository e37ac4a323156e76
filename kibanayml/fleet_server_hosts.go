package kibanayml

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/fleetform/fleetform/schema"
)

// fleetServerHosts renders xpack.fleet.fleetServerHosts with the fields of
// Kibana's PreconfiguredFleetServerHostsSchema common to its versions (id,
// name, is_default, is_internal, host_urls, proxy_id). TLS settings and
// secrets are not preconfigurable in every version: they are left out and
// named in the header.
func (r *renderer) fleetServerHosts(hosts []schema.FleetServerHost) (*yaml.Node, error) {
	seq := sequence()
	for _, h := range hosts {
		if h.SSL != nil || h.Secrets != nil {
			r.leftOut = append(r.leftOut, "ssl and secrets of Fleet Server host "+h.ID+" (not preconfigurable in every Kibana version)")
		}
		h.SSL, h.Secrets = nil, nil
		n, err := toNode(h)
		if err != nil {
			return nil, fmt.Errorf("kibanayml: Fleet Server host %s: %w", h.ID, err)
		}
		seq.Content = append(seq.Content, n)
	}
	return seq, nil
}

// proxies renders xpack.fleet.proxies (PreconfiguredFleetProxiesSchema);
// certificate_key becomes a ${VAR} placeholder.
func (r *renderer) proxies(proxies []schema.Proxy) (*yaml.Node, error) {
	seq := sequence()
	for _, p := range proxies {
		n, err := toNode(p)
		if err != nil {
			return nil, fmt.Errorf("kibanayml: proxy %s: %w", p.ID, err)
		}
		r.placeholder("proxy "+p.ID, "proxy_"+p.ID, n, []string{"certificate_key"})
		seq.Content = append(seq.Content, n)
	}
	return seq, nil
}
