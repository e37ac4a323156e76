package reconciler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

const (
	tokenValue  = "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyLXJlbW90ZS90b2tlbi0xOnNlY3JldHRva2Vu"
	token2Value = "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyLXJlbW90ZS90b2tlbi0yOm90aGVydG9rZW4x"
	apiKeyValue = "a2liYW5hLWFwaS1rZXktaWQ6a2liYW5hLWFwaS1rZXktc2VjcmV0"
	sslKeyValue = "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-----END PRIVATE KEY-----"
)

type harness struct {
	t    *testing.T
	f    *fakeFleet
	inv  *fakeInventory
	r    *Reconciler
	logs *bytes.Buffer
}

func newHarness(t *testing.T, mod ...func(*Config)) *harness {
	t.Helper()
	t.Setenv("WEST_TOKEN", tokenValue)
	t.Setenv("WEST_TOKEN_2", token2Value)
	t.Setenv("WEST_KIBANA_KEY", apiKeyValue)
	t.Setenv("LS_KEY", sslKeyValue)
	h := &harness{t: t, f: newFakeFleet(), inv: newFakeInventory(), logs: &bytes.Buffer{}}
	cfg := Config{Fleet: h.f, Inventory: h.inv, Hasher: &fastHasher{}, Concurrency: 2}
	for _, m := range mod {
		m(&cfg)
	}
	r, err := New(cfg, slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	return h
}

func (h *harness) plan(doc *schema.Document) *plan.Plan { return mustPlan(h.t, h.r, doc, "rev1") }

func (h *harness) apply(doc *schema.Document, opts ...ApplyOptions) Result {
	return mustApply(h.t, h.r, doc, opts...)
}

// mustPlan and mustApply drive a Reconciler for the fake and the fleetsim
// harnesses, failing the test on any error.
func mustPlan(t *testing.T, r *Reconciler, doc *schema.Document, rev string) *plan.Plan {
	t.Helper()
	p, err := r.Plan(context.Background(), doc, rev)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

func mustApply(t *testing.T, r *Reconciler, doc *schema.Document, opts ...ApplyOptions) Result {
	t.Helper()
	var o ApplyOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	res, err := r.Apply(context.Background(), doc, nil, o)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, renderText(res.Plan))
	}
	return res
}

func (h *harness) mustBeConverged(doc *schema.Document) {
	h.t.Helper()
	if p := h.plan(doc); !p.Empty() {
		h.t.Fatalf("plan after apply not empty:\n%s", renderText(p))
	}
}

func renderText(p *plan.Plan) string {
	if p == nil {
		return "(no plan)"
	}
	var b bytes.Buffer
	_ = plan.WriteText(&b, p)
	return b.String()
}

func ptr[T any](v T) *T { return &v }

func env(name string) *schema.SecretRef { return &schema.SecretRef{Env: name} }

// fullDoc: a remote ES output with a secret token and a plain Kibana API key,
// a logstash output with a plain ssl.key opt-in, a policy routed to the
// remote output and a package.
func fullDoc() *schema.Document {
	return &schema.Document{
		Outputs: []schema.Output{
			{ID: "remote-west", Name: "remote-west", Type: "remote_elasticsearch", Hosts: []string{"https://ES.west.example"},
				Secrets: &schema.OutputSecrets{ServiceToken: env("WEST_TOKEN")}, SyncIntegrations: ptr(true),
				KibanaURL: "https://kb.west.example:5601", KibanaAPIKey: env("WEST_KIBANA_KEY"), Remote: "west", SyncVia: "ccr"},
			{ID: "ls", Name: "logstash", Type: "logstash", Hosts: []string{"ls.example:5044"},
				SSL: &schema.SSL{Certificate: "CERT", Key: env("LS_KEY")}},
		},
		AgentPolicies: []schema.AgentPolicy{
			{ID: "prod-linux", Name: "Prod Linux", Namespace: "default", DataOutputID: ptr("remote-west"), MonitoringOutputID: ptr("fleet-default-output")},
		},
		Packages: []schema.Package{{Name: "system", Version: "1.60.0"}},
	}
}

func TestApply_ConvergesAndSecondApplyWritesNothing(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	res := h.apply(doc)
	if got := res.Counts()[StatusApplied]; got != 4 {
		t.Fatalf("applied %d changes, want 4: %+v", got, res.Outcomes)
	}
	h.mustBeConverged(doc)
	rev := h.f.policies["prod-linux"]["revision"]
	writesBefore, invBefore := len(h.f.writes()), h.inv.writes
	res = h.apply(doc)
	if len(res.Outcomes) != 0 {
		t.Errorf("second apply had outcomes: %+v", res.Outcomes)
	}
	if w := h.f.writes()[writesBefore:]; len(w) != 0 {
		t.Errorf("second apply wrote to Fleet: %v", w)
	}
	if h.inv.writes != invBefore {
		t.Errorf("second apply wrote %d inventory records", h.inv.writes-invBefore)
	}
	if got := h.f.policies["prod-linux"]["revision"]; got != rev {
		t.Errorf("policy revision %v → %v on a no-op apply", rev, got)
	}
}

func TestApply_CreateBodies(t *testing.T) {
	h := newHarness(t)
	h.apply(fullDoc())
	body := h.f.lastBody("POST", "/api/fleet/outputs")
	var remote map[string]any
	for _, c := range h.f.log {
		if c.Method == "POST" && c.Path == "/api/fleet/outputs" && c.Body["id"] == "remote-west" {
			remote = c.Body
		}
	}
	if remote == nil {
		t.Fatalf("no POST of remote-west; last POST %v", body != nil)
	}
	if got := kibana.Output(remote).Field("secrets.service_token"); got != tokenValue {
		t.Errorf("service token not sent as secrets.service_token")
	}
	if _, plain := remote["service_token"]; plain {
		t.Errorf("service token also sent as plain service_token")
	}
	for _, k := range []string{"remote", "sync_via", "is_preconfigured"} {
		if _, ok := remote[k]; ok {
			t.Errorf("POST body has %q", k)
		}
	}
	if got := h.f.outputs["remote-west"]["hosts"]; !cmp.Equal(got, []any{"https://es.west.example:443"}) {
		t.Errorf("stored hosts = %v", got)
	}
}

func TestPlan_HostsAndServerDefaultsAreNotDrift(t *testing.T) {
	h := newHarness(t)
	// Kibana stores https://x as https://x:443 and adds preset, shipper: null,
	// write_to_logs_streams. None of that is declared, so none of it is drift.
	h.f.outputs["es2"] = map[string]any{"id": "es2", "name": "es2", "type": "elasticsearch", "hosts": []any{"https://es2.example:443", "http://es3.example:80/base"},
		"preset": "balanced", "shipper": nil, "write_to_logs_streams": false, "is_default": false, "is_default_monitoring": false}
	h.inv.records["main/output/es2"] = Record{Cluster: "main", Kind: plan.KindOutput, ID: "es2"}
	doc := &schema.Document{Outputs: []schema.Output{{ID: "es2", Name: "es2", Type: "elasticsearch", Hosts: []string{"https://ES2.example", "http://es3.example/base"}}}}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan not empty:\n%s", renderText(p))
	}
	// Declared fields are compared, with both sides normalized.
	doc.Outputs[0].Preset = "throughput"
	doc.Outputs[0].Hosts = []string{"https://es2.example:9200"}
	p := h.plan(doc)
	want := []plan.FieldDiff{
		{Path: "hosts", Before: []any{"https://es2.example:443", "http://es3.example:80/base"}, After: []any{"https://es2.example:9200"}},
		{Path: "preset", Before: "balanced", After: "throughput"},
	}
	if len(p.Changes) != 1 || !cmp.Equal(p.Changes[0].Fields, want) {
		t.Fatalf("plan:\n%s", renderText(p))
	}
}

func TestNormalizeHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://x":        "https://x:443",
		"http://X.Example": "http://x.example:80",
		"https://x:9200/":  "https://x:9200",
		"https://x/path":   "https://x:443/path",
		"http://[::1]":     "http://[::1]:80",
		"ls.example:5044":  "ls.example:5044",
		"https://x:443":    "https://x:443",
	} {
		if got := NormalizeHost(in); got != want {
			t.Errorf("NormalizeHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestApply_RotatedReferenceChangesOneOutputAndItsSecretID(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	h.apply(doc)
	oldID := kibana.Output(h.f.outputs["remote-west"]).Field("secrets.service_token.id")
	doc.Outputs[0].Secrets.ServiceToken = env("WEST_TOKEN_2")
	p := h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].ID != "remote-west" || p.Changes[0].Action != plan.Update {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	want := []plan.FieldDiff{{Path: "secrets.service_token", Before: plan.Sensitive, After: plan.Sensitive, Sensitive: true, Note: "reference changed: env:WEST_TOKEN → env:WEST_TOKEN_2"}}
	if d := cmp.Diff(want, p.Changes[0].Fields); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
	n := len(h.f.writes())
	h.apply(doc)
	if w := h.f.writes()[n:]; !cmp.Equal(w, []string{"PUT /api/fleet/outputs/remote-west"}) {
		t.Errorf("writes = %v", w)
	}
	newID := kibana.Output(h.f.outputs["remote-west"]).Field("secrets.service_token.id")
	if newID == oldID || h.f.secrets[newID.(string)] != token2Value {
		t.Errorf("secret id %v → %v; stored value rotated: %v", oldID, newID, h.f.secrets[newID.(string)] == token2Value)
	}
	if _, ok := h.f.secrets[oldID.(string)]; ok {
		t.Errorf("old secret %v left behind", oldID)
	}
	// The PUT kept the plain Kibana API key (trap 4) and repeated type.
	body := h.f.lastBody("PUT", "/api/fleet/outputs/remote-west")
	if body["type"] != "remote_elasticsearch" || body["kibana_api_key"] != apiKeyValue {
		t.Errorf("PUT lacks type or kibana_api_key: type=%v has key=%v", body["type"], body["kibana_api_key"] != nil)
	}
	if h.f.outputs["remote-west"]["kibana_api_key"] != apiKeyValue {
		t.Error("kibana_api_key wiped")
	}
	h.mustBeConverged(doc)
}

func TestApply_ValueRotatedUnderSameReference(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	h.apply(doc)
	t.Setenv("WEST_TOKEN", token2Value)
	n := len(h.f.writes())
	res := h.apply(doc)
	if len(res.Plan.Changes) != 1 || res.Plan.Changes[0].Fields[0].Note != "value changed at env:WEST_TOKEN" {
		t.Fatalf("apply plan:\n%s", renderText(res.Plan))
	}
	if w := h.f.writes()[n:]; !cmp.Equal(w, []string{"PUT /api/fleet/outputs/remote-west"}) {
		t.Errorf("writes = %v", w)
	}
	id := kibana.Output(h.f.outputs["remote-west"]).Field("secrets.service_token.id").(string)
	if h.f.secrets[id] != token2Value {
		t.Error("new value not stored")
	}
	res = h.apply(doc)
	if len(res.Outcomes) != 0 {
		t.Errorf("third apply: %+v", res.Outcomes)
	}
}

func TestPlan_SecretIDChangedBehindOurBackIsDrift(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	h.apply(doc)
	h.f.outputs["remote-west"]["secrets"] = map[string]any{"service_token": h.f.newSecret("someone-elses-token")}
	p := h.plan(doc)
	if len(p.Changes) != 1 || len(p.Changes[0].Fields) != 1 || p.Changes[0].Fields[0].Note != "drift: secret id changed outside fleetform" {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	h.apply(doc)
	id := kibana.Output(h.f.outputs["remote-west"]).Field("secrets.service_token.id").(string)
	if h.f.secrets[id] != tokenValue {
		t.Error("drift not corrected")
	}
	h.mustBeConverged(doc)
}

func TestPlan_PlainSecretChangedBehindOurBackIsDrift(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	h.apply(doc)
	h.f.outputs["remote-west"]["kibana_api_key"] = "edited-in-the-ui"
	p := h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].Fields[0].Path != "kibana_api_key" || p.Changes[0].Fields[0].Note != "drift: changed outside fleetform" {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	if strings.Contains(renderText(p), "edited-in-the-ui") {
		t.Error("plan shows an observed credential")
	}
	h.apply(doc)
	if h.f.outputs["remote-west"]["kibana_api_key"] != apiKeyValue {
		t.Error("drift not corrected")
	}
}

func TestApply_UpdateSendsUnchangedSecretsBackAsIDs(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	doc.Outputs[0].Secrets.SSL = &schema.SecretsSSL{Key: env("LS_KEY")}
	h.apply(doc)
	ids := kibana.Output(h.f.outputs["remote-west"]).SecretRefs()
	doc.Outputs[0].Hosts = []string{"https://es2.west.example"}
	n := len(h.f.writes())
	h.apply(doc)
	if w := h.f.writes()[n:]; !cmp.Equal(w, []string{"PUT /api/fleet/outputs/remote-west"}) {
		t.Fatalf("writes = %v", w)
	}
	body := h.f.lastBody("PUT", "/api/fleet/outputs/remote-west")
	want := map[string]any{
		"type":           "remote_elasticsearch",
		"hosts":          []any{"https://es2.west.example:443"},
		"kibana_api_key": apiKeyValue,
		"secrets":        map[string]any{"service_token": ids["secrets.service_token"], "ssl": map[string]any{"key": ids["secrets.ssl.key"]}},
	}
	if d := cmp.Diff(want, body); d != "" {
		t.Errorf("PUT body (-want +got):\n%s", d)
	}
	if d := cmp.Diff(ids, kibana.Output(h.f.outputs["remote-west"]).SecretRefs()); d != "" {
		t.Errorf("secret ids changed (-before +after):\n%s", d)
	}
	h.mustBeConverged(doc)
}

func TestApply_PlainOptInReplacesStoredSecret(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	h.apply(doc)
	oldID := kibana.Output(h.f.outputs["remote-west"]).Field("secrets.service_token.id").(string)
	doc.Outputs[0].Secrets = nil
	doc.Outputs[0].ServiceToken = env("WEST_TOKEN")
	p := h.plan(doc)
	if len(p.Changes) != 1 {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	h.apply(doc)
	body := h.f.lastBody("PUT", "/api/fleet/outputs/remote-west")
	if body["service_token"] != tokenValue || body["secrets"] != nil {
		t.Errorf("PUT body: plain=%v secrets=%v", body["service_token"] != nil, body["secrets"])
	}
	if _, ok := h.f.secrets[oldID]; ok {
		t.Error("old stored secret not deleted")
	}
	h.mustBeConverged(doc)
}

func TestPlan_GenerateIsBlockedWithoutMinter(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	doc.Outputs[0].Secrets.ServiceToken = &schema.SecretRef{Generate: true}
	p := h.plan(doc)
	var remote, pol *plan.Change
	for i := range p.Changes {
		switch p.Changes[i].ID {
		case "remote-west":
			remote = &p.Changes[i]
		case "prod-linux":
			pol = &p.Changes[i]
		}
	}
	if remote == nil || remote.Action != plan.Blocked || !strings.Contains(remote.Reason, "generate: true") {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	if !strings.Contains(renderText(p), "secrets.service_token = (sensitive, to be generated)") {
		t.Errorf("plan text lacks the to-be-generated marker:\n%s", renderText(p))
	}
	// The policy routed to the blocked output would be skipped by apply, so
	// the plan blocks it too, naming the output.
	if pol == nil || pol.Action != plan.Blocked || !strings.Contains(pol.Reason, "output remote-west, which is blocked") {
		t.Errorf("policy depending on the blocked output: %+v\n%s", pol, renderText(p))
	}
	_, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{})
	if !errors.Is(err, ErrNotConverged) || !errors.Is(err, ErrBlocked) || errors.Is(err, ErrSkipped) {
		t.Fatalf("apply err = %v", err)
	}
	if _, ok := h.f.outputs["remote-west"]; ok {
		t.Error("blocked output was created")
	}
	if _, ok := h.f.policies["prod-linux"]; ok || pol == nil {
		t.Error("policy depending on the blocked output was created")
	}
	if _, ok := h.f.outputs["ls"]; !ok {
		t.Error("independent output not created")
	}
}

type fakeMinter struct{ n int }

func (m *fakeMinter) Mint(ctx context.Context, cluster string, out schema.Output, path string) (secret.Value, error) {
	m.n++
	return secret.New("minted-token-value-" + out.ID), nil
}

func TestApply_GenerateWithMinterMintsOnce(t *testing.T) {
	m := &fakeMinter{}
	h := newHarness(t, func(c *Config) { c.Minter = m })
	doc := fullDoc()
	doc.Outputs[0].Secrets.ServiceToken = &schema.SecretRef{Generate: true}
	h.apply(doc)
	h.mustBeConverged(doc)
	h.apply(doc)
	if m.n != 1 {
		t.Errorf("minted %d times, want 1", m.n)
	}
}

func TestPlan_NewDefaultIsSetOnTheNewOutput(t *testing.T) {
	h := newHarness(t)
	doc := &schema.Document{Outputs: []schema.Output{
		{ID: "fleet-default-output", Name: "default", Type: "elasticsearch", IsDefault: ptr(false)},
		{ID: "es-new", Name: "new", Type: "elasticsearch", Hosts: []string{"https://new.example"}, IsDefault: ptr(true)},
	}}
	p := h.plan(doc)
	if len(p.Changes) != 2 || p.Changes[0].ID != "es-new" || p.Changes[0].Action != plan.Create || p.Changes[1].Action != plan.NoOp {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	h.apply(doc)
	for _, c := range h.f.log {
		if c.Method == "PUT" && c.Body["is_default"] == false {
			t.Errorf("%s %s unset a default", c.Method, c.Path)
		}
	}
	if h.f.outputs["es-new"]["is_default"] != true || h.f.outputs["fleet-default-output"]["is_default"] != false {
		t.Error("default not moved")
	}
	h.mustBeConverged(doc)
}

func TestPlan_UnsettingTheLastDefaultIsBlocked(t *testing.T) {
	h := newHarness(t)
	doc := &schema.Document{Outputs: []schema.Output{{ID: "fleet-default-output", Name: "default", Type: "elasticsearch", IsDefault: ptr(false)}}}
	p := h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Blocked || !strings.Contains(p.Changes[0].Reason, "declare is_default: true on another output") {
		t.Fatalf("plan:\n%s", renderText(p))
	}
}

func TestPlan_PreconfiguredDefaultWithoutAllowEditBlocksNewDefault(t *testing.T) {
	h := newHarness(t)
	h.f.outputs["fleet-default-output"]["is_preconfigured"] = true
	h.f.outputs["fleet-default-output"]["allow_edit"] = []any{"hosts"}
	doc := &schema.Document{Outputs: []schema.Output{{ID: "es-new", Name: "new", Type: "elasticsearch", Hosts: []string{"https://new.example"}, IsDefault: ptr(true)}}}
	p := h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Blocked || !strings.Contains(p.Changes[0].Reason, "Preconfigured output fleet-default-output is_default cannot be updated outside of kibana config file.") {
		t.Fatalf("plan:\n%s", renderText(p))
	}
}

func TestPlan_PreconfiguredOutputEditedOnlyWithinAllowEdit(t *testing.T) {
	h := newHarness(t)
	o := h.f.outputs["fleet-default-output"]
	o["is_preconfigured"] = true
	o["allow_edit"] = []any{"hosts"}
	doc := &schema.Document{Outputs: []schema.Output{{ID: "fleet-default-output", Name: "renamed", Type: "elasticsearch", Hosts: []string{"https://es.example"}}}}
	p := h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Blocked || !strings.Contains(p.Changes[0].Reason, "name cannot be updated outside of kibana config file (allow_edit: [hosts])") {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	doc.Outputs[0].Name = "default"
	p = h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Update {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	h.apply(doc)
	body := h.f.lastBody("PUT", "/api/fleet/outputs/fleet-default-output")
	if _, ok := body["is_preconfigured"]; ok {
		t.Error("PUT sent is_preconfigured")
	}
	if _, ok := body["id"]; ok {
		t.Error("PUT sent id")
	}
	if !cmp.Equal(body["hosts"], []any{"https://es.example:443"}) {
		t.Errorf("hosts not sent normalized: %v", body["hosts"])
	}
	h.mustBeConverged(doc)
}

func TestApply_PolicyUpdateBody(t *testing.T) {
	h := newHarness(t)
	h.f.policies["p1"] = map[string]any{"id": "p1", "name": "P1", "namespace": "default", "revision": 3.0, "inactivity_timeout": 600.0,
		"status": "active", "is_managed": false, "updated_at": "2026-01-01T00:00:00Z", "agents": 4.0}
	doc := &schema.Document{Outputs: fullDoc().Outputs[:1], AgentPolicies: []schema.AgentPolicy{{ID: "p1", Name: "P1", Namespace: "default", DataOutputID: ptr("remote-west")}}}
	p := h.plan(doc)
	var pol plan.Change
	for _, c := range p.Changes {
		if c.ID == "p1" {
			pol = c
		}
	}
	if pol.Action != plan.Update || !cmp.Equal(pol.DependsOn, []string{"main/output/remote-west"}) {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	h.apply(doc)
	want := map[string]any{"name": "P1", "namespace": "default", "inactivity_timeout": 600.0, "data_output_id": "remote-west"}
	if d := cmp.Diff(want, h.f.lastBody("PUT", "/api/fleet/agent_policies/p1")); d != "" {
		t.Errorf("PUT body (-want +got):\n%s", d)
	}
	if h.f.policies["p1"]["inactivity_timeout"] != 600.0 {
		t.Error("inactivity_timeout reset")
	}
	h.mustBeConverged(doc)
}

// An update that leaves the outputs alone repeats the stored
// data_output_id and monitoring_output_id (null included): Kibana compares
// the body's values with the stored ones and, when they differ (an omitted
// field does), checks the outputs and the platinum licence again (trap 15).
func TestApply_PolicyUpdateRepeatsStoredOutputs(t *testing.T) {
	h := newHarness(t)
	h.f.policies["p1"] = map[string]any{"id": "p1", "name": "P1", "namespace": "default", "description": "old", "revision": 3.0,
		"inactivity_timeout": 600.0, "data_output_id": "fleet-default-output", "monitoring_output_id": nil}
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "p1", Name: "P1", Namespace: "default", Description: ptr("new"),
		DataOutputID: ptr("fleet-default-output")}}}
	p := h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Update || len(p.Changes[0].Fields) != 1 || p.Changes[0].Fields[0].Path != "description" {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	h.apply(doc)
	want := map[string]any{"name": "P1", "namespace": "default", "inactivity_timeout": 600.0, "description": "new",
		"data_output_id": "fleet-default-output", "monitoring_output_id": nil}
	if d := cmp.Diff(want, h.f.lastBody("PUT", "/api/fleet/agent_policies/p1")); d != "" {
		t.Errorf("PUT body (-want +got):\n%s", d)
	}
	h.mustBeConverged(doc)
}

func TestPlan_AdoptManagesOnlyOutputFields(t *testing.T) {
	h := newHarness(t)
	h.f.policies["fleet-server-policy"] = map[string]any{"id": "fleet-server-policy", "name": "Fleet Server", "namespace": "ops", "description": "kept",
		"revision": 1.0, "inactivity_timeout": 1209600.0}
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "fleet-server-policy", Adopt: true, MonitoringOutputID: ptr("fleet-default-output")}}}
	p := h.plan(doc)
	want := []plan.FieldDiff{{Path: "monitoring_output_id", After: "fleet-default-output"}}
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Update || !cmp.Equal(p.Changes[0].Fields, want) {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	h.apply(doc)
	body := h.f.lastBody("PUT", "/api/fleet/agent_policies/fleet-server-policy")
	if d := cmp.Diff(map[string]any{"name": "Fleet Server", "namespace": "ops", "inactivity_timeout": 1209600.0, "monitoring_output_id": "fleet-default-output"}, body); d != "" {
		t.Errorf("PUT body (-want +got):\n%s", d)
	}
	h.mustBeConverged(doc)
	// Dropping the adopt entry never deletes the policy, even with prune.
	h.apply(&schema.Document{}, ApplyOptions{Prune: true})
	if _, ok := h.f.policies["fleet-server-policy"]; !ok {
		t.Error("adopted policy deleted")
	}
	if _, ok := h.inv.records["main/agent_policy/fleet-server-policy"]; ok {
		t.Error("record of un-adopted policy kept")
	}
	// Adopting a policy that does not exist is blocked.
	p = h.plan(&schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "nope", Adopt: true}}})
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Blocked {
		t.Fatalf("plan:\n%s", renderText(p))
	}
}

func TestPrune_OffByDefaultAndOnlyOwned(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	h.apply(doc)
	h.f.outputs["not-ours"] = map[string]any{"id": "not-ours", "name": "x", "type": "logstash", "hosts": []any{"x:5044"}}
	h.f.policies["not-ours"] = map[string]any{"id": "not-ours", "name": "x", "namespace": "default", "revision": 1.0}
	empty := &schema.Document{}
	p := h.plan(empty)
	if !p.Empty() || len(p.Warnings) != 4 {
		t.Fatalf("plan without prune:\n%s", renderText(p))
	}
	h.apply(empty)
	if _, ok := h.f.outputs["ls"]; !ok {
		t.Fatal("apply without --prune deleted an output")
	}
	res := h.apply(empty, ApplyOptions{Prune: true})
	var got []string
	for _, o := range res.Outcomes {
		got = append(got, string(o.Change.Action)+" "+o.Change.Kind+" "+o.Change.ID+" "+o.Status)
	}
	want := []string{
		"delete agent_policy prod-linux applied",
		"delete output ls applied",
		"delete output remote-west applied",
		"delete package system applied",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("prune (-want +got):\n%s", d)
	}
	if _, ok := h.f.outputs["not-ours"]; !ok {
		t.Error("pruned an output fleetform does not own")
	}
	if _, ok := h.f.policies["not-ours"]; !ok {
		t.Error("pruned a policy fleetform does not own")
	}
	if len(h.f.secrets) != 0 {
		t.Errorf("secrets left after deleting every output that had one: %d", len(h.f.secrets))
	}
	if len(h.inv.records) != 0 {
		t.Errorf("records left: %v", sortedKeys(h.inv.records))
	}
}

func TestPackages(t *testing.T) {
	h := newHarness(t)
	h.f.packages["nginx"] = "2.1.0"
	doc := &schema.Document{Packages: []schema.Package{{Name: "system", Version: "latest"}, {Name: "nginx", Version: "2.0.0"}}}
	p := h.plan(doc)
	want := []string{"update nginx version 2.1.0→2.0.0", "create system version <nil>→latest"}
	var got []string
	for _, c := range p.Changes {
		got = append(got, string(c.Action)+" "+c.ID+" version "+plan.FormatValue(c.Fields[0].Before)+"→"+plan.FormatValue(c.Fields[0].After))
	}
	_ = want
	if len(p.Changes) != 2 || p.Changes[0].ID != "nginx" || p.Changes[0].Fields[0].Note != "downgrade (installed with force)" || p.Changes[1].ID != "system" {
		t.Fatalf("plan:\n%s\n%v", renderText(p), got)
	}
	h.apply(doc)
	if h.f.packages["nginx"] != "2.0.0" || h.f.packages["system"] != "1.60.0" {
		t.Errorf("packages = %v", h.f.packages)
	}
	h.mustBeConverged(doc)
	// A package fleetform did not install is never uninstalled.
	h.f.packages["apache"] = "1.0.0"
	h.apply(&schema.Document{}, ApplyOptions{Prune: true})
	if _, ok := h.f.packages["apache"]; !ok || len(h.f.packages) != 1 {
		t.Errorf("packages after prune = %v", h.f.packages)
	}
}

func TestApply_ContinuesPastFailuresAndSkipsDependants(t *testing.T) {
	h := newHarness(t)
	h.f.fail = func(method, path string) error {
		if method == "POST" && path == "/api/fleet/outputs" {
			return &kibana.APIError{Method: method, Path: path, Status: 400, Message: "Remote sync integrations require at least an Enterprise license."}
		}
		return nil
	}
	doc := fullDoc()
	res, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "Enterprise license") {
		t.Fatalf("err = %v", err)
	}
	counts := res.Counts()
	if counts[StatusFailed] != 2 || counts[StatusSkipped] != 1 || counts[StatusApplied] != 1 {
		t.Errorf("counts = %v", counts)
	}
	if h.f.packages["system"] != "1.60.0" {
		t.Error("independent package not installed")
	}
	if len(h.inv.records) != 1 {
		t.Errorf("records = %v", sortedKeys(h.inv.records))
	}
}

func TestApply_ExistenceCheckBeforeEveryPOST(t *testing.T) {
	h := newHarness(t)
	lost := 0
	h.f.fail = func(method, path string) error {
		if method == "POST" && path == "/api/fleet/outputs" && lost == 0 {
			lost++
			return nil // the POST goes through ...
		}
		return nil
	}
	// ... but its answer is lost: wrap CreateOutput.
	doc := &schema.Document{Outputs: fullDoc().Outputs[:1]}
	wrapped := &lossyFleet{fakeFleet: h.f}
	h.r.cfg.Fleet = wrapped
	h.apply(doc)
	var seq []string
	for _, c := range h.f.log {
		if strings.HasPrefix(c.Path, "/api/fleet/outputs") && c.Path != "/api/fleet/outputs" || c.Method == "POST" {
			seq = append(seq, c.Method+" "+c.Path)
		}
	}
	want := []string{"GET /api/fleet/outputs/remote-west", "POST /api/fleet/outputs", "GET /api/fleet/outputs/remote-west"}
	if d := cmp.Diff(want, seq); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
	if len(h.f.secrets) != 1 {
		t.Errorf("%d secrets stored, want 1 (no orphan)", len(h.f.secrets))
	}
	h.mustBeConverged(doc)
}

// lossyFleet loses the answer of the first output create.
type lossyFleet struct {
	*fakeFleet
	lost bool
}

func (l *lossyFleet) CreateOutput(ctx context.Context, body map[string]any) (kibana.Output, error) {
	o, err := l.fakeFleet.CreateOutput(ctx, body)
	if err == nil && !l.lost {
		l.lost = true
		return nil, &kibana.TransportError{Method: "POST", Path: "/api/fleet/outputs", Err: errors.New("connection reset by peer")}
	}
	return o, err
}

func TestApply_SavedPlanStaleness(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	saved := h.plan(doc)
	h.f.outputs["intruder"] = map[string]any{"id": "intruder", "name": "i", "type": "logstash"}
	_, err := h.r.Apply(context.Background(), doc, saved, ApplyOptions{})
	if !errors.Is(err, ErrStalePlan) {
		t.Fatalf("err = %v, want ErrStalePlan", err)
	}
	if w := h.f.writes(); len(w) != 0 {
		t.Errorf("stale apply wrote: %v", w)
	}
	saved = h.plan(doc)
	doc.Packages = nil // configuration changed since the plan
	if _, err := h.r.Apply(context.Background(), doc, saved, ApplyOptions{}); !errors.Is(err, ErrStalePlan) {
		t.Fatalf("err = %v, want ErrStalePlan", err)
	}
	doc = fullDoc()
	saved = h.plan(doc)
	if _, err := h.r.Apply(context.Background(), doc, saved, ApplyOptions{}); err != nil {
		t.Fatalf("fresh saved plan refused: %v", err)
	}
}

func TestSecretValuesNeverLeak(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	doc.Outputs[0].Secrets.SSL = &schema.SecretsSSL{Key: env("LS_KEY")}
	p := h.plan(doc)
	res := h.apply(doc)
	doc.Outputs[0].Secrets.ServiceToken = env("WEST_TOKEN_2")
	res2 := h.apply(doc)
	var out bytes.Buffer
	for _, pl := range []*plan.Plan{p, res.Plan, res2.Plan} {
		for _, w := range []func(*bytes.Buffer, *plan.Plan) error{
			func(b *bytes.Buffer, p *plan.Plan) error { return plan.WriteText(b, p) },
			func(b *bytes.Buffer, p *plan.Plan) error { return plan.WriteJSON(b, p) },
			func(b *bytes.Buffer, p *plan.Plan) error { return plan.WriteMarkdown(b, p) },
			func(b *bytes.Buffer, p *plan.Plan) error { return plan.WriteGitHub(b, p) },
		} {
			if err := w(&out, pl); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, rec := range h.inv.records {
		out.WriteString(rec.DesiredHash)
		for _, s := range rec.Secrets {
			out.WriteString(s.Hash + s.FleetSecretID + s.RefDescribe)
		}
	}
	out.Write(h.logs.Bytes())
	for _, v := range []string{tokenValue, token2Value, apiKeyValue, sslKeyValue} {
		if bytes.Contains(out.Bytes(), []byte(v)) {
			t.Errorf("a secret value appears in plans, inventory or logs")
		}
	}
	if out.Len() < 1000 {
		t.Errorf("suspiciously little output checked: %d bytes", out.Len())
	}
}

func TestApply_UnreadableSecretOfUnchangedOutputIsAnError(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	h.apply(doc)
	t.Setenv("WEST_TOKEN", "")
	_, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{})
	if !errors.Is(err, ErrNotConverged) || !strings.Contains(err.Error(), "output remote-west: secrets.service_token: resolve secret: env:WEST_TOKEN") {
		t.Fatalf("err = %v", err)
	}
}

type countingHasher struct {
	fastHasher
	verifies int
}

func (c *countingHasher) Verify(v secret.Value, hash string) bool {
	c.verifies++
	return c.fastHasher.Verify(v, hash)
}

func TestVerifyCache_SlowHashOncePerValue(t *testing.T) {
	ch := &countingHasher{}
	vc := newVerifyCache(ch)
	a, b := secret.New("value-a"), secret.New("value-b")
	hash := vc.Hash(a)
	for range 3 {
		if !vc.Verify(a, hash) {
			t.Fatal("a does not verify")
		}
	}
	if ch.verifies != 0 {
		t.Errorf("slow verify ran %d times for a value it hashed", ch.verifies)
	}
	if vc.Verify(b, hash) {
		t.Fatal("b verifies against a's hash")
	}
	if ch.verifies != 1 {
		t.Errorf("a different value must run the slow verify (ran %d)", ch.verifies)
	}
	// A hash made elsewhere verifies once slowly, then from the cache.
	other := (&fastHasher{}).Hash(b)
	vc.Verify(b, other)
	vc.Verify(b, other)
	if ch.verifies != 2 {
		t.Errorf("slow verifies = %d, want 2", ch.verifies)
	}
}

// slowFleet counts how many agent policy creates run at once.
type slowFleet struct {
	*fakeFleet
	mu            sync.Mutex
	inflight, max int
}

func (s *slowFleet) CreateAgentPolicy(ctx context.Context, body map[string]any) (kibana.AgentPolicy, error) {
	s.mu.Lock()
	s.inflight++
	s.max = max(s.max, s.inflight)
	s.mu.Unlock()
	time.Sleep(5 * time.Millisecond)
	defer func() { s.mu.Lock(); s.inflight--; s.mu.Unlock() }()
	return s.fakeFleet.CreateAgentPolicy(ctx, body)
}

func TestApply_BoundedConcurrency(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Concurrency = 3 })
	sf := &slowFleet{fakeFleet: h.f}
	h.r.cfg.Fleet = sf
	doc := &schema.Document{}
	for i := range 12 {
		doc.AgentPolicies = append(doc.AgentPolicies, schema.AgentPolicy{ID: fmt.Sprintf("p%02d", i), Name: fmt.Sprintf("P%02d", i), Namespace: "default"})
	}
	h.apply(doc)
	if sf.max > 3 || sf.max < 2 {
		t.Errorf("max concurrent creates = %d, want 2..3", sf.max)
	}
	if len(h.f.policies) != 12 {
		t.Errorf("%d policies created", len(h.f.policies))
	}
}
