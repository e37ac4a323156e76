package reconciler

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// The rules proxies, Fleet Server hosts and download sources share
// (objects.go), run against fleetsim for each of the three kinds.

// TestSim_Objects_GenerateIsBlocked: only remote outputs' credentials can
// be minted (generate: true); a proxy's certificate_key, a Fleet Server
// host's secrets.ssl.key or a download source's secrets.auth.password
// declared generate: true is blocked in the plan, and apply sends nothing.
func TestSim_Objects_GenerateIsBlocked(t *testing.T) {
	gen := func() *schema.SecretRef { return &schema.SecretRef{Generate: true} }
	cases := []struct {
		kind, id, path string
		doc            *schema.Document
	}{
		{kindProxy, "px", "certificate_key", &schema.Document{Proxies: []schema.Proxy{{ID: "px", Name: "px", URL: "http://px.example:3128", CertificateKey: gen()}}}},
		{kindFleetServerHost, "fs", "secrets.ssl.key", &schema.Document{FleetServerHosts: []schema.FleetServerHost{{ID: "fs", Name: "fs", HostURLs: []string{"https://fs.example:8220"},
			Secrets: &schema.FleetServerHostSecrets{SSL: &schema.FleetServerHostSecretsSSL{Key: gen()}}}}}},
		{kindDownloadSource, "mirror", "secrets.auth.password", &schema.Document{DownloadSources: []schema.DownloadSource{{ID: "mirror", Name: "mirror", Host: "https://mirror.example/",
			Auth: &schema.DownloadSourceAuth{Username: "agent"}, Secrets: &schema.DownloadSourceSecrets{Auth: &schema.DownloadSourceSecretsAuth{Password: gen()}}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			h := newSimHarness(t)
			c := change(t, h.plan(tc.doc), tc.kind, tc.id)
			if c.Action != plan.Blocked || !strings.Contains(c.Reason, tc.path+" is declared generate: true, which only remote outputs' credentials can be") {
				t.Fatalf("want blocked naming %s: %s: %s", tc.path, c.Action, c.Reason)
			}
			h.sim.ClearRequests()
			if _, err := h.r.Apply(context.Background(), tc.doc, nil, ApplyOptions{}); err == nil {
				t.Fatal("apply of a blocked plan reported success")
			}
			if w := h.writes(); len(w) != 0 {
				t.Errorf("blocked create sent: %v", w)
			}
		})
	}
}

// TestSim_FleetServerHost_PreconfiguredNotEdited: a declared change to a
// Fleet Server host from kibana.yml is blocked — Kibana's setup writes
// preconfigured hosts again at every start
// (services/preconfiguration/fleet_server_host.ts,
// createOrUpdatePreconfiguredFleetServerHosts) — and a matching declaration
// adopts it as it is.
func TestSim_FleetServerHost_PreconfiguredNotEdited(t *testing.T) {
	h := newSimHarness(t)
	if err := h.main.Preconfigure("fleet_server_hosts", map[string]any{"id": "fs-yml", "name": "yml", "host_urls": []any{"https://yml.example:8220"}}); err != nil {
		t.Fatal(err)
	}
	doc := &schema.Document{FleetServerHosts: []schema.FleetServerHost{{ID: "fs-yml", Name: "yml", HostURLs: []string{"https://other.example:8220"}}}}
	c := change(t, h.plan(doc), kindFleetServerHost, "fs-yml")
	if c.Action != plan.Blocked || !strings.Contains(c.Reason, "fs-yml is preconfigured in kibana.yml, and Kibana's setup writes it again from kibana.yml at every start") {
		t.Fatalf("want blocked: %+v", c)
	}
	doc.FleetServerHosts[0].HostURLs = []string{"https://yml.example:8220"}
	if c := change(t, h.plan(doc), kindFleetServerHost, "fs-yml"); c.Action != plan.NoOp {
		t.Fatalf("a matching preconfigured host is adopted as is: %+v", c)
	}
	h.lifecycleApply("adopt", doc, ApplyOptions{})
}
