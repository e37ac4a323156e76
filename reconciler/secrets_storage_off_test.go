package reconciler

import (
	"encoding/json"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/schema"
)

// With Fleet's secret storage off, Kibana stores a secrets.ssl.key value in
// the object's plain ssl, built from the request alone: {...body.ssl,
// ...body.secrets.ssl}, stringified, replacing the stored ssl whole
// (server/services/output.ts update, "Store secret values if enabled; if
// not, store plain text values"; download_source.ts update, the same for
// ssl; fleet_server_host.ts stores ssl as a JSON string too). A PUT that
// writes only the secret — a rotated value, or the re-send of a secret
// fleetform has not recorded (after a crash lost its record) — must carry
// the rest of ssl, or ssl.certificate and the certificate authorities are
// wiped.
func TestSim_SecretStorageOff_SecretWriteKeepsTheRestOfSSL(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  func(h *simHarness, value string) *schema.Document
		ssl  func(h *simHarness) map[string]any
	}{
		{
			name: "output",
			doc: func(h *simHarness, value string) *schema.Document {
				return &schema.Document{Outputs: []schema.Output{{ID: "es", Name: "es", Type: "elasticsearch", Hosts: []string{"https://es.example:9200"},
					SSL:     &schema.SSL{Certificate: "/etc/pki/es.crt", CertificateAuthorities: []string{"/etc/pki/ca.pem"}},
					Secrets: &schema.OutputSecrets{SSL: &schema.SecretsSSL{Key: h.secretFile("es.key", value)}}}}}
			},
			ssl: func(h *simHarness) map[string]any { m, _ := h.output("es")["ssl"].(map[string]any); return m },
		},
		{
			name: "fleet_server_host",
			doc: func(h *simHarness, value string) *schema.Document {
				return &schema.Document{FleetServerHosts: []schema.FleetServerHost{{ID: "fs", Name: "fs", HostURLs: []string{"https://fs.example:8220"},
					SSL:     &schema.FleetServerHostSSL{Certificate: "/etc/pki/fs.crt", CertificateAuthorities: []string{"/etc/pki/ca.pem"}},
					Secrets: &schema.FleetServerHostSecrets{SSL: &schema.FleetServerHostSecretsSSL{Key: h.secretFile("fs.key", value)}}}}}
			},
			ssl: func(h *simHarness) map[string]any { return rawSSL(h.t, h.fleetServerHost("fs")) },
		},
		{
			name: "download_source",
			doc: func(h *simHarness, value string) *schema.Document {
				return &schema.Document{DownloadSources: []schema.DownloadSource{{ID: "mirror", Name: "mirror", Host: "https://mirror.example/downloads/",
					SSL:     &schema.DownloadSourceSSL{Certificate: "/etc/pki/mirror.crt", CertificateAuthorities: []string{"/etc/pki/ca.pem"}},
					Secrets: &schema.DownloadSourceSecrets{SSL: &schema.SecretsSSL{Key: h.secretFile("mirror.key", value)}}}}}
			},
			ssl: func(h *simHarness) map[string]any { return rawSSL(h.t, h.downloadSource("mirror")) },
		},
	} {
		for _, how := range []string{"rotated", "unrecorded"} {
			t.Run(tc.name+"/"+how, func(t *testing.T) {
				h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise", Version: "9.5.0", SecretStorage: "off"})
				h.apply(tc.doc(h, "KEY-1"))
				doc := tc.doc(h, "KEY-1")
				switch how {
				case "rotated":
					doc = tc.doc(h, "KEY-2")
				case "unrecorded": // the records lost, as after a crash: the secret is sent again
					h.inv = newFakeInventory()
					h.connect()
				}
				h.sim.ClearRequests()
				h.apply(doc)
				if len(h.writes()) == 0 {
					t.Fatal("the apply wrote nothing: the case does not reach the secret write")
				}
				ssl := tc.ssl(h)
				if ssl["certificate"] == nil || ssl["certificate_authorities"] == nil {
					t.Errorf("ssl after the secret was written: %v, want certificate and certificate_authorities kept", keysOf(ssl))
				}
				if p := h.plan(doc); !p.Empty() {
					t.Fatalf("plan after the secret was written:\n%s", renderText(p))
				}
			})
		}
	}
}

// rawSSL is an object's ssl as Kibana answers it.
func rawSSL(t *testing.T, obj any) map[string]any {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		SSL map[string]any `json:"ssl"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m.SSL
}
