package reconciler

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// lifecycleCase is one kind (or one output type) taken through its whole
// life by TestKinds_Lifecycle. base declares the object under test (kind,
// id) and the objects it needs (its parents, which stay declared); update
// changes one declared field of the object, which the update's plan shows
// at path; remove drops the object from the document and leaves the
// parents.
type lifecycleCase struct {
	name     string
	kind, id string
	base     func(h *simHarness) *schema.Document
	update   func(doc *schema.Document)
	path     string
	remove   func(doc *schema.Document)
}

// lifecycleCases is the table of TestKinds_Lifecycle: one case per kind of
// the reconciler's kind table, and one per output type.
func lifecycleCases() []lifecycleCase {
	return []lifecycleCase{
		{
			name: "proxy", kind: kindProxy, id: "px",
			base: func(h *simHarness) *schema.Document {
				return &schema.Document{Proxies: []schema.Proxy{{ID: "px", Name: "px", URL: "http://px.example:3128",
					CertificateKey: h.secretFile("lc-px.key", "PXKEY")}}}
			},
			update: func(d *schema.Document) { d.Proxies[0].URL = "http://px2.example:3128" },
			path:   "url",
			remove: func(d *schema.Document) { d.Proxies = nil },
		},
		{
			name: "fleet_server_host", kind: kindFleetServerHost, id: "fs",
			base: func(h *simHarness) *schema.Document {
				return &schema.Document{
					Proxies: []schema.Proxy{{ID: "px", Name: "px", URL: "http://px.example:3128"}},
					FleetServerHosts: []schema.FleetServerHost{{ID: "fs", Name: "fs", HostURLs: []string{"https://fs.example:8220"}, ProxyID: ptr("px"),
						Secrets: &schema.FleetServerHostSecrets{SSL: &schema.FleetServerHostSecretsSSL{Key: h.secretFile("lc-fs.key", "FSKEY")}}}},
				}
			},
			update: func(d *schema.Document) { d.FleetServerHosts[0].Name = "fs renamed" },
			path:   "name",
			remove: func(d *schema.Document) { d.FleetServerHosts = nil },
		},
		{
			name: "download_source", kind: kindDownloadSource, id: "mirror",
			base: func(h *simHarness) *schema.Document {
				return &schema.Document{
					Proxies:         []schema.Proxy{{ID: "px", Name: "px", URL: "http://px.example:3128"}},
					DownloadSources: []schema.DownloadSource{{ID: "mirror", Name: "mirror", Host: "https://mirror.example/downloads/", ProxyID: ptr("px")}},
				}
			},
			update: func(d *schema.Document) { d.DownloadSources[0].Host = "https://mirror2.example/downloads/" },
			path:   "host",
			remove: func(d *schema.Document) { d.DownloadSources = nil },
		},
		{
			name: "package", kind: plan.KindPackage, id: "nginx",
			base: func(*simHarness) *schema.Document {
				return &schema.Document{Packages: []schema.Package{{Name: "nginx", Version: "2.0.0"}}}
			},
			update: func(d *schema.Document) { d.Packages[0].Version = "2.1.0" },
			path:   "version",
			remove: func(d *schema.Document) { d.Packages = nil },
		},
		{
			name: "output/elasticsearch", kind: plan.KindOutput, id: "es",
			base: func(h *simHarness) *schema.Document {
				return &schema.Document{
					Proxies: []schema.Proxy{{ID: "px", Name: "px", URL: "http://px.example:3128"}},
					Outputs: []schema.Output{{ID: "es", Name: "es", Type: "elasticsearch", Hosts: []string{"https://es.example:9200"}, ProxyID: ptr("px"),
						Secrets: &schema.OutputSecrets{SSL: &schema.SecretsSSL{Key: h.secretFile("lc-es.key", "ESKEY")}}}},
				}
			},
			update: func(d *schema.Document) { d.Outputs[0].Hosts = []string{"https://es2.example:9200"} },
			path:   "hosts",
			remove: func(d *schema.Document) { d.Outputs = nil },
		},
		{
			name: "output/logstash", kind: plan.KindOutput, id: "ls",
			base: func(h *simHarness) *schema.Document {
				return &schema.Document{Outputs: []schema.Output{{ID: "ls", Name: "ls", Type: "logstash", Hosts: []string{"ls.example:5044"},
					SSL:     &schema.SSL{CertificateAuthorities: []string{"CA-LS"}, Certificate: "CERT-LS"},
					Secrets: &schema.OutputSecrets{SSL: &schema.SecretsSSL{Key: h.secretFile("lc-ls.key", "LSKEY")}}}}}
			},
			update: func(d *schema.Document) { d.Outputs[0].Hosts = []string{"ls2.example:5044"} },
			path:   "hosts",
			remove: func(d *schema.Document) { d.Outputs = nil },
		},
		{
			name: "output/kafka", kind: plan.KindOutput, id: "kafka",
			base: func(h *simHarness) *schema.Document {
				return &schema.Document{Outputs: []schema.Output{{ID: "kafka", Name: "kafka", Type: "kafka", Hosts: []string{"kafka1:9092"},
					KafkaFields: schema.KafkaFields{AuthType: "user_pass", Username: "fleet", Topic: "t1", Compression: "snappy",
						SASL: map[string]any{"mechanism": "SCRAM-SHA-512"}},
					Secrets: &schema.OutputSecrets{Password: h.secretFile("lc-kafka.pw", "KPW")}}}}
			},
			update: func(d *schema.Document) { d.Outputs[0].Topic = "t2" },
			path:   "topic",
			remove: func(d *schema.Document) { d.Outputs = nil },
		},
		{
			name: "output/remote_elasticsearch", kind: plan.KindOutput, id: "remote",
			base: func(h *simHarness) *schema.Document {
				return &schema.Document{Outputs: []schema.Output{{ID: "remote", Name: "remote", Type: "remote_elasticsearch", Hosts: []string{"https://remote.example:9200"},
					KibanaURL: "https://kb.remote.example:5601",
					Secrets:   &schema.OutputSecrets{ServiceToken: h.secretFile("lc-remote.token", "TOKEN")}}}}
			},
			update: func(d *schema.Document) { d.Outputs[0].KibanaURL = "https://kb2.remote.example:5601" },
			path:   "kibana_url",
			remove: func(d *schema.Document) { d.Outputs = nil },
		},
		{
			name: "agent_policy", kind: plan.KindAgentPolicy, id: "pol",
			base: func(*simHarness) *schema.Document {
				return &schema.Document{
					Outputs:          []schema.Output{{ID: "es", Name: "es", Type: "elasticsearch", Hosts: []string{"https://es.example:9200"}}},
					FleetServerHosts: []schema.FleetServerHost{{ID: "fs", Name: "fs", HostURLs: []string{"https://fs.example:8220"}}},
					DownloadSources:  []schema.DownloadSource{{ID: "mirror", Name: "mirror", Host: "https://mirror.example/downloads/"}},
					AgentPolicies: []schema.AgentPolicy{{ID: "pol", Name: "pol", Namespace: "default", Description: ptr("first"),
						DataOutputID: ptr("es"), MonitoringOutputID: ptr("es"), FleetServerHostID: ptr("fs"), DownloadSourceID: ptr("mirror")}},
				}
			},
			update: func(d *schema.Document) { d.AgentPolicies[0].Description = ptr("second") },
			path:   "description",
			remove: func(d *schema.Document) { d.AgentPolicies = nil },
		},
		{
			name: "package_policy", kind: KindIntegrationPolicy, id: "nginx-web",
			base: func(*simHarness) *schema.Document {
				return &schema.Document{
					Packages:      []schema.Package{{Name: "nginx", Version: "2.1.0"}},
					AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "web", Namespace: "default"}},
					PackagePolicies: []schema.PackagePolicy{{ID: "nginx-web", Name: "nginx web", Namespace: "default", Description: ptr("first"),
						Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}, PolicyIDs: []string{"web"},
						Inputs: map[string]schema.PackagePolicyInput{
							"nginx-logfile": {Streams: map[string]schema.PackagePolicyStream{
								"nginx.access": {Vars: schema.Vars{"paths": []any{"/srv/log/access.log"}}},
							}},
						}}},
				}
			},
			update: func(d *schema.Document) { d.PackagePolicies[0].Description = ptr("second") },
			path:   "description",
			remove: func(d *schema.Document) { d.PackagePolicies = nil },
		},
	}
}

// TestKinds_Lifecycle is issue 12's "every kind" proof: for every kind of
// the reconciler's table (and every output type) against fleetsim, create
// → plan empty → import --adopt on a fresh inventory records it → update
// one declared field → plan empty → remove it from the document and prune
// → plan empty. Each stage's plan holds exactly the expected action on the
// object, and the apply after each stage sends no write (no request other
// than GET/HEAD to Kibana or Elasticsearch) and bumps no agent policy's
// revision. A kind added to the table (KindOrder) without a case fails.
func TestKinds_Lifecycle(t *testing.T) {
	cases := lifecycleCases()
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.kind] = true
	}
	for _, k := range KindOrder() {
		if !covered[k] {
			t.Errorf("kind %s is in the reconciler's kind table but has no lifecycle case: add one to lifecycleCases", k)
		}
	}
	for k := range covered {
		if !slices.Contains(KindOrder(), k) {
			t.Errorf("lifecycle case for kind %s, which the kind table does not hold", k)
		}
	}
	var outputTypes []string
	for _, tc := range cases {
		if tc.kind == plan.KindOutput {
			outputTypes = append(outputTypes, strings.TrimPrefix(tc.name, "output/"))
		}
	}
	slices.Sort(outputTypes)
	if want := []string{"elasticsearch", "kafka", "logstash", "remote_elasticsearch"}; !slices.Equal(outputTypes, want) {
		t.Errorf("output types with a lifecycle case %v, want %v", outputTypes, want)
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise", Version: "9.4.0"})
			doc := tc.base(h)
			key := plan.Key("main", tc.kind, tc.id)

			// Create.
			p := h.plan(doc)
			if c := lifecycleChange(t, p, tc.kind, tc.id); c.Action != plan.Create {
				t.Fatalf("first plan: %s %s is %s, want create:\n%s", tc.kind, tc.id, c.Action, renderText(p))
			}
			for _, c := range p.Changes {
				if c.Action != plan.Create {
					t.Fatalf("first plan on an empty Fleet holds a %s:\n%s", c.Action, renderText(p))
				}
			}
			h.lifecycleApply("create", doc, ApplyOptions{})

			// import --adopt: the same objects, recorded by nobody, are
			// adopted as they are and the plan is empty afterwards.
			h.inv = newFakeInventory()
			h.connect()
			p = h.plan(doc)
			for _, c := range p.Changes {
				if !adoptsAsIs(c) {
					t.Fatalf("before adopt: %s %s is %s, want an adoption as it is:\n%s", c.Kind, c.ID, c.Action, renderText(p))
				}
			}
			lifecycleChange(t, p, tc.kind, tc.id)
			if got := h.own(doc); !slices.Contains(got, key) {
				t.Fatalf("import --adopt recorded %v, not %s", got, key)
			}
			if p := h.plan(doc); !p.Empty() {
				t.Fatalf("plan after adopt not empty:\n%s", renderText(p))
			}

			// Update one declared field.
			tc.update(doc)
			p = h.plan(doc)
			if len(p.Changes) != 1 {
				t.Fatalf("update: want one change, of %s %s:\n%s", tc.kind, tc.id, renderText(p))
			}
			if c := lifecycleChange(t, p, tc.kind, tc.id); c.Action != plan.Update || field(c, tc.path) == nil {
				t.Fatalf("update: %s %s is %s, want update of %s:\n%s", tc.kind, tc.id, c.Action, tc.path, renderText(p))
			}
			h.lifecycleApply("update", doc, ApplyOptions{})

			// Remove from the document: without prune the plan only warns;
			// with it, the one object is deleted.
			tc.remove(doc)
			if p := h.plan(doc); !p.Empty() {
				t.Fatalf("removed without prune: want no change:\n%s", renderText(p))
			}
			h.connect(func(c *Config) { c.Prune = true })
			p = h.plan(doc)
			if len(p.Changes) != 1 {
				t.Fatalf("prune: want one change, the delete of %s %s:\n%s", tc.kind, tc.id, renderText(p))
			}
			if c := lifecycleChange(t, p, tc.kind, tc.id); c.Action != plan.Delete {
				t.Fatalf("prune: %s %s is %s, want delete:\n%s", tc.kind, tc.id, c.Action, renderText(p))
			}
			h.lifecycleApply("prune", doc, ApplyOptions{Prune: true})
			recs, err := h.inv.Load(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range recs {
				if rec.Kind == tc.kind && rec.ID == tc.id {
					t.Fatalf("record of the pruned %s %s kept: %+v", tc.kind, tc.id, rec)
				}
			}
		})
	}
}

// adoptsAsIs reports whether c is what a plan shows for an existing object
// that matches its declaration but is not recorded yet: a no-op, or an
// update of secrets only, none of them recorded (import --adopt records
// them by Fleet secret id).
func adoptsAsIs(c plan.Change) bool {
	switch c.Action {
	case plan.NoOp:
		return true
	case plan.Update:
		for _, f := range c.Fields {
			if !f.Sensitive || f.Note != "not yet recorded by fleetform" {
				return false
			}
		}
		return len(c.Fields) > 0
	}
	return false
}

// lifecycleChange returns the change of kind/id in p, failing when none.
func lifecycleChange(t *testing.T, p *plan.Plan, kind, id string) plan.Change {
	t.Helper()
	return change(t, p, kind, id)
}

// lifecycleApply applies doc, then checks that the next plan is empty and
// that a second apply has no outcome, sends no write at all (Kibana or
// Elasticsearch) and bumps no agent policy's revision.
func (h *simHarness) lifecycleApply(stage string, doc *schema.Document, opts ApplyOptions) {
	h.t.Helper()
	res := h.apply(doc, opts)
	for _, o := range res.Outcomes {
		if o.Status != StatusApplied {
			h.t.Fatalf("%s: %s %s %s: %s %v", stage, o.Change.Action, o.Change.Kind, o.Change.ID, o.Status, o.Err)
		}
	}
	if p := h.plan(doc); !p.Empty() {
		h.t.Fatalf("%s: plan after apply not empty:\n%s", stage, renderText(p))
	}
	revs := h.revisions()
	h.sim.ClearRequests()
	res = h.apply(doc, opts)
	if len(res.Outcomes) != 0 {
		h.t.Errorf("%s: second apply had outcomes:\n%s", stage, renderText(res.Plan))
	}
	if w := h.writes(); len(w) != 0 {
		h.t.Errorf("%s: second apply sent %d writes: %s", stage, len(w), strings.Join(w, ", "))
	}
	if got := h.revisions(); fmt.Sprint(got) != fmt.Sprint(revs) {
		h.t.Errorf("%s: second apply moved agent policy revisions %v → %v", stage, revs, got)
	}
}
