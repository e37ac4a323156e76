package schema

import (
	"fmt"
	"net/url"
)

// Proxy is a Fleet proxy (FleetProxySchema in
// server/types/rest_spec/fleet_proxies.ts) that outputs, Fleet Server hosts
// and download sources reach the network through (their proxy_id).
type Proxy struct {
	ID                     string         `json:"id"`
	Name                   string         `json:"name"`
	URL                    string         `json:"url"`
	ProxyHeaders           map[string]any `json:"proxy_headers,omitempty"` // values: string, boolean or number
	CertificateAuthorities string         `json:"certificate_authorities,omitempty"`
	Certificate            string         `json:"certificate,omitempty"`
	CertificateKey         *SecretRef     `json:"certificate_key,omitempty"`
}

func (c *checker) proxyIDs(doc *Document) map[string]bool {
	ids := map[string]bool{}
	for _, p := range doc.Proxies {
		ids[p.ID] = true
	}
	return ids
}

func (c *checker) proxies(doc *Document) {
	ids := map[string]int{}
	for i := range doc.Proxies {
		px := &doc.Proxies[i]
		p := fmt.Sprintf("/proxies/%d", i)
		if j, dup := ids[px.ID]; dup && px.ID != "" {
			c.at(p+"/id", "duplicate proxy id %q (also at %s)", px.ID, c.where(fmt.Sprintf("/proxies/%d/id", j)))
		} else {
			ids[px.ID] = i
		}
		c.kibanaID(p+"/id", px.ID)
		if px.URL != "" {
			// Kibana answers "Invalid URL" (fleet_proxies.ts validateUrl).
			u, err := url.Parse(px.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5") || u.Host == "" {
				c.at(p+"/url", "Invalid URL: %q must be an http://, https:// or socks5:// URL", redactCredentials(px.URL))
			}
		}
	}
	// outputs[].proxy_id
	proxies := c.proxyIDs(doc)
	for i := range doc.Outputs {
		c.reference(fmt.Sprintf("/outputs/%d/proxy_id", i), doc.Outputs[i].ProxyID, "proxy", "proxies", proxies, "")
	}
}
