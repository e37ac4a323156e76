package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/importer"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/remote"
	"github.com/fleetform/fleetform/secret"
)

// TestImport_Brownfield is issue 13's "Done when": a realistic brownfield
// Fleet — 50 outputs of every type (some shipping to a declared remote), 200
// agent policies, 30 packages — imported with --adopt, then planned over
// both clusters with the secrets filled in: no changes.
func TestImport_Brownfield(t *testing.T) {
	t.Setenv("FF_BROWNFIELD_PW", "changeme")
	sim := fleetsim.StartTest(t, fleetsim.Options{},
		fleetsim.ClusterConfig{Name: "main", License: "enterprise"}, fleetsim.ClusterConfig{Name: "west", License: "enterprise"})
	main, west := sim.Cluster("main"), sim.Cluster("west")
	auth := kibana.Auth{Username: "elastic", Password: secret.New("changeme")}
	kb, err := kibana.New(main.KibanaURL(), auth)
	if err != nil {
		t.Fatal(err)
	}
	westES, err := elastic.New(west.ESURL(), elastic.Auth{Username: "elastic", Password: secret.New("changeme")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	env := map[string]string{}
	for i := range 50 {
		id := fmt.Sprintf("out-%02d", i)
		body := map[string]any{"id": id, "name": "Output " + id}
		switch i % 5 {
		case 0:
			body["type"], body["hosts"] = "elasticsearch", []any{fmt.Sprintf("https://es%d.example:9200", i)}
			body["preset"] = []string{"balanced", "throughput", "scale", "latency"}[i%4]
		case 1: // a remote output to the declared remote, with a real token there
			tok, err := westES.CreateServiceToken(ctx, remote.ServiceNamespace, remote.ServiceName, "brownfield-"+id)
			if err != nil {
				t.Fatal(err)
			}
			body["type"], body["hosts"] = "remote_elasticsearch", []any{west.ESURL()}
			body["secrets"] = map[string]any{"service_token": tok.Value.Reveal()}
			env[importer.EnvName("output", id, "secrets.service_token")] = tok.Value.Reveal()
		case 2:
			body["type"], body["hosts"] = "logstash", []any{fmt.Sprintf("ls%d.example:5044", i)}
			body["ssl"] = map[string]any{"certificate": "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----"}
			body["secrets"] = map[string]any{"ssl": map[string]any{"key": "key-" + id}}
			env[importer.EnvName("output", id, "secrets.ssl.key")] = "key-" + id
		case 3:
			body["type"], body["hosts"], body["topic"] = "kafka", []any{fmt.Sprintf("kafka%d.example:9092", i)}, "logs-"+id
			body["auth_type"], body["username"] = "user_pass", "fleet"
			body["secrets"] = map[string]any{"password": "pw-" + id}
			body["sasl"] = map[string]any{"mechanism": "SCRAM-SHA-512"}
			env[importer.EnvName("output", id, "secrets.password")] = "pw-" + id
		case 4: // a remote output elsewhere: no declared remote has its hosts
			body["type"], body["hosts"] = "remote_elasticsearch", []any{fmt.Sprintf("https://far%d.example:443", i)}
			body["secrets"] = map[string]any{"service_token": "far-token-" + id}
			env[importer.EnvName("output", id, "secrets.service_token")] = "far-token-" + id
		}
		if _, err := kb.CreateOutput(ctx, body); err != nil {
			t.Fatalf("create %s: %v", id, err)
		}
	}
	for i := range 200 {
		body := map[string]any{"id": fmt.Sprintf("pol-%03d", i), "name": fmt.Sprintf("Policy %03d", i), "namespace": []string{"default", "prod", "staging"}[i%3]}
		if i%4 == 0 {
			body["data_output_id"] = fmt.Sprintf("out-%02d", (i/4)%50)
		}
		if i%7 == 0 {
			body["description"] = "brownfield policy"
		}
		if _, err := kb.CreateAgentPolicy(ctx, body); err != nil {
			t.Fatalf("create policy %d: %v", i, err)
		}
	}
	pkgs, err := kb.ListPackages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	installed := 0
	for _, p := range pkgs {
		if p.InstalledVersion == "" && installed < 30 {
			if err := kb.InstallPackage(ctx, p.Name, p.Version, false); err != nil {
				t.Fatal(err)
			}
			installed++
		}
	}
	if pkgs, _ = kb.ListPackages(ctx); countInstalled(pkgs) < 30 {
		t.Fatalf("only %d packages installed", countInstalled(pkgs))
	}

	repo := t.TempDir()
	ep := func(u string) string {
		return fmt.Sprintf("{url: %s, auth: {basic: {username: elastic, password: {env: FF_BROWNFIELD_PW}}}}", u)
	}
	clusters := fmt.Sprintf("clusters:\n  main:\n    kibana: %s\n    elasticsearch: %s\n  remotes:\n    - name: west\n      kibana: %s\n      elasticsearch: %s\n",
		ep(main.KibanaURL()), ep(main.ESURL()), ep(west.KibanaURL()), ep(west.ESURL()))
	if err := os.WriteFile(filepath.Join(repo, "clusters.yaml"), []byte(clusters), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"import", "-c", repo, "--adopt"}, &stdout, &stderr); err != nil {
		t.Fatalf("import: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "51 outputs, 200 agent policies") {
		t.Errorf("import summary:\n%s", stdout.String())
	}
	outputs, _ := os.ReadFile(filepath.Join(repo, "outputs.yaml"))
	if n := strings.Count(string(outputs), "    remote: west\n"); n != 10 {
		t.Errorf("%d outputs tied to remote west, want 10", n)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	stdout.Reset()
	stderr.Reset()
	if err := run(ctx, []string{"plan", "-c", repo, "--detailed-exitcode"}, &stdout, &stderr); err != nil {
		t.Fatalf("plan after import: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "No changes to the fields fleetform compared; 40 secret values were not compared.") {
		t.Errorf("plan after import:\n%s", firstLines(stdout.String(), 10))
	}
}

func countInstalled(pkgs []kibana.Package) int {
	n := 0
	for _, p := range pkgs {
		if p.InstalledVersion != "" {
			n++
		}
	}
	return n
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
