package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/remote"
	"github.com/fleetform/fleetform/schema"
)

// twoClusterRepo starts a main and a west fleetsim and writes a repository
// with a ccr-synced remote output (plus extra YAML, e.g. packages) to a
// temporary directory.
func twoClusterRepo(t *testing.T, extra string) (string, *fleetsim.Sim) {
	t.Helper()
	t.Setenv("FF_CMD_TEST_PW", "changeme")
	sim := fleetsim.StartTest(t, fleetsim.Options{},
		fleetsim.ClusterConfig{Name: "main", License: "enterprise"}, fleetsim.ClusterConfig{Name: "west", License: "enterprise"})
	main, west := sim.Cluster("main"), sim.Cluster("west")
	ep := func(u string) string {
		return fmt.Sprintf("{url: %s, auth: {basic: {username: elastic, password: {env: FF_CMD_TEST_PW}}}}", u)
	}
	mainHost, _ := url.Parse(main.ESURL())
	yaml := fmt.Sprintf(`clusters:
  main:
    kibana: %s
    elasticsearch: %s
  remotes:
    - name: west
      kibana: %s
      elasticsearch: %s
      main_link: {alias: main, mode: proxy, proxy_address: %q}
outputs:
  - id: remote-west
    name: remote-west
    type: remote_elasticsearch
    remote: west
    hosts: [%q]
    secrets: {service_token: {generate: true}}
    sync_integrations: true
    kibana_url: %q
    kibana_api_key: {generate: true}
`, ep(main.KibanaURL()), ep(main.ESURL()), ep(west.KibanaURL()), ep(west.ESURL()), mainHost.Host, west.ESURL(), west.KibanaURL())
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(yaml+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, sim
}

// twoClusterDir is twoClusterRepo with nginx declared, applied and synced.
func twoClusterDir(t *testing.T) string {
	t.Helper()
	dir, sim := twoClusterRepo(t, "packages:\n  - {name: nginx, version: 2.0.0}\n")
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
	for range 2 {
		if err := sim.RunSyncOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestStatusAndRotateCommands(t *testing.T) {
	dir := twoClusterDir(t)
	ctx := t.Context()

	var out, errb bytes.Buffer
	if err := run(ctx, []string{"status", "-c", dir}, &out, &errb); err != nil {
		t.Fatalf("status: %v\n%s", err, errb.String())
	}
	for _, want := range []string{
		"output remote-west → remote west (sync via ccr)",
		"follower fleet-synced-integrations-ccr-remote-west: active",
		"nginx        2.0.0    completed  installed  installed",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status output lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	if err := run(ctx, []string{"status", "-c", dir, "--format", "json"}, &out, &errb); err != nil {
		t.Fatalf("status json: %v", err)
	}
	var js struct {
		Outputs []remote.OutputStatus `json:"outputs"`
	}
	if err := json.Unmarshal(out.Bytes(), &js); err != nil || len(js.Outputs) != 1 || js.Outputs[0].Integrations[0].SyncStatus != "completed" {
		t.Errorf("status json = %s (%v)", out.String(), err)
	}

	out.Reset()
	if err := run(ctx, []string{"rotate", "-c", dir, "--timeout", "0", "remote-west"}, &out, &errb); err != nil {
		t.Fatalf("rotate: %v\n%s", err, errb.String())
	}
	for _, want := range []string{
		"service_token of output remote-west on west: fleetform-remote-west-2 in use, fleetform-remote-west-1 revoked",
		"api_key of output remote-west on west: fleetform-remote-west-kibana-2 in use, fleetform-remote-west-kibana-1 revoked",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("rotate output lacks %q:\n%s", want, out.String())
		}
	}

	errb.Reset()
	err := run(ctx, []string{"rotate", "-c", dir, "no-such-output"}, &out, &errb)
	if exitCode(err) != 1 || !strings.Contains(errb.String(), "output no-such-output is not a declared remote_elasticsearch output") {
		t.Errorf("rotate of an unknown output: exit %d, stderr %q", exitCode(err), errb.String())
	}
}

// TestRotateCommand_UnhealthyKeepsOld: the output is used by agents and
// never reports healthy: rotate keeps the old credentials, says what to
// check and exits 1.
func TestRotateCommand_UnhealthyKeepsOld(t *testing.T) {
	dir, sim := twoClusterRepo(t, "")
	ctx := t.Context()
	doc, err := schema.LoadDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := remote.Connect(ctx, doc, remote.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Apply(ctx, doc, nil, reconciler.ApplyOptions{Revision: "test"}); err != nil {
		t.Fatal(err)
	}
	out := "remote-west"
	if err := sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": {
		AgentPolicies: []fleetsim.SeedAgentPolicy{{ID: "edge", Name: "Edge", Namespace: "default", DataOutputID: &out, Agents: 2}},
	}}}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = run(ctx, []string{"rotate", "-c", dir, "--timeout", "0", out}, &stdout, &stderr)
	if exitCode(err) != 1 {
		t.Fatalf("rotate of an unhealthy output with agents: exit %d (%v), want 1\n%s", exitCode(err), err, stderr.String())
	}
	for _, want := range []string{
		"service_token of output remote-west on west: fleetform-remote-west-2 in use, fleetform-remote-west-1 kept: the output did not report healthy and 2 agents use it",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("rotate output lacks %q:\n%s", want, stdout.String())
		}
	}
	for _, want := range []string{"GET /api/fleet/outputs/remote-west/health", "run fleetform rotate remote-west again (or apply) to revoke fleetform-remote-west-1"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("rotate stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	stdout.Reset()
	if err := run(ctx, []string{"status", "-c", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("status: %v", err)
	}
	if want := "service_token rotation: fleetform-remote-west-2 in use, fleetform-remote-west-1 kept valid until the output reports healthy"; !strings.Contains(stdout.String(), want) {
		t.Errorf("status lacks %q:\n%s", want, stdout.String())
	}
}
