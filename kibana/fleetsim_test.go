package kibana_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/simhttp"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/kibana/retry"
	"github.com/fleetform/fleetform/secret"
)

// Integration tests against the in-process simulator (fleetsim), which
// follows Kibana's documented behaviour: they check that the client and
// Kibana's rules meet, not just the client against a fake of its own.

type waits struct {
	mu sync.Mutex
	n  int
}

func (w *waits) sleep(context.Context, time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	return nil
}

func simClient(t *testing.T, sim *fleetsim.Sim, cluster string, w *waits) *kibana.Client {
	t.Helper()
	c, err := kibana.New(sim.Cluster(cluster).KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("changeme")},
		kibana.WithRetryPolicy(retry.Policy{Attempts: 5, Base: time.Millisecond, Max: time.Second, Sleep: w.sleep}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func kibanaRequests(sim *fleetsim.Sim) []string {
	var out []string
	for _, r := range sim.Requests() {
		if r.Listener == "kibana" {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func TestFleetsim_OutputLifecycle(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{}, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on"})
	c := simClient(t, sim, "main", &waits{})
	ctx := context.Background()

	outs, err := c.ListOutputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 || outs[0].ID() != "fleet-default-output" || !outs[0].IsDefault() {
		t.Fatalf("initial outputs = %v", outs)
	}

	const token = "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyLXJlbW90ZS90b2tlbi10ZXN0"
	created, err := c.CreateOutput(ctx, map[string]any{
		"id": "remote-west", "name": "remote-west", "type": "remote_elasticsearch",
		"hosts": []string{"https://es.west.example"}, "secrets": map[string]any{"service_token": token},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID() != "remote-west" || created.SecretID("service_token") == "" {
		t.Fatalf("created = %v", created)
	}
	if b, _ := json.Marshal(created); strings.Contains(string(b), token) {
		t.Error("Kibana returned the token value instead of a reference")
	}
	got, err := c.GetOutput(ctx, "remote-west")
	if err != nil {
		t.Fatal(err)
	}
	if hosts, _ := got["hosts"].([]any); len(hosts) != 1 || hosts[0] != "https://es.west.example:443" {
		t.Errorf("hosts = %v, want Kibana's normalised form with :443", got["hosts"])
	}

	_, err = c.CreateOutput(ctx, map[string]any{"id": "remote-west", "name": "again", "type": "elasticsearch", "hosts": []string{"https://x"}})
	if !kibana.IsConflict(err) {
		t.Errorf("second create: err = %v, want a 409", err)
	}

	if _, err := c.UpdateOutput(ctx, "remote-west", map[string]any{"name": "West", "secrets": map[string]any{"service_token": map[string]any{"id": created.SecretID("service_token")}}}); err != nil {
		t.Fatal(err)
	}

	err = c.DeleteOutput(ctx, "fleet-default-output")
	var ae *kibana.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Message != "Default output fleet-default-output cannot be deleted." {
		t.Errorf("delete default: %v", err)
	}
	if err := c.DeleteOutput(ctx, "remote-west"); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetOutput(ctx, "remote-west")
	if !kibana.IsNotFound(err) || err.Error() != "GET /api/fleet/outputs/remote-west: 404 Not Found: Output remote-west not found" {
		t.Errorf("get deleted: %v", err)
	}
}

func TestFleetsim_AgentPolicyPaging(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	seed := &fleetsim.ClusterSeed{}
	for i := range 2000 {
		seed.AgentPolicies = append(seed.AgentPolicies, fleetsim.SeedAgentPolicy{ID: fmt.Sprintf("p%04d", i), Name: fmt.Sprintf("Policy %d", i), Namespace: "default"})
	}
	if err := sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": seed}}); err != nil {
		t.Fatal(err)
	}
	c := simClient(t, sim, "main", &waits{})
	sim.ClearRequests()
	pols, err := c.ListAgentPolicies(context.Background(), kibana.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(pols))
	for _, p := range pols {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != 2000 {
		t.Errorf("got %d distinct policies, want 2000", len(ids))
	}
	if reqs := kibanaRequests(sim); len(reqs) != 2 {
		t.Errorf("requests = %v, want 2 pages", reqs)
	}

	sim.ClearRequests()
	withAgents, err := c.ListAgentPolicies(context.Background(), kibana.ListOptions{WithAgentCount: true, Kuery: `ingest-agent-policies.name:"Policy 7"`})
	if err != nil {
		t.Fatal(err)
	}
	if len(withAgents) != 1 || withAgents[0].ID != "p0007" {
		t.Errorf("kuery result = %v", withAgents)
	}
}

func TestFleetsim_Packages(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	c := simClient(t, sim, "main", &waits{})
	ctx := context.Background()
	all, err := c.ListPackages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var nginx *kibana.Package
	for i := range all {
		if all[i].Name == "nginx" {
			nginx = &all[i]
		}
	}
	if nginx == nil || nginx.InstalledVersion != "" {
		t.Fatalf("nginx in the registry list = %+v", nginx)
	}
	if err := c.InstallPackage(ctx, "nginx", nginx.Version, false); err != nil {
		t.Fatal(err)
	}
	installed, err := c.ListInstalledPackages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(installed, func(p kibana.InstalledPackage) bool {
		return p.Name == "nginx" && p.Version == nginx.Version && p.Status == "installed"
	}) {
		t.Errorf("installed = %+v", installed)
	}
	if err := c.UninstallPackage(ctx, "nginx", nginx.Version, false); err != nil {
		t.Fatal(err)
	}
	err = c.UninstallPackage(ctx, "nginx", nginx.Version, false)
	if kibana.StatusCode(err) != 400 || !strings.HasSuffix(err.Error(), "nginx is not installed") {
		t.Errorf("second uninstall: %v", err)
	}
}

func TestFleetsim_RetriesInjectedFaults(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	w := &waits{}
	c := simClient(t, sim, "main", w)
	ctx := context.Background()
	if err := sim.AddFault(simhttp.Fault{Method: "GET", PathPattern: "/api/fleet/outputs", Status: 503, Count: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListOutputs(ctx); err != nil {
		t.Fatalf("ListOutputs through two 503s: %v", err)
	}
	if w.n != 2 {
		t.Errorf("waits = %d, want 2", w.n)
	}
	sim.ClearFaults()
	if err := sim.AddFault(simhttp.Fault{Method: "POST", PathPattern: "/api/fleet/outputs", Reset: true, Count: 1}); err != nil {
		t.Fatal(err)
	}
	sim.ClearRequests()
	_, err := c.CreateOutput(ctx, map[string]any{"id": "o1", "name": "o1", "type": "elasticsearch", "hosts": []string{"https://a"}})
	var te *kibana.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("create through a reset: err = %v, want a transport error and no second POST", err)
	}
	if reqs := kibanaRequests(sim); len(reqs) != 1 {
		t.Errorf("requests = %v, want exactly one POST", reqs)
	}
}

func TestFleetsim_ServiceTokenAndAuth(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	c := simClient(t, sim, "main", &waits{})
	ctx := context.Background()
	name, v, err := c.CreateServiceToken(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(name, "token-") || v.IsZero() {
		t.Errorf("token %q empty=%v", name, v.IsZero())
	}
	p, err := sim.Cluster("main").ES().Authenticate("Bearer " + v.Reveal())
	if err != nil || p.ServiceAccount != "elastic/fleet-server-remote" {
		t.Errorf("token authenticates as %+v, %v", p, err)
	}

	bad, err := kibana.New(sim.Cluster("main").KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("wrong-password")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.ListOutputs(ctx)
	if kibana.StatusCode(err) != 401 || strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("bad credentials: %v", err)
	}
}

func TestFleetsim_StatusCalls(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	c := simClient(t, sim, "main", &waits{})
	ctx := context.Background()
	if err := c.Setup(ctx); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	h, err := c.OutputHealth(ctx, "fleet-default-output")
	if err != nil || h.State == "" {
		t.Errorf("OutputHealth = %+v, %v", h, err)
	}
	_, err = c.RemoteStatus(ctx, "fleet-default-output")
	var ae *kibana.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Message != "Output fleet-default-output is not a remote elasticsearch output" {
		t.Errorf("RemoteStatus of an ES output: %v", err)
	}
	st, err := c.RemoteSyncedStatus(ctx)
	if err != nil || len(st.Integrations) != 0 || st.Error == "" {
		t.Errorf("RemoteSyncedStatus without a follower = %+v, %v; want 200 with an error message", st, err)
	}
}

// TestFleetsim_ReadsSurviveFaults reads through 30% injected 503s, 429s and
// connection resets: every call must still succeed, thanks to retries alone.
func TestFleetsim_ReadsSurviveFaults(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	w := &waits{}
	c, err := kibana.New(sim.Cluster("main").KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("changeme")},
		kibana.WithRetryPolicy(retry.Policy{Attempts: 12, Base: time.Millisecond, Max: time.Second, Sleep: w.sleep}))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []simhttp.Fault{
		{Listener: "kibana", Status: 503, Rate: 0.1},
		{Listener: "kibana", Status: 429, Rate: 0.1},
		{Listener: "kibana", Reset: true, Rate: 0.1},
	} {
		if err := sim.AddFault(f); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	for i := range 100 {
		if _, err := c.ListOutputs(ctx); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if _, err := c.ListAgentPolicies(ctx, kibana.ListOptions{}); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if w.n == 0 {
		t.Error("no retries happened: the faults were not injected")
	}
}
