package reconciler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// TestPlanIsApply_Blocks holds the defects TestVersionMatrix found, each a
// change the plan showed as a create that apply could not make:
//
//   - a create depending on a blocked change (agent policy endpoints on a
//     download source with ssl, 8.3.9–9.0.9 rows): apply skipped it;
//   - a remote output with sync_integrations: true below Enterprise (9.1.0+
//     basic, gold and platinum rows): Kibana's 400 "Remote sync
//     integrations require at least an Enterprise license." reached apply;
//   - an output shipper without a config_yaml that enables the shipper
//     (8.7.0+ rows): Kibana dropped it, and every later plan showed it again.
//
// Each is now blocked in the plan, and apply sends nothing for it.
func TestPlanIsApply_Blocks(t *testing.T) {
	tests := []struct {
		name, version, licence string
		doc                    *schema.Document
		blocked                map[string]string // plan key → part of the reason
	}{
		{
			name: "depends on a blocked change", version: "9.0.9", licence: "enterprise",
			doc: &schema.Document{
				DownloadSources: []schema.DownloadSource{{ID: "mirror-tls", Name: "mirror", Host: "https://mirror.example/downloads/",
					SSL: &schema.DownloadSourceSSL{CertificateAuthorities: []string{"/etc/ca.pem"}}}},
				AgentPolicies: []schema.AgentPolicy{
					{ID: "endpoints", Name: "endpoints", Namespace: "default", DownloadSourceID: ptr("mirror-tls")},
					{ID: "other", Name: "other", Namespace: "default"},
				},
				Packages: []schema.Package{{Name: "system", Version: "2.0.0"}},
				PackagePolicies: []schema.PackagePolicy{{ID: "sys", Name: "sys", Namespace: "default",
					Package: &schema.PackagePolicyPackage{Name: "system", Version: "2.0.0"}, PolicyIDs: []string{"endpoints"}}},
			},
			blocked: map[string]string{
				"main/download_source/mirror-tls": "ssl needs Kibana 9.1.0",
				"main/agent_policy/endpoints":     "needs download_source mirror-tls, which is blocked; apply would skip this create",
				"main/package_policy/sys":         "needs agent_policy endpoints, which is blocked",
			},
		},
		{
			name: "sync_integrations below Enterprise", version: "9.3.0", licence: "platinum",
			doc: &schema.Document{Outputs: []schema.Output{{ID: "remote", Name: "remote", Type: "remote_elasticsearch",
				Hosts: []string{"https://remote.example:9200"}, ServiceToken: env("MATRIX_REMOTE_TOKEN"), SyncIntegrations: ptr(true)}}},
			blocked: map[string]string{
				"main/output/remote": `Remote sync integrations require at least an Enterprise license. (main licence is "platinum"`,
			},
		},
		{
			name: "shipper without config_yaml", version: "9.3.0", licence: "enterprise",
			doc: &schema.Document{Outputs: []schema.Output{
				{ID: "dropped", Name: "dropped", Type: "elasticsearch", Hosts: []string{"https://a.example:9200"},
					Shipper: map[string]any{"disk_queue_enabled": true}},
				{ID: "disabled", Name: "disabled", Type: "logstash", Hosts: []string{"ls.example:5044"},
					ConfigYAML: ptr("shipper:\n  enabled: false\n"), Shipper: map[string]any{"loadbalance": true}},
				{ID: "kept", Name: "kept", Type: "elasticsearch", Hosts: []string{"https://b.example:9200"},
					ConfigYAML: ptr("shipper:\n  enabled: true\n"), Shipper: map[string]any{"disk_queue_enabled": true}},
			}},
			blocked: map[string]string{
				"main/output/dropped":  "declares shipper, which Kibana drops unless config_yaml enables the shipper",
				"main/output/disabled": "declares shipper, which Kibana drops unless config_yaml enables the shipper",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", Version: tt.version, License: tt.licence})
			h.secrets["env:MATRIX_REMOTE_TOKEN"] = "remote-token-0123456789"
			es, err := elastic.New(h.main.ESURL(), elastic.Auth{Username: "elastic", Password: secret.New("changeme")}, elastic.WithRetry(8, time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			h.connect(func(c *Config) { c.License = es })
			p := h.plan(tt.doc)
			for _, ch := range p.Changes {
				want, ok := tt.blocked[ch.Key()]
				switch {
				case ok && (ch.Action != plan.Blocked || !strings.Contains(ch.Reason, want)):
					t.Errorf("%s: %s (%s), want blocked: …%s…", ch.Key(), ch.Action, ch.Reason, want)
				case !ok && ch.Action != plan.Create:
					t.Errorf("%s: %s (%s), want create", ch.Key(), ch.Action, ch.Reason)
				}
			}
			h.sim.ClearRequests()
			res, err := h.r.Apply(context.Background(), tt.doc, nil, ApplyOptions{})
			if err != nil && !errors.Is(err, ErrNotConverged) {
				t.Fatal(err)
			}
			for _, o := range res.Outcomes {
				if _, blocked := tt.blocked[o.Change.Key()]; o.Status != StatusApplied && !blocked || blocked && o.Status != StatusBlocked {
					t.Errorf("apply: %s %s: %s %v", o.Change.Action, o.Change.Key(), o.Status, o.Err)
				}
			}
			for _, r := range h.sim.Requests() {
				if r.Status >= 400 && !matrixExpectedError(r) {
					t.Errorf("apply: %s %s answered %d", r.Method, r.Path, r.Status)
				}
			}
			observed := h.observedKeys(tt.doc)
			for key := range tt.blocked {
				if observed[key] {
					t.Errorf("%s was blocked, yet exists after apply", key)
				}
			}
			for _, ch := range h.plan(tt.doc).Changes {
				if _, ok := tt.blocked[ch.Key()]; !ok || ch.Action != plan.Blocked {
					t.Errorf("plan after apply: %s %s", ch.Action, ch.Key())
				}
			}
		})
	}
}
