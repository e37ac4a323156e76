package reconciler

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// TestKinds_ReferencesPointBackwards: every reference a kind can have
// names a kind earlier in the table, so the plan's order (the table's) is
// an order in which every object's parents exist first, and deletes (in
// reverse) remove children first.
func TestKinds_ReferencesPointBackwards(t *testing.T) {
	doc := wholeFleet(newSimHarness(t))
	rank := map[string]int{}
	for i, name := range KindOrder() {
		rank[name] = i
	}
	seen := 0
	for _, k := range kinds {
		for _, id := range k.declared(doc) {
			for _, rf := range k.references(doc, id) {
				seen++
				if r, ok := rank[rf.kind]; !ok || r >= rank[k.name()] {
					t.Errorf("%s %s refers to %s %s, which is not before it in the table %v", k.name(), id, rf.kind, rf.id, KindOrder())
				}
			}
		}
	}
	if seen < 5 {
		t.Fatalf("the fleet has only %d references; the test needs more", seen)
	}
}

// wholeFleet declares one object of every kind, with the references
// between them.
func wholeFleet(h *simHarness) *schema.Document {
	return &schema.Document{
		Proxies: []schema.Proxy{{ID: "px", Name: "px", URL: "http://px.example:3128", CertificateKey: h.secretFile("px.key", "PXKEY")}},
		FleetServerHosts: []schema.FleetServerHost{{ID: "fs", Name: "fs", HostURLs: []string{"https://fs.example:8220"}, IsDefault: ptr(true), ProxyID: ptr("px"),
			Secrets: &schema.FleetServerHostSecrets{SSL: &schema.FleetServerHostSecretsSSL{Key: h.secretFile("fs.key", "FSKEY")}}}},
		DownloadSources: []schema.DownloadSource{{ID: "mirror", Name: "mirror", Host: "https://mirror.example/", ProxyID: ptr("px")}},
		Packages:        []schema.Package{{Name: "nginx", Version: "2.1.0"}},
		Outputs: []schema.Output{{ID: "es", Name: "es", Type: "elasticsearch", Hosts: []string{"https://es.example:9200"}, ProxyID: ptr("px"),
			Secrets: &schema.OutputSecrets{SSL: &schema.SecretsSSL{Key: h.secretFile("es.key", "ESKEY")}}}},
		AgentPolicies: []schema.AgentPolicy{{ID: "pol", Name: "pol", Namespace: "default", DataOutputID: ptr("es"),
			FleetServerHostID: ptr("fs"), DownloadSourceID: ptr("mirror"), UnenrollTimeout: ptr(int64(600))}},
	}
}

// TestKinds_WholeFleetConvergesAndAdopts: a document with every kind is
// planned in the table's order, applied, and then a second apply sends no
// write and bumps no agent policy's revision. On a fresh Fleet holding the
// same objects, Adopt (import --adopt) records every declared object of
// every kind, and the plan is then empty.
func TestKinds_WholeFleetConvergesAndAdopts(t *testing.T) {
	h := newSimHarness(t)
	doc := wholeFleet(h)
	p := h.plan(doc)
	var order []string
	for _, c := range p.Changes {
		if len(order) == 0 || order[len(order)-1] != c.Kind {
			order = append(order, c.Kind)
		}
	}
	want := []string{kindProxy, kindFleetServerHost, kindDownloadSource, plan.KindPackage, plan.KindOutput, plan.KindAgentPolicy}
	if !slices.Equal(order, want) {
		t.Fatalf("plan order %v, want %v", order, want)
	}
	h.converge(doc)

	// Adopt: the same objects, recorded by nobody.
	h.inv = newFakeInventory()
	h.connect()
	p = h.plan(doc)
	for i := range p.Changes {
		if !onlyAdoptable(&p.Changes[i]) {
			t.Fatalf("want only adoptions (and secrets not yet recorded) before adopt:\n%s", renderText(p))
		}
	}
	if len(p.Changes) != 6 {
		t.Fatalf("want a change per object before adopt:\n%s", renderText(p))
	}
	got := h.own(doc)
	wantKeys := []string{"main/agent_policy/pol", "main/download_source/mirror", "main/fleet_server_host/fs", "main/output/es", "main/package/nginx", "main/proxy/px"}
	if !slices.Equal(got, wantKeys) {
		t.Fatalf("adopted %v, want %v", got, wantKeys)
	}
	recs, _ := h.inv.Load(context.Background())
	for _, rec := range recs {
		if rec.Kind == kindFleetServerHost && (rec.Secrets["secrets.ssl.key"].FleetSecretID == "" || rec.Secrets["secrets.ssl.key"].Hash != "") {
			t.Errorf("the host's secret must be recorded unverified (by Fleet secret id only): %+v", rec.Secrets)
		}
	}
	p = h.plan(doc)
	if len(p.Changes) != 0 {
		t.Fatalf("plan after adopt not empty:\n%s", renderText(p))
	}
	// The adopted secrets are listed as not compared; adopting again (an
	// adopt plans with no secret cache) records nothing new.
	if len(p.Unverified) != 3 {
		t.Fatalf("want the output's, the host's and the proxy's secrets listed as adopted:\n%s", renderText(p))
	}
	if again := h.own(doc); len(again) != 0 {
		t.Fatalf("second adopt recorded %v", again)
	}
}

// TestKinds_ClientWithoutAKind: a Fleet client that lacks a kind's methods
// works until a document declares that kind; then the plan fails naming
// the kind, and no list call of it is made otherwise.
func TestKinds_ClientWithoutAKind(t *testing.T) {
	h := newHarness(t)
	if p, err := h.r.Plan(context.Background(), &schema.Document{}, "rev"); err != nil || !p.Empty() {
		t.Fatalf("plan without proxies: %v", err)
	}
	_, err := h.r.Plan(context.Background(), &schema.Document{Proxies: []schema.Proxy{{ID: "p", Name: "p", URL: "http://p.example:3128"}}}, "rev")
	if err == nil || !strings.Contains(err.Error(), "cannot manage proxies") {
		t.Fatalf("err = %v, want one naming proxies", err)
	}
}
