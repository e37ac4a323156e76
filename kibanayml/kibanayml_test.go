package kibanayml_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/internal/golden"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/fleetform/fleetform/kibanayml"
	"github.com/fleetform/fleetform/schema"
)

func render(t *testing.T, dir string) []byte {
	t.Helper()
	doc, err := schema.LoadDir(t.Context(), dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	out, err := kibanayml.Render(doc, kibanayml.Options{Revision: "0123456789abcdef"})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return out
}

func TestGolden(t *testing.T) {
	entries, _ := os.ReadDir("testdata")
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join("testdata", e.Name()))
		}
	}
	if len(dirs) == 0 {
		t.Fatal("no test cases under testdata/")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			got := render(t, dir)
			golden.Check(t, filepath.Clean(dir)+".golden", got)
		})
	}
}

// The properties the golden files show, checked structurally so that a
// careless -update cannot bless a regression.
func TestKibanaQuirks(t *testing.T) {
	out := render(t, "testdata/remote-and-defaults")
	var y struct {
		Outputs  []map[string]any `yaml:"xpack.fleet.outputs"`
		Policies []map[string]any `yaml:"xpack.fleet.agentPolicies"`
		Packages []map[string]any `yaml:"xpack.fleet.packages"`
	}
	if err := yaml.Unmarshal(out, &y); err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, out)
	}
	var ids []string
	for _, o := range y.Outputs {
		ids = append(ids, o["id"].(string))
	}
	// Trap 29: the default-monitoring output precedes the default output.
	if d := cmp.Diff([]string{"main-monitoring", "main-data", "remote-west", "legacy-logstash"}, ids); d != "" {
		t.Errorf("output order (-want +got):\n%s", d)
	}
	data := y.Outputs[1]
	if _, has := data["config_yaml"]; has {
		t.Error("config_yaml written; kibana.yml forbids it")
	}
	if d := cmp.Diff(map[string]any{"bulk_max_size": 1600, "worker": 4}, data["config"]); d != "" {
		t.Errorf("config (-want +got):\n%s", d)
	}
	remote := y.Outputs[2]
	if _, has := remote["remote"]; has {
		t.Error("fleetform-only field remote written")
	}
	if got := remote["secrets"].(map[string]any)["service_token"]; got != "${WEST_SERVICE_TOKEN}" {
		t.Errorf("secrets.service_token = %v", got)
	}
	if got := remote["kibana_api_key"]; got != "${FLEETFORM_REMOTE_WEST_KIBANA_API_KEY}" {
		t.Errorf("kibana_api_key = %v", got)
	}
	if got := y.Outputs[0]["secrets"].(map[string]any)["ssl"].(map[string]any)["key"]; got != "${FLEETFORM_MAIN_MONITORING_SECRETS_SSL_KEY}" {
		t.Errorf("secrets.ssl.key = %v", got)
	}
	if len(y.Policies) != 1 || y.Policies[0]["id"] != "prod-linux" {
		t.Errorf("policies = %v, want prod-linux only (the adopted one left out)", y.Policies)
	}
	for _, warn := range []string{
		"WARNING: Kibana never re-applies a changed kibana_api_key",
		"WARNING: Kibana never re-applies a changed write_to_logs_streams",
		"WARNING: Kibana ignores later changes of this field",
		"Adopted agent policies left out (kibana.yml cannot adopt an existing policy): fleet-server-policy",
		"Listed before the default output on purpose",
	} {
		if !strings.Contains(string(out), warn) {
			t.Errorf("missing comment %q", warn)
		}
	}
}

func TestPlainServiceTokenWarns(t *testing.T) {
	out := string(render(t, "testdata/plain-token"))
	for _, want := range []string{
		"service_token: ${FLEETFORM_REMOTE_PLAIN_SERVICE_TOKEN}",
		"WARNING: Kibana never re-applies a changed plain service_token",
		"FLEETFORM_REMOTE_PLAIN_SERVICE_TOKEN: output remote-plain service_token, read it from /run/secrets/east-token",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}
