package reconciler

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

func (h *simHarness) downloadSource(id string) kibana.DownloadSource {
	h.t.Helper()
	got, err := h.kb.GetDownloadSource(context.Background(), id)
	if err != nil {
		h.t.Fatalf("get download source %s: %v", id, err)
	}
	return got
}

// TestDownloadSource_CreateUpdateDeleteAgainstFleetsim: a source with a
// proxy, auth and its password as a Fleet secret is created after its
// proxy and converges; an update of another field keeps the secret (sent
// back as {id}) and auth.username (auth is schema.nullable on PUT); the
// Kibana-created default, declared with a new host, stays the default
// (the PUT schema's is_default defaults to false, so the PUT repeats it);
// the default moves by is_default: true on another source; owned sources
// are pruned.
func TestDownloadSource_CreateUpdateDeleteAgainstFleetsim(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", Version: "9.5.0"}) // auth: 9.4, security_artifacts_*: 9.5 (version_objects.go)
	ctx := context.Background()
	doc := &schema.Document{
		Proxies: []schema.Proxy{{ID: "px", Name: "px", URL: "http://px.example:3128"}},
		DownloadSources: []schema.DownloadSource{
			{ID: "fleet-default-download-source", Name: "Elastic Artifacts", Host: "https://mirror.example/downloads/"},
			{ID: "internal", Name: "Internal mirror", Host: "https://artifacts.internal.example/", ProxyID: ptr("px"),
				Auth:    &schema.DownloadSourceAuth{Username: "agent"},
				Secrets: &schema.DownloadSourceSecrets{Auth: &schema.DownloadSourceSecretsAuth{Password: h.secretFile("dl.pw", "PW")}}},
		},
	}
	p := h.plan(doc)
	if c := change(t, p, kindDownloadSource, "internal"); c.Action != plan.Create || len(c.DependsOn) != 1 {
		t.Fatalf("want a create after the proxy:\n%s", renderText(p))
	}
	h.converge(doc)
	if d := h.downloadSource("fleet-default-download-source"); !d.IsDefault() || d["host"] != "https://mirror.example/downloads/" {
		t.Fatalf("the default lost is_default or its host: %v", d)
	}
	in := h.downloadSource("internal")
	secretID := kibana.Output(in).Field("secrets.auth.password.id")
	if secretID == nil || kibana.Output(in).Field("auth.username") != "agent" {
		t.Fatalf("internal = %v", in)
	}

	doc.DownloadSources[1].SecurityArtifactsURL = ptr("https://artifacts.internal.example/security/")
	h.converge(doc)
	in = h.downloadSource("internal")
	if kibana.Output(in).Field("secrets.auth.password.id") != secretID || kibana.Output(in).Field("auth.username") != "agent" || in["proxy_id"] != "px" {
		t.Fatalf("update lost fields: %v", in)
	}

	// Move the default to "internal".
	doc.DownloadSources[1].IsDefault = ptr(true)
	h.converge(doc)
	if h.downloadSource("fleet-default-download-source").IsDefault() || !h.downloadSource("internal").IsDefault() {
		t.Fatal("default did not move")
	}

	// Prune the old default, now an ordinary owned source.
	doc.DownloadSources = doc.DownloadSources[1:]
	h.apply(doc, ApplyOptions{Prune: true})
	if _, err := h.kb.GetDownloadSource(ctx, "fleet-default-download-source"); err == nil {
		t.Fatal("not pruned")
	}
}

// TestDownloadSource_Refusals mirrors download_source.ts: the default is
// not deleted ("Default Download source %s cannot be deleted."), a name
// another source has is refused ("Download Source '%s' already exists with
// name '%s'", requireUniqueName), and unsetting the default alone is
// blocked.
func TestDownloadSource_Refusals(t *testing.T) {
	h := newSimHarness(t)
	doc := &schema.Document{DownloadSources: []schema.DownloadSource{
		{ID: "fleet-default-download-source", Name: "Elastic Artifacts", Host: "https://artifacts.elastic.co/downloads/", IsDefault: ptr(true)},
	}}
	h.apply(doc)
	dup := &schema.Document{DownloadSources: append(doc.DownloadSources, schema.DownloadSource{ID: "dup", Name: "Elastic Artifacts", Host: "https://x.example/"})}
	if c := change(t, h.plan(dup), kindDownloadSource, "dup"); c.Action != plan.Blocked ||
		!strings.Contains(c.Reason, "Download Source 'fleet-default-download-source' already exists with name 'Elastic Artifacts'") {
		t.Fatalf("duplicate name: %+v", c)
	}
	doc.DownloadSources[0].IsDefault = ptr(false)
	if c := change(t, h.plan(doc), kindDownloadSource, "fleet-default-download-source"); c.Action != plan.Blocked {
		t.Fatalf("unsetting the default: %+v", c)
	}
	h.connect(func(c *Config) { c.Prune = true })
	if c := change(t, h.plan(&schema.Document{}), kindDownloadSource, "fleet-default-download-source"); c.Action != plan.Blocked ||
		!strings.Contains(c.Reason, "Default Download source fleet-default-download-source cannot be deleted.") {
		t.Fatalf("deleting the default: %+v", c)
	}
}
