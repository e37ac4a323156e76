package schema

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"
)

// Output types (Kibana's).
const (
	OutputTypeElasticsearch       = "elasticsearch"
	OutputTypeRemoteElasticsearch = "remote_elasticsearch"
	OutputTypeLogstash            = "logstash"
	OutputTypeKafka               = "kafka"
)

// How integrations reach a remote cluster (Output.SyncVia).
const (
	SyncViaCCR    = "ccr"    // Kibana's own sync task over cross-cluster replication
	SyncViaDirect = "direct" // fleetform installs them on the remote itself
)

// Kibana's well-known output ids: they may be referenced without being declared.
const (
	DefaultOutputID           = "fleet-default-output" // DEFAULT_OUTPUT_ID
	ServerlessDefaultOutputID = "es-default-output"    // SERVERLESS_DEFAULT_OUTPUT_ID
)

// WellKnownOutputIDs are output ids Kibana creates itself.
var WellKnownOutputIDs = []string{DefaultOutputID, ServerlessDefaultOutputID}

// ReservedConfigYAMLKeys are the performance keys that preset balanced
// forbids in config_yaml (Kibana's RESERVED_CONFIG_YML_KEYS).
var ReservedConfigYAMLKeys = []string{
	"bulk_max_size", "compression_level", "connection_idle_timeout", "queue.mem.events",
	"queue.mem.flush.min_events", "queue.mem.flush.timeout", "worker",
}

// BalancedPresetMessage is Kibana's message for preset balanced with a reserved key.
var BalancedPresetMessage = "preset cannot be balanced when config_yaml contains one of " + strings.Join(ReservedConfigYAMLKeys, ", ")

// kibanaIDMessage is Kibana's validateFleetSavedObjectId message.
const kibanaIDMessage = `id is not valid: must be 1–255 characters and must not contain path separators ("/"), traversal sequences (".."), or reserved keys ("__proto__", "constructor", "prototype").`

// fieldTypes lists the output fields valid only for some output types.
var fieldTypes = map[string][]string{
	"preset":                        {OutputTypeElasticsearch, OutputTypeRemoteElasticsearch},
	"write_to_logs_streams":         {OutputTypeElasticsearch, OutputTypeRemoteElasticsearch},
	"service_token":                 {OutputTypeRemoteElasticsearch},
	"sync_integrations":             {OutputTypeRemoteElasticsearch},
	"sync_uninstalled_integrations": {OutputTypeRemoteElasticsearch},
	"kibana_url":                    {OutputTypeRemoteElasticsearch},
	"kibana_api_key":                {OutputTypeRemoteElasticsearch},
	"remote":                        {OutputTypeRemoteElasticsearch},
	"sync_via":                      {OutputTypeRemoteElasticsearch},
	"secrets/service_token":         {OutputTypeRemoteElasticsearch},
	"secrets/password":              {OutputTypeKafka},
	"version":                       {OutputTypeKafka},
	"key":                           {OutputTypeKafka},
	"compression":                   {OutputTypeKafka},
	"compression_level":             {OutputTypeKafka},
	"client_id":                     {OutputTypeKafka},
	"auth_type":                     {OutputTypeKafka},
	"username":                      {OutputTypeKafka},
	"password":                      {OutputTypeKafka},
	"sasl":                          {OutputTypeKafka},
	"partition":                     {OutputTypeKafka},
	"random":                        {OutputTypeKafka},
	"round_robin":                   {OutputTypeKafka},
	"hash":                          {OutputTypeKafka},
	"topic":                         {OutputTypeKafka},
	"headers":                       {OutputTypeKafka},
	"timeout":                       {OutputTypeKafka},
	"broker_timeout":                {OutputTypeKafka},
	"required_acks":                 {OutputTypeKafka},
	"connection_type":               {OutputTypeKafka},
}

var knownOutputTypes = []string{OutputTypeElasticsearch, OutputTypeRemoteElasticsearch, OutputTypeLogstash, OutputTypeKafka}

// checker collects semantic issues against the merged document.
type checker struct {
	m      *merged
	issues []Issue
}

// at reports msg at ptr (a pointer into the merged document).
func (c *checker) at(ptr, format string, args ...any) {
	u, local := c.m.locate(ptr)
	if u == nil {
		return
	}
	p := u.pos(local)
	c.issues = append(c.issues, u.issue(local, p, format, args...))
}

// where renders the file:line of a merged pointer, for "also at" hints.
func (c *checker) where(ptr string) string {
	u, local := c.m.locate(ptr)
	if u == nil {
		return "?"
	}
	return fmt.Sprintf("%s:%d", u.file, u.pos(local).line)
}

// raw returns the merged JSON value at ptr.
func (c *checker) raw(ptr string) (any, bool) {
	var v any = c.m.value
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func (c *checker) has(ptr string) bool {
	_, ok := c.raw(ptr)
	return ok
}

func checkDocument(doc *Document, m *merged) []Issue {
	c := &checker{m: m}
	if m.clusters == nil && !m.incomplete {
		// No file defines clusters: report it once, at the first file.
		c.issues = append(c.issues, Issue{File: m.firstFile, Line: 1, Col: 1, Message: "clusters is not defined: exactly one file must define clusters.main"})
	} else if m.clusters != nil {
		c.clusters(doc)
	}
	c.outputs(doc)
	c.agentPolicies(doc)
	c.packages(doc)
	c.packagePolicies(doc)
	c.fleetServerHosts(doc)
	c.proxies(doc)
	c.downloadSources(doc)
	c.secretRefs(doc)
	return c.issues
}

func (c *checker) clusters(doc *Document) {
	c.endpoint("/clusters/main/kibana", doc.Clusters.Main.Kibana)
	c.endpoint("/clusters/main/elasticsearch", doc.Clusters.Main.Elasticsearch)
	c.noSpace("/clusters/main/elasticsearch", doc.Clusters.Main.Elasticsearch)
	seen := map[string]int{}
	for i, r := range doc.Clusters.Remotes {
		p := fmt.Sprintf("/clusters/remotes/%d", i)
		if j, dup := seen[r.Name]; dup && r.Name != "" {
			c.at(p+"/name", "duplicate remote name %q (also at %s)", r.Name, c.where(fmt.Sprintf("/clusters/remotes/%d/name", j)))
		} else {
			seen[r.Name] = i
		}
		if r.Kibana != nil {
			c.endpoint(p+"/kibana", *r.Kibana)
			c.noSpace(p+"/kibana", *r.Kibana)
		}
		c.endpoint(p+"/elasticsearch", r.Elasticsearch)
		c.noSpace(p+"/elasticsearch", r.Elasticsearch)
		if l := r.MainLink; l != nil {
			lp := p + "/main_link"
			switch l.Mode {
			case "proxy":
				if l.ProxyAddress == "" {
					c.at(lp, "mode proxy needs proxy_address")
				}
				if len(l.Seeds) > 0 {
					c.at(lp+"/seeds", "seeds are for mode sniff; mode proxy uses proxy_address")
				}
				if l.ProxyAddress != "" {
					c.hostPort(lp+"/proxy_address", l.ProxyAddress)
				}
			case "sniff":
				if len(l.Seeds) == 0 {
					c.at(lp, "mode sniff needs seeds")
				}
				if l.ProxyAddress != "" {
					c.at(lp+"/proxy_address", "proxy_address is for mode proxy; mode sniff uses seeds")
				}
				if l.ServerName != "" {
					c.at(lp+"/server_name", "server_name is for mode proxy")
				}
				for j, s := range l.Seeds {
					c.hostPort(fmt.Sprintf("%s/seeds/%d", lp, j), s)
				}
			}
		}
	}
}

func (c *checker) endpoint(p string, e Endpoint) {
	if e.URL != "" {
		c.httpURL(p+"/url", e.URL)
	}
}

// noSpace refuses a space where fleetform does not use one: a space names
// the main Kibana's Fleet a repository manages.
func (c *checker) noSpace(p string, e Endpoint) {
	if e.Space != "" {
		c.at(p+"/space", "space applies to clusters.main.kibana only (the Fleet this repository manages)")
	}
}

func (c *checker) hostPort(p, s string) {
	host, port, err := net.SplitHostPort(s)
	s = redactCredentials(s)
	if err != nil || host == "" {
		c.at(p, "%q must be host:port", s)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		c.at(p, "%q: port must be a number between 1 and 65535", s)
	}
}

// httpURL checks an http(s) URL with a host and nothing after the path.
func (c *checker) httpURL(p, s string) {
	u, err := url.Parse(s)
	s = redactCredentials(s) // s is only quoted from here on
	switch {
	case err != nil:
		c.at(p, "%q is not a valid URL", s)
	case u.Scheme != "http" && u.Scheme != "https":
		c.at(p, "%q must be an http:// or https:// URL", s)
	case u.Host == "" || u.Hostname() == "":
		c.at(p, "%q has no host", s)
	case u.Port() != "" && !validPort(u.Port()):
		c.at(p, "%q: port must be a number between 1 and 65535", s)
	case u.User != nil:
		c.at(p, "%q must not hold credentials; use auth", s)
	case u.RawQuery != "" || u.Fragment != "":
		c.at(p, "%q must not have a query or fragment", s)
	}
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}

func (c *checker) outputs(doc *Document) {
	ids := map[string]int{}
	names := map[string]int{}
	defaultAt, monitoringAt := -1, -1
	remotes := map[string]*Remote{}
	for i := range doc.Clusters.Remotes {
		remotes[doc.Clusters.Remotes[i].Name] = &doc.Clusters.Remotes[i]
	}
	for i := range doc.Outputs {
		o := &doc.Outputs[i]
		p := fmt.Sprintf("/outputs/%d", i)
		if j, dup := ids[o.ID]; dup && o.ID != "" {
			c.at(p+"/id", "duplicate output id %q (also at %s)", o.ID, c.where(fmt.Sprintf("/outputs/%d/id", j)))
		} else {
			ids[o.ID] = i
		}
		if o.ID != "" && (strings.Contains(o.ID, "..") || slices.Contains([]string{"__proto__", "constructor", "prototype"}, o.ID)) {
			c.at(p+"/id", "%s", kibanaIDMessage)
		}
		if j, dup := names[o.Name]; dup && o.Name != "" {
			c.at(p+"/name", "duplicate output name %q (also at %s)", o.Name, c.where(fmt.Sprintf("/outputs/%d/name", j)))
		} else {
			names[o.Name] = i
		}
		if o.IsDefault != nil && *o.IsDefault {
			if defaultAt >= 0 {
				c.at(p+"/is_default", "only one output may set is_default: true (output %q sets it too)", doc.Outputs[defaultAt].ID)
			} else {
				defaultAt = i
			}
		}
		if o.IsDefaultMonitoring != nil && *o.IsDefaultMonitoring {
			if monitoringAt >= 0 {
				c.at(p+"/is_default_monitoring", "only one output may set is_default_monitoring: true (output %q sets it too)", doc.Outputs[monitoringAt].ID)
			} else {
				monitoringAt = i
			}
		}
		if !slices.Contains(knownOutputTypes, o.Type) {
			continue // the schema reported it
		}
		c.typeFields(p, o.Type)
		c.hosts(p, o)
		c.output(p, o, remotes)
	}
}

// typeFields refuses fields of other output types.
func (c *checker) typeFields(p, typ string) {
	keys := make([]string, 0, len(fieldTypes))
	for k := range fieldTypes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		types := fieldTypes[k]
		if slices.Contains(types, typ) || !c.has(p+"/"+k) {
			continue
		}
		c.at(p+"/"+k, "%s is only valid for type %s (this output is %s)", strings.ReplaceAll(k, "/", "."), strings.Join(types, " or "), typ)
	}
}

func (c *checker) hosts(p string, o *Output) {
	for j, h := range o.Hosts {
		hp := fmt.Sprintf("%s/hosts/%d", p, j)
		switch o.Type {
		case OutputTypeElasticsearch, OutputTypeRemoteElasticsearch:
			c.httpURL(hp, h)
		case OutputTypeLogstash:
			if msg := logstashHostProblem(h); msg != "" {
				c.at(hp, "%s", msg)
			}
		case OutputTypeKafka:
			if msg := kafkaHostProblem(h); msg != "" {
				c.at(hp, "%s", msg)
			}
		}
	}
}

// logstashHostProblem follows Kibana's validateLogstashHost.
func logstashHostProblem(h string) string {
	if strings.HasPrefix(h, "http://") || strings.HasPrefix(h, "https://") {
		return "Host address must begin with a domain name or IP address"
	}
	u, err := url.Parse("http://" + h)
	if err != nil {
		return "Invalid Logstash host"
	}
	if u.Host != strings.ToLower(h) {
		return "Invalid host"
	}
	return ""
}

// kafkaHostProblem follows Kibana's validateKafkaHost.
func kafkaHostProblem(h string) string {
	parts := strings.Split(h, ":")
	if len(parts) != 2 || parts[0] == "" || strings.Contains(parts[0], "://") {
		return `Invalid format. Expected "host:port" without protocol`
	}
	if !validPort(parts[1]) {
		return "Invalid port number. Expected a number between 1 and 65535"
	}
	return ""
}

func (c *checker) output(p string, o *Output, remotes map[string]*Remote) {
	// Kibana's ensureNoDuplicateSecrets.
	if o.ServiceToken != nil && o.Secrets != nil && o.Secrets.ServiceToken != nil {
		c.at(p+"/service_token", "Cannot specify both service_token and secrets.service_token")
	}
	if o.SSL != nil && o.SSL.Key != nil && o.Secrets != nil && o.Secrets.SSL != nil && o.Secrets.SSL.Key != nil {
		c.at(p+"/ssl/key", "Cannot specify both ssl.key and secrets.ssl.key")
	}
	if o.Password != nil && o.Secrets != nil && o.Secrets.Password != nil {
		c.at(p+"/password", "Cannot specify both password and secrets.password")
	}

	if o.ConfigYAML != nil {
		reserved, err := configYAMLHasReservedKey(*o.ConfigYAML)
		switch {
		case err != nil:
			pos, msg := syntaxError(err, []byte(*o.ConfigYAML))
			c.at(p+"/config_yaml", "config_yaml is not valid YAML: line %d, column %d of its text: %s", pos.line, pos.col, msg)
		case reserved && o.Preset == "balanced":
			c.at(p+"/preset", "%s", BalancedPresetMessage)
		}
	}

	switch o.Type {
	case OutputTypeRemoteElasticsearch:
		r, declared := remotes[o.Remote]
		if o.Remote != "" && !declared && !c.cannotTell("remotes") {
			names := map[string]bool{}
			for n := range remotes {
				names[n] = true
			}
			c.at(p+"/remote", "remote %q is not declared in clusters.remotes%s", o.Remote, didYouMean(o.Remote, names))
		}
		if o.SyncVia == SyncViaDirect && declared && r.Kibana == nil {
			c.at(p+"/sync_via", "sync_via: direct needs a kibana endpoint on clusters.remotes %q: fleetform installs integrations through it", o.Remote)
		}
		// Kibana's own sync (ccr) reaches the remote Kibana through
		// kibana_url and kibana_api_key; with sync_via: direct fleetform
		// installs through clusters.remotes[].kibana and Kibana's sync is
		// off (remote.fleetView), so neither is needed — and a Kibana
		// before 9.1 has neither key.
		if o.SyncIntegrations != nil && *o.SyncIntegrations && o.SyncVia != SyncViaDirect {
			if o.KibanaURL == "" {
				c.at(p+"/sync_integrations", "sync_integrations needs kibana_url (the remote Kibana)")
			}
			if o.KibanaAPIKey == nil {
				c.at(p+"/sync_integrations", "sync_integrations needs kibana_api_key (e.g. {generate: true})")
			}
		}
		if o.SyncUninstalledIntegrations != nil && *o.SyncUninstalledIntegrations && (o.SyncIntegrations == nil || !*o.SyncIntegrations) {
			c.at(p+"/sync_uninstalled_integrations", "sync_uninstalled_integrations needs sync_integrations: true")
		}
		if o.SyncVia == SyncViaDirect && o.Remote == "" {
			c.at(p+"/sync_via", "sync_via: direct needs remote: <name> so fleetform can reach the remote Kibana")
		}
		if o.KibanaURL != "" {
			c.httpURL(p+"/kibana_url", o.KibanaURL)
		}
	case OutputTypeKafka:
		c.kafka(p, o)
	}
}

func (c *checker) kafka(p string, o *Output) {
	if o.AuthType != "user_pass" {
		if o.Username != "" {
			c.at(p+"/username", "username is only valid with auth_type user_pass")
		}
		if o.Password != nil {
			c.at(p+"/password", "password is only valid with auth_type user_pass")
		}
		if o.Secrets != nil && o.Secrets.Password != nil {
			c.at(p+"/secrets/password", "secrets.password is only valid with auth_type user_pass")
		}
	} else {
		if o.Username == "" {
			c.at(p, "auth_type user_pass needs username")
		}
		if o.Password == nil && (o.Secrets == nil || o.Secrets.Password == nil) {
			c.at(p, "auth_type user_pass needs secrets.password (or password)")
		}
	}
	if o.ConnectionType != "" && o.AuthType != "none" {
		c.at(p+"/connection_type", "connection_type is only valid with auth_type none")
	}
	if o.CompressionLevel != nil && o.Compression != "gzip" {
		c.at(p+"/compression_level", "compression_level is only valid with compression gzip")
	}
}

// configYAMLHasReservedKey follows Kibana's outputYmlIncludesReservedPerformanceKey:
// a mapping is flattened to dotted keys; a plain string is searched for the keys.
func configYAMLHasReservedKey(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return false, err
	}
	switch v := v.(type) {
	case map[string]any:
		flat := map[string]bool{}
		flatten("", v, flat, 0)
		for _, k := range ReservedConfigYAMLKeys {
			if flat[k] {
				return true, nil
			}
		}
	case string:
		for _, k := range ReservedConfigYAMLKeys {
			if strings.Contains(v, k) {
				return true, nil
			}
		}
	}
	return false, nil
}

func flatten(prefix string, m map[string]any, out map[string]bool, depth int) {
	if depth > maxDepth {
		return
	}
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			flatten(key, sub, out, depth+1)
			continue
		}
		out[key] = true
	}
}

func (c *checker) packages(doc *Document) {
	seen := map[string]int{}
	for i, pkg := range doc.Packages {
		p := fmt.Sprintf("/packages/%d", i)
		if j, dup := seen[pkg.Name]; dup && pkg.Name != "" {
			c.at(p+"/name", "duplicate package %q (also at %s)", pkg.Name, c.where(fmt.Sprintf("/packages/%d/name", j)))
		} else {
			seen[pkg.Name] = i
		}
		if pkg.Prerelease && pkg.Version != "latest" {
			c.at(p+"/prerelease", "prerelease only applies to version latest")
		}
	}
}

// secretRefs checks where generate: true is used: only where fleetform can mint the value.
func (c *checker) secretRefs(doc *Document) {
	for _, f := range doc.SecretFields() {
		if !f.Ref.Generate {
			continue
		}
		switch {
		case !f.Mintable:
			c.at(f.Pointer+"/generate", "generate: true is only possible for service_token and kibana_api_key of a remote_elasticsearch output; use {env: NAME} or {file: PATH}")
		case f.Output != nil && f.Output.Remote == "":
			c.at(f.Pointer+"/generate", "generate: true needs remote: <name> on the output, naming the cluster where fleetform mints the value")
		}
	}
}
