package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
)

// TestImport_ReusesTheRecordedReferences: a Fleet fleetform already manages
// (applied from a repository whose secrets are env: and file: references)
// is imported again into a new repository sharing the state index. Import
// writes the references the state index records for the owned objects,
// not invented ones, says so in its summary, and the first plan is empty:
// no "reference changed" for any secret. No secret value reaches the
// output or the files.
func TestImport_ReusesTheRecordedReferences(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	const kafkaPW, dsPW, splunkPW, lsKey = "reuse-kafka-password", "reuse-download-password", "reuse-splunk-password", "reuse-logstash-key"
	t.Setenv("MY_KAFKA_PW", kafkaPW)
	t.Setenv("MY_DS_PW", dsPW)
	t.Setenv("MY_SPLUNK_PW", splunkPW)
	keyFile := filepath.Join(t.TempDir(), "ls.key")
	if err := os.WriteFile(keyFile, []byte(lsKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Download source auth needs Kibana 9.4 (reconciler/version_objects.go).
	sim := fleetsim.StartTest(t, fleetsim.Options{}, fleetsim.ClusterConfig{Name: "main", License: "enterprise", Version: "9.4.0"})
	main := sim.Cluster("main")
	clusters := fmt.Sprintf(`clusters:
  main:
    kibana: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_PW}}}}
    elasticsearch: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_PW}}}}
`, main.KibanaURL(), main.ESURL())
	fleet := fmt.Sprintf(`outputs:
  - id: kafka-1
    name: Kafka
    type: kafka
    hosts: [kafka.example:9092]
    topic: logs
    auth_type: user_pass
    username: fleet
    sasl: {mechanism: SCRAM-SHA-512}
    secrets: {password: {env: MY_KAFKA_PW}}
  - id: ls-1
    name: Logstash
    type: logstash
    hosts: [ls.example:5044]
    ssl: {certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"}
    secrets: {ssl: {key: {file: %s}}}
download_sources:
  - id: mirror
    name: Mirror
    host: https://artifacts.example
    auth: {username: agent}
    secrets: {auth: {password: {env: MY_DS_PW}}}
agent_policies:
  - id: prod
    name: Prod
    namespace: prod
packages:
  - name: nginx
    version: 2.0.0
package_policies:
  - id: nginx-prod
    name: nginx-prod
    package: {name: nginx, version: 2.0.0}
    policy_ids: [prod]
    inputs:
      nginx-httpjson:
        enabled: true
        vars: {username: splunk, password: {env: MY_SPLUNK_PW}}
`, keyFile)
	applied := t.TempDir()
	for name, content := range map[string]string{"clusters.yaml": clusters, "fleet.yaml": fleet} {
		if err := os.WriteFile(filepath.Join(applied, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := t.Context()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"apply", "-c", applied}, &stdout, &stderr); err != nil {
		t.Fatalf("apply: %v\n%s%s", err, stdout.String(), stderr.String())
	}

	// The repository is lost but for its clusters; import the Fleet again
	// (--adopt takes over Kibana's default output and download source,
	// which the applied repository did not declare).
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "clusters.yaml"), []byte(clusters), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	if err := run(ctx, []string{"import", "-c", repo, "--adopt"}, &stdout, &stderr); err != nil {
		t.Fatalf("import: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"Reused the secret references the state index records for objects fleetform owns:",
		"  env:MY_KAFKA_PW   # output kafka-1 secrets.password",
		"  file:" + keyFile + "   # output ls-1 secrets.ssl.key",
		"  env:MY_DS_PW   # download_source mirror secrets.auth.password",
		"  env:MY_SPLUNK_PW   # package_policy nginx-prod inputs.nginx-httpjson.vars.password",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "export ") {
		t.Errorf("import invented references although the state index records them all:\n%s", out)
	}
	all := out + stderr.String()
	files, _ := filepath.Glob(filepath.Join(repo, "*.yaml"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		all += string(b)
	}
	for _, v := range []string{kafkaPW, dsPW, splunkPW, lsKey} {
		if strings.Contains(all, v) {
			t.Errorf("a secret value leaked into import's output or files")
		}
	}
	for _, want := range []string{"password:\n        env: MY_KAFKA_PW", "key:\n          file: " + keyFile} {
		if b, _ := os.ReadFile(filepath.Join(repo, "outputs.yaml")); !strings.Contains(string(b), want) {
			t.Errorf("outputs.yaml lacks %q:\n%s", want, b)
		}
	}

	stdout.Reset()
	stderr.Reset()
	if err := run(ctx, []string{"plan", "-c", repo, "--detailed-exitcode"}, &stdout, &stderr); err != nil {
		t.Fatalf("plan after re-import: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if s := stdout.String(); strings.Contains(s, "reference changed") || !strings.Contains(s, "No changes") {
		t.Errorf("plan after re-import:\n%s", s)
	}
}
