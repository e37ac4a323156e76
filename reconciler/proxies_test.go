package reconciler

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// TestProxy_CreateUpdateDeleteAgainstFleetsim: a proxy is created with
// every field and its certificate_key from a reference, converges (a second
// apply writes nothing), is updated without losing the fields the PUT would
// clear when omitted (fleet_proxies.ts: schema.nullable → null), its key is
// rotated by a changed value at the same reference, and is pruned.
func TestProxy_CreateUpdateDeleteAgainstFleetsim(t *testing.T) {
	h := newSimHarness(t)
	ctx := context.Background()
	px := schema.Proxy{ID: "corp", Name: "Corporate proxy", URL: "https://proxy.corp.example:3128",
		ProxyHeaders: map[string]any{"X-Team": "fleet"}, CertificateAuthorities: "CA-PEM", Certificate: "CERT-PEM",
		CertificateKey: h.secretFile("proxy.key", "KEY-1")}
	doc := &schema.Document{Proxies: []schema.Proxy{px}}
	p := h.plan(doc)
	if c := change(t, p, kindProxy, "corp"); c.Action != plan.Create || field(c, "certificate_key") == nil || field(c, "certificate_key").After != plan.Sensitive {
		t.Fatalf("want a create with a sensitive certificate_key:\n%s", renderText(p))
	}
	if strings.Contains(renderText(p), "KEY-1") {
		t.Fatal("plan shows the secret value")
	}
	h.converge(doc)
	got, err := h.kb.GetProxy(ctx, "corp")
	if err != nil || got["certificate_key"] != "KEY-1" || got["certificate"] != "CERT-PEM" {
		t.Fatalf("proxy after create = %v, %v", got, err)
	}

	// Update the url only: the PUT repeats the fields Kibana would null.
	doc.Proxies[0].URL = "https://proxy2.corp.example:3128"
	h.sim.ClearRequests()
	h.converge(doc)
	got, _ = h.kb.GetProxy(ctx, "corp")
	if got.URL() != "https://proxy2.corp.example:3128" || got["certificate_authorities"] != "CA-PEM" || got["certificate_key"] != "KEY-1" || got["proxy_headers"] == nil {
		t.Fatalf("update lost fields: %v", got)
	}

	// A new value at the same reference is found by its salted hash.
	h.secrets["file:/secrets/proxy.key"] = "KEY-2"
	c := change(t, h.plan(doc), kindProxy, "corp")
	if f := field(c, "certificate_key"); c.Action != plan.Update || f == nil || !strings.Contains(f.Note, "value changed") {
		t.Fatalf("rotation not planned: %+v", c)
	}
	h.converge(doc)
	if got, _ = h.kb.GetProxy(ctx, "corp"); got["certificate_key"] != "KEY-2" {
		t.Fatal("rotation not applied")
	}

	// Prune: without --prune a warning, with it a delete.
	empty := &schema.Document{}
	if p := h.plan(empty); len(p.Changes) != 0 || len(p.Warnings) != 1 {
		t.Fatalf("want one warning and no change without prune:\n%s", renderText(p))
	}
	h.apply(empty, ApplyOptions{Prune: true})
	if _, err := h.kb.GetProxy(ctx, "corp"); err == nil {
		t.Fatal("proxy not pruned")
	}
	if p := h.plan(empty); !p.Empty() || len(p.Warnings) != 0 {
		t.Fatalf("record not forgotten:\n%s", renderText(p))
	}
}

// TestProxy_PruneRules mirrors fleet_proxies.ts deleteFleetProxy: a
// preconfigured proxy is not deleted ("Cannot delete %s preconfigured
// proxy"), nor one a preconfigured Fleet Server host uses ("Cannot delete
// a proxy used in a preconfigured fleet server hosts or output."); any
// other delete says which users lose their proxy_id.
func TestProxy_PruneRules(t *testing.T) {
	h := newSimHarness(t)
	ctx := context.Background()
	if err := h.main.Preconfigure("proxies", map[string]any{"id": "yml-proxy", "name": "yml", "url": "http://yml.example:3128"}); err != nil {
		t.Fatal(err)
	}
	doc := &schema.Document{Proxies: []schema.Proxy{
		{ID: "yml-proxy", Name: "yml", URL: "http://yml.example:3128"},
		{ID: "plain", Name: "plain", URL: "http://plain.example:3128"},
		{ID: "used", Name: "used", URL: "http://used.example:3128"},
	}}
	h.apply(doc)
	if err := h.main.Preconfigure("fleet_server_hosts", map[string]any{"id": "yml-host", "name": "yml host", "host_urls": []any{"https://fs.example:8220"}, "proxy_id": "used"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.kb.CreateOutput(ctx, map[string]any{"id": "via-plain", "name": "via plain", "type": "elasticsearch", "hosts": []any{"https://es.example:9200"}, "proxy_id": "plain"}); err != nil {
		t.Fatal(err)
	}
	h.connect(func(c *Config) { c.Prune = true })
	p := h.plan(&schema.Document{})
	if c := change(t, p, kindProxy, "yml-proxy"); c.Action != plan.Blocked || !strings.Contains(c.Reason, "Cannot delete yml-proxy preconfigured proxy") {
		t.Errorf("preconfigured proxy: %+v", c)
	}
	if c := change(t, p, kindProxy, "used"); c.Action != plan.Blocked || !strings.Contains(c.Reason, "Cannot delete a proxy used in a preconfigured fleet server hosts or output.") {
		t.Errorf("proxy of a preconfigured host: %+v", c)
	}
	if c := change(t, p, kindProxy, "plain"); c.Action != plan.Delete || !strings.Contains(c.Reason, "Kibana sets proxy_id to null on output via-plain") {
		t.Errorf("plain proxy: %+v", c)
	}
	if _, err := h.r.Apply(ctx, &schema.Document{}, nil, ApplyOptions{}); err == nil {
		t.Fatal("apply with blocked deletes reported success")
	}
	if o := h.output("via-plain"); o["proxy_id"] != nil {
		t.Errorf("output kept proxy_id %v after the proxy's delete", o["proxy_id"])
	}
	for _, id := range []string{"yml-proxy", "used"} {
		if _, err := h.kb.GetProxy(ctx, id); err != nil {
			t.Errorf("blocked proxy %s was deleted: %v", id, err)
		}
	}
}

// TestProxy_PreconfiguredNotEdited: a declared change to a proxy from
// kibana.yml is blocked (Kibana's setup writes it again at every start).
func TestProxy_PreconfiguredNotEdited(t *testing.T) {
	h := newSimHarness(t)
	if err := h.main.Preconfigure("proxies", map[string]any{"id": "yml-proxy", "name": "yml", "url": "http://yml.example:3128"}); err != nil {
		t.Fatal(err)
	}
	doc := &schema.Document{Proxies: []schema.Proxy{{ID: "yml-proxy", Name: "yml", URL: "http://other.example:3128"}}}
	c := change(t, h.plan(doc), kindProxy, "yml-proxy")
	if c.Action != plan.Blocked || !strings.Contains(c.Reason, "preconfigured in kibana.yml") {
		t.Fatalf("want blocked: %+v", c)
	}
	doc.Proxies[0].URL = "http://yml.example:3128"
	if c := change(t, h.plan(doc), kindProxy, "yml-proxy"); c.Action != plan.NoOp {
		t.Fatalf("a matching preconfigured proxy is adopted as is: %+v", c)
	}
}
