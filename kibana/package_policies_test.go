package kibana_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
)

// Integration-policy calls against fleetsim, whose rules follow
// FLEET/server/routes/package_policy/handlers.ts and
// FLEET/common/services/simplified_package_policy_helper.ts in elastic/kibana.

func TestFleetsim_IntegrationPolicyLifecycle(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{}, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on"})
	c := simClient(t, sim, "main", &waits{})
	ctx := context.Background()
	if _, err := c.CreateAgentPolicy(ctx, map[string]any{"id": "p1", "name": "P1", "namespace": "default"}); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{
		"name": "nginx-edge", "namespace": "default", "policy_ids": []string{"p1"},
		"package": map[string]any{"name": "nginx", "version": "2.1.0"},
		"inputs": map[string]any{
			"nginx-logfile":  map[string]any{"streams": map[string]any{"nginx.access": map[string]any{"vars": map[string]any{"paths": []string{"/srv/access.log"}}}}},
			"nginx-httpjson": map[string]any{"enabled": false, "vars": map[string]any{"password": "s3cret"}},
		},
	}
	created, err := c.CreateIntegrationPolicy(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	paths := created.Inputs["nginx-logfile"].Streams["nginx.access"].Vars["paths"]
	if fmt.Sprint(paths) != "[/srv/access.log]" || created.Package.Name != "nginx" || created.Revision != 1 {
		t.Fatalf("created = %+v", created)
	}
	if len(created.SecretReferences) != 1 || strings.Contains(fmt.Sprint(created.Raw), "s3cret") {
		t.Errorf("secret var: refs %v raw %v", created.SecretReferences, created.Raw)
	}
	body["description"] = "edge proxies"
	updated, err := c.UpdateIntegrationPolicy(ctx, created.ID, body)
	if err != nil {
		t.Fatal(err)
	}
	if updated.Revision != 2 || updated.Description == nil || *updated.Description != "edge proxies" {
		t.Errorf("updated = %+v", updated)
	}
	_, err = c.CreateIntegrationPolicy(ctx, body)
	if !kibana.IsConflict(err) || !strings.Contains(err.Error(), "An integration policy with the name nginx-edge already exists.") {
		t.Errorf("second create: %v", err)
	}
	if err := c.DeleteIntegrationPolicy(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteIntegrationPolicy(ctx, created.ID); err != nil {
		t.Errorf("a second delete is idempotent in Kibana: %v", err)
	}
	if _, err := c.GetIntegrationPolicy(ctx, created.ID); !kibana.IsNotFound(err) {
		t.Errorf("get deleted: %v", err)
	}
}

func TestFleetsim_IntegrationPolicyPaging(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	seed := &fleetsim.ClusterSeed{AgentPolicies: []fleetsim.SeedAgentPolicy{{ID: "p", Name: "P", Namespace: "default"}}}
	for i := range 4000 {
		pp := fleetsim.SeedPackagePolicy{ID: fmt.Sprintf("pp%04d", i), Name: fmt.Sprintf("pp %d", i), PolicyIDs: []string{"p"}}
		pp.Package.Name, pp.Package.Version = "nginx", "2.1.0"
		seed.PackagePolicies = append(seed.PackagePolicies, pp)
	}
	if err := sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": seed}}); err != nil {
		t.Fatal(err)
	}
	c := simClient(t, sim, "main", &waits{})
	sim.ClearRequests()
	pps, err := c.ListIntegrationPolicies(context.Background(), kibana.IntegrationPolicyListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pps) != 4000 {
		t.Errorf("got %d policies", len(pps))
	}
	if reqs := kibanaRequests(sim); len(reqs) != 4 {
		t.Errorf("requests = %v, want 4 pages of 1000", reqs)
	}
}

func TestFleetsim_SettingsKindsLifecycle(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{}, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on"})
	c := simClient(t, sim, "main", &waits{})
	ctx := context.Background()

	px, err := c.CreateProxy(ctx, map[string]any{"id": "corp", "name": "corp", "url": "http://proxy.corp:3128", "certificate_key": "-----BEGIN KEY-----"})
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(px); strings.Contains(s, "BEGIN KEY") {
		t.Errorf("proxy prints its key: %s", s)
	}
	fsh, err := c.CreateFleetServerHost(ctx, map[string]any{"id": "fs", "name": "fs", "host_urls": []string{"https://fs.corp:8220"},
		"is_default": true, "proxy_id": "corp", "secrets": map[string]any{"ssl": map[string]any{"key": "PRIVATE"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !fsh.IsDefault() || strings.Contains(fmt.Sprint(fsh), "PRIVATE") {
		t.Errorf("fleet server host = %v", fsh)
	}
	ds, err := c.CreateDownloadSource(ctx, map[string]any{"id": "mirror", "name": "mirror", "host": "https://mirror.corp/", "proxy_id": "corp"})
	if err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]func() (int, error){
		"proxies":            func() (int, error) { l, err := c.ListProxies(ctx); return len(l), err },
		"fleet server hosts": func() (int, error) { l, err := c.ListFleetServerHosts(ctx); return len(l), err },
		"download sources":   func() (int, error) { l, err := c.ListDownloadSources(ctx); return len(l), err },
	} {
		got, err := n()
		want := 1
		if name == "download sources" {
			want = 2 // and Kibana's default
		}
		if err != nil || got != want {
			t.Errorf("list %s: %d, %v; want %d", name, got, err, want)
		}
	}
	if _, err := c.UpdateProxy(ctx, px.ID(), map[string]any{"name": "corp2", "url": "http://proxy2.corp:3128"}); err != nil {
		t.Fatal(err)
	}
	err = c.DeleteFleetServerHost(ctx, fsh.ID())
	if kibana.StatusCode(err) != 403 || !strings.Contains(err.Error(), "Default Fleet Server hosts fs cannot be deleted.") {
		t.Errorf("delete default host: %v", err)
	}
	if err := c.DeleteProxy(ctx, px.ID()); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetDownloadSource(ctx, ds.ID())
	if err != nil || got["proxy_id"] != nil {
		t.Errorf("download source after its proxy went: %v %v", got, err)
	}
	if err := c.DeleteDownloadSource(ctx, ds.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetProxy(ctx, px.ID()); !kibana.IsNotFound(err) {
		t.Errorf("get deleted proxy: %v", err)
	}
}

// A list keeps each policy's inputs and vars as JSON until asked for them.
func TestIntegrationPolicy_ListDecodesInputsOnDemand(t *testing.T) {
	const item = `{"id":"p","name":"n","namespace":"default","revision":2,"supports_agentless":true,
	  "package":{"name":"nginx","version":"2.1.0"},"policy_ids":["a"],"output_id":null,
	  "vars":{"v":1},"inputs":{"nginx-logfile":{"enabled":true,"streams":{"nginx.access":{"enabled":false,"vars":{"paths":["/x"]}}}}},
	  "secret_references":[{"id":"s1"}]}`
	var p kibana.IntegrationPolicy
	if err := json.Unmarshal([]byte(item), &p); err != nil {
		t.Fatal(err)
	}
	if p.Inputs != nil || p.Vars != nil || p.Raw["supports_agentless"] != true || p.Revision != 2 || p.OutputID != nil || fmt.Sprint(p.SecretReferences) != "[s1]" {
		t.Fatalf("decoded = %+v", p)
	}
	in, ok, err := p.Input("nginx-logfile")
	if err != nil || !ok || *in.Streams["nginx.access"].Enabled || fmt.Sprint(in.Streams["nginx.access"].Vars["paths"]) != "[/x]" {
		t.Fatalf("Input = %+v %v %v", in, ok, err)
	}
	if _, ok, _ := p.Input("nginx-httpjson"); ok {
		t.Error("an absent input was found")
	}
	if names := p.InputNames(); fmt.Sprint(names) != "[nginx-logfile]" {
		t.Errorf("InputNames = %v", names)
	}
	if err := p.Decode(); err != nil || p.Vars["v"] != float64(1) || p.Inputs["nginx-logfile"].Enabled == nil || p.Raw["inputs"] == nil {
		t.Errorf("Decode: %v %+v", err, p)
	}
}
