package fleetsim

import (
	"strings"
)

// secretStorageEnabled is isOutputSecretStorageEnabled (2.7).
func (c *Cluster) secretStorageEnabled() bool {
	return c.secretStorageFor("8.12.0", &c.st.SecretLatch)
}

// Minimum Fleet Server versions of common/constants/secrets.ts.
const (
	sslSecretsMinVersion    = "9.3.0" // SSL_SECRETS_MINIMUM_FLEET_SERVER_VERSION
	dsAuthSecretsMinVersion = "9.4.0" // DOWNLOAD_SOURCE_AUTH_SECRETS_MINIMUM_FLEET_SERVER_VERSION
)

// secretStorageFor is isSecretStorageEnabledForFeature
// (services/secrets/common.ts): on once every Fleet Server is at least
// minVersion, and from then on for good (latch is the feature's
// *_secret_storage_requirements_met setting).
func (c *Cluster) secretStorageFor(minVersion string, latch *bool) bool {
	switch c.cfg.SecretStorage {
	case "on":
		return true
	case "off":
		return false
	}
	if *latch {
		return true
	}
	if len(c.st.FleetServers) == 0 {
		return versionAtLeast(c.cfg.Version, "9.3.0")
	}
	for _, v := range c.st.FleetServers {
		if !versionAtLeast(v, minVersion) {
			return false
		}
	}
	*latch = true
	return true
}

// storeSecrets writes string secret values to .fleet-secrets and replaces them
// by {id}, or, with storage off, moves them to their plain fields.
func (c *Cluster) storeSecrets(attrs map[string]any) {
	enabled := c.secretStorageEnabled()
	for _, sp := range secretPaths {
		v, sent := getPathOK(attrs, sp.secret)
		if !sent {
			continue
		}
		s, isStr := v.(string)
		if !isStr {
			continue
		}
		if enabled {
			setPath(attrs, sp.secret, map[string]any{"id": c.node.CreateFleetSecret(s)})
			continue
		}
		deletePath(attrs, sp.secret)
		setPath(attrs, sp.plain, s)
	}
	if sec, okm := attrs["secrets"].(map[string]any); okm {
		if ssl, okSSL := sec["ssl"].(map[string]any); okSSL && len(ssl) == 0 {
			delete(sec, "ssl")
		}
		if len(sec) == 0 {
			delete(attrs, "secrets")
		}
	}
}

func pathAllowed(typ string, path []string) bool {
	switch strings.Join(path, ".") {
	case "secrets.service_token":
		return typ == typeRemoteES
	case "secrets.password":
		return typ == typeKafka
	}
	return true
}
