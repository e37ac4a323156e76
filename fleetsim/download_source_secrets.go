package fleetsim

import "slices"

// Secrets of agent binary download sources: secrets.ssl.key (SSL secret
// storage, Fleet Server 9.3.0) and secrets.auth.password/api_key (download
// source auth secret storage, Fleet Server 9.4.0), each feature with its own
// latch.
//
// Sources: FLEET/server/services/secrets/download_sources.ts
// (getDownloadSourcesSecretPaths: with auth storage on, a plain
// auth.password/api_key is stored as a secret too), services/secrets/common.ts
// (isSecretStorageEnabledForFeature, diffSOSecretPaths) and the expectations
// of apis/download_sources/crud.ts: an update that mentions neither ssl nor
// secrets.ssl keeps the SSL secret; one that mentions neither auth nor
// secrets.auth keeps auth and its secrets; one that mentions either replaces
// auth entirely (auth: null or absent clears it).

// dsSecretGroup is one secret feature of a download source.
type dsSecretGroup struct {
	field string   // ssl | auth
	keys  []string // secret keys under field and secrets.<field>
	min   string   // minimum Fleet Server version
	latch func(*kstate) *bool
}

var dsSecretGroups = []dsSecretGroup{
	{field: "ssl", keys: []string{"key"}, min: sslSecretsMinVersion, latch: func(s *kstate) *bool { return &s.SSLSecretLatch }},
	{field: "auth", keys: []string{"password", "api_key"}, min: dsAuthSecretsMinVersion, latch: func(s *kstate) *bool { return &s.DSAuthSecretLatch }},
}

// storeGroup writes the group's secrets of obj (a create body, or the
// update's new state): with storage on, string values of secrets.<field>.<k>
// become {id} and so does a plain <field>.<k> of the auth group; with
// storage off, secrets.<field>.<k> strings move to <field>.<k>.
func (c *Cluster) storeGroup(g dsSecretGroup, obj map[string]any) {
	enabled := c.secretStorageFor(g.min, g.latch(c.st))
	for _, k := range g.keys {
		plainPath, secretPath := []string{g.field, k}, []string{"secrets", g.field, k}
		if s, ok := getPath(obj, secretPath).(string); ok {
			if enabled {
				setPath(obj, secretPath, map[string]any{"id": c.node.CreateFleetSecret(s)})
			} else {
				deletePath(obj, secretPath)
				setPath(obj, plainPath, s)
			}
			continue
		}
		if s, ok := getPath(obj, plainPath).(string); ok && s != "" && enabled && g.field == "auth" {
			deletePath(obj, plainPath)
			setPath(obj, secretPath, map[string]any{"id": c.node.CreateFleetSecret(s)})
		}
	}
	pruneEmptySecrets(obj)
}

func (c *Cluster) storeDownloadSourceSecrets(attrs map[string]any) {
	for _, g := range dsSecretGroups {
		c.storeGroup(g, attrs)
	}
}

// updateDownloadSourceSecrets applies an update's ssl, auth and secrets to
// attrs, group by group, deleting the secrets no longer referenced. It
// removes those keys from body; the caller merges the rest.
func (c *Cluster) updateDownloadSourceSecrets(attrs, body map[string]any) {
	bodySecrets, _ := body["secrets"].(map[string]any)
	for _, g := range dsSecretGroups {
		_, sentField := body[g.field]
		_, sentSecrets := bodySecrets[g.field]
		if !sentField && !sentSecrets {
			continue // untouched: keep the stored field and its secrets
		}
		old := secretIDsAt(attrs, groupPaths(g))
		next := map[string]any{}
		if v, ok := body[g.field]; ok && v != nil {
			next[g.field] = v
		} else if !sentField && g.field == "ssl" && !c.sslFromSecretAlone(g, bodySecrets) {
			next[g.field] = attrs[g.field] // the service only rewrites ssl when sent
		}
		if sentSecrets && bodySecrets[g.field] != nil {
			next["secrets"] = map[string]any{g.field: bodySecrets[g.field]}
		}
		c.storeGroup(g, next)
		if v, ok := next[g.field]; ok && v != nil {
			attrs[g.field] = v
		} else {
			delete(attrs, g.field)
		}
		sec, _ := attrs["secrets"].(map[string]any)
		if ns, ok := getPath(next, []string{"secrets", g.field}).(map[string]any); ok {
			if sec == nil {
				sec = map[string]any{}
				attrs["secrets"] = sec
			}
			sec[g.field] = ns
		} else if sec != nil {
			delete(sec, g.field)
		}
		pruneEmptySecrets(attrs)
		now := secretIDsAt(attrs, groupPaths(g))
		for _, id := range old {
			if !slices.Contains(now, id) {
				c.node.DeleteFleetSecret(id)
			}
		}
		delete(body, g.field)
	}
	delete(body, "secrets")
}

// sslFromSecretAlone reports an update whose ssl Kibana builds from the
// request alone: storage off, secrets.ssl.key a value and no ssl sent —
// download_source.ts update: `if (!sslSecretStorageEnabled) { if
// (!newData.ssl?.key && newData.secrets?.ssl?.key) updateData.ssl =
// JSON.stringify({ ...newData.ssl, ...newData.secrets.ssl }) }`, replacing
// the stored ssl (certificate and authorities included).
func (c *Cluster) sslFromSecretAlone(g dsSecretGroup, bodySecrets map[string]any) bool {
	_, isValue := getPath(bodySecrets, []string{"ssl", "key"}).(string)
	return isValue && !c.secretStorageFor(g.min, g.latch(c.st))
}

func groupPaths(g dsSecretGroup) [][]string {
	out := make([][]string, len(g.keys))
	for i, k := range g.keys {
		out[i] = []string{g.field, k}
	}
	return out
}
