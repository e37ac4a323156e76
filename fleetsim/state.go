package fleetsim

import (
	"encoding/json"
	"regexp"
	"time"

	"github.com/google/uuid"
)

// defaultOutputID is DEFAULT_OUTPUT_ID.
const defaultOutputID = "fleet-default-output"

// kstate is one Kibana's saved objects (the .kibana_ingest index).
type kstate struct {
	Outputs         map[string]*output        `json:"outputs"` // by saved-object id
	AgentPolicies   map[string]*agentPolicy   `json:"agent_policies"`
	PackagePolicies map[string]*packagePolicy `json:"package_policies"`
	Packages        map[string]*installation  `json:"packages"` // epm-packages, by name
	// Fleet settings objects (fleet_server_hosts.go, proxies.go,
	// download_sources.go), by id; nil until first used.
	FleetServerHosts map[string]*settingsObject `json:"fleet_server_hosts,omitempty"`
	Proxies          map[string]*settingsObject `json:"proxies,omitempty"`
	DownloadSources  map[string]*settingsObject `json:"download_sources,omitempty"`
	// Spaces are the Kibana spaces besides default (spaces.go).
	Spaces map[string]*kibanaSpace `json:"spaces,omitempty"`
	// SpaceMigration is fleet-default-settings'
	// use_space_awareness_migration_status when it differs from a new
	// deployment's (spaces_migration.go); "" is a new deployment's.
	SpaceMigration string `json:"space_migration,omitempty"`
	// FleetServers are the versions of the enrolled Fleet Server agents.
	FleetServers []string `json:"fleet_servers"`
	// SecretLatch is output_secret_storage_requirements_met in fleet-default-settings.
	SecretLatch bool `json:"secret_latch"`
	// SSLSecretLatch is ssl_secret_storage_requirements_met and
	// DSAuthSecretLatch download_source_auth_secret_storage_requirements_met.
	SSLSecretLatch    bool `json:"ssl_secret_latch,omitempty"`
	DSAuthSecretLatch bool `json:"ds_auth_secret_latch,omitempty"`
	// OutputHealth holds the last health report per output id (from the seed or tests).
	Seq int64 `json:"seq"`

	// policyOrder caches sorted agent-policy lists by sort key; any change
	// to an agent policy drops it (touchPolicies).
	policyOrder map[string][]*agentPolicy
}

func (st *kstate) touchPolicies() { st.policyOrder = nil }

func newKState() *kstate {
	return &kstate{
		Outputs:         map[string]*output{},
		AgentPolicies:   map[string]*agentPolicy{},
		PackagePolicies: map[string]*packagePolicy{},
		Packages:        map[string]*installation{},
	}
}

func (st *kstate) nextSeq() int64 {
	st.Seq++
	return st.Seq
}

// output is an ingest-outputs saved object. Attrs hold the attributes exactly
// as stored: absent keys were never set, nil values are explicit nulls.
type output struct {
	SOID      string         `json:"so_id"`
	Attrs     map[string]any `json:"attrs"`
	Seq       int64          `json:"seq"`
	UpdatedAt time.Time      `json:"updated_at"`
	cache     []byte
}

// id is the output's own id: output_id, else the saved-object id.
func (o *output) id() string {
	if s, ok := o.Attrs["output_id"].(string); ok && s != "" {
		return s
	}
	return o.SOID
}

func (o *output) str(k string) string { s, _ := o.Attrs[k].(string); return s }
func (o *output) flag(k string) bool  { b, _ := o.Attrs[k].(bool); return b }
func (o *output) typ() string         { return o.str("type") }

// view is the Output the API returns (outputSavedObjectToOutput in
// services/output.ts): ssl and proxy_id appear only when truthy, for every
// output type (kafka included).
func (o *output) view() map[string]any {
	out := make(map[string]any, len(o.Attrs)+1)
	out["id"] = o.id()
	for k, v := range o.Attrs {
		switch k {
		case "output_id":
			continue
		case "ssl", "proxy_id":
			if !truthy(v) {
				continue
			}
		}
		out[k] = v
	}
	if id, ok := o.Attrs["id"].(string); ok {
		out["id"] = id // a PUT body id spreads over the real one (trap 2)
	}
	return out
}

func (o *output) json() []byte {
	if o.cache == nil {
		o.cache, _ = json.Marshal(o.view())
	}
	return o.cache
}

func (st *kstate) putOutput(o *output, now time.Time) {
	if o.Seq == 0 {
		o.Seq = st.nextSeq()
	}
	o.UpdatedAt = now
	o.cache = nil
	st.Outputs[o.SOID] = o
}

// outputByID finds an output by the id a client uses (or its UUID form).
func (st *kstate) outputByID(id string) *output {
	return st.Outputs[outputIDToUUID(id)]
}

func (st *kstate) defaultOutput(monitoring bool) *output {
	k := "is_default"
	if monitoring {
		k = "is_default_monitoring"
	}
	for _, o := range st.Outputs {
		if o.flag(k) {
			return o
		}
	}
	return nil
}

// outputIDToUUID is Kibana's outputIdToUuid: uuidv5(id, DNS) unless id
// contains a UUID (Kibana's isUUID regexp is not anchored).
func outputIDToUUID(id string) string {
	if uuidPattern.MatchString(id) {
		return id
	}
	return uuid.NewSHA1(uuid.NameSpaceDNS, []byte(id)).String()
}

var uuidPattern = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// agentPolicy is an ingest-agent-policies saved object.
type agentPolicy struct {
	ID     string         `json:"id"`
	Attrs  map[string]any `json:"attrs"`
	Agents int            `json:"agents"`
	// InactiveAgents and UnenrolledAgents are its agents in those
	// statuses; Agents are the online ones (agents.go).
	InactiveAgents   int       `json:"inactive_agents,omitempty"`
	UnenrolledAgents int       `json:"unenrolled_agents,omitempty"`
	Seq              int64     `json:"seq"`
	UpdatedAt        time.Time `json:"updated_at"`
	// Spaces is the saved object's namespaces (space_ids); nil is default.
	Spaces []string `json:"spaces,omitempty"`
	cache  []byte
}

func (p *agentPolicy) str(k string) string { s, _ := p.Attrs[k].(string); return s }
func (p *agentPolicy) flag(k string) bool  { b, _ := p.Attrs[k].(bool); return b }

func (p *agentPolicy) revision() int {
	f, _ := p.Attrs["revision"].(float64)
	return int(f)
}

// packagePolicy is an ingest-package-policies saved object.
type packagePolicy struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Namespace   string   `json:"namespace"`
	PolicyIDs   []string `json:"policy_ids"`
	PackageName string   `json:"package_name"`
	PackageVer  string   `json:"package_version"`
	OutputID    *string  `json:"output_id"`
	// Spaces is the saved object's namespaces; nil is default (spaces.go).
	Spaces []string `json:"spaces,omitempty"`
	Agents int      `json:"agents"`
	// Inputs are the policy's inputs as given (seed); the custom-asset sync
	// reads the pipelines their streams name in vars.pipeline.value (§5.3).
	Inputs    []map[string]any `json:"inputs,omitempty"`
	Revision  int              `json:"revision"`
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`

	// Fields of package policies written through the API (package_policies.go).
	Description       *string        `json:"description,omitempty"`
	Vars              map[string]any `json:"vars,omitempty"`
	Disabled          bool           `json:"disabled,omitempty"`
	SupportsAgentless bool           `json:"supports_agentless,omitempty"`
	SecretRefs        []string       `json:"secret_references,omitempty"`
	CreatedBy         string         `json:"created_by,omitempty"`
	UpdatedBy         string         `json:"updated_by,omitempty"`
	// NullPolicyID: the policy ids were cleared by an update, which stores
	// policy_id: null (a create without ids leaves it absent).
	NullPolicyID bool `json:"null_policy_id,omitempty"`
	// IsManaged is the is_managed a full-format create or forced update
	// stored; nil when never given (package_policies_managed.go).
	IsManaged *bool `json:"is_managed,omitempty"`
	// AdditionalDatastreamsPermissions are extra data stream names the
	// agent policy grants (create.ts "should support additional_datastreams_permissions").
	AdditionalDatastreamsPermissions []any `json:"additional_datastreams_permissions,omitempty"`
	// jsonCache holds the list item JSON per format; writes replace the
	// struct, so a cache never outlives its content. cacheKey is the policy
	// ids when cached: deleting an agent policy edits them in place.
	jsonCache [2][]byte
	cacheKey  string
}

// installation is an epm-packages saved object.
type installation struct {
	Name          string          `json:"name"`
	Version       string          `json:"version"`
	Status        string          `json:"install_status"` // installed | installing | install_failed
	Source        string          `json:"install_source"` // registry | bundled | upload | custom
	UpdatedAt     time.Time       `json:"updated_at"`
	FailedInstall []failedAttempt `json:"latest_install_failed_attempts,omitempty"`
	FailedRemove  []failedAttempt `json:"latest_uninstall_failed_attempts,omitempty"`
	// CustomAssetFailed is latest_custom_asset_install_failed_attempts, keyed <type>:<name>.
	CustomAssetFailed map[string]customAssetFailure `json:"latest_custom_asset_install_failed_attempts,omitempty"`
	Extra             map[string]interface{}        `json:"extra,omitempty"`

	// InstallVersion and InstallStartedAt are install_version and
	// install_started_at of the latest install started; InstallDoneAt is
	// when fleetsim finishes it (epm_install.go: an install delay).
	InstallVersion   string     `json:"install_version,omitempty"`
	InstallStartedAt *time.Time `json:"install_started_at,omitempty"`
	InstallDoneAt    *time.Time `json:"sim_install_done_at,omitempty"`
}

type failedAttempt struct {
	CreatedAt time.Time `json:"created_at"`
	Target    string    `json:"target_version"`
	ErrName   string    `json:"error_name"`
	ErrMsg    string    `json:"error_message"`
}
