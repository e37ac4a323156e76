package schema

import "fmt"

// FleetServerHost is a Fleet Server host (Kibana's fleet-fleet-server-host,
// FleetServerHostSchema in server/types/rest_spec/fleet_server_policy_config.ts):
// the URLs agents enrol and check in through.
type FleetServerHost struct {
	ID         string                  `json:"id"`
	Name       string                  `json:"name"`
	HostURLs   []string                `json:"host_urls"`
	IsDefault  *bool                   `json:"is_default,omitempty"`
	IsInternal *bool                   `json:"is_internal,omitempty"`
	ProxyID    *string                 `json:"proxy_id,omitempty"` // null or absent: no proxy
	SSL        *FleetServerHostSSL     `json:"ssl,omitempty"`
	Secrets    *FleetServerHostSecrets `json:"secrets,omitempty"`
}

// FleetServerHostSSL are the TLS settings of Fleet Server: its own
// certificate (certificate, key), the one it presents to Elasticsearch
// (es_*) and the one agents present to it (agent_*). Keys set here are
// stored in the object (ESO-encrypted); prefer secrets.ssl.*.
type FleetServerHostSSL struct {
	CertificateAuthorities      []string   `json:"certificate_authorities,omitempty"`
	Certificate                 string     `json:"certificate,omitempty"`
	Key                         *SecretRef `json:"key,omitempty"`
	ESCertificateAuthorities    []string   `json:"es_certificate_authorities,omitempty"`
	ESCertificate               string     `json:"es_certificate,omitempty"`
	ESKey                       *SecretRef `json:"es_key,omitempty"`
	AgentCertificateAuthorities []string   `json:"agent_certificate_authorities,omitempty"`
	AgentCertificate            string     `json:"agent_certificate,omitempty"`
	AgentKey                    *SecretRef `json:"agent_key,omitempty"`
	ClientAuth                  string     `json:"client_auth,omitempty"` // optional | required | none
}

// FleetServerHostSecrets are the keys Fleet stores in .fleet-secrets.
type FleetServerHostSecrets struct {
	SSL *FleetServerHostSecretsSSL `json:"ssl,omitempty"`
}

// FleetServerHostSecretsSSL holds secrets.ssl.{key,es_key,agent_key}.
type FleetServerHostSecretsSSL struct {
	Key      *SecretRef `json:"key,omitempty"`
	ESKey    *SecretRef `json:"es_key,omitempty"`
	AgentKey *SecretRef `json:"agent_key,omitempty"`
}

func (c *checker) fleetServerHostIDs(doc *Document) map[string]bool {
	ids := map[string]bool{}
	for _, h := range doc.FleetServerHosts {
		ids[h.ID] = true
	}
	return ids
}

func (c *checker) fleetServerHosts(doc *Document) {
	proxies := c.proxyIDs(doc)
	ids := map[string]int{}
	defaultAt := -1
	for i := range doc.FleetServerHosts {
		h := &doc.FleetServerHosts[i]
		p := fmt.Sprintf("/fleet_server_hosts/%d", i)
		if j, dup := ids[h.ID]; dup && h.ID != "" {
			c.at(p+"/id", "duplicate Fleet Server host id %q (also at %s)", h.ID, c.where(fmt.Sprintf("/fleet_server_hosts/%d/id", j)))
		} else {
			ids[h.ID] = i
		}
		c.kibanaID(p+"/id", h.ID)
		if h.IsDefault != nil && *h.IsDefault {
			if defaultAt >= 0 {
				c.at(p+"/is_default", "only one Fleet Server host may set is_default: true (%q sets it too)", doc.FleetServerHosts[defaultAt].ID)
			} else {
				defaultAt = i
			}
		}
		for j, u := range h.HostURLs {
			c.httpURL(fmt.Sprintf("%s/host_urls/%d", p, j), u)
		}
		c.reference(p+"/proxy_id", h.ProxyID, "proxy", "proxies", proxies, "")
		if h.SSL != nil && h.Secrets != nil && h.Secrets.SSL != nil {
			for _, f := range []struct {
				name        string
				plain, secr *SecretRef
			}{{"key", h.SSL.Key, h.Secrets.SSL.Key}, {"es_key", h.SSL.ESKey, h.Secrets.SSL.ESKey}, {"agent_key", h.SSL.AgentKey, h.Secrets.SSL.AgentKey}} {
				if f.plain != nil && f.secr != nil {
					c.at(p+"/ssl/"+f.name, "Cannot specify both ssl.%s and secrets.ssl.%s", f.name, f.name)
				}
			}
		}
	}
}
