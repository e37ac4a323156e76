package remote

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/esim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/secret"
)

// pruneBody declares remote-west (CCR sync, generated token and API key:
// everything fleetform provisions) and backup-west, a second output on the
// same remote with only a generated token, which must survive the prune.
const pruneBody = `
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
  - id: backup-west
    name: backup-west
    type: remote_elasticsearch
    remote: west
    hosts: ["{{west.es}}"]
    secrets:
      service_token: {generate: true}
packages:
  - {name: nginx, version: 2.0.0}
`

// withoutOutput is pruneBody without remote-west.
const withoutOutput = `
outputs:
  - id: backup-west
    name: backup-west
    type: remote_elasticsearch
    remote: west
    hosts: ["{{west.es}}"]
    secrets:
      service_token: {generate: true}
packages:
  - {name: nginx, version: 2.0.0}
`

// writes are the requests of the log that change something (searches of
// the state index are reads).
func writes(rs []fleetsim.Request) []string {
	var out []string
	for _, r := range rs {
		if esim.ReadOnly(r.Method, r.Path) {
			continue
		}
		out = append(out, r.Cluster+" "+r.Listener+" "+r.Method+" "+r.Path)
	}
	slices.Sort(out)
	return out
}

func TestTwoCluster_Prune_RemovesExactlyTheOwnedRemoteObjects(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, pruneBody)
	ctx := t.Context()
	// West's default output points elsewhere, so fleetform creates (and
	// owns) the elasticsearch output the sync needs on west.
	if _, err := env.kibana(t, "west").UpdateOutput(ctx, "fleet-default-output", map[string]any{"hosts": []string{"https://west-ingest.example:9200"}}); err != nil {
		t.Fatal(err)
	}
	mustApply(t, env.connect(t, ConnectOptions{}), env.doc)
	if p := mustPlan(t, env.connect(t, ConnectOptions{}), env.doc); !p.Empty() {
		t.Fatalf("plan after the first apply is not empty:\n%s", planText(p))
	}
	const follower = "fleet-synced-integrations-ccr-remote-west"
	if fs, err := env.es("west").Followers(ctx); err != nil || !fs[follower].Follower {
		t.Fatalf("setup: follower %s missing: %v %v", follower, fs, err)
	}

	env.load(t, withoutOutput)

	// Without --prune: nothing is deleted, the plan says what would be.
	tc := env.connect(t, ConnectOptions{})
	p := mustPlan(t, tc, env.doc)
	for _, c := range p.Changes {
		if c.Action == plan.Delete {
			t.Errorf("plan without --prune deletes %s", c.Key())
		}
	}
	warned := strings.Join(p.Warnings, "\n")
	for _, want := range []string{follower, "fleetform-sync-remote-west", "fleetform-remote-west-1", "fleetform-remote-west-kibana-1", `remote_cluster "main"`} {
		if !strings.Contains(warned, want) {
			t.Errorf("plan without --prune does not warn about %s; warnings:\n%s", want, warned)
		}
	}
	env.sim.ClearRequests()
	if _, err := tc.Apply(ctx, env.doc, nil, applyOpts()); err != nil {
		t.Fatalf("apply without --prune: %v", err)
	}
	if w := writes(env.sim.Requests()); len(w) != 0 {
		t.Errorf("apply without --prune wrote:\n%s", strings.Join(w, "\n"))
	}

	// With --prune: the plan shows the deletes grouped by cluster, main first.
	tc = env.connect(t, ConnectOptions{Prune: true})
	p = mustPlan(t, tc, env.doc)
	var got []string
	for _, c := range p.Changes {
		got = append(got, c.Cluster+" "+string(c.Action)+" "+c.Kind+" "+c.ID)
	}
	// plan.Sort's order is the apply order: by cluster, then on each
	// remote in reverse dependency order (see prune.go): the follower, the
	// credentials, the remote's output, the link it replicated through.
	want := []string{
		"main delete output remote-west",
		"west delete follower_index " + follower,
		"west delete api_key fleetform-remote-west-kibana-1",
		"west delete service_token fleetform-remote-west-1",
		"west delete output fleetform-sync-remote-west",
		"west delete remote_cluster main",
	}
	if !slices.Equal(got, want) {
		t.Errorf("plan with --prune:\n got %q\nwant %q\n%s", got, want, planText(p))
	}
	if c, _ := findChange(p, "west", KindRemoteCluster, "main"); !slices.Contains(c.DependsOn, plan.Key("west", KindFollower, follower)) {
		t.Errorf("the link delete does not wait for the follower delete: %v", c.DependsOn)
	}
	if c, _ := findChange(p, "west", KindServiceToken, "fleetform-remote-west-1"); !slices.Contains(c.DependsOn, plan.Key("main", plan.KindOutput, "remote-west")) {
		t.Errorf("the token delete does not wait for the output that carries it: %v", c.DependsOn)
	}

	env.sim.ClearRequests()
	if _, err := tc.Apply(ctx, env.doc, nil, reconciler.ApplyOptions{Revision: "test", Prune: true}); err != nil {
		t.Fatalf("apply --prune: %v", err)
	}
	log := env.sim.Requests()
	at := func(method, path string) int {
		return slices.IndexFunc(log, func(r fleetsim.Request) bool { return r.Method == method && r.Path == path })
	}
	for _, before := range [][4]string{
		{"POST", "/" + follower + "/_ccr/pause_follow", "DELETE", "/" + follower},
		{"DELETE", "/" + follower, "PUT", "/_cluster/settings"},
		{"DELETE", "/api/fleet/outputs/remote-west", "DELETE", "/_security/service/elastic/fleet-server-remote/credential/token/fleetform-remote-west-1"},
		{"DELETE", "/api/fleet/outputs/remote-west", "DELETE", "/_security/api_key"},
		// The plan's order is the apply order.
		{"DELETE", "/" + follower, "DELETE", "/_security/api_key"},
		{"DELETE", "/_security/api_key", "DELETE", "/_security/service/elastic/fleet-server-remote/credential/token/fleetform-remote-west-1"},
		{"DELETE", "/_security/service/elastic/fleet-server-remote/credential/token/fleetform-remote-west-1", "DELETE", "/api/fleet/outputs/fleetform-sync-remote-west"},
		{"DELETE", "/api/fleet/outputs/fleetform-sync-remote-west", "PUT", "/_cluster/settings"},
	} {
		if i, j := at(before[0], before[1]), at(before[2], before[3]); i < 0 || j < 0 || i > j {
			t.Errorf("%s %s must come before %s %s (positions %d, %d)", before[0], before[1], before[2], before[3], i, j)
		}
	}
	var remoteWrites, stateWrites []string
	for _, w := range writes(log) {
		if strings.Contains(w, "/fleetform-state") {
			stateWrites = append(stateWrites, w)
			continue
		}
		remoteWrites = append(remoteWrites, w)
	}
	wantWrites := []string{
		"main kibana DELETE /api/fleet/outputs/remote-west",
		"west es DELETE /" + follower,
		"west es DELETE /_security/api_key",
		"west es DELETE /_security/service/elastic/fleet-server-remote/credential/token/fleetform-remote-west-1",
		"west es POST /" + follower + "/_ccr/pause_follow",
		"west es PUT /_cluster/settings",
		"west kibana DELETE /api/fleet/outputs/fleetform-sync-remote-west",
	}
	slices.Sort(wantWrites)
	if !slices.Equal(remoteWrites, wantWrites) {
		t.Errorf("apply --prune wrote:\n%s\nwant:\n%s", strings.Join(remoteWrites, "\n"), strings.Join(wantWrites, "\n"))
	}
	for _, w := range stateWrites {
		if !strings.Contains(w, "DELETE /fleetform-state/_doc/") {
			t.Errorf("apply --prune wrote the state index other than deleting entries: %s", w)
		}
	}

	// The remote holds exactly what backup-west needs.
	west := env.es("west")
	if tokens, err := west.ServiceTokens(ctx); err != nil || !slices.Equal(tokens, []string{"fleetform-backup-west-1"}) {
		t.Errorf("west tokens = %v, %v; want only backup-west's", tokens, err)
	}
	if keys, err := apiKeys(ctx, west.Client, "fleetform-"); err != nil || len(keys) != 0 {
		t.Errorf("valid fleetform API keys on west = %v, %v", keys, err)
	}
	if fs, err := west.Followers(ctx); err != nil || len(fs) != 0 {
		t.Errorf("followers on west = %v, %v", fs, err)
	}
	cs, err := west.GetClusterSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k := range cs.Persistent {
		if strings.HasPrefix(k, "cluster.remote.main.") {
			t.Errorf("link setting %s survived", k)
		}
	}
	outs, err := env.kibana(t, "west").ListOutputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range outs {
		ids = append(ids, o.ID())
	}
	if slices.Contains(ids, "fleetform-sync-remote-west") || !slices.Contains(ids, "fleet-default-output") {
		t.Errorf("outputs on west = %v; want the default one and not fleetform's sync output", ids)
	}
	lv := loadLedger(t, tc)
	for k := range lv {
		if k[0] == "west" && (k[1] == LedgerOwned || k[2] == "remote-west") {
			t.Errorf("state entry %v survived the prune", k)
		}
	}
	if _, ok := lv.get("west", LedgerJournalToken, "backup-west"); !ok {
		t.Errorf("backup-west's token journal was dropped")
	}
	checkOutputHealthyToken(t, env, "backup-west")

	if p := mustPlan(t, env.connect(t, ConnectOptions{Prune: true}), env.doc); !p.Empty() || len(p.Warnings) != 0 {
		t.Fatalf("plan after the prune is not empty:\n%s\nwarnings: %q", planText(p), p.Warnings)
	}
}

func loadLedger(t *testing.T, tc *TwoCluster) ledgerView {
	t.Helper()
	es, err := tc.Engine.cfg.Ledger.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return newLedgerView(es)
}

// checkOutputHealthyToken checks that output id's service token still
// authenticates on west.
func checkOutputHealthyToken(t *testing.T, env *simEnv, id string) {
	t.Helper()
	out, err := env.kibana(t, "main").GetOutput(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	sid := out.SecretID("service_token")
	v, ok := env.sim.Cluster("main").ES().GetFleetSecret(sid)
	if !ok {
		t.Fatalf("output %s has no stored service token (secret id %q)", id, sid)
	}
	if st, err := env.es("west").Authenticate(t.Context(), secret.New("Bearer "+v)); err != nil || st != 200 {
		t.Errorf("output %s's token no longer authenticates on west: %d %v", id, st, err)
	}
}

func TestTwoCluster_Prune_Refusals(t *testing.T) {
	const follower = "fleet-synced-integrations-ccr-remote-west"
	tests := []struct {
		name string
		// change alters the setup after the first apply and loads the new document.
		change func(t *testing.T, env *simEnv)
		// want are the plan's changes with --prune (cluster action kind id).
		want []string
		// kept are west's objects that must survive apply --prune.
		keptTokens []string
		keptLink   bool
		linkReason string // in the blocked link change's reason
	}{
		{
			name: "remote no longer declared: blocked, nothing written on it",
			change: func(t *testing.T, env *simEnv) {
				env.undeclared = map[string]bool{"west": true}
				env.load(t, "packages:\n  - {name: nginx, version: 2.0.0}\n")
			},
			want: []string{
				"main delete output backup-west",
				"main delete output remote-west",
				"west blocked api_key remote-west",
				"west blocked follower_index " + follower,
				"west blocked remote_cluster main",
				"west blocked service_token backup-west",
				"west blocked service_token remote-west",
			},
			keptTokens: []string{"fleetform-backup-west-1", "fleetform-remote-west-1"},
			keptLink:   true,
			linkReason: "west is no longer declared under clusters.remotes, so fleetform cannot reach it",
		},
		{
			name: "a follower fleetform did not create still uses the link",
			change: func(t *testing.T, env *simEnv) {
				if _, err := env.es("west").CCRFollow(t.Context(), "fleet-synced-integrations-ccr-by-hand", "main", LeaderIndex, "1"); err != nil {
					t.Fatal(err)
				}
				env.load(t, withoutOutput)
			},
			want: []string{
				"main delete output remote-west",
				"west delete api_key fleetform-remote-west-kibana-1",
				"west delete follower_index " + follower,
				"west blocked remote_cluster main",
				"west delete service_token fleetform-remote-west-1",
			},
			keptTokens: []string{"fleetform-backup-west-1"},
			keptLink:   true,
			linkReason: "follower index fleet-synced-integrations-ccr-by-hand still replicates through it",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, pruneBody)
			ctx := t.Context()
			mustApply(t, env.connect(t, ConnectOptions{}), env.doc)
			tt.change(t, env)

			if p := mustPlan(t, env.connect(t, ConnectOptions{}), env.doc); slices.ContainsFunc(p.Changes, func(c plan.Change) bool { return c.Action == plan.Delete }) {
				t.Errorf("plan without --prune deletes:\n%s", planText(p))
			}
			tc := env.connect(t, ConnectOptions{Prune: true})
			p := mustPlan(t, tc, env.doc)
			var got []string
			for _, c := range p.Changes {
				got = append(got, c.Cluster+" "+string(c.Action)+" "+c.Kind+" "+c.ID)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("plan with --prune:\n got %q\nwant %q\n%s", got, want, planText(p))
			}
			if _, err := tc.Apply(ctx, env.doc, nil, reconciler.ApplyOptions{Revision: "test", Prune: true}); !errors.Is(err, reconciler.ErrNotConverged) {
				t.Errorf("apply --prune error = %v, want ErrNotConverged (a blocked delete)", err)
			}
			west := env.es("west")
			if tokens, err := west.ServiceTokens(ctx); err != nil || !slices.Equal(tokens, tt.keptTokens) {
				t.Errorf("west tokens = %v, %v; want %v", tokens, err, tt.keptTokens)
			}
			cs, err := west.GetClusterSettings(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := cs.Persistent["cluster.remote.main.mode"]; ok != tt.keptLink {
				t.Errorf("link present = %v, want %v", ok, tt.keptLink)
			}
			if c, _ := findChange(p, "west", KindRemoteCluster, "main"); !strings.Contains(c.Reason, tt.linkReason) {
				t.Errorf("link change reason = %q, want it to contain %q", c.Reason, tt.linkReason)
			}
		})
	}
}

// An output that stays declared but takes its token from the environment
// instead of generate: true no longer needs the minted token: it is revoked
// after the main apply swapped the new one in, and not before.
func TestTwoCluster_Prune_GeneratedTokenReplacedByReference(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, withoutOutput)
	ctx := t.Context()
	mustApply(t, env.connect(t, ConnectOptions{}), env.doc)
	tok, err := env.es("west").CreateServiceToken(ctx, ServiceNamespace, ServiceName, "operator-token")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FF_BACKUP_WEST_TOKEN", tok.Value.Reveal())
	env.load(t, strings.Replace(withoutOutput, "service_token: {generate: true}", "service_token: {env: FF_BACKUP_WEST_TOKEN}", 1))

	tc := env.connect(t, ConnectOptions{Prune: true})
	p := mustPlan(t, tc, env.doc)
	c, ok := findChange(p, "west", KindServiceToken, "fleetform-backup-west-1")
	if !ok || c.Action != plan.Delete {
		t.Fatalf("plan does not delete the minted token:\n%s", planText(p))
	}
	env.sim.ClearRequests()
	if _, err := tc.Apply(ctx, env.doc, nil, reconciler.ApplyOptions{Revision: "test", Prune: true}); err != nil {
		t.Fatalf("apply --prune: %v", err)
	}
	log := env.sim.Requests()
	swap := slices.IndexFunc(log, func(r fleetsim.Request) bool { return r.Method == "PUT" && r.Path == "/api/fleet/outputs/backup-west" })
	revoke := slices.IndexFunc(log, func(r fleetsim.Request) bool {
		return r.Method == "DELETE" && strings.HasSuffix(r.Path, "/token/fleetform-backup-west-1")
	})
	if swap < 0 || revoke < 0 || swap > revoke {
		t.Errorf("the token must be revoked after the output took the new one (swap at %d, revoke at %d)", swap, revoke)
	}
	if tokens, err := env.es("west").ServiceTokens(ctx); err != nil || !slices.Equal(tokens, []string{"operator-token"}) {
		t.Errorf("west tokens = %v, %v; want only the operator's", tokens, err)
	}
	if _, ok := loadLedger(t, tc).get("west", LedgerJournalToken, "backup-west"); ok {
		t.Errorf("the token journal survived")
	}
	if p := mustPlan(t, tc, env.doc); !p.Empty() {
		t.Errorf("plan after the prune is not empty:\n%s", planText(p))
	}
}
