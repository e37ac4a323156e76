package elastic_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana/retry"
	"github.com/fleetform/fleetform/secret"
)

func esClient(t *testing.T, rawURL string, auth elastic.Auth) *elastic.Client {
	t.Helper()
	c, err := elastic.New(rawURL, auth, elastic.WithRetryPolicy(retry.Policy{Attempts: 3, Base: time.Millisecond, Max: time.Second,
		Sleep: func(context.Context, time.Duration) error { return nil }}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var superuser = elastic.Auth{Username: "elastic", Password: secret.New("changeme")}

func TestFleetsim_DocsAndIndices(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	c := esClient(t, sim.Cluster("main").ESURL(), superuser)
	ctx := context.Background()

	lic, err := c.License(ctx)
	if err != nil || lic.Type != "enterprise" {
		t.Fatalf("License = %+v, %v", lic, err)
	}
	if err := c.CreateIndex(ctx, "fleetform-lease", map[string]any{"settings": map[string]any{"number_of_shards": 1}}); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, "fleetform-lease", nil); elastic.ErrorType(err) != "resource_already_exists_exception" || elastic.StatusCode(err) != 400 {
		t.Errorf("second create: %v", err)
	}
	w, err := c.IndexDoc(ctx, "fleetform-lease", "leader", map[string]any{"holder": "a"}, elastic.IndexOptions{OpType: "create", Refresh: "wait_for"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.IndexDoc(ctx, "fleetform-lease", "leader", map[string]any{"holder": "b"}, elastic.IndexOptions{OpType: "create"})
	if !elastic.IsConflict(err) {
		t.Errorf("create of an existing doc: %v", err)
	}
	stale := w.SeqNo + 5
	_, err = c.IndexDoc(ctx, "fleetform-lease", "leader", map[string]any{"holder": "b"}, elastic.IndexOptions{IfSeqNo: &stale, IfPrimaryTerm: &w.PrimaryTerm})
	if !elastic.IsConflict(err) || elastic.ErrorType(err) != "version_conflict_engine_exception" {
		t.Errorf("stale conditional write: %v", err)
	}
	d, found, err := c.GetDoc(ctx, "fleetform-lease", "leader")
	if err != nil || !found || d.SeqNo != w.SeqNo {
		t.Fatalf("GetDoc = %+v, %v, %v", d, found, err)
	}
	if _, err := c.IndexDoc(ctx, "fleetform-lease", "leader", map[string]any{"holder": "b"}, elastic.IndexOptions{IfSeqNo: &d.SeqNo, IfPrimaryTerm: &d.PrimaryTerm, Refresh: "wait_for"}); err != nil {
		t.Errorf("fresh conditional write: %v", err)
	}
	if _, found, err := c.GetDoc(ctx, "fleetform-lease", "nobody"); found || err != nil {
		t.Errorf("missing doc: %v %v", found, err)
	}
	if _, found, err := c.GetDoc(ctx, "no-such-index", "x"); found || err != nil {
		t.Errorf("missing index: %v %v", found, err)
	}
	res, err := c.Search(ctx, "fleetform-lease", map[string]any{"query": map[string]any{"term": map[string]any{"holder": "b"}}, "size": 10})
	if err != nil || res.Total != 1 || res.Hits[0].ID != "leader" || res.Hits[0].PrimaryTerm == 0 {
		t.Errorf("Search = %+v, %v", res, err)
	}
	_, err = c.Search(ctx, "no-such-index", map[string]any{})
	if !elastic.IsNotFound(err) || elastic.ErrorType(err) != "index_not_found_exception" {
		t.Errorf("search of a missing index: %v", err)
	}
	if found, err := c.DeleteDoc(ctx, "fleetform-lease", "leader", elastic.IndexOptions{}); !found || err != nil {
		t.Errorf("DeleteDoc = %v, %v", found, err)
	}
	if err := c.DeleteIndex(ctx, "fleetform-lease"); err != nil {
		t.Error(err)
	}
	if ok, err := c.IndexExists(ctx, "fleetform-lease"); ok || err != nil {
		t.Errorf("IndexExists after delete = %v, %v", ok, err)
	}
}

func TestFleetsim_Credentials(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	esURL := sim.Cluster("main").ESURL()
	c := esClient(t, esURL, superuser)
	ctx := context.Background()

	roles := map[string]elastic.RoleDescriptor{"fleet_status": {Applications: []elastic.ApplicationPrivilege{{
		Application: "kibana-.kibana", Privileges: []string{"feature_fleet.read", "feature_fleetv2.read"}, Resources: []string{"*"}}}}}
	id, key, err := c.CreateAPIKey(ctx, "fleetform-remote-west-kibana", roles, map[string]any{"managed_by": "fleetform"})
	if err != nil {
		t.Fatal(err)
	}
	byKey := esClient(t, esURL, elastic.Auth{APIKey: key})
	p, err := byKey.Authenticate(ctx)
	if err != nil || p.APIKey == nil || p.APIKey.ID != id {
		t.Errorf("Authenticate with the new key = %+v, %v", p, err)
	}
	keys, err := c.GetAPIKeys(ctx, "fleetform-remote-west-kibana", false)
	if err != nil || len(keys) != 1 || keys[0].ID != id || keys[0].Metadata["managed_by"] != "fleetform" {
		t.Errorf("GetAPIKeys = %+v, %v", keys, err)
	}
	inv, err := c.InvalidateAPIKey(ctx, id)
	if err != nil || !slices.Equal(inv, []string{id}) {
		t.Errorf("InvalidateAPIKey = %v, %v", inv, err)
	}
	if _, err := byKey.Authenticate(ctx); elastic.StatusCode(err) != 401 {
		t.Errorf("invalidated key still authenticates: %v", err)
	}

	tok, err := c.CreateServiceToken(ctx, "elastic", "fleet-server-remote", "fleetform-remote-west")
	if err != nil || tok.Name != "fleetform-remote-west" {
		t.Fatalf("CreateServiceToken = %+v, %v", tok, err)
	}
	if p, err := c.AuthenticateAs(ctx, secret.New("Bearer "+tok.Value.Reveal())); err != nil || p.Username != "elastic/fleet-server-remote" {
		t.Errorf("token authenticates as %+v, %v", p, err)
	}
	if _, err := c.AuthenticateAs(ctx, secret.New("Bearer AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyLXJlbW90ZS9ub3BlOm5vcGU")); elastic.StatusCode(err) != 401 {
		t.Errorf("unknown token: %v", err)
	}
	creds, err := c.ListServiceTokens(ctx, "elastic", "fleet-server-remote")
	if err != nil || !slices.Contains(creds.Tokens, "fleetform-remote-west") {
		t.Errorf("ListServiceTokens = %+v, %v", creds, err)
	}
	if found, err := c.DeleteServiceToken(ctx, "elastic", "fleet-server-remote", "fleetform-remote-west"); !found || err != nil {
		t.Errorf("DeleteServiceToken = %v, %v", found, err)
	}
	if found, err := c.DeleteServiceToken(ctx, "elastic", "fleet-server-remote", "fleetform-remote-west"); found || err != nil {
		t.Errorf("second DeleteServiceToken = %v, %v", found, err)
	}
}

func TestFleetsim_RemoteLinkAndCCR(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{},
		fleetsim.ClusterConfig{Name: "main"}, fleetsim.ClusterConfig{Name: "west"})
	ctx := context.Background()
	main := esClient(t, sim.Cluster("main").ESURL(), superuser)
	west := esClient(t, sim.Cluster("west").ESURL(), superuser)

	u, _ := url.Parse(sim.Cluster("main").ESURL())
	if err := west.PutClusterSettings(ctx, map[string]any{"cluster.remote.main.mode": "proxy", "cluster.remote.main.proxy_address": u.Host}, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := west.GetClusterSettings(ctx)
	if err != nil || cs.Persistent["cluster.remote.main.proxy_address"] != u.Host {
		t.Errorf("settings = %+v, %v", cs, err)
	}
	ri, err := west.RemoteInfo(ctx)
	if err != nil || !ri["main"].Connected || ri["main"].Mode != "proxy" {
		t.Fatalf("RemoteInfo = %+v, %v", ri, err)
	}

	if _, err := main.IndexDoc(ctx, "fleet-synced-integrations", "fleet-synced-integrations",
		json.RawMessage(`{"integrations":[{"package_name":"nginx","package_version":"2.0.0"}]}`), elastic.IndexOptions{Refresh: "wait_for"}); err != nil {
		t.Fatal(err)
	}
	const follower = "fleet-synced-integrations-ccr-remote-west"
	fr, err := west.CCRFollow(ctx, follower, "main", "fleet-synced-integrations", "all")
	if err != nil || !fr.FollowIndexCreated || !fr.IndexFollowingStarted {
		t.Fatalf("CCRFollow = %+v, %v", fr, err)
	}
	// Elasticsearch restores the follower from the CCR repository: an open
	// index of that name fails in RestoreService, not as "already exists".
	if _, err := west.CCRFollow(ctx, follower, "main", "fleet-synced-integrations", "all"); elastic.ErrorType(err) != "snapshot_restore_exception" || elastic.StatusCode(err) != 500 {
		t.Errorf("second follow of the same index: %v, want 500 snapshot_restore_exception", err)
	}
	if _, err := west.CCRFollow(ctx, "other-follower", "main", "no-such-leader", "all"); elastic.ErrorType(err) != "index_not_found_exception" || !elastic.IsNotFound(err) {
		t.Errorf("follow of a missing leader: %v, want 404 index_not_found_exception", err)
	}
	d, found, err := west.GetDoc(ctx, follower, "fleet-synced-integrations")
	if err != nil || !found {
		t.Errorf("replicated doc: %v %v %s", found, err, d.Source)
	}
	info, err := west.CCRInfo(ctx, "fleet-synced-integrations-ccr-*")
	if err != nil || len(info) != 1 || info[0].Status != "active" || info[0].LeaderIndex != "fleet-synced-integrations" {
		t.Errorf("CCRInfo = %+v, %v", info, err)
	}
	if err := west.CCRPause(ctx, follower); err != nil {
		t.Fatal(err)
	}
	info, _ = west.CCRInfo(ctx, follower)
	if len(info) != 1 || info[0].Status != "paused" {
		t.Errorf("after pause: %+v", info)
	}
	if err := west.CCRResume(ctx, follower); err != nil {
		t.Fatal(err)
	}
	stats, err := west.CCRStats(ctx, follower)
	if err != nil || len(stats) != 1 || stats[0].FatalException() != nil {
		t.Errorf("CCRStats = %+v, %v", stats, err)
	}
	if _, err := west.CCRFollow(ctx, "other", "nowhere", "x", ""); elastic.ErrorType(err) != "no_such_remote_cluster_exception" {
		t.Errorf("follow from an unknown remote: %v", err)
	}
}

func TestFleetsim_GetIndices(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	c := esClient(t, sim.Cluster("main").ESURL(), superuser)
	ctx := context.Background()
	for _, ix := range []string{"fleet-synced-integrations-ccr-b", "fleet-synced-integrations-ccr-a", "other"} {
		if err := c.CreateIndex(ctx, ix, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.GetIndices(ctx, "fleet-synced-integrations-ccr-*")
	if err != nil || !slices.Equal(got, []string{"fleet-synced-integrations-ccr-a", "fleet-synced-integrations-ccr-b"}) {
		t.Errorf("GetIndices = %v, %v", got, err)
	}
	if got, err := c.GetIndices(ctx, "nothing-*"); err != nil || len(got) != 0 {
		t.Errorf("GetIndices(no match) = %v, %v", got, err)
	}
	if got, err := c.GetIndices(ctx, "missing"); err != nil || len(got) != 0 {
		t.Errorf("GetIndices(missing) = %v, %v", got, err)
	}
	if err := c.CloseIndex(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if err := c.OpenIndex(ctx, "other"); err != nil {
		t.Fatal(err)
	}
}
