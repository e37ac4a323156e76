package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/esim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/secret"
)

const (
	cliToken  = "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyLXJlbW90ZS90b2tlbi1jbGk6c2VjcmV0MTIz"
	cliToken2 = "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyLXJlbW90ZS90b2tlbi1jbGk6cm90YXRlZDQ1"
	cliAPIKey = "Y2xpLWtpYmFuYS1hcGkta2V5OnNlY3JldC1wYXJ0LTY3ODk="
	cliSSLKey = "-----BEGIN PRIVATE KEY-----cliMIIEvQIBADANBgkqhkiG9w0BAQEFAASC-----END PRIVATE KEY-----"
)

// fleetDir writes a desired-state directory pointing at sim's main cluster.
func fleetDir(t *testing.T, sim *fleetsim.Sim, tokenEnv, keyFile string) string {
	t.Helper()
	dir := t.TempDir()
	main := sim.Cluster("main")
	files := map[string]string{
		"clusters.yaml": fmt.Sprintf(`clusters:
  main:
    kibana: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_PW}}}}
    elasticsearch: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_PW}}}}
`, main.KibanaURL(), main.ESURL()),
		"outputs.yaml": fmt.Sprintf(`outputs:
  - id: remote-west
    name: remote-west
    type: remote_elasticsearch
    hosts: [https://es.west.example]
    secrets:
      service_token: {env: %s}
    kibana_url: https://kb.west.example:5601
    kibana_api_key: {env: CLI_KIBANA_KEY}
  - id: logstash
    name: logstash
    type: logstash
    hosts: [ls.example:5044]
    ssl: {certificate: /etc/pki/agent.crt}
    secrets:
      ssl:
        key: {file: %s}
agent_policies:
  - {id: west, name: West, namespace: west, data_output_id: remote-west}
packages:
  - {name: system, version: latest}
`, tokenEnv, keyFile),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writesOf(sim *fleetsim.Sim) []string {
	var out []string
	for _, r := range sim.Requests() {
		if esim.ReadOnly(r.Method, r.Path) {
			continue
		}
		out = append(out, r.Listener+" "+r.Method+" "+r.Path)
	}
	return out
}

func TestPlanApply_EndToEnd(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	t.Setenv("CLI_TOKEN", cliToken)
	t.Setenv("CLI_TOKEN_2", cliToken2)
	t.Setenv("CLI_KIBANA_KEY", cliAPIKey)
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	keyFile := filepath.Join(t.TempDir(), "ls.key")
	if err := os.WriteFile(keyFile, []byte(cliSSLKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := fleetDir(t, sim, "CLI_TOKEN", keyFile)
	var seen strings.Builder // every byte fleetform printed or wrote
	cli := func(args ...string) (string, string, int) {
		t.Helper()
		out, errOut, code := runCLI(t, args...)
		seen.WriteString(out + errOut)
		return out, errOut, code
	}

	out, errOut, code := cli("plan", "-c", dir, "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "Plan: 4 to create, 0 to update, 0 to delete.") || !strings.Contains(out, "secrets.service_token = (sensitive)") {
		t.Fatalf("first plan: exit %d\n%s\n%s", code, out, errOut)
	}
	planFile := filepath.Join(t.TempDir(), "plan.json")
	if _, errOut, code := cli("plan", "-c", dir, "-o", planFile, "--format", "markdown"); code != 0 {
		t.Fatalf("plan -o: exit %d: %s", code, errOut)
	}
	out, errOut, code = cli("apply", "-c", dir, "-v", planFile)
	if code != 0 || !strings.Contains(out, "Apply complete: 4 applied, 0 failed, 0 skipped, 0 blocked") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = cli("plan", "-c", dir, "--detailed-exitcode")
	if code != 0 || !strings.Contains(out, "No changes. Fleet matches the configuration.") {
		t.Fatalf("plan after apply: exit %d\n%s\n%s", code, out, errOut)
	}
	// A second apply writes nothing: not to Kibana, not to the state index.
	sim.ClearRequests()
	if out, errOut, code := cli("apply", "-c", dir); code != 0 {
		t.Fatalf("second apply: exit %d\n%s\n%s", code, out, errOut)
	}
	if w := writesOf(sim); len(w) != 0 {
		t.Errorf("second apply sent writes: %v", w)
	}
	// Rotate the token reference: one output changes.
	dir2 := fleetDir(t, sim, "CLI_TOKEN_2", keyFile)
	out, _, code = cli("plan", "-c", dir2, "--detailed-exitcode", "--format", "github")
	if code != 2 || !strings.Contains(out, `output "remote-west" will be updated in-place (secrets.service_token)`) || strings.Count(out, "::notice") != 3 || !strings.Contains(out, "1 object in Fleet is neither declared nor owned here (1 output).") {
		t.Fatalf("rotation plan: exit %d\n%s", code, out)
	}
	// A saved plan is refused once Fleet moved.
	stale := filepath.Join(t.TempDir(), "stale.json")
	if _, errOut, code := cli("plan", "-c", dir2, "-o", stale); code != 0 {
		t.Fatalf("plan -o: %s", errOut)
	}
	kb, err := kibana.New(sim.Cluster("main").KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("changeme")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kb.CreateOutput(context.Background(), map[string]any{"id": "intruder", "name": "intruder", "type": "logstash", "hosts": []string{"x:5044"}}); err != nil {
		t.Fatal(err)
	}
	sim.ClearRequests()
	_, errOut, code = cli("apply", "-c", dir2, stale)
	if code != 1 || !strings.Contains(errOut, "saved plan is stale") {
		t.Fatalf("stale apply: exit %d: %s", code, errOut)
	}
	if w := writesOf(sim); len(w) != 0 {
		t.Errorf("stale apply wrote: %v", w)
	}
	if out, errOut, code := cli("apply", "-c", dir2, "-v"); code != 0 || !strings.Contains(out, "Apply complete: 1 applied") {
		t.Fatalf("rotation apply: exit %d\n%s\n%s", code, out, errOut)
	}

	// No secret value anywhere: stdout, stderr (with -v logs), plan files, state index.
	for _, f := range []string{planFile, stale} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seen.Write(b)
	}
	docs, err := sim.Cluster("main").ES().SearchDocs("fleetform-state", true)
	if err != nil || len(docs) != 4 {
		t.Fatalf("state index: %d docs, err %v", len(docs), err)
	}
	for _, d := range docs {
		seen.Write(d.Source)
	}
	all := seen.String()
	if !strings.Contains(all, `"hash"`) || !strings.Contains(all, "env:CLI_TOKEN_2") {
		t.Fatal("state index lacks secret records; the leak check would be vacuous")
	}
	for name, v := range map[string]string{"token": cliToken, "token2": cliToken2, "kibana api key": cliAPIKey, "ssl key": cliSSLKey, "password": "changeme"} {
		if strings.Contains(all, v) {
			t.Errorf("the %s value appears in fleetform's output, plan files or state index", name)
		}
	}
}
