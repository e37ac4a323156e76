package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/esim"
	"github.com/fleetform/fleetform/fleetsim/simhttp"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// simEnv is a fleetsim with a main cluster and remotes, and the document
// that points fleetform at them.
type simEnv struct {
	sim *fleetsim.Sim
	doc *schema.Document
	// undeclared remotes are running but left out of clusters.remotes.
	undeclared map[string]bool
}

const testPassword = "changeme"

func endpointYAML(u string) string {
	return fmt.Sprintf("{url: %s, auth: {basic: {username: elastic, password: {env: FF_REMOTE_TEST_PW}}}}", u)
}

// newSimEnv starts the clusters and loads body (outputs, packages, …)
// under a clusters: section generated from the sim's URLs. remotes lists
// the remote names; a remote whose name ends in "-nokibana" gets no kibana.
func newSimEnv(t *testing.T, clusters []fleetsim.ClusterConfig, body string) *simEnv {
	t.Helper()
	t.Setenv("FF_REMOTE_TEST_PW", testPassword)
	sim := fleetsim.StartTest(t, fleetsim.Options{}, clusters...)
	env := &simEnv{sim: sim}
	env.load(t, body)
	return env
}

func (env *simEnv) load(t *testing.T, body string) {
	t.Helper()
	main := env.sim.Cluster("main")
	var b strings.Builder
	fmt.Fprintf(&b, "clusters:\n  main:\n    kibana: %s\n    elasticsearch: %s\n", endpointYAML(main.KibanaURL()), endpointYAML(main.ESURL()))
	var remotes []string
	for _, c := range env.sim.Clusters() {
		if c.Name() != "main" && !env.undeclared[c.Name()] {
			remotes = append(remotes, c.Name())
		}
	}
	slices.Sort(remotes)
	if len(remotes) > 0 {
		b.WriteString("  remotes:\n")
	}
	mainHost := hostOf(main.ESURL())
	for _, name := range remotes {
		c := env.sim.Cluster(name)
		fmt.Fprintf(&b, "    - name: %s\n      elasticsearch: %s\n", name, endpointYAML(c.ESURL()))
		if !strings.HasSuffix(name, "-nokibana") {
			fmt.Fprintf(&b, "      kibana: %s\n", endpointYAML(c.KibanaURL()))
		}
		fmt.Fprintf(&b, "      main_link: {alias: main, mode: proxy, proxy_address: %q}\n", mainHost)
	}
	r := strings.NewReplacer("{{main}}", main.ESURL())
	for _, name := range remotes {
		c := env.sim.Cluster(name)
		r = strings.NewReplacer("{{main}}", main.ESURL(), "{{"+name+".es}}", c.ESURL(), "{{"+name+".kibana}}", c.KibanaURL())
		body = r.Replace(body)
	}
	b.WriteString(body)
	doc, err := schema.Load(t.Context(), fstest.MapFS{"fleet.yaml": {Data: []byte(b.String())}}, ".")
	if err != nil {
		t.Fatalf("load document: %v\n%s", err, b.String())
	}
	env.doc = doc
}

func hostOf(u string) string {
	p, _ := url.Parse(u)
	return p.Host
}

func (env *simEnv) connect(t *testing.T, opts ConnectOptions) *TwoCluster {
	t.Helper()
	tc, err := Connect(t.Context(), env.doc, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

func (env *simEnv) kibana(t *testing.T, cluster string) *kibana.Client {
	t.Helper()
	c, err := kibana.New(env.sim.Cluster(cluster).KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New(testPassword)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// es is a superuser client of a cluster's Elasticsearch, with the
// engine's own observation helpers as methods for the assertions.
func (env *simEnv) es(cluster string) testES {
	c, err := elastic.New(env.sim.Cluster(cluster).ESURL(), elastic.Auth{Username: "elastic", Password: secret.New(testPassword)})
	if err != nil {
		panic(err) // the URL comes from the sim
	}
	return testES{c}
}

type testES struct{ *elastic.Client }

func (e testES) ServiceTokens(ctx context.Context) ([]string, error) {
	return serviceTokens(ctx, e.Client)
}

func (e testES) Followers(ctx context.Context) (map[string]FollowerObserved, error) {
	return followers(ctx, e.Client)
}

func (e testES) Authenticate(ctx context.Context, authorization secret.Value) (int, error) {
	return authStatus(ctx, e.Client, authorization)
}

func (e testES) DeleteServiceToken(ctx context.Context, name string) error {
	return deleteServiceToken(ctx, e.Client, name)
}

func (e testES) PauseFollow(ctx context.Context, index string) error { return e.CCRPause(ctx, index) }

// installedOn returns name → version of installed packages on a cluster.
func (env *simEnv) installedOn(t *testing.T, cluster string) map[string]string {
	t.Helper()
	pkgs, err := env.kibana(t, cluster).ListPackages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range pkgs {
		if p.InstalledVersion != "" && cmpOr(p.InstallStatus, p.Status) == StatusInstalled {
			out[p.Name] = p.InstalledVersion
		}
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func mustApply(t *testing.T, tc *TwoCluster, doc *schema.Document) {
	t.Helper()
	if _, err := tc.Apply(t.Context(), doc, nil, applyOpts()); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

func mustPlan(t *testing.T, tc *TwoCluster, doc *schema.Document) *plan.Plan {
	t.Helper()
	p, err := tc.Plan(t.Context(), doc, "test")
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

func planText(p *plan.Plan) string {
	var b strings.Builder
	_ = plan.WriteText(&b, p)
	return b.String()
}

func findChange(p *plan.Plan, cluster, kind, id string) (plan.Change, bool) {
	for _, c := range p.Changes {
		if c.Cluster == cluster && c.Kind == kind && c.ID == id {
			return c, true
		}
	}
	return plan.Change{}, false
}

const ccrBody = `
outputs:
  - id: remote-west
    name: remote-west
    type: remote_elasticsearch
    remote: west
    hosts: ["{{west.es}}"]
    secrets:
      service_token: {generate: true}
    sync_integrations: true
    sync_uninstalled_integrations: true
    kibana_url: "{{west.kibana}}"
    kibana_api_key: {generate: true}
packages:
  - {name: nginx, version: 2.0.0}
`

func TestTwoCluster_CCR_ProvisionsEverythingThenPlansEmpty(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	tc := env.connect(t, ConnectOptions{})
	p := mustPlan(t, tc, env.doc)
	for _, want := range [][3]string{
		{"west", KindServiceToken, "fleetform-remote-west-1"},
		{"west", KindAPIKey, "fleetform-remote-west-kibana-1"},
		{"west", KindRemoteCluster, "main"},
		{"west", KindFollower, "fleet-synced-integrations-ccr-remote-west"},
		{"main", plan.KindOutput, "remote-west"},
	} {
		if _, ok := findChange(p, want[0], want[1], want[2]); !ok {
			t.Errorf("plan lacks %v:\n%s", want, planText(p))
		}
	}
	if s := p.Summary(); s.Blocked != 0 {
		t.Fatalf("blocked changes in a clean setup:\n%s", planText(p))
	}
	mustApply(t, tc, env.doc)
	if p2 := mustPlan(t, tc, env.doc); !p2.Empty() {
		t.Fatalf("second plan not empty:\n%s", planText(p2))
	}

	// The remote side exists and works.
	ctx := t.Context()
	west := env.es("west")
	tokens, err := west.ServiceTokens(ctx)
	if err != nil || !slices.Equal(tokens, []string{"fleetform-remote-west-1"}) {
		t.Errorf("west tokens = %v, %v", tokens, err)
	}
	out, err := env.kibana(t, "main").GetOutput(ctx, "remote-west")
	if err != nil {
		t.Fatal(err)
	}
	if out.SecretID("service_token") == "" && out["service_token"] == nil {
		t.Errorf("main output has no service token: %v", out)
	}
	fs, err := west.Followers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f := fs["fleet-synced-integrations-ccr-remote-west"]; !f.Follower || f.Status != "active" || f.LeaderIndex != LeaderIndex {
		t.Errorf("follower = %+v", f)
	}

	// Kibana's own sync task brings nginx to the remote.
	for range 2 {
		if err := env.sim.RunSyncOnce(ctx); err != nil {
			t.Fatalf("sync: %v", err)
		}
	}
	if v := env.installedOn(t, "west")["nginx"]; v != "2.0.0" {
		t.Errorf("nginx on west = %q after the sync task, want 2.0.0", v)
	}
	st, err := tc.Engine.Status(ctx, env.doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].Follower == nil || st[0].Follower.Status != "active" {
		t.Fatalf("status = %+v", st)
	}
	i := slices.IndexFunc(st[0].Integrations, func(s IntegrationStatus) bool { return s.PackageName == "nginx" })
	if i < 0 || st[0].Integrations[i].SyncStatus != SyncCompleted {
		t.Errorf("status integrations = %+v (error %q)", st[0].Integrations, st[0].Error)
	}
}

const directBody = `
outputs:
  - id: remote-west
    name: remote-west
    type: remote_elasticsearch
    remote: west
    hosts: ["{{west.es}}"]
    secrets:
      service_token: {generate: true}
    sync_integrations: true
    sync_uninstalled_integrations: %v
    sync_via: direct
    kibana_url: "{{west.kibana}}"
    kibana_api_key: {generate: true}
packages:
  - {name: nginx, version: 2.0.0}
`

func TestTwoCluster_DirectSyncWithoutCCR(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "basic"}, {Name: "west", License: "basic"}},
		fmt.Sprintf(directBody, true))
	tc := env.connect(t, ConnectOptions{})
	p := mustPlan(t, tc, env.doc)
	if s := p.Summary(); s.Blocked != 0 {
		t.Fatalf("blocked:\n%s", planText(p))
	}
	mustApply(t, tc, env.doc)
	if v := env.installedOn(t, "west")["nginx"]; v != "2.0.0" {
		t.Fatalf("nginx on west = %q, want 2.0.0 (direct sync)", v)
	}
	if fs, _ := env.es("west").Followers(t.Context()); len(fs) != 0 {
		t.Errorf("direct mode created followers: %v", fs)
	}
	if p2 := mustPlan(t, tc, env.doc); !p2.Empty() {
		t.Fatalf("second plan not empty:\n%s", planText(p2))
	}
	st, err := tc.Engine.Status(t.Context(), env.doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || len(st[0].Integrations) != 1 || st[0].Integrations[0].SyncStatus != SyncCompleted {
		t.Errorf("status = %+v", st)
	}
}

// TestTwoCluster_DirectUninstallRules covers every uninstall rule against
// fleetsim: nginx is installed on main and on west, fleetform applies once
// (and so sees nginx on main), then nginx is uninstalled on main.
func TestTwoCluster_DirectUninstallRules(t *testing.T) {
	agents := func(n int) *fleetsim.ClusterSeed {
		s := &fleetsim.ClusterSeed{
			AgentPolicies: []fleetsim.SeedAgentPolicy{{ID: "west-web", Name: "West web", Namespace: "default", Agents: n}},
		}
		pp := fleetsim.SeedPackagePolicy{Name: "nginx-west", PolicyIDs: []string{"west-web"}, Agents: n}
		pp.Package.Name, pp.Package.Version = "nginx", "2.0.0"
		s.PackagePolicies = []fleetsim.SeedPackagePolicy{pp}
		return s
	}
	tests := []struct {
		name            string
		syncUninstalled bool
		force           bool
		westSeed        *fleetsim.ClusterSeed
		westVersion     string // nginx version on west before the first apply ("" = synced by fleetform)
		skipFirstApply  bool   // fleetform never saw nginx on main
		wantAction      plan.Action
		wantReason      string
		wantWest        string // nginx version on west at the end
	}{
		{name: "allowed", syncUninstalled: true, wantAction: plan.Delete, wantReason: "same version 2.0.0", wantWest: ""},
		{name: "blocked by agents", syncUninstalled: true, force: true, westSeed: agents(3), wantAction: plan.Blocked,
			wantReason: "1 package policy on the remote is in use by 3 agent(s): nginx-west (3 agents)", wantWest: "2.0.0"},
		{name: "policies without agents need --force-uninstall", syncUninstalled: true, westSeed: agents(0),
			wantAction: plan.Blocked, wantReason: "--force-uninstall", wantWest: "2.0.0"},
		{name: "forced with policies without agents", syncUninstalled: true, force: true, westSeed: agents(0),
			wantAction: plan.Delete, wantReason: "Kibana silently deletes the package policies without agents on uninstall: nginx-west", wantWest: ""},
		{name: "version mismatch", syncUninstalled: true, westVersion: "2.1.0", wantWest: "2.1.0"},
		{name: "never seen", syncUninstalled: true, westVersion: "2.0.0", skipFirstApply: true, wantWest: "2.0.0"},
		{name: "flag off", syncUninstalled: false, wantWest: "2.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "basic"}, {Name: "west", License: "basic"}},
				fmt.Sprintf(directBody, tt.syncUninstalled))
			seed := &fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{
				"main": {Packages: []fleetsim.SeedPackage{{Name: "nginx", Version: "2.0.0"}}},
			}}
			west := tt.westSeed
			if west == nil {
				west = &fleetsim.ClusterSeed{}
			}
			if tt.westVersion != "" || tt.westSeed != nil {
				west.Packages = []fleetsim.SeedPackage{{Name: "nginx", Version: cmpOr(tt.westVersion, "2.0.0")}}
			}
			seed.Clusters["west"] = west
			if err := env.sim.Seed(seed); err != nil {
				t.Fatal(err)
			}
			tc := env.connect(t, ConnectOptions{ForceUninstall: tt.force})
			ctx := t.Context()
			if !tt.skipFirstApply {
				mustApply(t, tc, env.doc)
			}
			// nginx leaves main: out of the document, uninstalled by hand.
			env.load(t, strings.Replace(fmt.Sprintf(directBody, tt.syncUninstalled), "packages:\n  - {name: nginx, version: 2.0.0}\n", "", 1))
			if err := env.kibana(t, "main").UninstallPackage(ctx, "nginx", "2.0.0", false); err != nil {
				t.Fatal(err)
			}
			p := mustPlan(t, tc, env.doc)
			ch, found := findChange(p, "west", KindPackage, "nginx")
			switch {
			case tt.wantAction == "" && found:
				t.Fatalf("unexpected nginx change on west: %+v\n%s", ch, planText(p))
			case tt.wantAction != "" && !found:
				t.Fatalf("no nginx change on west:\n%s", planText(p))
			case found && (ch.Action != tt.wantAction || !strings.Contains(ch.Reason, tt.wantReason)):
				t.Errorf("change = %s %q, want %s containing %q", ch.Action, ch.Reason, tt.wantAction, tt.wantReason)
			}
			_, err := tc.Apply(ctx, env.doc, nil, applyOpts())
			if tt.wantAction == plan.Blocked {
				if err == nil {
					t.Error("apply with a blocked uninstall reported convergence")
				}
			} else if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if got := env.installedOn(t, "west")["nginx"]; got != tt.wantWest {
				t.Errorf("nginx on west = %q, want %q", got, tt.wantWest)
			}
		})
	}
}

func TestTwoCluster_Preflight(t *testing.T) {
	tests := []struct {
		name     string
		clusters []fleetsim.ClusterConfig
		body     string
		setup    func(t *testing.T, env *simEnv)
		want     string // "cluster kind id" of the blocked preflight change
		reason   string
	}{
		{
			name:     "remote licence too low for ccr",
			clusters: []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "platinum"}},
			body:     ccrBody, want: "west preflight remote-west/license",
			reason: `Remote sync integrations require at least an Enterprise license. (west licence is "platinum"`,
		},
		{
			name:     "per-policy output needs platinum",
			clusters: []fleetsim.ClusterConfig{{Name: "main", License: "basic"}, {Name: "west", License: "basic"}},
			body: fmt.Sprintf(directBody, true) + `agent_policies:
  - {id: p1, name: P1, namespace: default, data_output_id: remote-west}
`,
			want: "main preflight per-policy-output-license", reason: "Invalid licence to set per policy output, you need platinum licence",
		},
		{
			name:     "second follower on the remote",
			clusters: []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}},
			body:     ccrBody,
			setup: func(t *testing.T, env *simEnv) {
				if err := env.sim.Cluster("west").ES().CreateIndex("fleet-synced-integrations-ccr-other", nil); err != nil {
					t.Fatal(err)
				}
			},
			want: "west preflight remote-west/followers", reason: "Not supported to sync multiple indices with prefix fleet-synced-integrations-ccr-*",
		},
		{
			name:     "host mismatch: no remote kibana to create the matching output",
			clusters: []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west-nokibana", License: "enterprise"}},
			body: strings.Replace(strings.ReplaceAll(ccrBody, "west", "west-nokibana"),
				`kibana_url: "{{west-nokibana.kibana}}"`, `kibana_url: "http://127.0.0.1:1"`, 1),
			want: "west-nokibana preflight remote-west-nokibana/hosts", reason: "no elasticsearch output on the remote has one of the output's hosts",
		},
		{
			name:     "kibana_url unreachable",
			clusters: []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}},
			body: strings.Replace(strings.Replace(ccrBody, `kibana_url: "{{west.kibana}}"`, `kibana_url: "http://127.0.0.1:1"`, 1),
				"kibana_api_key: {generate: true}", "kibana_api_key: {env: FF_REMOTE_TEST_KEY}", 1),
			setup: func(t *testing.T, env *simEnv) { t.Setenv("FF_REMOTE_TEST_KEY", "aWQ6a2V5") },
			want:  "west preflight remote-west/kibana", reason: "kibana_url http://127.0.0.1:1 is unreachable",
		},
		{
			name:     "kibana API key lacking privileges",
			clusters: []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}},
			body:     strings.Replace(ccrBody, "kibana_api_key: {generate: true}", "kibana_api_key: {env: FF_REMOTE_TEST_KEY}", 1),
			setup: func(t *testing.T, env *simEnv) {
				_, key, err := env.es("west").CreateAPIKey(t.Context(), "no-kibana-privileges",
					map[string]elastic.RoleDescriptor{"none": {Cluster: []string{"monitor"}}}, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Setenv("FF_REMOTE_TEST_KEY", key.Reveal())
			},
			want: "west preflight remote-west/kibana", reason: "kibana_api_key lacks feature_fleet.read + feature_fleetv2.read",
		},
		{
			name:     "service token does not authenticate",
			clusters: []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}},
			body:     strings.Replace(ccrBody, "service_token: {generate: true}", "service_token: {env: FF_REMOTE_TEST_TOKEN}", 1),
			setup: func(t *testing.T, env *simEnv) {
				t.Setenv("FF_REMOTE_TEST_TOKEN", "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyLXJlbW90ZS9ib2d1czpib2d1cw")
			},
			want: "west preflight remote-west/service-token", reason: "the service token does not authenticate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newSimEnv(t, tt.clusters, tt.body)
			if tt.setup != nil {
				tt.setup(t, env)
			}
			tc := env.connect(t, ConnectOptions{})
			p := mustPlan(t, tc, env.doc)
			f := strings.Fields(tt.want)
			ch, ok := findChange(p, f[0], f[1], f[2])
			if !ok || ch.Action != plan.Blocked || !strings.Contains(ch.Reason, tt.reason) {
				t.Fatalf("want blocked %s with %q; plan:\n%s", tt.want, tt.reason, planText(p))
			}
			env.sim.ClearRequests()
			_, err := tc.Apply(t.Context(), env.doc, nil, applyOpts())
			if !errors.Is(err, ErrPreflight) {
				t.Fatalf("apply error = %v, want ErrPreflight", err)
			}
			for _, r := range env.sim.Requests() {
				if !esim.ReadOnly(r.Method, r.Path) {
					t.Errorf("apply wrote despite preflight problems: %s %s %s", r.Cluster, r.Method, r.Path)
				}
			}
		})
	}
}

// TestTwoCluster_RotationSurvivesFaults rotates the service token while a
// fault breaks one step, then reruns and checks the output converges on a
// working token and the old one is gone.
func TestTwoCluster_RotationSurvivesFaults(t *testing.T) {
	steps := []struct {
		name    string
		cluster string
		method  string
		path    string
	}{
		{"mint", "west", "POST", "/_security/service/elastic/fleet-server-remote/credential/token/*"},
		{"swap", "main", "PUT", "/api/fleet/outputs/*"},
		{"revoke", "west", "DELETE", "/_security/service/elastic/fleet-server-remote/credential/token/*"},
		{"journal", "main", "PUT", "/fleetform-state/_doc/**"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
			tc := env.connect(t, ConnectOptions{HealthTimeout: -1})
			mustApply(t, tc, env.doc)
			ctx := t.Context()
			if err := env.sim.AddFault(faultFor(st.cluster, st.method, st.path)); err != nil {
				t.Fatal(err)
			}
			if _, err := tc.Engine.Rotate(ctx, env.doc, "remote-west"); err == nil {
				t.Fatalf("rotation with a failing %s step succeeded", st.name)
			}
			env.sim.ClearFaults()
			checkOutputTokenWorks(t, env)
			if _, err := tc.Engine.Rotate(ctx, env.doc, "remote-west"); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			checkOutputTokenWorks(t, env)
			tokens, err := env.es("west").ServiceTokens(ctx)
			if err != nil || len(tokens) != 1 || tokens[0] == "fleetform-remote-west-1" {
				t.Errorf("tokens after rotation = %v, %v; want exactly one new token", tokens, err)
			}
			if p := mustPlan(t, tc, env.doc); !p.Empty() {
				t.Errorf("plan after rotation not empty:\n%s", planText(p))
			}
		})
	}
}

// checkOutputTokenWorks asserts the main output's service token
// authenticates against west as elastic/fleet-server-remote.
func checkOutputTokenWorks(t *testing.T, env *simEnv) {
	t.Helper()
	out, err := env.kibana(t, "main").GetOutput(t.Context(), "remote-west")
	if err != nil {
		t.Fatal(err)
	}
	value, _ := out["service_token"].(string)
	if id := out.SecretID("service_token"); id != "" {
		v, ok := env.sim.Cluster("main").ES().GetFleetSecret(id)
		if !ok {
			t.Fatalf("secret %s of the output does not exist", id)
		}
		value = v
	}
	if value == "" {
		t.Fatalf("output has no service token: %v", out)
	}
	status, err := env.es("west").Authenticate(t.Context(), secret.New("Bearer "+value))
	if err != nil || status != 200 {
		t.Fatalf("the output's token does not authenticate on west: %d %v", status, err)
	}
}

func applyOpts() reconciler.ApplyOptions { return reconciler.ApplyOptions{Revision: "test"} }

// faultFor fails every matching request with a 400, which no client retries.
func faultFor(cluster, method, path string) simhttp.Fault {
	return simhttp.Fault{Cluster: cluster, Method: method, PathPattern: path, Status: 400}
}

// TestExample_TwoCluster applies examples/two-cluster (its addresses moved
// to this test's fleetsim) and checks one apply converges and the sync task
// brings its integrations to west.
func TestExample_TwoCluster(t *testing.T) {
	sim, doc := loadExample(t, "../examples/two-cluster", "enterprise")
	env := &simEnv{sim: sim, doc: doc}
	tc := env.connect(t, ConnectOptions{})
	mustApply(t, tc, doc)
	if p := mustPlan(t, tc, doc); !p.Empty() {
		t.Fatalf("second plan not empty:\n%s", planText(p))
	}
	for range 2 {
		if err := sim.RunSyncOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	got := env.installedOn(t, "west")
	for _, p := range doc.Packages {
		if got[p.Name] != p.Version {
			t.Errorf("%s on west = %q, want %s", p.Name, got[p.Name], p.Version)
		}
	}
}

// TestThreeClusters provisions two remotes at once, west over CCR and east
// by direct sync, and checks one apply converges, a second plan is empty and
// the integration reaches both remotes, each by its own path.
func TestThreeClusters(t *testing.T) {
	body := ccrBody + `
  - id: remote-east
    name: remote-east
    type: remote_elasticsearch
    remote: east
    hosts: ["{{east.es}}"]
    secrets:
      service_token: {generate: true}
    sync_integrations: true
    sync_uninstalled_integrations: true
    sync_via: direct
    kibana_url: "{{east.kibana}}"
    kibana_api_key: {generate: true}
`
	// ccrBody ends with packages:, so move the new output above it.
	body = strings.Replace(body, "packages:\n  - {name: nginx, version: 2.0.0}\n", "", 1) + "packages:\n  - {name: nginx, version: 2.0.0}\n"
	env := newSimEnv(t, []fleetsim.ClusterConfig{
		{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}, {Name: "east", License: "basic"},
	}, body)
	tc := env.connect(t, ConnectOptions{})
	p := mustPlan(t, tc, env.doc)
	for _, want := range [][3]string{
		{"west", KindFollower, "fleet-synced-integrations-ccr-remote-west"},
		{"east", KindServiceToken, "fleetform-remote-east-1"},
		{"west", KindServiceToken, "fleetform-remote-west-1"},
	} {
		if _, ok := findChange(p, want[0], want[1], want[2]); !ok {
			t.Errorf("plan lacks %v:\n%s", want, planText(p))
		}
	}
	// Apply follows the plan on all three clusters (checked in order_test.go).
	log := &progressLog{}
	opts := applyOpts()
	opts.Progress = log.report
	if _, err := tc.Apply(t.Context(), env.doc, nil, opts); err != nil {
		t.Fatalf("apply: %v", err)
	}
	checkAppliedInPlanOrder(t, "three clusters", p, log)
	if p2 := mustPlan(t, tc, env.doc); !p2.Empty() {
		t.Fatalf("second plan not empty:\n%s", planText(p2))
	}
	if v := env.installedOn(t, "east")["nginx"]; v != "2.0.0" {
		t.Errorf("nginx on east (direct) = %q, want 2.0.0", v)
	}
	if fs, _ := env.es("east").Followers(t.Context()); len(fs) != 0 {
		t.Errorf("east (direct) got a follower: %v", fs)
	}
	for range 2 {
		if err := env.sim.RunSyncOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if v := env.installedOn(t, "west")["nginx"]; v != "2.0.0" {
		t.Errorf("nginx on west (ccr) = %q, want 2.0.0", v)
	}
}

// TestTwoCluster_TokenDeletedOnRemoteIsReminted: a generated token deleted
// on the remote is drift; the next apply mints a new one and swaps it in.
func TestTwoCluster_TokenDeletedOnRemoteIsReminted(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	tc := env.connect(t, ConnectOptions{})
	mustApply(t, tc, env.doc)
	if err := env.es("west").DeleteServiceToken(t.Context(), "fleetform-remote-west-1"); err != nil {
		t.Fatal(err)
	}
	p := mustPlan(t, tc, env.doc)
	ch, ok := findChange(p, "west", KindServiceToken, "fleetform-remote-west-2")
	if !ok || ch.Action != plan.Create || !strings.Contains(ch.Reason, "drift: fleetform-remote-west-1 was deleted on the remote") {
		t.Fatalf("plan:\n%s", planText(p))
	}
	mustApply(t, tc, env.doc)
	checkOutputTokenWorks(t, env)
	if p2 := mustPlan(t, tc, env.doc); !p2.Empty() {
		t.Fatalf("plan after re-mint not empty:\n%s", planText(p2))
	}
}

// TestTwoCluster_FollowerRepair: a paused follower is resumed, and one with
// the fatal "operations are no longer available" error is recreated.
func TestTwoCluster_FollowerRepair(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	tc := env.connect(t, ConnectOptions{})
	mustApply(t, tc, env.doc)
	const index = "fleet-synced-integrations-ccr-remote-west"
	if err := env.es("west").PauseFollow(t.Context(), index); err != nil {
		t.Fatal(err)
	}
	p := mustPlan(t, tc, env.doc)
	if ch, ok := findChange(p, "west", KindFollower, index); !ok || ch.Action != plan.Update || ch.Reason != "the follower is paused" {
		t.Fatalf("plan:\n%s", planText(p))
	}
	mustApply(t, tc, env.doc)
	fs, err := env.es("west").Followers(t.Context())
	if err != nil || fs[index].Status != "active" {
		t.Fatalf("follower after apply: %+v, %v", fs[index], err)
	}
	if p2 := mustPlan(t, tc, env.doc); !p2.Empty() {
		t.Fatalf("plan after resume not empty:\n%s", planText(p2))
	}

	if err := env.sim.Cluster("west").ES().FailFollower(index); err != nil {
		t.Fatal(err)
	}
	p = mustPlan(t, tc, env.doc)
	if ch, ok := findChange(p, "west", KindFollower, index); !ok || ch.Action != plan.Update ||
		!strings.HasPrefix(ch.Reason, "recreate: fatal replication error: Operations are no longer available for replicating") {
		t.Fatalf("plan:\n%s", planText(p))
	}
	mustApply(t, tc, env.doc)
	fs, err = env.es("west").Followers(t.Context())
	if err != nil || fs[index].Status != "active" || fs[index].FatalError != "" {
		t.Fatalf("follower after recreate: %+v, %v", fs[index], err)
	}
	if p2 := mustPlan(t, tc, env.doc); !p2.Empty() {
		t.Fatalf("plan after recreate not empty:\n%s", planText(p2))
	}
}

// TestTwoCluster_GeneratedSecretsNeverLeak applies and rotates with
// generated credentials and checks that neither value appears in the plan
// (text and JSON), the logs or the state index.
func TestTwoCluster_GeneratedSecretsNeverLeak(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	var logs strings.Builder
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tc, err := Connect(t.Context(), env.doc, ConnectOptions{Logger: log, HealthTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	var planOut strings.Builder
	p := mustPlan(t, tc, env.doc)
	_ = plan.WriteText(&planOut, p)
	_ = plan.WriteJSON(&planOut, p)
	res, err := tc.Apply(t.Context(), env.doc, nil, applyOpts())
	if err != nil {
		t.Fatal(err)
	}
	_ = plan.WriteJSON(&planOut, res.Plan)
	var values []string
	collect := func() {
		out, err := env.kibana(t, "main").GetOutput(t.Context(), "remote-west")
		if err != nil {
			t.Fatal(err)
		}
		if id := out.SecretID("service_token"); id != "" {
			v, _ := env.sim.Cluster("main").ES().GetFleetSecret(id)
			values = append(values, v)
		}
		if v, _ := out["service_token"].(string); v != "" {
			values = append(values, v)
		}
		if v, _ := out["kibana_api_key"].(string); v != "" {
			values = append(values, v)
		}
	}
	collect()
	if _, err := tc.Engine.Rotate(t.Context(), env.doc, "remote-west"); err != nil {
		t.Fatal(err)
	}
	collect()
	if len(values) != 4 {
		t.Fatalf("found %d credential values in the output, want 4 (token and key, before and after rotation)", len(values))
	}
	docs, err := env.sim.Cluster("main").ES().SearchDocs("fleetform-state", true)
	if err != nil {
		t.Fatal(err)
	}
	var state strings.Builder
	for _, d := range docs {
		state.Write(d.Source)
	}
	if state.Len() == 0 {
		t.Fatal("the state index is empty")
	}
	for _, v := range values {
		for where, text := range map[string]string{"plan": planOut.String(), "logs": logs.String(), "state index": state.String()} {
			if strings.Contains(text, v) {
				t.Errorf("a generated credential appears in the %s", where)
			}
		}
	}
}

// TestTwoCluster_DirectInstallRetriesWithBackoff: a failed direct install
// is reported failed and retried only after Kibana's backoff.
func TestTwoCluster_DirectInstallRetriesWithBackoff(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "basic"}, {Name: "west", License: "basic"}},
		fmt.Sprintf(directBody, true))
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tc := env.connect(t, ConnectOptions{Now: func() time.Time { return now }})
	if err := env.sim.AddFault(faultFor("west", "POST", "/api/fleet/epm/packages/**")); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Apply(t.Context(), env.doc, nil, applyOpts()); err == nil {
		t.Fatal("apply with a failing install on west converged")
	}
	env.sim.ClearFaults()
	if _, ok := findChange(mustPlan(t, tc, env.doc), "west", KindPackage, "nginx"); ok {
		t.Error("install retried before the 5-minute backoff")
	}
	st, err := tc.Engine.Status(t.Context(), env.doc)
	if err != nil {
		t.Fatal(err)
	}
	if got := st[0].Integrations; len(got) != 1 || got[0].SyncStatus != SyncFailed ||
		!strings.HasPrefix(got[0].Error, "Installation status: install_failed") {
		t.Errorf("status after a failed install = %+v", got)
	}
	now = now.Add(6 * time.Minute)
	p := mustPlan(t, tc, env.doc)
	if ch, ok := findChange(p, "west", KindPackage, "nginx"); !ok || !strings.Contains(ch.Reason, "attempt 2 of 5") {
		t.Fatalf("no retry after the backoff:\n%s", planText(p))
	}
	mustApply(t, tc, env.doc)
	if v := env.installedOn(t, "west")["nginx"]; v != "2.0.0" {
		t.Errorf("nginx on west = %q after the retry", v)
	}
	if p := mustPlan(t, tc, env.doc); !p.Empty() {
		t.Errorf("plan not empty after the retry:\n%s", planText(p))
	}
}

// TestTwoCluster_ApplyKilledAfterMint: a run that minted a token for a new
// output and died before creating it leaves a journal in phase swapping;
// the next apply rolls the orphan back, mints again and converges with one
// token.
func TestTwoCluster_ApplyKilledAfterMint(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	tc := env.connect(t, ConnectOptions{})
	if _, err := tc.Engine.Mint(t.Context(), "main", env.doc.Outputs[0], "secrets.service_token"); err != nil {
		t.Fatal(err)
	}
	p := mustPlan(t, tc, env.doc)
	if ch, ok := findChange(p, "west", KindServiceToken, "fleetform-remote-west-1"); !ok || ch.Action != plan.Update ||
		!strings.Contains(ch.Reason, "interrupted in phase swapping") {
		t.Fatalf("plan:\n%s", planText(p))
	}
	mustApply(t, tc, env.doc)
	checkOutputTokenWorks(t, env)
	tokens, err := env.es("west").ServiceTokens(t.Context())
	if err != nil || len(tokens) != 1 {
		t.Errorf("tokens = %v, %v; want exactly one", tokens, err)
	}
	if p := mustPlan(t, tc, env.doc); !p.Empty() {
		t.Errorf("plan not empty:\n%s", planText(p))
	}
}

// loadExample starts a main and a west fleetsim with licence license and
// loads the example in dir with its addresses moved to them.
func loadExample(t *testing.T, dir, license string) (*fleetsim.Sim, *schema.Document) {
	t.Helper()
	t.Setenv("MAIN_ELASTIC_PASSWORD", testPassword)
	t.Setenv("WEST_ELASTIC_PASSWORD", testPassword)
	sim := fleetsim.StartTest(t, fleetsim.Options{},
		fleetsim.ClusterConfig{Name: "main", License: license}, fleetsim.ClusterConfig{Name: "west", License: license})
	doc, err := schema.LoadDir(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	main, west := sim.Cluster("main"), sim.Cluster("west")
	move := strings.NewReplacer(
		"http://127.0.0.1:5601", main.KibanaURL(), "http://127.0.0.1:9200", main.ESURL(), "127.0.0.1:9200", hostOf(main.ESURL()),
		"http://127.0.0.1:5602", west.KibanaURL(), "http://127.0.0.1:9201", west.ESURL())
	doc.Clusters.Main.Kibana.URL = move.Replace(doc.Clusters.Main.Kibana.URL)
	doc.Clusters.Main.Elasticsearch.URL = move.Replace(doc.Clusters.Main.Elasticsearch.URL)
	for i := range doc.Clusters.Remotes {
		r := &doc.Clusters.Remotes[i]
		r.Elasticsearch.URL = move.Replace(r.Elasticsearch.URL)
		if r.Kibana != nil {
			r.Kibana.URL = move.Replace(r.Kibana.URL)
		}
		if r.MainLink != nil {
			r.MainLink.ProxyAddress = move.Replace(r.MainLink.ProxyAddress)
		}
	}
	for i := range doc.Outputs {
		o := &doc.Outputs[i]
		o.KibanaURL = move.Replace(o.KibanaURL)
		for j := range o.Hosts {
			o.Hosts[j] = move.Replace(o.Hosts[j])
		}
	}
	return sim, doc
}
