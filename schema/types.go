// Package schema defines fleetform's desired-state document — the YAML that
// operators commit — and loads, merges and validates it. Field names follow
// Kibana's Fleet API and kibana.yml preconfiguration (xpack.fleet.outputs,
// xpack.fleet.agentPolicies, xpack.fleet.packages, xpack.fleet.fleetServerHosts,
// xpack.fleet.proxies) and the simplified package-policy format so that an
// item can move between the two unchanged. fleetform's own additions are
// few: clusters, remote, sync_via, adopt and secret references. Each kind has
// its file: output rules in rules.go, agent_policy.go, package_policy.go,
// fleet_server_host.go, proxy.go, download_source.go.
package schema

// Document is the merged desired state of one fleetform instance.
type Document struct {
	Clusters         Clusters          `json:"clusters"`
	Outputs          []Output          `json:"outputs,omitempty"`
	AgentPolicies    []AgentPolicy     `json:"agent_policies,omitempty"`
	Packages         []Package         `json:"packages,omitempty"`
	PackagePolicies  []PackagePolicy   `json:"package_policies,omitempty"`
	FleetServerHosts []FleetServerHost `json:"fleet_server_hosts,omitempty"`
	Proxies          []Proxy           `json:"proxies,omitempty"`
	DownloadSources  []DownloadSource  `json:"download_sources,omitempty"`
}

// Clusters names the main cluster (Kibana Fleet + Elasticsearch) and the
// remote clusters that remote_elasticsearch outputs ship data to.
type Clusters struct {
	Main    Cluster  `json:"main"`
	Remotes []Remote `json:"remotes,omitempty"`
}

// Cluster is a Kibana and an Elasticsearch endpoint of one deployment.
type Cluster struct {
	Kibana        Endpoint `json:"kibana"`
	Elasticsearch Endpoint `json:"elasticsearch"`
}

// Remote is a remote cluster: where remote_elasticsearch outputs send data.
type Remote struct {
	Name          string    `json:"name"`
	Kibana        *Endpoint `json:"kibana,omitempty"` // needed for sync status, direct sync and remote outputs
	Elasticsearch Endpoint  `json:"elasticsearch"`
	MainLink      *MainLink `json:"main_link,omitempty"` // how the remote reaches main for CCR
}

// MainLink is the remote-cluster connection the remote cluster uses to reach
// the main cluster (persistent cluster.remote.<alias>.* settings).
type MainLink struct {
	Alias        string   `json:"alias"`
	Mode         string   `json:"mode"` // proxy | sniff
	ProxyAddress string   `json:"proxy_address,omitempty"`
	ServerName   string   `json:"server_name,omitempty"`
	Seeds        []string `json:"seeds,omitempty"`
}

// Endpoint is an HTTP(S) API endpoint with credentials and TLS trust.
type Endpoint struct {
	URL           string `json:"url"`
	Auth          Auth   `json:"auth"`
	CAFile        string `json:"ca_file,omitempty"`
	CAFingerprint string `json:"ca_fingerprint,omitempty"` // SHA-256 of the CA certificate, hex
	// Space is the Kibana space whose Fleet is managed (main Kibana only):
	// Fleet calls go to /s/<space>/api/fleet/...; "" and "default" are the
	// default space.
	Space string `json:"space,omitempty"`
}

// Auth is either an API key (the "encoded" id:key form) or Basic credentials.
type Auth struct {
	APIKey *SecretRef `json:"api_key,omitempty"`
	Basic  *BasicAuth `json:"basic,omitempty"`
}

// BasicAuth is a username and a password reference.
type BasicAuth struct {
	Username string    `json:"username"`
	Password SecretRef `json:"password"`
}

// SecretRef says where a secret value comes from. Exactly one field is set.
// A secret never appears literally in the document.
type SecretRef struct {
	Env      string `json:"env,omitempty"`      // environment variable name
	File     string `json:"file,omitempty"`     // path of a file holding the value (trailing newline trimmed)
	Generate bool   `json:"generate,omitempty"` // fleetform mints it (service tokens, remote Kibana API keys)
}

// Output is a Fleet output (Kibana's ingest-outputs), with Kibana's field names.
type Output struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	Type                 string         `json:"type"` // elasticsearch | remote_elasticsearch | logstash | kafka
	IsDefault            *bool          `json:"is_default,omitempty"`
	IsDefaultMonitoring  *bool          `json:"is_default_monitoring,omitempty"`
	IsInternal           *bool          `json:"is_internal,omitempty"`
	Hosts                []string       `json:"hosts,omitempty"`
	CASha256             *string        `json:"ca_sha256,omitempty"`
	CATrustedFingerprint *string        `json:"ca_trusted_fingerprint,omitempty"`
	ConfigYAML           *string        `json:"config_yaml,omitempty"`
	Preset               string         `json:"preset,omitempty"` // balanced | custom | throughput | scale | latency
	SSL                  *SSL           `json:"ssl,omitempty"`
	ProxyID              *string        `json:"proxy_id,omitempty"`
	Shipper              map[string]any `json:"shipper,omitempty"`
	WriteToLogsStreams   *bool          `json:"write_to_logs_streams,omitempty"`
	Secrets              *OutputSecrets `json:"secrets,omitempty"`
	// AllowEdit is only meaningful for outputs preconfigured in kibana.yml;
	// fleetform reads it from Kibana and refuses to edit other fields.
	AllowEdit []string `json:"allow_edit,omitempty"`

	// remote_elasticsearch only.
	ServiceToken                *SecretRef `json:"service_token,omitempty"` // plaintext storage opt-in; prefer secrets.service_token
	SyncIntegrations            *bool      `json:"sync_integrations,omitempty"`
	SyncUninstalledIntegrations *bool      `json:"sync_uninstalled_integrations,omitempty"`
	KibanaURL                   string     `json:"kibana_url,omitempty"`
	KibanaAPIKey                *SecretRef `json:"kibana_api_key,omitempty"`
	Remote                      string     `json:"remote,omitempty"`   // fleetform: name of clusters.remotes[]
	SyncVia                     string     `json:"sync_via,omitempty"` // fleetform: ccr (default) | direct

	// kafka only (Kibana's names, flattened as in Kibana's API).
	KafkaFields
}

// KafkaFields are the kafka output fields, flattened into Output as in Kibana.
type KafkaFields struct {
	Version          string              `json:"version,omitempty"`
	Key              string              `json:"key,omitempty"`
	Compression      string              `json:"compression,omitempty"`
	CompressionLevel *int                `json:"compression_level,omitempty"`
	ClientID         string              `json:"client_id,omitempty"`
	AuthType         string              `json:"auth_type,omitempty"`
	Username         string              `json:"username,omitempty"`
	Password         *SecretRef          `json:"password,omitempty"`
	SASL             map[string]any      `json:"sasl,omitempty"`
	Partition        string              `json:"partition,omitempty"`
	Random           map[string]any      `json:"random,omitempty"`
	RoundRobin       map[string]any      `json:"round_robin,omitempty"`
	Hash             map[string]any      `json:"hash,omitempty"`
	Topic            string              `json:"topic,omitempty"`
	Headers          []map[string]string `json:"headers,omitempty"`
	Timeout          *int                `json:"timeout,omitempty"`
	BrokerTimeout    *int                `json:"broker_timeout,omitempty"`
	RequiredAcks     *int                `json:"required_acks,omitempty"`
	ConnectionType   string              `json:"connection_type,omitempty"`
}

// SSL is an output's TLS settings. Key is a reference: set here it is stored
// in plain text by Kibana (ESO-encrypted); prefer secrets.ssl.key.
type SSL struct {
	CertificateAuthorities []string   `json:"certificate_authorities,omitempty"`
	Certificate            string     `json:"certificate,omitempty"`
	Key                    *SecretRef `json:"key,omitempty"`
	VerificationMode       string     `json:"verification_mode,omitempty"` // full | none | certificate | strict
}

// OutputSecrets are the secret-storage fields of an output (stored by Fleet
// in .fleet-secrets and returned as {id}).
type OutputSecrets struct {
	ServiceToken *SecretRef  `json:"service_token,omitempty"`
	Password     *SecretRef  `json:"password,omitempty"`
	SSL          *SecretsSSL `json:"ssl,omitempty"`
}

// SecretsSSL holds secrets.ssl.key.
type SecretsSSL struct {
	Key *SecretRef `json:"key,omitempty"`
}

// Package is an integration package to install on the main cluster.
type Package struct {
	Name       string `json:"name"`
	Version    string `json:"version"` // semver, or "latest"
	Prerelease bool   `json:"prerelease,omitempty"`
}
