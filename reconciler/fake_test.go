package reconciler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/secret"
)

// fakeFleet is a small stateful stand-in for Kibana's Fleet API with the
// behaviours the reconciler must cope with (fleet-api.md §2, §3, §9): host
// normalisation, the preset default, secrets stored as {id} and deleted when
// a PUT omits them, remote_elasticsearch type repetition wiping plain
// credentials, default flipping, the preconfigured guard, policy revision
// bumps, read-only field rejection and the inactivity_timeout reset. It logs
// every call with its body.
type fakeFleet struct {
	mu       sync.Mutex
	outputs  map[string]map[string]any
	policies map[string]map[string]any
	packages map[string]string // name → installed version
	latest   map[string]string
	pkgPols  []kibana.PackagePolicy // package policies, with agent counts
	secrets  map[string]string      // secret id → value
	nextID   int
	log      []call
	fail     func(method, path string) error // injected failure, before the call takes effect
}

type call struct {
	Method, Path string
	Body         map[string]any
}

func newFakeFleet() *fakeFleet {
	f := &fakeFleet{
		outputs:  map[string]map[string]any{},
		policies: map[string]map[string]any{},
		packages: map[string]string{},
		latest:   map[string]string{"system": "1.60.0", "nginx": "2.1.0"},
		secrets:  map[string]string{},
	}
	f.outputs["fleet-default-output"] = map[string]any{"id": "fleet-default-output", "name": "default", "type": "elasticsearch",
		"hosts": []any{"http://localhost:9200"}, "is_default": true, "is_default_monitoring": true, "preset": "balanced"}
	return f
}

func (f *fakeFleet) record(method, path string, body map[string]any) error {
	f.log = append(f.log, call{method, path, clone(body)})
	if f.fail != nil {
		return f.fail(method, path)
	}
	return nil
}

func (f *fakeFleet) writes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.log {
		if c.Method != http.MethodGet {
			out = append(out, c.Method+" "+c.Path)
		}
	}
	return out
}

func (f *fakeFleet) lastBody(method, path string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.log) - 1; i >= 0; i-- {
		if f.log[i].Method == method && f.log[i].Path == path {
			return f.log[i].Body
		}
	}
	return nil
}

func clone(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return canonicalMap(m)
}

func apiErr(method, path string, status int, msg string) error {
	return &kibana.APIError{Method: method, Path: path, Status: status, Message: msg}
}

func (f *fakeFleet) ListOutputs(ctx context.Context) ([]kibana.Output, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("GET", "/api/fleet/outputs", nil); err != nil {
		return nil, err
	}
	var out []kibana.Output
	for _, id := range sortedKeys(f.outputs) {
		out = append(out, kibana.Output(clone(f.outputs[id])))
	}
	return out, nil
}

func (f *fakeFleet) GetOutput(ctx context.Context, id string) (kibana.Output, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := "/api/fleet/outputs/" + id
	if err := f.record("GET", p, nil); err != nil {
		return nil, err
	}
	o, ok := f.outputs[id]
	if !ok {
		return nil, apiErr("GET", p, 404, "Output "+id+" not found")
	}
	return kibana.Output(clone(o)), nil
}

func (f *fakeFleet) newSecret(v string) map[string]any {
	f.nextID++
	id := fmt.Sprintf("secret-%d", f.nextID)
	f.secrets[id] = v
	return map[string]any{"id": id}
}

// storeSecrets turns string values under body["secrets"] into {id}, deleting
// the secrets of old that body no longer references (§2.7 diff).
func (f *fakeFleet) storeSecrets(old, body map[string]any) {
	oldIDs := map[string]bool{}
	for _, ref := range kibana.Output(old).SecretRefs() {
		oldIDs[ref.(map[string]any)["id"].(string)] = true
	}
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		for k, v := range m {
			switch x := v.(type) {
			case string:
				m[k] = f.newSecret(x)
			case map[string]any:
				if id, ok := x["id"].(string); ok {
					delete(oldIDs, id)
					m[k] = map[string]any{"id": id}
					continue
				}
				walk(x)
			}
		}
	}
	if s, ok := body["secrets"].(map[string]any); ok {
		walk(s)
	}
	for id := range oldIDs {
		delete(f.secrets, id)
	}
}

func (f *fakeFleet) normalize(o map[string]any) {
	if hosts, ok := o["hosts"].([]any); ok && hostsNormalized(fmt.Sprint(o["type"])) {
		for i, h := range hosts {
			hosts[i] = NormalizeHost(h.(string))
		}
	}
	if t := o["type"]; (t == "elasticsearch" || t == "remote_elasticsearch") && o["preset"] == nil {
		o["preset"] = "balanced"
	}
	if _, ok := o["shipper"]; ok {
		o["shipper"] = nil
	}
}

func (f *fakeFleet) flipDefaults(id string, body map[string]any) {
	for _, flag := range []string{"is_default", "is_default_monitoring"} {
		if body[flag] == true {
			for oid, o := range f.outputs {
				if oid != id && o[flag] == true {
					o[flag] = false
				}
			}
		}
	}
}

func (f *fakeFleet) CreateOutput(ctx context.Context, body map[string]any) (kibana.Output, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := "/api/fleet/outputs"
	if err := f.record("POST", p, body); err != nil {
		return nil, err
	}
	o := clone(body)
	id, _ := o["id"].(string)
	f.flipDefaults(id, o) // side effect before the conflict, as Kibana (trap 7)
	f.storeSecrets(nil, o)
	if _, ok := f.outputs[id]; ok {
		return nil, apiErr("POST", p, 409, "Saved object [ingest-outputs/"+id+"] conflict")
	}
	for _, flag := range []string{"is_default", "is_default_monitoring"} {
		if o[flag] == nil {
			o[flag] = false
		}
	}
	f.normalize(o)
	f.outputs[id] = o
	return kibana.Output(clone(o)), nil
}

func (f *fakeFleet) UpdateOutput(ctx context.Context, id string, body map[string]any) (kibana.Output, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := "/api/fleet/outputs/" + id
	if err := f.record("PUT", p, body); err != nil {
		return nil, err
	}
	o, ok := f.outputs[id]
	if !ok {
		return nil, apiErr("PUT", p, 404, "Output "+id+" not found")
	}
	b := clone(body)
	if o["is_preconfigured"] == true {
		allowed := stringList(o["allow_edit"])
		for k, v := range b {
			if !slices.Contains(allowed, k) && fmt.Sprint(canonical(v)) != fmt.Sprint(canonical(o[k])) {
				return nil, apiErr("PUT", p, 400, fmt.Sprintf("Preconfigured output %s %s cannot be updated outside of kibana config file.", id, k))
			}
		}
	}
	for _, flag := range []string{"is_default", "is_default_monitoring"} {
		if b[flag] == false && o[flag] == true {
			return nil, apiErr("PUT", p, 400, fmt.Sprintf("Default output %s cannot be set to is_default=false or is_default_monitoring=false manually. Make another output the default first.", id))
		}
	}
	if b["type"] == "remote_elasticsearch" {
		if b["service_token"] == nil {
			b["service_token"] = nil
		}
		if b["kibana_api_key"] == nil {
			b["kibana_api_key"] = nil
		}
	}
	if _, has := b["service_token"]; has && kibana.Output(b).Field("secrets.service_token") != nil && b["service_token"] != nil {
		return nil, apiErr("PUT", p, 400, "Cannot specify both service_token and secrets.service_token")
	}
	f.flipDefaults(id, b)
	f.storeSecrets(o, b)
	if _, has := b["secrets"]; !has {
		delete(o, "secrets")
	}
	for k, v := range b {
		o[k] = v
	}
	if _, ok := b["hosts"]; ok {
		f.normalize(o)
	}
	for _, k := range []string{"service_token", "kibana_api_key"} {
		if v, has := o[k]; has && v == nil {
			delete(o, k)
		}
	}
	// revision bumps on policies using it
	for _, pol := range f.policies {
		if pol["data_output_id"] == id || pol["monitoring_output_id"] == id {
			pol["revision"] = pol["revision"].(float64) + 1
		}
	}
	return kibana.Output(clone(o)), nil
}

func (f *fakeFleet) DeleteOutput(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := "/api/fleet/outputs/" + id
	if err := f.record("DELETE", p, nil); err != nil {
		return err
	}
	o, ok := f.outputs[id]
	if !ok {
		return apiErr("DELETE", p, 404, "Output "+id+" not found")
	}
	if o["is_default"] == true {
		return apiErr("DELETE", p, 400, "Default output "+id+" cannot be deleted.")
	}
	f.storeSecrets(o, map[string]any{})
	delete(f.outputs, id)
	for _, pol := range f.policies {
		for _, k := range []string{"data_output_id", "monitoring_output_id"} {
			if pol[k] == id {
				pol[k] = nil
			}
		}
	}
	return nil
}

func (f *fakeFleet) policy(m map[string]any) kibana.AgentPolicy {
	var p kibana.AgentPolicy
	b, _ := json.Marshal(m)
	if err := json.Unmarshal(b, &p); err != nil {
		panic(err)
	}
	return p
}

func (f *fakeFleet) ListAgentPolicies(ctx context.Context, opts kibana.ListOptions) ([]kibana.AgentPolicy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("GET", "/api/fleet/agent_policies", nil); err != nil {
		return nil, err
	}
	var out []kibana.AgentPolicy
	for _, id := range sortedKeys(f.policies) {
		out = append(out, f.policy(f.policies[id]))
	}
	return out, nil
}

func (f *fakeFleet) GetAgentPolicy(ctx context.Context, id string) (kibana.AgentPolicy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := "/api/fleet/agent_policies/" + id
	if err := f.record("GET", p, nil); err != nil {
		return kibana.AgentPolicy{}, err
	}
	pol, ok := f.policies[id]
	if !ok {
		return kibana.AgentPolicy{}, apiErr("GET", p, 404, "Saved object [ingest-agent-policies/"+id+"] not found")
	}
	return f.policy(pol), nil
}

var readOnlyPolicyFields = []string{"revision", "status", "updated_at", "updated_by", "agents", "package_policies", "is_preconfigured", "version", "schema_version"}

func (f *fakeFleet) CreateAgentPolicy(ctx context.Context, body map[string]any) (kibana.AgentPolicy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := "/api/fleet/agent_policies"
	if err := f.record("POST", p, body); err != nil {
		return kibana.AgentPolicy{}, err
	}
	b := clone(body)
	id := b["id"].(string)
	if _, ok := f.policies[id]; ok {
		return kibana.AgentPolicy{}, apiErr("POST", p, 409, "Agent Policy '"+id+"' already exists")
	}
	b["revision"] = 1.0
	if b["inactivity_timeout"] == nil {
		b["inactivity_timeout"] = 1209600.0
	}
	f.policies[id] = b
	return f.policy(b), nil
}

func (f *fakeFleet) UpdateAgentPolicy(ctx context.Context, id string, body map[string]any) (kibana.AgentPolicy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := "/api/fleet/agent_policies/" + id
	if err := f.record("PUT", p, body); err != nil {
		return kibana.AgentPolicy{}, err
	}
	for _, k := range append(readOnlyPolicyFields, "id") {
		if _, ok := body[k]; ok {
			return kibana.AgentPolicy{}, apiErr("PUT", p, 400, "[request body."+k+"]: definition for this key is missing")
		}
	}
	if body["name"] == nil || body["namespace"] == nil {
		return kibana.AgentPolicy{}, apiErr("PUT", p, 400, "[request body.name]: expected value of type [string] but got [undefined]")
	}
	pol, ok := f.policies[id]
	if !ok {
		return kibana.AgentPolicy{}, apiErr("PUT", p, 404, "Saved object [ingest-agent-policies/"+id+"] not found")
	}
	b := clone(body)
	if b["inactivity_timeout"] == nil {
		b["inactivity_timeout"] = 1209600.0
	}
	for k, v := range b {
		pol[k] = v
	}
	pol["revision"] = pol["revision"].(float64) + 1
	return f.policy(pol), nil
}

func (f *fakeFleet) DeleteAgentPolicy(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("POST", "/api/fleet/agent_policies/delete", map[string]any{"agentPolicyId": id}); err != nil {
		return err
	}
	delete(f.policies, id)
	return nil
}

func (f *fakeFleet) ListPackages(ctx context.Context) ([]kibana.Package, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("GET", "/api/fleet/epm/packages", nil); err != nil {
		return nil, err
	}
	var out []kibana.Package
	for _, name := range sortedKeys(f.latest) {
		p := kibana.Package{Name: name, Version: f.latest[name], Status: "not_installed"}
		if v, ok := f.packages[name]; ok {
			p.Status, p.InstalledVersion, p.InstallStatus = "installed", v, "installed"
		}
		out = append(out, p)
	}
	return out, nil
}

func (f *fakeFleet) ListPackagePolicies(ctx context.Context) ([]kibana.PackagePolicy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("GET", "/api/fleet/package_policies", nil); err != nil {
		return nil, err
	}
	return slices.Clone(f.pkgPols), nil
}

func (f *fakeFleet) InstallPackage(ctx context.Context, name, version string, force bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := "/api/fleet/epm/packages/" + name + "/" + version
	if err := f.record("POST", p, map[string]any{"force": force}); err != nil {
		return err
	}
	if version == "" {
		version = f.latest[name]
	}
	// Kibana's rule (services/epm/packages/install.ts): a version below the
	// registry's latest needs force, unless it reinstalls the installed one.
	if latest, ok := f.latest[name]; ok && compareVersions(version, latest) < 0 && !force && f.packages[name] != version {
		return apiErr("POST", p, 400, name+"-"+version+" is out-of-date and cannot be installed or updated")
	}
	f.packages[name] = version
	return nil
}

func (f *fakeFleet) UninstallPackage(ctx context.Context, name, version string, force bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := "/api/fleet/epm/packages/" + name + "/" + version
	if err := f.record("DELETE", p, nil); err != nil {
		return err
	}
	if _, ok := f.packages[name]; !ok {
		return apiErr("DELETE", p, 400, name+" is not installed")
	}
	delete(f.packages, name)
	return nil
}

// fakeInventory keeps records in memory and counts writes.
type fakeInventory struct {
	mu      sync.Mutex
	records map[string]Record
	writes  int
}

func newFakeInventory() *fakeInventory { return &fakeInventory{records: map[string]Record{}} }

func (i *fakeInventory) Load(ctx context.Context) ([]Record, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	var out []Record
	for _, k := range sortedKeys(i.records) {
		out = append(out, i.records[k])
	}
	return out, nil
}

func (i *fakeInventory) Put(ctx context.Context, r Record) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.writes++
	i.records[r.Cluster+"/"+r.Kind+"/"+r.ID] = r
	return nil
}

func (i *fakeInventory) Delete(ctx context.Context, cluster, kind, id string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.writes++
	delete(i.records, cluster+"/"+kind+"/"+id)
	return nil
}

// fastHasher is a salted SHA-256 (tests only; production uses PBKDF2).
type fastHasher struct {
	mu sync.Mutex
	n  int
}

func (h *fastHasher) Hash(v secret.Value) string {
	h.mu.Lock()
	h.n++
	salt := fmt.Sprintf("%04x", h.n)
	h.mu.Unlock()
	sum := sha256.Sum256([]byte(salt + v.Reveal()))
	return salt + ":" + hex.EncodeToString(sum[:])
}

func (h *fastHasher) Verify(v secret.Value, hash string) bool {
	salt, want, ok := strings.Cut(hash, ":")
	if !ok {
		return false
	}
	sum := sha256.Sum256([]byte(salt + v.Reveal()))
	return hex.EncodeToString(sum[:]) == want
}

func sortedCalls(calls []string) []string {
	out := slices.Clone(calls)
	sort.Strings(out)
	return out
}

var _ = testing.T{}
