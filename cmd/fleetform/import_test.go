package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/remote"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// TestImport_ThenPlanIsEmpty is the README's "Start from an existing Fleet":
// a Fleet made in the UI (here: through the API), import --adopt, then plan
// says "No changes" and exits 0 with --detailed-exitcode. No secret value
// reaches stdout, stderr or the written files.
func TestImport_ThenPlanIsEmpty(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	seed := &fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": {
		Outputs: []map[string]any{{"id": "ls-preconf", "name": "Logstash (kibana.yml)", "type": "logstash", "hosts": []any{"ls.internal:5044"}}},
	}}}
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	if err := sim.Seed(seed); err != nil {
		t.Fatal(err)
	}
	main := sim.Cluster("main")
	kb, err := kibana.New(main.KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("changeme")})
	if err != nil {
		t.Fatal(err)
	}
	const token, kafkaPW = "brownfield-service-token-value", "brownfield-kafka-password"
	ctx := t.Context()
	for _, body := range []map[string]any{
		{"id": "remote-west", "name": "West", "type": "remote_elasticsearch", "hosts": []any{"https://es.west.example:9200"}, "secrets": map[string]any{"service_token": token}},
		{"id": "kafka-1", "name": "Kafka", "type": "kafka", "hosts": []any{"kafka.example:9092"}, "topic": "logs", "auth_type": "user_pass", "username": "fleet",
			"secrets": map[string]any{"password": kafkaPW}, "sasl": map[string]any{"mechanism": "SCRAM-SHA-512"}},
	} {
		if _, err := kb.CreateOutput(ctx, body); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := kb.CreateAgentPolicy(ctx, map[string]any{"id": "prod", "name": "Prod", "namespace": "prod", "data_output_id": "remote-west"}); err != nil {
		t.Fatal(err)
	}
	if err := kb.InstallPackage(ctx, "nginx", "2.0.0", true); err != nil {
		t.Fatal(err)
	}
	const splunkPW = "brownfield-splunk-password"
	if _, err := kb.CreateIntegrationPolicy(ctx, map[string]any{"id": "nginx-prod", "name": "nginx-prod", "policy_ids": []any{"prod"},
		"package": map[string]any{"name": "nginx", "version": "2.0.0"},
		"inputs":  map[string]any{"nginx-httpjson": map[string]any{"enabled": true, "vars": map[string]any{"username": "splunk", "password": splunkPW}}}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	clusters := fmt.Sprintf(`clusters:
  main:
    kibana: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_PW}}}}
    elasticsearch: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_PW}}}}
`, main.KibanaURL(), main.ESURL())
	if err := os.WriteFile(filepath.Join(dir, "clusters.yaml"), []byte(clusters), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"import", "-c", dir, "--adopt"}, &stdout, &stderr); err != nil {
		t.Fatalf("import: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"Imported 1 download source, 1 package, 3 outputs, 1 agent policy, 1 package policy into " + dir,
		"output ls-preconf: preconfigured in kibana.yml",
		"export OUTPUT_REMOTE_WEST_SERVICE_TOKEN=...   # output remote-west secrets.service_token",
		"export OUTPUT_KAFKA_1_PASSWORD=...   # output kafka-1 secrets.password",
		"export PACKAGE_POLICY_NGINX_PROD_INPUTS_NGINX_HTTPJSON_VARS_PASSWORD=...   # package_policy nginx-prod inputs.nginx-httpjson.vars.password",
		"Adopted 7 objects",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	all := out + stderr.String()
	for _, f := range files {
		b, _ := os.ReadFile(f)
		all += string(b)
	}
	for _, v := range []string{token, kafkaPW, splunkPW} {
		if strings.Contains(all, v) {
			t.Errorf("a secret value leaked into import's output or files")
		}
	}
	stdout.Reset()
	stderr.Reset()
	if err := run(ctx, []string{"plan", "-c", dir, "--detailed-exitcode"}, &stdout, &stderr); err != nil {
		t.Fatalf("plan after import: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	// The secrets import never read are listed as not compared, never
	// silently taken as equal.
	for _, want := range []string{
		"No changes to the fields fleetform compared; 3 secret values were not compared.",
		`output "kafka-1" secrets.password (env:OUTPUT_KAFKA_1_PASSWORD): adopted by fleetform import`,
		`output "remote-west" secrets.service_token (env:OUTPUT_REMOTE_WEST_SERVICE_TOKEN): adopted by fleetform import`,
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("plan after import lacks %q:\n%s", want, stdout.String())
		}
	}
	// Apply with the secret references filled in writes nothing to Fleet:
	// the adopted secrets are not compared, so not rewritten.
	t.Setenv("OUTPUT_REMOTE_WEST_SERVICE_TOKEN", token)
	t.Setenv("OUTPUT_KAFKA_1_PASSWORD", kafkaPW)
	t.Setenv("PACKAGE_POLICY_NGINX_PROD_INPUTS_NGINX_HTTPJSON_VARS_PASSWORD", splunkPW)
	sim.ClearRequests()
	stdout.Reset()
	if err := run(ctx, []string{"apply", "-c", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("apply after import: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	for _, w := range writesOf(sim) {
		if strings.HasPrefix(w, "kibana ") {
			t.Errorf("apply after import wrote to Fleet: %s", w)
		}
	}
	// A second import has nothing left to take over, and writes nothing.
	stdout.Reset()
	if err := run(ctx, []string{"import", "-c", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("second import: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "Nothing to import") {
		t.Errorf("second import:\n%s", stdout.String())
	}
}

// TestImport_AddsBesideExistingFiles: a repository that has outputs.yaml
// already gets the outputs it lacks in outputs.imported.yaml beside it (then
// outputs.imported-2.yaml), never by overwriting a file; the repository
// loads, and --kinds takes the document key (outputs) as well as the kind.
// It was refused before ("outputs.yaml exists already"), although plan
// --show-unmanaged points at exactly this import.
func TestImport_AddsBesideExistingFiles(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	main := sim.Cluster("main")
	kb, err := kibana.New(main.KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("changeme")})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"es-a", "es-b", "es-c"} {
		if _, err := kb.CreateOutput(t.Context(), map[string]any{"id": id, "name": id, "type": "elasticsearch", "hosts": []any{"https://" + id + ":9200"}}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	clusters := fmt.Sprintf("clusters:\n  main:\n    kibana: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_PW}}}}\n    elasticsearch: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_PW}}}}\n", main.KibanaURL(), main.ESURL())
	mine := "# mine\noutputs:\n  - {id: es-a, name: es-a, type: elasticsearch, hosts: ['https://es-a:9200']}\n"
	os.WriteFile(filepath.Join(dir, "clusters.yaml"), []byte(clusters), 0o644)
	os.WriteFile(filepath.Join(dir, "outputs.yaml"), []byte(mine), 0o644)

	for i, c := range []struct{ sel, file string }{{"es-b", "outputs.imported.yaml"}, {"es-c", "outputs.imported-2.yaml"}} {
		out, errOut, code := runCLI(t, "import", "-c", dir, "--kinds", "outputs", "--select", c.sel)
		if code != 0 {
			t.Fatalf("import %d: exit %d\n%s\n%s", i, code, out, errOut)
		}
		if !strings.Contains(out, c.file) {
			t.Errorf("import %d does not name %s:\n%s", i, c.file, out)
		}
		b, err := os.ReadFile(filepath.Join(dir, c.file))
		if err != nil || !strings.Contains(string(b), "id: "+c.sel) {
			t.Fatalf("%s: %v\n%s", c.file, err, b)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "outputs.yaml")); string(b) != mine {
		t.Errorf("outputs.yaml was changed: %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "agent_policies.yaml")); err == nil {
		t.Errorf("agent_policies.yaml was written although --kinds outputs")
	}
	if out, errOut, code := runCLI(t, "validate", dir); code != 0 {
		t.Errorf("validate: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code := runCLI(t, "import", "-c", dir, "--kinds", "outputz"); code == 0 || !strings.Contains(errOut, `unknown kind "outputz"`) {
		t.Errorf("--kinds outputz: exit %d\n%s", code, errOut)
	}
}

// TestImport_RecognisesWhatFleetformMintedOnARemote is issue 13 item 2: a
// Fleet whose remote output fleetform provisioned (its repository lost)
// imports as the remote: / generate: form, so the two-cluster plan treats
// the minted token and key, the link and the follower as existing.
func TestImport_RecognisesWhatFleetformMintedOnARemote(t *testing.T) {
	dir, _ := twoClusterRepo(t, "")
	doc, err := schema.LoadDir(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := remote.Connect(t.Context(), doc, remote.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Apply(t.Context(), doc, nil, reconciler.ApplyOptions{Revision: "test"}); err != nil {
		t.Fatal(err)
	}
	// The repository is lost but for its clusters.
	b, err := os.ReadFile(filepath.Join(dir, "fleet.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	clusters, _, _ := strings.Cut(string(b), "outputs:")
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "clusters.yaml"), []byte(clusters), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"import", "-c", repo, "--kinds", "output", "--adopt"}, &stdout, &stderr); err != nil {
		t.Fatalf("import: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	outputs, err := os.ReadFile(filepath.Join(repo, "outputs.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  - id: remote-west\n    name: remote-west\n    type: remote_elasticsearch\n    remote: west\n",
		"    kibana_api_key:\n      generate: true\n", "      service_token:\n        generate: true\n"} {
		if !strings.Contains(string(outputs), want) {
			t.Errorf("outputs.yaml lacks %q:\n%s", want, outputs)
		}
	}
	if strings.Contains(stdout.String(), "OUTPUT_REMOTE_WEST") {
		t.Errorf("import asks for minted credentials as env references:\n%s", stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	if err := run(t.Context(), []string{"plan", "-c", repo, "--detailed-exitcode"}, &stdout, &stderr); err != nil {
		t.Fatalf("plan after import: %v\n%s%s", err, stdout.String(), stderr.String())
	}
}

// TestImport_RemoteClusterAsItsOwnRepository: --cluster west imports west's
// own Fleet into DIR-west, beside DIR, a repository whose main cluster is
// west; it then plans empty, and DIR stays one repository.
func TestImport_RemoteClusterAsItsOwnRepository(t *testing.T) {
	dir, sim := twoClusterRepo(t, "")
	doc, err := schema.LoadDir(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := remote.Connect(t.Context(), doc, remote.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Apply(t.Context(), doc, nil, reconciler.ApplyOptions{Revision: "test"}); err != nil {
		t.Fatal(err)
	}
	westKB, err := kibana.New(sim.Cluster("west").KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("changeme")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := westKB.CreateAgentPolicy(t.Context(), map[string]any{"id": "west-edge", "name": "West edge", "namespace": "edge"}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"import", "-c", dir, "--cluster", "west", "--adopt"}, &stdout, &stderr); err != nil {
		t.Fatalf("import --cluster west: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	sub := dir + "-west"
	t.Cleanup(func() { os.RemoveAll(sub) })
	pol, err := os.ReadFile(filepath.Join(sub, "agent_policies.yaml"))
	if err != nil || !strings.Contains(string(pol), "  - id: west-edge\n") {
		t.Fatalf("west's agent policies: %v\n%s", err, pol)
	}
	if _, err := schema.LoadDir(t.Context(), dir); err != nil {
		t.Errorf("the main repository is no longer one repository: %v", err)
	}
	stdout.Reset()
	stderr.Reset()
	if err := run(t.Context(), []string{"plan", "-c", sub, "--detailed-exitcode"}, &stdout, &stderr); err != nil {
		t.Fatalf("plan of west's repository: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	// An unknown cluster is one clear error naming the ones there are.
	stderr.Reset()
	if err := run(t.Context(), []string{"import", "-c", dir, "--cluster", "east"}, &stdout, &stderr); err == nil ||
		!strings.Contains(stderr.String(), `declares no remote "east" (remotes: main, west)`) {
		t.Errorf("--cluster east: %v\n%s", err, stderr.String())
	}
}
