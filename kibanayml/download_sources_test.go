package kibanayml_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/kibanayml"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// The download sources survive kibana.yml: fleetsim loads the rendered
// xpack.fleet.binaryDownloadSource as Kibana's preconfiguration does
// (config validation, then ensurePreconfiguredDownloadSources at setup,
// services/preconfiguration/download_source.ts), and each source reads
// back as declared, less what the header says was left out, with the
// ssl.key Kibana substituted for its ${VAR}. A second start writes nothing.
func TestRoundTrip_DownloadSourcesThroughFleetsim(t *testing.T) {
	for _, dir := range []string{"testdata/download-sources", "testdata/whole-fleet"} {
		t.Run(dir, func(t *testing.T) {
			doc, err := schema.LoadDir(t.Context(), dir)
			if err != nil {
				t.Fatal(err)
			}
			out := render(t, dir)
			var y struct {
				Sources []map[string]any `yaml:"xpack.fleet.binaryDownloadSource"`
			}
			if err := yaml.Unmarshal(out, &y); err != nil {
				t.Fatal(err)
			}
			if len(y.Sources) != len(doc.DownloadSources) || len(y.Sources) == 0 {
				t.Fatalf("%d download sources in kibana.yml, %d declared", len(y.Sources), len(doc.DownloadSources))
			}
			// Kibana substitutes ${VAR} at start; give each its own value.
			keys := map[string]string{}
			for _, src := range y.Sources {
				ssl, _ := src["ssl"].(map[string]any)
				if v, ok := ssl["key"].(string); ok {
					if !strings.HasPrefix(v, "${") || !strings.HasSuffix(v, "}") {
						t.Fatalf("download source %v: ssl.key %q is not a ${VAR} placeholder", src["id"], v)
					}
					ssl["key"] = "pem-of-" + strings.Trim(v, "${}")
					keys[src["id"].(string)] = ssl["key"].(string)
				}
			}

			sim := fleetsim.StartTest(t, fleetsim.Options{})
			if err := sim.SetPreconfiguredDownloadSources("main", y.Sources); err != nil {
				t.Fatalf("Kibana's config validation refuses the rendered sources: %v", err)
			}
			c, err := kibana.New(sim.Cluster("main").KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("changeme")})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Setup(t.Context()); err != nil {
				t.Fatal(err)
			}
			for _, want := range doc.DownloadSources {
				got, err := c.GetDownloadSource(t.Context(), want.ID)
				if err != nil {
					t.Fatalf("download source %s: %v", want.ID, err)
				}
				if got["is_preconfigured"] != true {
					t.Errorf("download source %s: is_preconfigured = %v", want.ID, got["is_preconfigured"])
				}
				delete(got, "is_preconfigured")
				if ssl, ok := got["ssl"].(map[string]any); ok {
					if k, has := ssl["key"]; has {
						if k != keys[want.ID] {
							t.Errorf("download source %s: ssl.key reads back as another value", want.ID)
						}
						delete(ssl, "key")
					}
				}
				var back schema.DownloadSource
				convert(t, map[string]any(got), &back)
				// Left out, named in the header.
				want.Auth, want.Secrets, want.SecurityArtifactsProxyID, want.SecurityArtifactsURL = nil, nil, nil, nil
				if want.SSL != nil {
					if (want.SSL.Key != nil) != (keys[want.ID] != "") {
						t.Errorf("download source %s: declared ssl.key and rendered ssl.key disagree", want.ID)
					}
					ssl := *want.SSL
					ssl.Key = nil
					want.SSL = &ssl
				}
				if want.IsDefault == nil {
					want.IsDefault = new(bool) // the schema's default
				}
				if d := cmp.Diff(want, back); d != "" {
					t.Errorf("download source %s (-declared +read back):\n%s", want.ID, d)
				}
			}

			before, err := c.ListDownloadSources(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Setup(t.Context()); err != nil {
				t.Fatal(err)
			}
			after, err := c.ListDownloadSources(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(before, after) {
				t.Errorf("a second start changed the download sources:\n%v\n%v", before, after)
			}
		})
	}
}

// The properties the download-sources golden shows, checked structurally.
func TestDownloadSources_LeftOutAndPlaceholders(t *testing.T) {
	out := string(render(t, "testdata/download-sources"))
	for _, want := range []string{
		"xpack.fleet.binaryDownloadSource:",
		"Needs a Kibana with elastic/kibana#283454",
		"key: ${MIRROR_CLIENT_KEY}",
		"MIRROR_CLIENT_KEY: download source tls-mirror ssl.key",
		"auth, secrets, security_artifacts_url of download source secured-mirror",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	for _, never := range []string{"SECURED_MIRROR_KEY", "mirror-api-key", "security_artifacts_url:", "auth:"} {
		if strings.Contains(out, never) {
			t.Errorf("%q written, but Kibana's preconfiguration does not take it:\n%s", never, out)
		}
	}
}

// An agent policy declaring space_ids gets space_id = space_ids[0]: Kibana's
// preconfiguration creates the policy in space_id's space
// (services/preconfiguration.ts), the default space without it.
func TestAgentPolicySpaceID(t *testing.T) {
	var y struct {
		Policies []map[string]any `yaml:"xpack.fleet.agentPolicies"`
	}
	if err := yaml.Unmarshal(render(t, "testdata/download-sources"), &y); err != nil {
		t.Fatal(err)
	}
	if len(y.Policies) != 1 || y.Policies[0]["space_id"] != "team-a" {
		t.Errorf("policies = %v, want team-a-linux with space_id team-a", y.Policies)
	}
	if err := yaml.Unmarshal(render(t, "testdata/remote-and-defaults"), &y); err != nil {
		t.Fatal(err)
	}
	for _, p := range y.Policies {
		if _, has := p["space_id"]; has {
			t.Errorf("policy %v without space_ids got space_id", p["id"])
		}
	}
}

// space_ids: ["*"] names every space and no space to create the policy in;
// the first named space is taken when there is one.
func TestAgentPolicySpaceID_SkipsEverySpace(t *testing.T) {
	for _, tc := range []struct {
		ids  []string
		want any
	}{
		{[]string{"*"}, nil},
		{[]string{"*", "team-b"}, "team-b"},
	} {
		doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "p", Name: "p", Namespace: "default", SpaceIDs: tc.ids}}}
		out, err := kibanayml.Render(doc, kibanayml.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var y struct {
			Policies []map[string]any `yaml:"xpack.fleet.agentPolicies"`
		}
		if err := yaml.Unmarshal(out, &y); err != nil {
			t.Fatal(err)
		}
		if got := y.Policies[0]["space_id"]; got != tc.want {
			t.Errorf("space_ids %v: space_id = %v, want %v", tc.ids, got, tc.want)
		}
	}
}
