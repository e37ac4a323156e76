package schema

import "fmt"

// DownloadSource is an agent binary download source (Kibana's
// ingest-download-sources, DownloadSourceSchema in
// server/types/models/download_sources.ts): where agents download upgrades.
type DownloadSource struct {
	ID                       string                 `json:"id"`
	Name                     string                 `json:"name"`
	Host                     string                 `json:"host"`
	IsDefault                *bool                  `json:"is_default,omitempty"`
	ProxyID                  *string                `json:"proxy_id,omitempty"`
	SecurityArtifactsProxyID *string                `json:"security_artifacts_proxy_id,omitempty"`
	SecurityArtifactsURL     *string                `json:"security_artifacts_url,omitempty"`
	SSL                      *DownloadSourceSSL     `json:"ssl,omitempty"`
	Auth                     *DownloadSourceAuth    `json:"auth,omitempty"`
	Secrets                  *DownloadSourceSecrets `json:"secrets,omitempty"`
}

// DownloadSourceSSL is the TLS client configuration for the host.
type DownloadSourceSSL struct {
	CertificateAuthorities []string   `json:"certificate_authorities,omitempty"`
	Certificate            string     `json:"certificate,omitempty"`
	Key                    *SecretRef `json:"key,omitempty"`
}

// DownloadSourceAuth authenticates agents to the host: username and
// password, or an API key, plus extra headers.
type DownloadSourceAuth struct {
	Username string          `json:"username,omitempty"`
	Password *SecretRef      `json:"password,omitempty"`
	APIKey   *SecretRef      `json:"api_key,omitempty"`
	Headers  []KeyValueEntry `json:"headers,omitempty"`
}

// KeyValueEntry is one HTTP header.
type KeyValueEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// DownloadSourceSecrets are the values Fleet stores in .fleet-secrets.
type DownloadSourceSecrets struct {
	SSL  *SecretsSSL                `json:"ssl,omitempty"`
	Auth *DownloadSourceSecretsAuth `json:"auth,omitempty"`
}

// DownloadSourceSecretsAuth holds secrets.auth.{password,api_key}.
type DownloadSourceSecretsAuth struct {
	Password *SecretRef `json:"password,omitempty"`
	APIKey   *SecretRef `json:"api_key,omitempty"`
}

func (c *checker) downloadSourceIDs(doc *Document) map[string]bool {
	ids := map[string]bool{}
	for _, d := range doc.DownloadSources {
		ids[d.ID] = true
	}
	return ids
}

func (c *checker) downloadSources(doc *Document) {
	proxies := c.proxyIDs(doc)
	ids := map[string]int{}
	defaultAt := -1
	for i := range doc.DownloadSources {
		d := &doc.DownloadSources[i]
		p := fmt.Sprintf("/download_sources/%d", i)
		if j, dup := ids[d.ID]; dup && d.ID != "" {
			c.at(p+"/id", "duplicate download source id %q (also at %s)", d.ID, c.where(fmt.Sprintf("/download_sources/%d/id", j)))
		} else {
			ids[d.ID] = i
		}
		c.kibanaID(p+"/id", d.ID)
		if d.IsDefault != nil && *d.IsDefault {
			if defaultAt >= 0 {
				c.at(p+"/is_default", "only one download source may set is_default: true (%q sets it too)", doc.DownloadSources[defaultAt].ID)
			} else {
				defaultAt = i
			}
		}
		if d.Host != "" {
			c.httpURL(p+"/host", d.Host)
		}
		if d.SecurityArtifactsURL != nil {
			c.httpURL(p+"/security_artifacts_url", *d.SecurityArtifactsURL)
		}
		c.reference(p+"/proxy_id", d.ProxyID, "proxy", "proxies", proxies, "")
		c.reference(p+"/security_artifacts_proxy_id", d.SecurityArtifactsProxyID, "proxy", "proxies", proxies, "")
		c.downloadSourceAuth(p, d)
		if s := d.Secrets; s != nil {
			if s.SSL != nil && s.SSL.Key != nil && d.SSL != nil && d.SSL.Key != nil {
				c.at(p+"/ssl/key", "Cannot specify both ssl.key and secrets.ssl.key")
			}
			if s.Auth != nil && d.Auth != nil {
				if s.Auth.Password != nil && d.Auth.Password != nil {
					c.at(p+"/auth/password", "Cannot specify both auth.password and secrets.auth.password")
				}
				if s.Auth.APIKey != nil && d.Auth.APIKey != nil {
					c.at(p+"/auth/api_key", "Cannot specify both auth.api_key and secrets.auth.api_key")
				}
			}
		}
	}
}

// downloadSourceAuth follows validateDownloadSource
// (server/routes/download_source/handler.ts), which refuses the create and
// the update: username/password and api_key together, or one of username
// and password without the other (each in auth or secrets.auth).
func (c *checker) downloadSourceAuth(p string, d *DownloadSource) {
	var username, password, apiKey bool
	if a := d.Auth; a != nil {
		username, password, apiKey = a.Username != "", a.Password != nil, a.APIKey != nil
	}
	if s := d.Secrets; s != nil && s.Auth != nil {
		password = password || s.Auth.Password != nil
		apiKey = apiKey || s.Auth.APIKey != nil
	}
	switch {
	case (username || password) && apiKey:
		c.at(p+"/auth", "Cannot specify both username/password and api_key authentication")
	case username != password:
		c.at(p+"/auth", "Username and password must be provided together")
	}
}
