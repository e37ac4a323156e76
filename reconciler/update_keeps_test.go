package reconciler

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// TestSim_UpdateKeepsEveryDeclaredField is issue 10 item 1: a PUT must never
// lose a declared field. Kibana's output update
// (x-pack/platform/plugins/shared/fleet/server/services/output.ts, update)
// nulls fields missing from a body that repeats the type — kafka password,
// username, sasl and ssl; remote_elasticsearch service_token and
// kibana_api_key — and nulls shipper when the body sends it without a
// config_yaml that enables it. fleetsim's updateOutput does the same. For
// every output type, each declared field must survive an update that changes
// something else (hosts, topic, another field, a secret's value), and the
// next plan must be empty.
func TestSim_UpdateKeepsEveryDeclaredField(t *testing.T) {
	kafka := func() schema.Output {
		return schema.Output{ID: "k", Name: "kafka", Type: "kafka", Hosts: []string{"kafka1:9092"},
			SSL: &schema.SSL{CertificateAuthorities: []string{"CA-KAFKA"}, VerificationMode: "full"},
			KafkaFields: schema.KafkaFields{AuthType: "user_pass", Username: "fleet", Topic: "t1", Compression: "snappy",
				SASL: map[string]any{"mechanism": "SCRAM-SHA-512"}, Partition: "round_robin", RoundRobin: map[string]any{"group_events": 2.0},
				Version: "2.6.0", ClientID: "agents", Key: "k1", Timeout: ptr(45), BrokerTimeout: ptr(20), RequiredAcks: ptr(-1),
				Headers: []map[string]string{{"key": "env", "value": "prod"}}},
			Secrets: &schema.OutputSecrets{Password: env("KPW")}}
	}
	kafkaPlain := func() schema.Output {
		o := kafka()
		o.Secrets = nil
		o.Password = env("KPW")
		return o
	}
	kafkaKey := func() schema.Output {
		o := kafka()
		o.Secrets.SSL = &schema.SecretsSSL{Key: env("KKEY")}
		o.SSL.Certificate = "CERT-KAFKA"
		return o
	}
	es := func() schema.Output {
		cy := "shipper:\n  enabled: true\n"
		return schema.Output{ID: "es2", Name: "es2", Type: "elasticsearch", Hosts: []string{"https://es2.example:9200"},
			CATrustedFingerprint: ptr("ABCDEF"), ConfigYAML: &cy, Preset: "custom", Shipper: map[string]any{"disk_queue_enabled": true},
			WriteToLogsStreams: ptr(true),
			SSL:                &schema.SSL{CertificateAuthorities: []string{"CA-ES"}, Certificate: "CERT-ES"},
			Secrets:            &schema.OutputSecrets{SSL: &schema.SecretsSSL{Key: env("ESKEY")}}}
	}
	logstash := func() schema.Output {
		return schema.Output{ID: "ls", Name: "ls", Type: "logstash", Hosts: []string{"ls.example:5044"},
			SSL:     &schema.SSL{CertificateAuthorities: []string{"CA-LS"}, Certificate: "CERT-LS"},
			Secrets: &schema.OutputSecrets{SSL: &schema.SecretsSSL{Key: env("LSKEY")}}}
	}
	remote := func() schema.Output {
		return schema.Output{ID: "rw", Name: "rw", Type: "remote_elasticsearch", Hosts: []string{"https://rw.example:9200"},
			Preset: "balanced", SyncIntegrations: ptr(true), SyncUninstalledIntegrations: ptr(true), KibanaURL: "https://kb.rw.example:5601",
			KibanaAPIKey: env("RWKEY"), SSL: &schema.SSL{CertificateAuthorities: []string{"CA-RW"}},
			Secrets: &schema.OutputSecrets{ServiceToken: env("RWTOKEN")}}
	}
	remotePlain := func() schema.Output {
		o := remote()
		o.Secrets = nil
		o.ServiceToken = env("RWTOKEN")
		return o
	}
	hosts := func(h string) func(*schema.Output, map[string]string) {
		return func(o *schema.Output, _ map[string]string) { o.Hosts = []string{h} }
	}
	rotate := func(ref string) func(*schema.Output, map[string]string) {
		return func(_ *schema.Output, s map[string]string) { s[ref] = s[ref] + "-rotated" }
	}
	cases := []struct {
		name   string
		out    func() schema.Output
		change func(*schema.Output, map[string]string)
	}{
		{"kafka/hosts", kafka, hosts("kafka2:9092")},
		{"kafka/topic", kafka, func(o *schema.Output, _ map[string]string) { o.Topic = "t2" }},
		{"kafka/secret value", kafka, rotate("env:KPW")},
		{"kafka/ssl", kafka, func(o *schema.Output, _ map[string]string) { o.SSL.VerificationMode = "none" }},
		{"kafka/sasl", kafka, func(o *schema.Output, _ map[string]string) { o.SASL = map[string]any{"mechanism": "SCRAM-SHA-256"} }},
		{"kafka/username", kafka, func(o *schema.Output, _ map[string]string) { o.Username = "fleet2" }},
		{"kafka plain password/hosts", kafkaPlain, hosts("kafka2:9092")},
		{"kafka ssl key/hosts", kafkaKey, hosts("kafka2:9092")},
		{"kafka ssl key/key value", kafkaKey, rotate("env:KKEY")},
		{"elasticsearch/hosts", es, hosts("https://es3.example:9200")},
		{"elasticsearch/shipper", es, func(o *schema.Output, _ map[string]string) { o.Shipper = map[string]any{"disk_queue_enabled": false} }},
		{"elasticsearch/ssl key value", es, rotate("env:ESKEY")},
		{"logstash/hosts", logstash, hosts("ls2.example:5044")},
		{"logstash/ssl key value", logstash, rotate("env:LSKEY")},
		{"remote_elasticsearch/hosts", remote, hosts("https://rw2.example:9200")},
		{"remote_elasticsearch/token value", remote, rotate("env:RWTOKEN")},
		{"remote_elasticsearch/kibana_url", remote, func(o *schema.Output, _ map[string]string) { o.KibanaURL = "https://kb2.rw.example:5601" }},
		{"remote_elasticsearch plain token/hosts", remotePlain, hosts("https://rw2.example:9200")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise"})
			o := tc.out()
			for _, sp := range secretSpecs(o) {
				h.secrets[describeRef(sp.Ref)] = "value-of-" + describeRef(sp.Ref)
			}
			doc := &schema.Document{Outputs: []schema.Output{o}}
			h.apply(doc)
			tc.change(&doc.Outputs[0], h.secrets)
			res := h.apply(doc)
			if res.Plan.Empty() {
				t.Fatal("the change made no update")
			}
			got := h.output(o.ID)
			assertHolds(t, doc.Outputs[0], got)
			if p := h.plan(doc); !p.Empty() {
				t.Fatalf("plan after the update wants fields back:\n%s", renderText(p))
			}
		})
	}
}

// assertHolds checks that Fleet holds every declared field of o, and a
// value at each declared secret path.
func assertHolds(t *testing.T, o schema.Output, got kibana.Output) {
	t.Helper()
	for _, d := range diffManaged("", outputFields(o), canonicalMap(map[string]any(got))) {
		t.Errorf("Fleet lost %s: %s (declared %s)", d.Path, plan.FormatValue(d.Before), plan.FormatValue(d.After))
	}
	for _, sp := range secretSpecs(o) {
		if !observeSecret(canonicalMap(map[string]any(got)), sp).present() {
			t.Errorf("Fleet lost %s: %s", sp.Path, fmt.Sprint(got.Field(sp.Path)))
		}
	}
}

// TestSim_KafkaProxyIDIsNotManaged: Kibana stores null for proxy_id on
// every kafka create and update (output.ts, #267281; fleetsim does the
// same), so a declared one used to be an update on every apply. It is not
// managed, and the plan warns.
func TestSim_KafkaProxyIDIsNotManaged(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main"})
	doc := &schema.Document{Outputs: []schema.Output{{ID: "k", Name: "kafka", Type: "kafka", Hosts: []string{"kafka1:9092"},
		ProxyID: ptr("corp-proxy"), KafkaFields: schema.KafkaFields{Topic: "t1", AuthType: "none"}}}}
	h.apply(doc)
	p := h.plan(doc)
	if !p.Empty() {
		t.Fatalf("plan after apply wants proxy_id again:\n%s", renderText(p))
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "output k declares proxy_id, which Kibana clears on kafka outputs") {
		t.Errorf("warnings = %q", p.Warnings)
	}
}
