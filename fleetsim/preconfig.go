package fleetsim

import (
	"crypto/pbkdf2"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Preconfigured outputs are kibana.yml's xpack.fleet.outputs (fleet-api.md §6):
// the seed's outputs, applied when the seed loads and again by every
// POST /api/fleet/setup, as Kibana does on each start.

// SetPreconfiguredOutputs replaces a cluster's kibana.yml outputs without
// applying them, as an edited kibana.yml before a restart: the next
// POST /api/fleet/setup (or Seed/Reset) applies them.
func (s *Sim) SetPreconfiguredOutputs(cluster string, outputs []map[string]any) error {
	if err := validatePreconfiguredOutputs(outputs); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clusters[cluster] == nil {
		return fmt.Errorf("fleetsim: unknown cluster %q", cluster)
	}
	if s.seed == nil {
		s.seed = &SeedFile{}
	}
	if s.seed.Clusters == nil {
		s.seed.Clusters = map[string]*ClusterSeed{}
	}
	cs := s.seed.Clusters[cluster]
	if cs == nil {
		cs = &ClusterSeed{}
		s.seed.Clusters[cluster] = cs
	}
	cs.Outputs = outputs
	return nil
}

func (s *Sim) preconfiguredOutputs(cluster string) []map[string]any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.seed == nil || s.seed.Clusters[cluster] == nil {
		return nil
	}
	return s.seed.Clusters[cluster].Outputs
}

// validatePreconfiguredOutputs is the config-time check that makes Kibana
// refuse to start, bug included (trap 29): the default-monitoring flag is
// computed from is_default_exists, so a default output listed before a
// separate default-monitoring output is "two default monitoring outputs".
func validatePreconfiguredOutputs(outputs []map[string]any) error {
	names, ids := map[string]bool{}, map[string]bool{}
	defaultExists, monitoringExists := false, false
	for _, o := range outputs {
		name, _ := o["name"].(string)
		id := fmt.Sprint(o["id"])
		isDefault, _ := o["is_default"].(bool)
		isMon, _ := o["is_default_monitoring"].(bool)
		switch {
		case names[name]:
			return errors.New("preconfigured outputs need to have unique names.")
		case ids[id]:
			return errors.New("preconfigured outputs need to have unique ids.")
		case defaultExists && isDefault:
			return errors.New("preconfigured outputs can only have one default output.")
		case monitoringExists && isMon:
			return errors.New("preconfigured outputs can only have one default monitoring output.")
		}
		names[name], ids[id] = true, true
		defaultExists = defaultExists || isDefault
		monitoringExists = defaultExists || isMon // sic: Kibana's bug
	}
	return nil
}

// ensurePreconfiguredOutput creates the output, or updates it when
// isPreconfiguredOutputDifferentFromCurrent says so; allow_edit fields keep
// their current values. It reports whether anything was written.
func (c *Cluster) ensurePreconfiguredOutput(raw map[string]any, now time.Time) (bool, error) {
	js, err := json.Marshal(raw)
	if err != nil {
		return false, err
	}
	var body map[string]any
	if err := json.Unmarshal(js, &body); err != nil {
		return false, err
	}
	id, _ := body["id"].(string)
	if id == "" {
		return false, errors.New("preconfigured output needs an id")
	}
	if _, has := body["config_yaml"]; has {
		return false, errors.New("config_yaml is not allowed in kibana.yml outputs; use config")
	}
	if cfg, ok := body["config"]; ok {
		y, err := yaml.Marshal(cfg)
		if err != nil {
			return false, err
		}
		body["config_yaml"] = string(y)
		delete(body, "config")
	}
	body["is_preconfigured"] = true
	if _, verr := validateBody(c.outputSchemas.create, body, true); verr != nil {
		return false, verr
	}
	typ, _ := body["type"].(string)
	attrs := cloneMap(body)
	delete(attrs, "id")
	attrs["output_id"] = id
	for _, k := range []string{"is_default", "is_default_monitoring"} {
		if attrs[k] == nil {
			attrs[k] = false
		}
	}
	if typ == typeES || typ == typeRemoteES {
		attrs["hosts"] = normalizeHosts(attrs["hosts"])
		if attrs["preset"] == nil && c.hasPresets() {
			attrs["preset"] = defaultPreset(attrs["config_yaml"])
		}
	}
	if typ != typeKafka {
		for _, k := range []string{"config_yaml", "ca_sha256", "ca_trusted_fingerprint", "ssl"} {
			if _, ok := attrs[k]; !ok {
				attrs[k] = nil
			}
		}
	}
	soID := outputIDToUUID(id)
	existing := c.st.Outputs[soID]
	if existing != nil && !preconfiguredDiffers(existing, body, typ) {
		return false, nil
	}
	// Secrets carry a hash; a configured value that matches the stored hash keeps its secret.
	storage := c.secretStorageEnabled()
	var obsolete []string
	for _, sp := range secretPaths {
		v, sent := getPathOK(attrs, sp.secret)
		val, isStr := v.(string)
		if !sent || !isStr {
			continue
		}
		if !storage {
			deletePath(attrs, sp.secret)
			setPath(attrs, sp.plain, val)
			continue
		}
		if existing != nil {
			if ref, ok := getPath(existing.Attrs, sp.secret).(map[string]any); ok {
				if h, _ := ref["hash"].(string); h != "" && verifySecretHash(val, h) {
					setPath(attrs, sp.secret, ref)
					continue
				}
				if old, ok := ref["id"].(string); ok {
					obsolete = append(obsolete, old)
				}
			}
		}
		setPath(attrs, sp.secret, map[string]any{"id": c.node.CreateFleetSecret(val), "hash": hashSecret(val)})
	}
	if sec, ok := attrs["secrets"].(map[string]any); ok && len(sec) == 0 {
		delete(attrs, "secrets")
	}
	if existing != nil {
		for _, k := range stringList(existing.Attrs["allow_edit"]) {
			if v, ok := existing.Attrs[k]; ok {
				attrs[k] = v
			} else {
				delete(attrs, k)
			}
		}
	}
	for _, k := range []string{"is_default", "is_default_monitoring"} {
		if attrs[k] == true {
			if prev := c.st.defaultOutput(k == "is_default_monitoring"); prev != nil && prev.SOID != soID {
				prev.Attrs[k] = false
				c.st.putOutput(prev, now)
			}
		}
	}
	o := &output{SOID: soID, Attrs: attrs}
	if existing != nil {
		o.Seq = existing.Seq
	}
	c.st.putOutput(o, now)
	for _, sid := range obsolete {
		c.node.DeleteFleetSecret(sid)
	}
	if existing != nil {
		c.bumpPoliciesUsing(id, now)
	}
	return true, nil
}

// preconfiguredDiffers is isPreconfiguredOutputDifferentFromCurrent. Plain
// service_token, kibana_api_key and (ES types) write_to_logs_streams are not
// compared, so changing only those in kibana.yml is never applied (trap 28).
func preconfiguredDiffers(existing *output, cfg map[string]any, typ string) bool {
	cur := existing.view()
	eq := func(k string) bool {
		a, b := cur[k], cfg[k]
		if !truthy(a) && !truthy(b) {
			return true
		}
		return reflect.DeepEqual(a, b)
	}
	if existing.typ() != typ || !existing.flag("is_preconfigured") {
		return true
	}
	keys := []string{"is_default", "is_default_monitoring", "name", "allow_edit", "is_internal", "ssl", "ca_sha256", "ca_trusted_fingerprint", "config_yaml", "proxy_id"}
	if typ == typeRemoteES {
		keys = append(keys, "kibana_url", "sync_integrations", "sync_uninstalled_integrations")
	}
	if typ == typeKafka {
		keys = append(keys, "version", "key", "compression", "compression_level", "client_id", "auth_type", "connection_type", "username", "partition", "random", "round_robin", "hash", "topic", "headers", "timeout", "broker_timeout", "required_acks")
	}
	if _, set := cfg["preset"]; set {
		keys = append(keys, "preset")
	}
	if slices.ContainsFunc(keys, func(k string) bool { return !eq(k) }) {
		return true
	}
	hosts := cfg["hosts"]
	if typ == typeES {
		hosts = normalizeHosts(hosts)
	}
	if !reflect.DeepEqual(cur["hosts"], hosts) {
		return true
	}
	secretKeys := [][]string{{"secrets", "ssl", "key"}}
	if typ == typeRemoteES {
		secretKeys = append(secretKeys, []string{"secrets", "service_token"})
	}
	for _, p := range secretKeys {
		want, sent := getPathOK(cfg, p)
		ref, _ := getPath(existing.Attrs, p).(map[string]any)
		switch {
		case !sent && ref == nil:
		case !sent || ref == nil:
			return true
		default:
			h, _ := ref["hash"].(string)
			w, isStr := want.(string)
			if !isStr || h == "" || !verifySecretHash(w, h) {
				return true // a reference without a hash always reads as changed
			}
		}
	}
	return false
}

// verifySecretHash checks a value against "<saltHex>:<pbkdf2Hex>".
func verifySecretHash(v, hash string) bool {
	saltHex, keyHex, ok := strings.Cut(hash, ":")
	if !ok {
		return false
	}
	salt, err1 := hex.DecodeString(saltHex)
	want, err2 := hex.DecodeString(keyHex)
	if err1 != nil || err2 != nil {
		return false
	}
	got, err := pbkdf2.Key(sha512.New, v, salt, 100000, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// Preconfigured agent binary download sources are kibana.yml's
// xpack.fleet.binaryDownloadSource (elastic/kibana#283454, "[Fleet] Support
// preconfigured agent binary download sources", merged 2026-08-06):
// server/config.ts binaryDownloadSource: PreconfiguredDownloadSourcesSchema,
// applied by services/preconfiguration/download_source.ts
// ensurePreconfiguredDownloadSources at setup. Which fields the config
// schema takes is inferred (docs/fleetsim-inferred.md): the ones the
// service compares (hasChanged: name, host, is_default, proxy_id, ssl) and
// its test passes ("should include optional fields when provided"), plus id.

// preconfiguredDownloadSourceSchema is the inferred config schema of one
// entry; any other key stops Kibana at start ("definition for this key is
// missing").
var preconfiguredDownloadSourceSchema = tObject{fields: []field{
	{name: "id", t: tString{}, required: true},
	{name: "name", t: tString{}, required: true},
	{name: "host", t: tURI{}, required: true},
	{name: "is_default", t: tBool{}, def: false},
	{name: "proxy_id", t: nullableString},
	{name: "ssl", t: tObject{fields: []field{
		{name: "certificate_authorities", t: tArray{elem: tString{}}},
		{name: "certificate", t: tString{}},
		{name: "key", t: tString{}},
	}}},
}}

// SetPreconfiguredDownloadSources replaces a cluster's kibana.yml download
// sources without applying them, as an edited kibana.yml before a restart:
// the next POST /api/fleet/setup (or Seed/Reset) applies them. A list
// Kibana's config validation refuses is refused here.
func (s *Sim) SetPreconfiguredDownloadSources(cluster string, sources []map[string]any) error {
	if _, err := validatePreconfiguredDownloadSources(sources); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clusters[cluster] == nil {
		return fmt.Errorf("fleetsim: unknown cluster %q", cluster)
	}
	if s.seed == nil {
		s.seed = &SeedFile{}
	}
	if s.seed.Clusters == nil {
		s.seed.Clusters = map[string]*ClusterSeed{}
	}
	cs := s.seed.Clusters[cluster]
	if cs == nil {
		cs = &ClusterSeed{}
		s.seed.Clusters[cluster] = cs
	}
	cs.DownloadSources = sources
	return nil
}

func (s *Sim) preconfiguredDownloadSources(cluster string) []map[string]any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.seed == nil || s.seed.Clusters[cluster] == nil {
		return nil
	}
	return s.seed.Clusters[cluster].DownloadSources
}

// validatePreconfiguredDownloadSources is the config-time check: each entry
// against preconfiguredDownloadSourceSchema, with the schema's defaults
// filled in. A JSON round trip turns YAML-decoded values into the JSON
// types the schema checks.
func validatePreconfiguredDownloadSources(sources []map[string]any) ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(sources))
	for i, raw := range sources {
		js, err := json.Marshal(raw)
		if err != nil {
			return nil, fmt.Errorf("binaryDownloadSource.%d: %w", i, err)
		}
		var body map[string]any
		if err := json.Unmarshal(js, &body); err != nil {
			return nil, fmt.Errorf("binaryDownloadSource.%d: %w", i, err)
		}
		v, verr := preconfiguredDownloadSourceSchema.check(fmt.Sprintf("config validation of [xpack.fleet].binaryDownloadSource.%d", i), body, true)
		if verr != nil {
			return nil, verr
		}
		out = append(out, v.(map[string]any))
	}
	return out, nil
}

// ensurePreconfiguredDownloadSources is ensurePreconfiguredDownloadSources:
// a declared source that does not exist is created with its id; one that is
// not marked preconfigured, or differs (hasChanged), is updated and marked,
// and when it differs the agent policies using it (all of them when it is
// the default) are bumped. A marked source no longer declared is deleted,
// unless an agent policy uses it or it is the default: then it is only
// unmarked (cleanPreconfiguredDownloadSources).
func (c *Cluster) ensurePreconfiguredDownloadSources(raw []map[string]any, now time.Time) error {
	sources, err := validatePreconfiguredDownloadSources(raw)
	if err != nil {
		return err
	}
	all := c.downloadSources()
	declared := map[string]bool{}
	for _, src := range sources {
		id := strField(src, "id")
		declared[id] = true
		attrs := cloneMap(src)
		delete(attrs, "id")
		attrs["is_preconfigured"] = true
		existing := all[id]
		if existing == nil {
			if attrs["is_default"] == true {
				c.unsetDefaultDownloadSource(id)
			}
			c.storeDownloadSourceSecrets(attrs)
			all[id] = &settingsObject{ID: id, Attrs: attrs, Seq: c.st.nextSeq()}
			continue
		}
		changed := downloadSourceDiffers(existing.Attrs, attrs)
		if existing.flag("is_preconfigured") && !changed {
			continue
		}
		if attrs["is_default"] == true {
			c.unsetDefaultDownloadSource(id)
		}
		c.updateDownloadSourceSecrets(existing.Attrs, attrs)
		for k, v := range attrs {
			existing.Attrs[k] = v
		}
		if !changed {
			continue
		}
		if existing.flag("is_default") {
			c.bumpAllPolicies(now)
		} else {
			c.bumpPoliciesWith("download_source_id", id, now)
		}
	}
	for _, id := range sortedKeys(all) {
		o := all[id]
		if !o.flag("is_preconfigured") || declared[id] {
			continue
		}
		inUse := slices.ContainsFunc(sortedKeys(c.st.AgentPolicies), func(pid string) bool {
			return c.st.AgentPolicies[pid].Attrs["download_source_id"] == id
		})
		if inUse || o.flag("is_default") {
			o.Attrs["is_preconfigured"] = false
			continue
		}
		for _, sid := range secretIDsAt(o.Attrs, downloadSourceSecretKeys) {
			c.node.DeleteFleetSecret(sid)
		}
		delete(all, id)
	}
	return nil
}

// downloadSourceDiffers is hasChanged: name, host and is_default compared
// strictly, proxy_id and ssl with an absent value equal to null.
func downloadSourceDiffers(existing, cfg map[string]any) bool {
	return slices.ContainsFunc([]string{"name", "host", "is_default", "proxy_id", "ssl"}, func(k string) bool {
		return !reflect.DeepEqual(existing[k], cfg[k]) // an absent key reads as nil, like ?? null
	})
}
