package elastic_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/esim"
	"github.com/fleetform/fleetform/internal/esspec"
	"github.com/fleetform/fleetform/lease"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/remote"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/state"
)

// usedAPIs are the Elasticsearch APIs fleetform calls (every request
// builder in this package). The contract test fails when one of them is
// not exercised, so a new call cannot escape the check.
var usedAPIs = []string{
	"info", "license.get", "security.authenticate",
	"get", "index", "delete", "search", "open_point_in_time", "close_point_in_time",
	"indices.create", "indices.exists", "indices.delete", "indices.close", "indices.open", "indices.get",
	"ccr.follow", "ccr.pause_follow", "ccr.resume_follow", "ccr.unfollow", "ccr.follow_info", "ccr.follow_stats",
	"cluster.get_settings", "cluster.put_settings", "cluster.remote_info",
	"security.create_service_token", "security.get_service_credentials", "security.delete_service_token",
	"security.create_api_key", "security.get_api_key", "security.invalidate_api_key",
}

// TestContract_EveryESRequestMatchesRestAPISpec captures every request
// fleetform sends to Elasticsearch — each client call, the state store,
// the lease store, and a two-cluster reconcile (apply, plan, prune) — as
// each simulated node received it (esim.Node.Record) and checks its method, path and query parameters
// against Elasticsearch's rest-api-spec (testdata/es-rest-api-spec):
// unknown routes, unknown parameters, bad enum or boolean values and
// missing required parameters fail.
func TestContract_EveryESRequestMatchesRestAPISpec(t *testing.T) {
	specs := esspec.Load(t)
	t.Setenv("FF_CONTRACT_PW", "changeme")
	sim := fleetsim.StartTest(t, fleetsim.Options{},
		fleetsim.ClusterConfig{Name: "main", License: "enterprise"}, fleetsim.ClusterConfig{Name: "west", License: "enterprise"})
	ctx := t.Context()
	var recs []*esim.Recording
	for _, c := range sim.Clusters() {
		recs = append(recs, c.ES().Record())
	}

	exerciseClient(t, ctx, sim)
	exerciseStores(t, ctx, sim)
	reconcileTwoClusters(t, ctx, sim)

	seen := map[string]int{}
	var failures []string
	var reqs []esim.RecordedRequest
	for _, rec := range recs {
		rec.Stop()
		reqs = append(reqs, rec.Requests()...)
	}
	for _, r := range reqs {
		if r.UserAgent != "fleetform" {
			t.Errorf("%s %s came from %q, not fleetform's client", r.Method, r.Path, r.UserAgent)
			continue
		}
		q, err := url.ParseQuery(r.Query)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s %s?%s: %v", r.Method, r.Path, r.Query, err))
			continue
		}
		api, _, err := specs.Route(r.Method, r.Path)
		if err == nil {
			err = specs.Check(r.Method, r.Path, q)
		}
		if err != nil {
			failures = append(failures, err.Error())
			continue
		}
		seen[api.Name]++
	}
	t.Logf("%d requests checked, by API: %v", len(reqs), seen)
	slices.Sort(failures)
	for _, f := range slices.Compact(failures) {
		t.Error(f)
	}
	for _, name := range usedAPIs {
		if seen[name] == 0 {
			t.Errorf("API %s is in usedAPIs but no request exercised it", name)
		}
	}
	var extra []string
	for name := range seen {
		if !slices.Contains(usedAPIs, name) {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("fleetform called APIs missing from usedAPIs: %v", extra)
	}
}

func superuserClient(t *testing.T, u string) *elastic.Client {
	t.Helper()
	c, err := elastic.New(u, elastic.Auth{Username: "elastic", Password: secret.New("changeme")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// exerciseClient calls every Client method, with the options fleetform uses.
func exerciseClient(t *testing.T, ctx context.Context, sim *fleetsim.Sim) {
	t.Helper()
	main, west := superuserClient(t, sim.Cluster("main").ESURL()), superuserClient(t, sim.Cluster("west").ESURL())
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := main.Info(ctx)
	must("info", err)
	_, err = main.License(ctx)
	must("license", err)
	_, err = main.Authenticate(ctx)
	must("authenticate", err)

	must("create index", main.CreateIndex(ctx, "contract", map[string]any{"mappings": map[string]any{"properties": map[string]any{"n": map[string]any{"type": "long"}}}}))
	_, err = main.IndexExists(ctx, "contract")
	must("exists", err)
	w, err := main.IndexDoc(ctx, "contract", "a", map[string]any{"n": 1}, elastic.IndexOptions{OpType: "create", Refresh: "wait_for"})
	must("index create", err)
	_, err = main.IndexDoc(ctx, "contract", "a", json.RawMessage(`{"n":2}`), elastic.IndexOptions{IfSeqNo: &w.SeqNo, IfPrimaryTerm: &w.PrimaryTerm, Refresh: "true"})
	must("index conditional", err)
	_, _, err = main.GetDoc(ctx, "contract", "a")
	must("get", err)
	_, err = main.Search(ctx, "contract", map[string]any{"query": map[string]any{"match_all": map[string]any{}}, "track_total_hits": true})
	must("search", err)
	must("scan", main.Scan(ctx, "contract", nil, 1, func(elastic.Doc) error { return nil }))
	_, err = main.DeleteDoc(ctx, "contract", "a", elastic.IndexOptions{Refresh: "wait_for"})
	must("delete", err)
	_, err = main.GetIndices(ctx, "contract*")
	must("get indices", err)
	must("delete index", main.DeleteIndex(ctx, "contract"))

	_, err = main.GetClusterSettings(ctx)
	must("get settings", err)
	must("put settings", west.PutClusterSettings(ctx, map[string]any{"cluster.remote.main.mode": "proxy",
		"cluster.remote.main.proxy_address": strings.TrimPrefix(sim.Cluster("main").ESURL(), "http://")}, nil))
	_, err = west.RemoteInfo(ctx)
	must("remote info", err)

	tok, err := west.CreateServiceToken(ctx, "elastic", "fleet-server-remote", "contract")
	must("create token", err)
	_, err = west.CreateServiceToken(ctx, "elastic", "fleet-server-remote", "")
	must("create unnamed token", err)
	_, err = west.ListServiceTokens(ctx, "elastic", "fleet-server-remote")
	must("list tokens", err)
	_, err = west.AuthenticateAs(ctx, secret.New("Bearer "+tok.Value.Reveal()))
	must("authenticate as", err)
	_, err = west.DeleteServiceToken(ctx, "elastic", "fleet-server-remote", "contract")
	must("delete token", err)
	id, _, err := west.CreateAPIKey(ctx, "contract", map[string]elastic.RoleDescriptor{"r": {Cluster: []string{"monitor"}}}, map[string]any{"managed_by": "fleetform"})
	must("create key", err)
	_, err = west.GetAPIKeys(ctx, "contract*", true)
	must("get keys", err)
	_, err = west.GetAPIKeys(ctx, "contract*", false)
	must("get keys", err)
	_, err = west.InvalidateAPIKey(ctx, id)
	must("invalidate key", err)

	_, err = main.IndexDoc(ctx, "leader", "1", map[string]any{"n": 1}, elastic.IndexOptions{Refresh: "wait_for"})
	must("leader doc", err)
	_, err = west.CCRFollow(ctx, "follower", "main", "leader", "1")
	must("follow", err)
	_, err = west.CCRInfo(ctx, "follower")
	must("follow info", err)
	_, err = west.CCRStats(ctx, "follower")
	must("follow stats", err)
	must("pause", west.CCRPause(ctx, "follower"))
	must("resume", west.CCRResume(ctx, "follower"))
	must("pause", west.CCRPause(ctx, "follower"))
	must("close", west.CloseIndex(ctx, "follower"))
	must("unfollow", west.CCRUnfollow(ctx, "follower"))
	must("open", west.OpenIndex(ctx, "follower"))
	must("delete follower", west.DeleteIndex(ctx, "follower"))
}

// exerciseStores drives the state store and the lease store.
func exerciseStores(t *testing.T, ctx context.Context, sim *fleetsim.Sim) {
	t.Helper()
	es := superuserClient(t, sim.Cluster("main").ESURL())
	s := state.NewStore(es, "", "contract")
	if _, err := s.Load(ctx); err != nil { // missing index
		t.Fatal(err)
	}
	e := state.Entry{Kind: "output", ID: "o", Cluster: "main"}
	if err := s.Put(ctx, e); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, e.Key()); err != nil {
		t.Fatal(err)
	}
	ls := lease.ElasticStore{Client: es}
	v, err := ls.Put(ctx, "fleetform-lease-contract", "l", json.RawMessage(`{"holder":"a"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ls.Get(ctx, "fleetform-lease-contract", "l"); err != nil {
		t.Fatal(err)
	}
	if _, err := ls.Put(ctx, "fleetform-lease-contract", "l", json.RawMessage(`{"holder":"b"}`), &v); err != nil {
		t.Fatal(err)
	}
}

const contractDoc = `
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

func loadDoc(t *testing.T, sim *fleetsim.Sim, body string) *schema.Document {
	t.Helper()
	ep := func(u string) string {
		return fmt.Sprintf("{url: %s, auth: {basic: {username: elastic, password: {env: FF_CONTRACT_PW}}}}", u)
	}
	main, west := sim.Cluster("main"), sim.Cluster("west")
	mainHost, _ := url.Parse(main.ESURL())
	var b strings.Builder
	fmt.Fprintf(&b, "clusters:\n  main:\n    kibana: %s\n    elasticsearch: %s\n", ep(main.KibanaURL()), ep(main.ESURL()))
	fmt.Fprintf(&b, "  remotes:\n    - name: west\n      elasticsearch: %s\n      kibana: %s\n", ep(west.ESURL()), ep(west.KibanaURL()))
	fmt.Fprintf(&b, "      main_link: {alias: main, mode: proxy, proxy_address: %q}\n", mainHost.Host)
	b.WriteString(strings.NewReplacer("{{west.es}}", west.ESURL(), "{{west.kibana}}", west.KibanaURL()).Replace(body))
	doc, err := schema.Load(t.Context(), fstest.MapFS{"fleet.yaml": {Data: []byte(b.String())}}, ".")
	if err != nil {
		t.Fatalf("load document: %v\n%s", err, b.String())
	}
	return doc
}

// reconcileTwoClusters applies a remote output with integration sync,
// plans again, then prunes it: the reconciler's own Elasticsearch calls.
func reconcileTwoClusters(t *testing.T, ctx context.Context, sim *fleetsim.Sim) {
	t.Helper()
	doc := loadDoc(t, sim, contractDoc)
	tc, err := remote.Connect(ctx, doc, remote.ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Apply(ctx, doc, nil, reconciler.ApplyOptions{Revision: "contract"}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if _, err := tc.Plan(ctx, doc, "contract"); err != nil {
		t.Fatalf("plan: %v", err)
	}
	empty := loadDoc(t, sim, "outputs: []\n")
	tc, err = remote.Connect(ctx, empty, remote.ConnectOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Apply(ctx, empty, nil, reconciler.ApplyOptions{Revision: "contract-prune", Prune: true}); err != nil {
		t.Fatalf("apply --prune: %v", err)
	}
}
