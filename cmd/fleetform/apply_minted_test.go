package main

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
)

// TestApply_TwoClusterMintedCredentialLinesMatchPlan: on a first
// two-cluster apply, the per-change lines report the generated service
// token and API key as the plan announced them (created), not as the update
// that finishes their rotation journal after the main apply.
func TestApply_TwoClusterMintedCredentialLinesMatchPlan(t *testing.T) {
	t.Setenv("FF_CMD_MINT_PW", "changeme")
	sim := fleetsim.StartTest(t, fleetsim.Options{},
		fleetsim.ClusterConfig{Name: "main", License: "enterprise"}, fleetsim.ClusterConfig{Name: "west", License: "enterprise"})
	main, west := sim.Cluster("main"), sim.Cluster("west")
	ep := func(u string) string {
		return fmt.Sprintf("{url: %s, auth: {basic: {username: elastic, password: {env: FF_CMD_MINT_PW}}}}", u)
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
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"plan", "-c", dir}, &out, &errb); err != nil {
		t.Fatalf("plan: %v\n%s", err, errb.String())
	}
	for _, want := range []string{`service_token "fleetform-remote-west-1" will be created`, `api_key "fleetform-remote-west-kibana-1" will be created`} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("plan lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run(t.Context(), []string{"apply", "-c", dir}, &out, &errb); err != nil {
		t.Fatalf("apply: %v\n%s\n%s", err, out.String(), errb.String())
	}
	for _, want := range []string{`west: create service_token "fleetform-remote-west-1": applied`, `west: create api_key "fleetform-remote-west-kibana-1": applied`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("apply output lacks %q:\n%s", want, out.String())
		}
	}
	for _, bad := range []string{`update service_token`, `update api_key`} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("apply output reports %q, which the plan did not announce:\n%s", bad, out.String())
		}
	}
}
