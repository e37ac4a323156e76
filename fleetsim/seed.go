package fleetsim

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/google/uuid"
	"sigs.k8s.io/yaml"

	"github.com/fleetform/fleetform/fleetsim/esim"
)

// SeedFile is the initial state of clusters, by cluster name (YAML or JSON).
//
//	clusters:
//	  main:
//	    users: [{username: fleetform, password: s3cret, roles: [superuser]}]
//	    api_keys: [{id: k1, key: secret, name: ci, owner: elastic}]
//	    fleet_servers: ["8.15.0"]          # Fleet Server agent versions (secret storage, §2.7)
//	    outputs: [{id: es-main, name: main, type: elasticsearch, hosts: [...], is_default: true, allow_edit: [hosts]}]
//	    agent_policies: [{id: p1, name: P1, namespace: default, agents: 3}]
//	    package_policies: [{id: pp1, name: nginx-1, policy_ids: [p1], package: {name: nginx, version: 2.0.0}, agents: 3}]
//	    packages: [{name: nginx, version: 2.0.0}]
//	    space_awareness: false             # 9.1+ upgraded, never migrated (spaces_migration.go)
//
// outputs are preconfigured (kibana.yml xpack.fleet.outputs): they are
// stored with is_preconfigured: true, and POST /api/fleet/setup keeps them.
type SeedFile struct {
	Clusters map[string]*ClusterSeed `json:"clusters"`
}

// ClusterSeed is the seed of one cluster.
type ClusterSeed struct {
	Users           []SeedUser          `json:"users,omitempty"`
	APIKeys         []SeedAPIKey        `json:"api_keys,omitempty"`
	FleetServers    []string            `json:"fleet_servers,omitempty"`
	Outputs         []map[string]any    `json:"outputs,omitempty"`
	DownloadSources []map[string]any    `json:"download_sources,omitempty"` // xpack.fleet.binaryDownloadSource (preconfig.go)
	AgentPolicies   []SeedAgentPolicy   `json:"agent_policies,omitempty"`
	PackagePolicies []SeedPackagePolicy `json:"package_policies,omitempty"`
	Packages        []SeedPackage       `json:"packages,omitempty"`
	// SpaceAwareness false makes a 9.1+ cluster a deployment upgraded from
	// an earlier stack whose Fleet never ran the space awareness migration:
	// policies are global, GET /api/fleet/settings has no
	// use_space_awareness_migration_status, until POST
	// /internal/fleet/enable_space_awareness. true runs the migration.
	// Absent: the cluster's own setting (--cluster ...,space-awareness=).
	// YAML reads off/no as false.
	SpaceAwareness *bool `json:"space_awareness,omitempty"`
}

// SeedUser is a native user.
type SeedUser struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Roles    []string `json:"roles,omitempty"`
}

// SeedAPIKey is an API key with a fixed id and secret, so scripts can use
// base64("id:key") right away.
type SeedAPIKey struct {
	ID              string                         `json:"id"`
	Key             string                         `json:"key"`
	Name            string                         `json:"name"`
	Owner           string                         `json:"owner,omitempty"` // default elastic (a superuser)
	RoleDescriptors map[string]esim.RoleDescriptor `json:"role_descriptors,omitempty"`
}

// SeedAgentPolicy is an agent policy; Agents is its enrolled agent count.
type SeedAgentPolicy struct {
	ID                 string  `json:"id"`
	Name               string  `json:"name"`
	Namespace          string  `json:"namespace,omitempty"`
	Description        string  `json:"description,omitempty"`
	DataOutputID       *string `json:"data_output_id,omitempty"`
	MonitoringOutputID *string `json:"monitoring_output_id,omitempty"`
	FleetServerHostID  *string `json:"fleet_server_host_id,omitempty"`
	HasFleetServer     bool    `json:"has_fleet_server,omitempty"`
	SupportsAgentless  bool    `json:"supports_agentless,omitempty"`
	IsManaged          bool    `json:"is_managed,omitempty"`
	IsPreconfigured    bool    `json:"is_preconfigured,omitempty"`
	Agents             int     `json:"agents,omitempty"`
	// InactiveAgents and UnenrolledAgents are agents past the inactivity
	// timeout and unenrolled ones (active: false), which Kibana's counts
	// tell apart by version (agents.go); Agents are online.
	InactiveAgents   int `json:"inactive_agents,omitempty"`
	UnenrolledAgents int `json:"unenrolled_agents,omitempty"`
}

// SeedPackagePolicy is a package policy with its agent count.
type SeedPackagePolicy struct {
	ID        string   `json:"id,omitempty"`
	Name      string   `json:"name"`
	Namespace string   `json:"namespace,omitempty"`
	PolicyIDs []string `json:"policy_ids,omitempty"`
	PolicyID  string   `json:"policy_id,omitempty"`
	Package   struct {
		Name    string `json:"name"`
		Version string `json:"version,omitempty"`
	} `json:"package"`
	OutputID *string `json:"output_id,omitempty"`
	Agents   int     `json:"agents,omitempty"`
	// Inputs are Kibana's package-policy inputs, e.g.
	// [{type: logfile, enabled: true, streams: [{enabled: true, data_stream: {type: logs, dataset: nginx.access},
	// vars: {pipeline: {type: text, value: my-pipeline}}}]}]; a stream's vars.pipeline names a custom pipeline to sync.
	Inputs []map[string]any `json:"inputs,omitempty"`
}

// SeedPackage is an installed package. Packages outside the built-in
// registry (custom or uploaded) say whether they have index templates.
type SeedPackage struct {
	Name              string `json:"name"`
	Version           string `json:"version,omitempty"` // default: the registry's latest
	Status            string `json:"status,omitempty"`  // default installed
	Source            string `json:"source,omitempty"`  // default registry
	HasIndexTemplates *bool  `json:"has_index_templates,omitempty"`
}

// LoadSeedFile reads a YAML or JSON seed file; unknown keys are errors.
func LoadSeedFile(path string) (*SeedFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var sf SeedFile
	if err := dec.Decode(&sf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &sf, nil
}

// Seed applies a seed to the clusters it names, all of which must exist.
// Clusters restored from a data directory are left as they were. The seed
// is kept: POST /_sim/reset re-applies it.
func (s *Sim) Seed(seed *SeedFile) error {
	s.mu.Lock()
	s.seed = seed
	restored := maps2set(s.restored)
	s.mu.Unlock()
	var errs []error
	for _, name := range sortedKeys(seed.Clusters) {
		c := s.Cluster(name)
		if c == nil {
			errs = append(errs, fmt.Errorf("seed: unknown cluster %q", name))
			continue
		}
		if restored[name] {
			continue
		}
		if err := c.applySeed(seed.Clusters[name]); err != nil {
			errs = append(errs, fmt.Errorf("seed: cluster %s: %w", name, err))
		}
	}
	s.markDirty()
	return errors.Join(errs...)
}

func maps2set(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// preconfiguredIDs are the output ids the seed (kibana.yml) declares.
func (s *Sim) preconfiguredIDs(cluster string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.seed == nil || s.seed.Clusters[cluster] == nil {
		return nil
	}
	var ids []string
	for _, o := range s.seed.Clusters[cluster].Outputs {
		if id, ok := o["id"].(string); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

func (c *Cluster) applySeed(cs *ClusterSeed) error {
	if cs == nil {
		return nil
	}
	var errs []error
	for _, u := range cs.Users {
		if u.Username == "" {
			errs = append(errs, errors.New("user without username"))
			continue
		}
		c.node.AddUser(u.Username, u.Password, u.Roles...)
	}
	for _, k := range cs.APIKeys {
		owner := esim.Principal{Username: cmpOr(k.Owner, "elastic")}
		if owner.Username == "elastic" {
			owner.Superuser = true
		}
		if _, err := c.node.CreateAPIKey(owner, esim.APIKeyRequest{Name: k.Name, ID: k.ID, Key: k.Key, RoleDescriptors: k.RoleDescriptors}); err != nil {
			errs = append(errs, fmt.Errorf("api key %s: %w", k.ID, err))
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.st.touchPolicies()
	now := c.now()
	if err := c.applySpaceAwarenessSeed(cs.SpaceAwareness); err != nil {
		errs = append(errs, err)
	}
	c.st.FleetServers = append(c.st.FleetServers, cs.FleetServers...)
	if err := validatePreconfiguredOutputs(cs.Outputs); err != nil {
		errs = append(errs, err)
	} else {
		for i, raw := range cs.Outputs {
			if _, err := c.ensurePreconfiguredOutput(raw, now); err != nil {
				errs = append(errs, fmt.Errorf("outputs[%d]: %w", i, err))
			}
		}
	}
	if err := c.ensurePreconfiguredDownloadSources(cs.DownloadSources, now); err != nil {
		errs = append(errs, err)
	}
	for _, sp := range cs.Packages {
		p := registryLatest(sp.Name)
		inst := &installation{Name: sp.Name, Version: sp.Version, Status: cmpOr(sp.Status, "installed"), Source: cmpOr(sp.Source, "registry"), UpdatedAt: now}
		if inst.Version == "" {
			if p == nil {
				errs = append(errs, fmt.Errorf("package %s: not in the registry, give a version", sp.Name))
				continue
			}
			inst.Version = p.Version
		}
		if sp.HasIndexTemplates != nil {
			inst.Extra = map[string]any{"has_index_templates": *sp.HasIndexTemplates}
		}
		c.st.Packages[sp.Name] = inst
	}
	for _, sp := range cs.AgentPolicies {
		if sp.ID == "" || sp.Name == "" {
			errs = append(errs, errors.New("agent policy needs id and name"))
			continue
		}
		attrs := map[string]any{
			"name": sp.Name, "namespace": cmpOr(sp.Namespace, "default"), "status": "active",
			"is_managed": sp.IsManaged, "is_protected": false, "revision": 1.0, "inactivity_timeout": defaultInactivityTimeout,
			"updated_at": now.Format(time.RFC3339Nano), "updated_by": "elastic", "schema_version": "1.1.1",
		}
		if sp.Description != "" {
			attrs["description"] = sp.Description
		}
		if sp.IsPreconfigured {
			attrs["is_preconfigured"] = true
		}
		if sp.HasFleetServer {
			attrs["has_fleet_server"] = true
		}
		if sp.SupportsAgentless {
			attrs["supports_agentless"] = true
		}
		for k, v := range map[string]*string{"data_output_id": sp.DataOutputID, "monitoring_output_id": sp.MonitoringOutputID, "fleet_server_host_id": sp.FleetServerHostID} {
			if v != nil {
				attrs[k] = *v
			}
		}
		c.st.AgentPolicies[sp.ID] = &agentPolicy{ID: sp.ID, Attrs: attrs, Agents: sp.Agents, InactiveAgents: sp.InactiveAgents, UnenrolledAgents: sp.UnenrolledAgents, Seq: c.st.nextSeq(), UpdatedAt: now}
	}
	for _, sp := range cs.PackagePolicies {
		ids := slices.Clone(sp.PolicyIDs)
		if sp.PolicyID != "" && !slices.Contains(ids, sp.PolicyID) {
			ids = append(ids, sp.PolicyID)
		}
		for _, id := range ids {
			if c.st.AgentPolicies[id] == nil {
				errs = append(errs, fmt.Errorf("package policy %s: unknown agent policy %s", sp.Name, id))
			}
		}
		ver := sp.Package.Version
		if ver == "" {
			if inst := c.st.Packages[sp.Package.Name]; inst != nil {
				ver = inst.Version
			} else if p := registryLatest(sp.Package.Name); p != nil {
				ver = p.Version
			}
		}
		if c.st.Packages[sp.Package.Name] == nil {
			c.st.Packages[sp.Package.Name] = &installation{Name: sp.Package.Name, Version: ver, Status: "installed", Source: "registry", UpdatedAt: now}
		}
		pp := &packagePolicy{ID: cmpOr(sp.ID, uuid.NewString()), Name: sp.Name, Namespace: cmpOr(sp.Namespace, "default"), PolicyIDs: ids,
			PackageName: sp.Package.Name, PackageVer: ver, OutputID: sp.OutputID, Agents: sp.Agents, Inputs: sp.Inputs, Revision: 1, CreatedAt: now, UpdatedAt: now}
		c.st.PackagePolicies[pp.ID] = pp
		for _, id := range ids {
			if p := c.st.AgentPolicies[id]; p != nil && p.Agents < sp.Agents {
				p.Agents = sp.Agents
				p.cache = nil
			}
		}
	}
	return errors.Join(errs...)
}

// hashSecret is Kibana's preconfigured-secret hash:
// "<16-byte salt hex>:<pbkdf2-sha512(secret, salt, 100000, 64) hex>".
func hashSecret(v string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key, err := pbkdf2.Key(sha512.New, v, salt, 100000, 64)
	if err != nil {
		return ""
	}
	return hex.EncodeToString(salt) + ":" + hex.EncodeToString(key)
}
