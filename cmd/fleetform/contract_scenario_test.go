package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/internal/contract"
)

// TestContract_EveryCommandSendsWhatKibanaAccepts runs plan, apply, status,
// rotate and apply --prune of a two-cluster repository with direct sync
// through the CLI, records every request fleetform sends to either Kibana,
// and validates method, path, query and body against Kibana's OpenAPI
// contract (internal/contract, with the 9.1+ remote-sync extensions).
// serve is covered by this package's TestMain, which checks the requests of
// every test here (the serve tests included) the same way.
//
// It also pins issue 9 item 1 at the request level: nginx 2.0.0 is below
// the registry's latest 2.1.0, so Kibana's services/epm/packages/install.ts
// refuses it without force ("nginx-2.0.0 is out-of-date and cannot be
// installed or updated"): the plan says it installs with force, and both
// the main install and the direct-sync install on west send force: true.
func TestContract_EveryCommandSendsWhatKibanaAccepts(t *testing.T) {
	spec := contract.Require(t)
	rec, done := contract.Install()
	defer done()
	t.Setenv("FF_CONTRACT_PW", "changeme")
	sim := fleetsim.StartTest(t, fleetsim.Options{},
		fleetsim.ClusterConfig{Name: "main", License: "enterprise"}, fleetsim.ClusterConfig{Name: "west", License: "enterprise"})
	main, west := sim.Cluster("main"), sim.Cluster("west")
	ep := func(u string) string {
		return fmt.Sprintf("{url: %s, auth: {basic: {username: elastic, password: {env: FF_CONTRACT_PW}}}}", u)
	}
	clusters := fmt.Sprintf(`clusters:
  main:
    kibana: %s
    elasticsearch: %s
  remotes:
    - name: west
      kibana: %s
      elasticsearch: %s
`, ep(main.KibanaURL()), ep(main.ESURL()), ep(west.KibanaURL()), ep(west.ESURL()))
	header := clusters + fmt.Sprintf(`outputs:
  - id: remote-west
    name: remote-west
    type: remote_elasticsearch
    remote: west
    hosts: [%q]
    secrets: {service_token: {generate: true}}
    sync_integrations: true
    sync_uninstalled_integrations: true
    sync_via: direct
    kibana_url: %q
    kibana_api_key: {generate: true}
`, west.ESURL(), west.KibanaURL())
	full := header + `agent_policies:
  - {id: west-servers, name: West servers, namespace: default, data_output_id: remote-west}
packages:
  - {name: nginx, version: 2.0.0}
`
	dir := t.TempDir()
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(full)
	cli := func(want int, args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, args...)
		if code != want {
			t.Fatalf("fleetform %s: exit %d, want %d\n%s\n%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out
	}

	out := cli(2, "plan", "-c", dir, "--detailed-exitcode")
	if !strings.Contains(out, "pinned below latest 2.1.0: installed with force") {
		t.Errorf("plan does not say nginx 2.0.0 installs with force:\n%s", out)
	}
	cli(0, "apply", "-c", dir)
	cli(0, "apply", "-c", dir) // direct sync installs on west once main has nginx
	cli(0, "status", "-c", dir)
	cli(0, "rotate", "-c", dir, "--timeout", "0", "remote-west")
	write(header)
	cli(0, "apply", "-c", dir, "--prune")
	write(clusters)
	cli(0, "apply", "-c", dir, "--prune")

	reqs := rec.Requests()
	contract.CheckKibana(t, reqs)

	// The installs of nginx 2.0.0, on main and on west, carry force: true.
	host := func(u string) string { p, _ := url.Parse(u); return p.Host }
	forced := map[string]bool{}
	for _, r := range reqs {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/api/fleet/epm/packages/nginx/2.0.0") {
			var body struct {
				Force bool `json:"force"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatalf("install body %q: %v", r.Body, err)
			}
			forced[r.Host] = forced[r.Host] || body.Force
			if !body.Force {
				t.Errorf("install of nginx 2.0.0 on %s sent force: false; Kibana refuses it as out-of-date", r.Host)
			}
		}
	}
	for name, u := range map[string]string{"main": main.KibanaURL(), "west": west.KibanaURL()} {
		if !forced[host(u)] {
			t.Errorf("no forced install of nginx 2.0.0 on %s", name)
		}
	}

	// The scenario reaches every kind of request the commands make.
	routes := spec.Routes(reqs)
	for _, want := range []string{
		"GET /api/status",
		"GET /api/fleet/outputs",
		"POST /api/fleet/outputs",
		"PUT /api/fleet/outputs/{outputId}",
		"DELETE /api/fleet/outputs/{outputId}",
		"GET /api/fleet/agent_policies",
		"POST /api/fleet/agent_policies",
		"POST /api/fleet/agent_policies/delete",
		"GET /api/fleet/epm/packages",
		"POST /api/fleet/epm/packages/{pkgName}/{pkgVersion}",
		"DELETE /api/fleet/epm/packages/{pkgName}/{pkgVersion}",
	} {
		if !slices.Contains(routes, want) {
			t.Errorf("the scenario never sent %s (sent: %s)", want, strings.Join(routes, ", "))
		}
	}
}
