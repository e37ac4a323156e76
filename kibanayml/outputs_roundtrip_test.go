package kibanayml_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/fleetform/fleetform/kibanayml"
	"github.com/fleetform/fleetform/schema"
)

// roundTripDoc declares an output of every type, with secrets as {env:}
// references (kibana.yml carries them as ${VAR}), and packages.
func roundTripDoc() *schema.Document {
	env := func(n string) *schema.SecretRef { return &schema.SecretRef{Env: n} }
	cy := "bulk_max_size: 1600\nworker: 4\n"
	return &schema.Document{
		Outputs: []schema.Output{
			{ID: "es", Name: "es", Type: "elasticsearch", IsDefault: ptr(true), IsDefaultMonitoring: ptr(true), Hosts: []string{"https://es.example:9200"},
				CATrustedFingerprint: ptr("ABCDEF"), ConfigYAML: &cy, Preset: "custom", ProxyID: ptr("px"),
				SSL:     &schema.SSL{CertificateAuthorities: []string{"CA-ES"}, Certificate: "CERT-ES", VerificationMode: "full"},
				Secrets: &schema.OutputSecrets{SSL: &schema.SecretsSSL{Key: env("ES_SSL_KEY")}}},
			{ID: "ls", Name: "ls", Type: "logstash", Hosts: []string{"ls.example:5044"},
				SSL:     &schema.SSL{CertificateAuthorities: []string{"CA-LS"}, Certificate: "CERT-LS"},
				Secrets: &schema.OutputSecrets{SSL: &schema.SecretsSSL{Key: env("LS_SSL_KEY")}}},
			{ID: "kafka", Name: "kafka", Type: "kafka", Hosts: []string{"kafka1:9092", "kafka2:9092"},
				KafkaFields: schema.KafkaFields{Version: "2.6.0", AuthType: "user_pass", Username: "fleet", Topic: "logs", Compression: "gzip",
					CompressionLevel: ptr(4), ClientID: "agents", Partition: "round_robin", RoundRobin: map[string]any{"group_events": 2.0},
					SASL: map[string]any{"mechanism": "SCRAM-SHA-512"}, Headers: []map[string]string{{"key": "env", "value": "prod"}},
					Timeout: ptr(45), BrokerTimeout: ptr(20), RequiredAcks: ptr(-1)},
				Secrets: &schema.OutputSecrets{Password: env("KAFKA_PASSWORD")}},
			{ID: "remote", Name: "remote", Type: "remote_elasticsearch", Hosts: []string{"https://remote.example:9200"},
				Remote: "west", SyncIntegrations: ptr(true), SyncUninstalledIntegrations: ptr(false),
				KibanaURL: "https://kb.remote.example:5601", KibanaAPIKey: env("REMOTE_KIBANA_KEY"),
				Secrets: &schema.OutputSecrets{ServiceToken: env("REMOTE_TOKEN")}},
		},
		Packages: []schema.Package{{Name: "system", Version: "1.60.0"}, {Name: "nginx", Version: "latest", Prerelease: true}},
	}
}

func ptr[T any](v T) *T { return &v }

// envRefs turns the ${VAR} placeholders at the output's secret paths back
// into {env: VAR} references, failing on any other value there.
func envRefs(t *testing.T, o map[string]any) {
	t.Helper()
	for _, path := range [][]string{{"service_token"}, {"kibana_api_key"}, {"password"}, {"ssl", "key"},
		{"secrets", "service_token"}, {"secrets", "password"}, {"secrets", "ssl", "key"}} {
		parent := o
		for _, k := range path[:len(path)-1] {
			parent, _ = parent[k].(map[string]any)
		}
		v, ok := parent[path[len(path)-1]]
		if !ok {
			continue
		}
		s, _ := v.(string)
		if !strings.HasPrefix(s, "${") || !strings.HasSuffix(s, "}") {
			t.Errorf("output %v: %s = %v, want a ${VAR} placeholder", o["id"], strings.Join(path, "."), v)
			continue
		}
		parent[path[len(path)-1]] = map[string]any{"env": strings.TrimSuffix(strings.TrimPrefix(s, "${"), "}")}
	}
}

// Outputs of every type and packages survive kibana.yml: read back from
// xpack.fleet.outputs (config turned back into config_yaml, as Kibana's
// preconfiguration does — server/services/preconfiguration/outputs.ts) and
// xpack.fleet.packages, they are the declared objects, less the
// fleetform-only fields (remote, sync_via) the header says were left out.
func TestRoundTrip_OutputsAndPackages(t *testing.T) {
	doc := roundTripDoc()
	out, err := kibanayml.Render(doc, kibanayml.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var y struct {
		Outputs  []map[string]any `yaml:"xpack.fleet.outputs"`
		Packages []map[string]any `yaml:"xpack.fleet.packages"`
	}
	if err := yaml.Unmarshal(out, &y); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, out)
	}
	if len(y.Outputs) != len(doc.Outputs) {
		t.Fatalf("%d outputs in kibana.yml, %d declared:\n%s", len(y.Outputs), len(doc.Outputs), out)
	}
	types := map[string]bool{}
	for i, want := range doc.Outputs {
		raw := y.Outputs[i]
		types[want.Type] = true
		if _, has := raw["config_yaml"]; has {
			t.Errorf("output %s: config_yaml written; kibana.yml forbids it", want.ID)
		}
		var gotConfig, wantConfig any
		if cfg, has := raw["config"]; has {
			gotConfig = cfg
			delete(raw, "config")
		}
		if want.ConfigYAML != nil {
			if err := yaml.Unmarshal([]byte(*want.ConfigYAML), &wantConfig); err != nil {
				t.Fatal(err)
			}
			want.ConfigYAML = nil
		}
		if d := cmp.Diff(wantConfig, gotConfig); d != "" {
			t.Errorf("output %s: config (-declared config_yaml +kibana.yml config):\n%s", want.ID, d)
		}
		envRefs(t, raw)
		var got schema.Output
		convert(t, raw, &got)
		want.Remote, want.SyncVia = "", "" // fleetform-only, named in the header
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("output %s (-declared +kibana.yml):\n%s", want.ID, d)
		}
	}
	for _, typ := range []string{"elasticsearch", "logstash", "kafka", "remote_elasticsearch"} {
		if !types[typ] {
			t.Errorf("no %s output in the round trip", typ)
		}
	}
	if !strings.Contains(string(out), "fleetform-only fields left out: remote") {
		t.Error("the header does not name the fleetform-only field it left out")
	}

	var gotPkgs []schema.Package
	convert(t, y.Packages, &gotPkgs)
	if d := cmp.Diff(doc.Packages, gotPkgs); d != "" {
		t.Errorf("packages (-declared +kibana.yml):\n%s", d)
	}
}
