package reconciler

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

func (h *simHarness) fleetServerHost(id string) kibana.FleetServerHost {
	h.t.Helper()
	got, err := h.kb.GetFleetServerHost(context.Background(), id)
	if err != nil {
		h.t.Fatalf("get Fleet Server host %s: %v", id, err)
	}
	return got
}

// TestFleetServerHost_CreateUpdateDeleteAgainstFleetsim: hosts are created
// with normalised URLs, a proxy they depend on (created first), and an ssl
// key stored as a Fleet secret; an update keeps the stored secret and the
// proxy (the PUT sends them back: fleet_server_host.ts deletes omitted
// secrets, and proxy_id is schema.nullable); the default moves by
// declaring is_default: true on another host, never by unsetting it, and
// Kibana unsets the old one in the same request; an owned host is pruned.
func TestFleetServerHost_CreateUpdateDeleteAgainstFleetsim(t *testing.T) {
	h := newSimHarness(t)
	ctx := context.Background()
	doc := &schema.Document{
		Proxies: []schema.Proxy{{ID: "px", Name: "px", URL: "http://px.example:3128"}},
		FleetServerHosts: []schema.FleetServerHost{
			{ID: "fs-a", Name: "A", HostURLs: []string{"https://FS-A.example"}, IsDefault: ptr(true), ProxyID: ptr("px"),
				SSL:     &schema.FleetServerHostSSL{Certificate: "CERT"},
				Secrets: &schema.FleetServerHostSecrets{SSL: &schema.FleetServerHostSecretsSSL{Key: h.secretFile("fs.key", "FSKEY")}}},
			{ID: "fs-b", Name: "B", HostURLs: []string{"https://fs-b.example:8220"}},
		},
	}
	p := h.plan(doc)
	if c := change(t, p, kindFleetServerHost, "fs-a"); c.Action != plan.Create || len(c.DependsOn) != 1 || c.DependsOn[0] != "main/proxy/px" {
		t.Fatalf("fs-a must be created after its proxy:\n%s", renderText(p))
	}
	if p.Changes[0].Kind != kindProxy {
		t.Fatalf("proxies come first in the plan:\n%s", renderText(p))
	}
	h.converge(doc)
	a := h.fleetServerHost("fs-a")
	if urls := a["host_urls"].([]any); urls[0] != "https://fs-a.example:443" || !a.IsDefault() || a["proxy_id"] != "px" {
		t.Fatalf("fs-a = %v", a)
	}
	secretID := kibana.Output(a).Field("secrets.ssl.key.id")
	if secretID == nil {
		t.Fatalf("ssl key not stored as a secret: %v", a)
	}

	// Rename fs-a: the secret and the proxy stay.
	doc.FleetServerHosts[0].Name = "A2"
	h.converge(doc)
	a = h.fleetServerHost("fs-a")
	if a.Name() != "A2" || kibana.Output(a).Field("secrets.ssl.key.id") != secretID || a["proxy_id"] != "px" {
		t.Fatalf("update lost the secret or the proxy: %v", a)
	}

	// Move the default: fs-a's is_default: false is made by Kibana when
	// fs-b becomes the default, so fs-a has no change of its own.
	doc.FleetServerHosts[0].IsDefault = ptr(false)
	doc.FleetServerHosts[1].IsDefault = ptr(true)
	p = h.plan(doc)
	if c := change(t, p, kindFleetServerHost, "fs-b"); c.Action != plan.Update || !strings.Contains(field(c, "is_default").Note, "replaces fs-a") {
		t.Fatalf("want fs-b to take the default:\n%s", renderText(p))
	}
	for _, c := range p.Changes {
		if c.ID == "fs-a" {
			t.Fatalf("fs-a needs no change of its own:\n%s", renderText(p))
		}
	}
	h.converge(doc)
	if h.fleetServerHost("fs-a").IsDefault() || !h.fleetServerHost("fs-b").IsDefault() {
		t.Fatal("default did not move")
	}

	// Prune fs-a (not the default any more).
	doc.FleetServerHosts = doc.FleetServerHosts[1:]
	h.apply(doc, ApplyOptions{Prune: true})
	if _, err := h.kb.GetFleetServerHost(ctx, "fs-a"); err == nil {
		t.Fatal("fs-a not pruned")
	}
}

// TestFleetServerHost_Refusals mirrors fleet_server_host.ts: unsetting the
// default without another taking it would leave agent policies without a
// Fleet Server host ("Default Fleet Server host is not setup"); the default
// cannot be deleted ("Default Fleet Server hosts %s cannot be deleted."),
// nor a preconfigured host ("Cannot delete %s preconfigured fleet server
// host").
func TestFleetServerHost_Refusals(t *testing.T) {
	h := newSimHarness(t)
	doc := &schema.Document{FleetServerHosts: []schema.FleetServerHost{
		{ID: "fs-default", Name: "default", HostURLs: []string{"https://fs.example:8220"}, IsDefault: ptr(true)},
		{ID: "fs-yml", Name: "yml", HostURLs: []string{"https://yml.example:8220"}},
	}}
	if err := h.main.Preconfigure("fleet_server_hosts", map[string]any{"id": "fs-yml", "name": "yml", "host_urls": []any{"https://yml.example:8220"}}); err != nil {
		t.Fatal(err)
	}
	h.apply(doc)

	doc.FleetServerHosts[0].IsDefault = ptr(false)
	if c := change(t, h.plan(doc), kindFleetServerHost, "fs-default"); c.Action != plan.Blocked || !strings.Contains(c.Reason, "Default Fleet Server host is not setup") {
		t.Fatalf("unsetting the default: %+v", c)
	}

	h.connect(func(c *Config) { c.Prune = true })
	p := h.plan(&schema.Document{})
	if c := change(t, p, kindFleetServerHost, "fs-default"); c.Action != plan.Blocked || !strings.Contains(c.Reason, "Default Fleet Server hosts fs-default cannot be deleted.") {
		t.Errorf("default: %+v", c)
	}
	if c := change(t, p, kindFleetServerHost, "fs-yml"); c.Action != plan.Blocked || !strings.Contains(c.Reason, "Cannot delete fs-yml preconfigured fleet server host") {
		t.Errorf("preconfigured: %+v", c)
	}
}

// TestFleetServerHost_AdoptRecordsUnverifiedSecret: import --adopt
// records an existing host with its secret by Fleet secret id only; the
// plan then leaves the secret alone until its reference changes.
func TestFleetServerHost_AdoptRecordsUnverifiedSecret(t *testing.T) {
	h := newSimHarness(t)
	ctx := context.Background()
	if _, err := h.kb.CreateFleetServerHost(ctx, map[string]any{"id": "fs", "name": "fs", "host_urls": []any{"https://fs.example:8220"},
		"secrets": map[string]any{"ssl": map[string]any{"key": "EXISTING"}}}); err != nil {
		t.Fatal(err)
	}
	doc := &schema.Document{FleetServerHosts: []schema.FleetServerHost{{ID: "fs", Name: "fs", HostURLs: []string{"https://fs.example:8220"},
		Secrets: &schema.FleetServerHostSecrets{SSL: &schema.FleetServerHostSecretsSSL{Key: h.secretFile("k", "UNKNOWN")}}}}}
	if got := h.own(doc); len(got) != 1 || got[0] != "main/fleet_server_host/fs" {
		t.Fatalf("adopted %v", got)
	}
	p := h.plan(doc)
	if len(p.Changes) != 0 || len(p.Unverified) != 1 || !p.Unverified[0].Adopted {
		t.Fatalf("adopted host: want no change and its secret listed as adopted, not compared:\n%s", renderText(p))
	}
	if again := h.own(doc); len(again) != 0 {
		t.Fatalf("a second adopt records nothing new, got %v", again)
	}
	doc.FleetServerHosts[0].Secrets.SSL.Key = h.secretFile("k2", "NEW")
	if c := change(t, h.plan(doc), kindFleetServerHost, "fs"); c.Action != plan.Update || field(c, "secrets.ssl.key") == nil {
		t.Fatalf("a changed reference is written: %+v", c)
	}
}
