package esim

import (
	"strings"
	"testing"
)

// linked returns a main cluster with a leader index and a remote cluster
// whose alias "main" points at it.
func linked(t *testing.T) (main, west *testCluster) {
	t.Helper()
	res := &resolver{}
	main = newCluster(t, res, Config{ClusterName: "main", License: "enterprise"})
	west = newCluster(t, res, Config{ClusterName: "west", License: "enterprise"})
	main.must(t, 200, "PUT", "/fleet-synced-integrations", nil)
	main.must(t, 201, "PUT", "/fleet-synced-integrations/_doc/fleet-synced-integrations",
		map[string]any{"integrations": []any{map[string]any{"package_name": "nginx", "package_version": "2.0.0"}}})
	west.must(t, 200, "PUT", "/_cluster/settings", map[string]any{"persistent": map[string]any{"cluster.remote.main.seeds": []string{main.Address()}}})
	return main, west
}

var followBody = map[string]any{"remote_cluster": "main", "leader_index": "fleet-synced-integrations"}

const (
	followerName = "fleet-synced-integrations-ccr-main"
	follower     = "/" + followerName
	leaderDoc    = "/fleet-synced-integrations/_doc/fleet-synced-integrations"
	followerDoc  = follower + "/_doc/fleet-synced-integrations"
)

// rawFollow reads a follower's state without triggering replication.
func rawFollow(n *Node, name string) follow {
	n.mu.Lock()
	defer n.mu.Unlock()
	return *n.st.Indices[name].Follow
}

func TestCCR_FollowWithoutWaitForActiveShards_ReturnsBeforeFollowing(t *testing.T) {
	_, west := linked(t)
	res := west.must(t, 200, "PUT", follower+"/_ccr/follow", followBody)
	if res["follow_index_created"] != true || res["follow_index_shards_acked"] != false || res["index_following_started"] != false {
		t.Fatalf("response: %v", res)
	}
	if f := rawFollow(west.Node, followerName); f.Started || f.LeaderMaxSeqNo != -1 {
		t.Fatalf("following started before any read: %+v", f)
	}
	// The first read of the follower runs the shard follow task (lazily).
	doc := west.must(t, 200, "GET", followerDoc, nil)
	if get(doc, "_source", "integrations", 0, "package_name") != "nginx" {
		t.Errorf("replicated doc: %v", doc)
	}
}

func TestCCR_FollowWithWaitForActiveShards_ReplicatesBeforeAnswering(t *testing.T) {
	for _, wfas := range []string{"1", "all"} {
		t.Run(wfas, func(t *testing.T) {
			_, west := linked(t)
			res := west.must(t, 200, "PUT", follower+"/_ccr/follow?wait_for_active_shards="+wfas, followBody)
			if res["follow_index_created"] != true || res["follow_index_shards_acked"] != true || res["index_following_started"] != true {
				t.Fatalf("response: %v", res)
			}
			if f := rawFollow(west.Node, followerName); !f.Started || f.LeaderMaxSeqNo != 0 {
				t.Errorf("not replicated before answering: %+v", f)
			}
		})
	}
}

func TestCCR_Follower_ReplicatesLeaderWritesAndDeletesOnReadAndTick(t *testing.T) {
	main, west := linked(t)
	west.must(t, 200, "PUT", follower+"/_ccr/follow?wait_for_active_shards=1", followBody)
	main.must(t, 200, "PUT", leaderDoc, map[string]any{"integrations": []any{map[string]any{"package_name": "nginx", "package_version": "2.1.0"}}})
	main.must(t, 201, "PUT", "/fleet-synced-integrations/_doc/extra", map[string]any{"x": 1})
	body := west.must(t, 200, "POST", follower+"/_search", map[string]any{"sort": []any{"_doc"}})
	if got := hitIDs(body); strings.Join(got, ",") != "fleet-synced-integrations,extra" {
		t.Fatalf("follower hits %v", got)
	}
	leader := main.must(t, 200, "GET", leaderDoc, nil)
	followerCopy := west.must(t, 200, "GET", followerDoc, nil)
	for _, k := range []string{"_seq_no", "_version", "_primary_term"} {
		if leader[k] != followerCopy[k] {
			t.Errorf("%s: leader %v, follower %v (CCR keeps the leader's)", k, leader[k], followerCopy[k])
		}
	}
	main.must(t, 200, "DELETE", "/fleet-synced-integrations/_doc/extra", nil)
	west.Tick()
	if f := rawFollow(west.Node, followerName); f.LeaderMaxSeqNo != 3 || f.OperationsRead != 4 {
		t.Errorf("after Tick: %+v", f)
	}
	if r := west.do(t, "GET", follower+"/_doc/extra", nil, superuser); r.status != 404 {
		t.Errorf("deleted on leader, still on follower: %d", r.status)
	}
	// Writes into a follower are refused.
	r := west.do(t, "PUT", followerDoc, map[string]any{"x": 1}, superuser)
	if typ, reason := errOf(t, r); r.status != 500 || typ != "illegal_state_exception" || reason != "a following engine does not accept operations without an assigned sequence number" {
		t.Errorf("write into follower: %d %s", r.status, r.raw)
	}
}

// TestCCR_FollowErrors follows TransportPutFollowAction: the leader's
// metadata comes from the remote cluster state (CcrLicenseChecker; a missing
// leader is IndexNotFoundException), and the follower is restored from the
// CCR repository (RestoreService.validateExistingClosedIndex refuses an
// open index of the same name with a SnapshotRestoreException).
func TestCCR_FollowErrors(t *testing.T) {
	main, west := linked(t)
	west.must(t, 200, "PUT", "/taken", nil)
	tests := []struct {
		name, path string
		body       any
		status     int
		typ        string
		reason     string
	}{
		{"unknown remote", follower + "/_ccr/follow", map[string]any{"remote_cluster": "nowhere", "leader_index": "x"}, 404,
			"no_such_remote_cluster_exception", "no such remote cluster: [nowhere]"},
		{"leader index missing", follower + "/_ccr/follow", map[string]any{"remote_cluster": "main", "leader_index": "nope"}, 404,
			"index_not_found_exception", "no such index [nope]"},
		{"no body", follower + "/_ccr/follow", nil, 400, "parse_exception", "request body is required"},
		{"missing fields", follower + "/_ccr/follow", map[string]any{}, 400, "action_request_validation_exception",
			"Validation Failed: 1: remote_cluster is missing;2: leader_index is missing;"},
		{"unknown field", follower + "/_ccr/follow", map[string]any{"remote_cluster": "main", "leader_index": "fleet-synced-integrations", "bogus": 1}, 400,
			"x_content_parse_exception", "[1:2] [put_follow_request] unknown field [bogus]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := west.do(t, "PUT", tt.path, tt.body, superuser)
			if typ, reason := errOf(t, r); r.status != tt.status || typ != tt.typ || reason != tt.reason {
				t.Errorf("got %d %s %q, want %d %s %q", r.status, typ, reason, tt.status, tt.typ, tt.reason)
			}
		})
	}
	r := west.do(t, "PUT", "/taken/_ccr/follow", followBody, superuser)
	if typ, reason := errOf(t, r); r.status != 500 || typ != "snapshot_restore_exception" ||
		reason != "[_ccr_main:_latest_/_latest_] cannot restore index [taken] because an open index with same name already exists in the cluster. "+
			"Either close or delete the existing index or restore the index under a different name by providing a rename pattern and replacement name" {
		t.Errorf("existing follower index: %d %s %q", r.status, typ, reason)
	}
	t.Run("basic licence on follower", func(t *testing.T) {
		west.SetLicense("basic")
		defer west.SetLicense("enterprise")
		r := west.do(t, "PUT", follower+"/_ccr/follow", followBody, superuser)
		if typ, reason := errOf(t, r); r.status != 403 || typ != "security_exception" || reason != "current license is non-compliant for [ccr]" {
			t.Errorf("got %d %s %q", r.status, typ, reason)
		}
	})
	t.Run("basic licence on leader", func(t *testing.T) {
		main.SetLicense("basic")
		defer main.SetLicense("enterprise")
		r := west.do(t, "PUT", follower+"/_ccr/follow", followBody, superuser)
		if typ, reason := errOf(t, r); r.status != 400 || typ != "status_exception" || !strings.Contains(reason, "the license mode [BASIC] on cluster [main] does not enable [ccr]") {
			t.Errorf("got %d %s %q", r.status, typ, reason)
		}
	})
	t.Run("remote configured but unreachable", func(t *testing.T) {
		west.must(t, 200, "PUT", "/_cluster/settings", map[string]any{"persistent": map[string]any{"cluster.remote.dead.seeds": "127.0.0.1:1"}})
		r := west.do(t, "PUT", "/other/_ccr/follow", map[string]any{"remote_cluster": "dead", "leader_index": "x"}, superuser)
		if typ, _ := errOf(t, r); r.status != 500 || typ != "no_seed_node_left_exception" {
			t.Errorf("got %d %s", r.status, r.raw)
		}
	})
}

func TestCCR_PauseResumeInfo(t *testing.T) {
	main, west := linked(t)
	west.must(t, 200, "PUT", follower+"/_ccr/follow?wait_for_active_shards=1", followBody)
	info := west.must(t, 200, "GET", follower+"/_ccr/info", nil)
	entry := get(info, "follower_indices", 0).(map[string]any)
	if entry["status"] != "active" || entry["remote_cluster"] != "main" || entry["leader_index"] != "fleet-synced-integrations" || get(entry, "parameters", "max_read_request_operation_count") != 5120.0 {
		t.Fatalf("info: %v", info)
	}
	west.must(t, 200, "POST", follower+"/_ccr/pause_follow", nil)
	r := west.do(t, "POST", follower+"/_ccr/pause_follow", nil, superuser)
	if typ, reason := errOf(t, r); r.status != 400 || typ != "illegal_argument_exception" || reason != "no shard follow tasks for ["+followerName+"]" {
		t.Errorf("pause twice: %d %s %q", r.status, typ, reason)
	}
	paused := get(west.must(t, 200, "GET", follower+"/_ccr/info", nil), "follower_indices", 0).(map[string]any)
	if paused["status"] != "paused" || paused["parameters"] != nil {
		t.Errorf("paused info must drop parameters: %v", paused)
	}
	// While paused nothing replicates.
	main.must(t, 201, "PUT", "/fleet-synced-integrations/_doc/while-paused", map[string]any{"x": 1})
	if r := west.do(t, "GET", follower+"/_doc/while-paused", nil, superuser); r.status != 404 {
		t.Errorf("paused follower replicated: %d", r.status)
	}
	r = west.do(t, "GET", follower+"/_ccr/stats", nil, superuser)
	if typ, reason := errOf(t, r); r.status != 404 || typ != "resource_not_found_exception" || reason != "No shard follow tasks for follower indices ["+followerName+"]" {
		t.Errorf("stats of paused follower: %d %s %q", r.status, typ, reason)
	}
	west.must(t, 200, "POST", follower+"/_ccr/resume_follow", nil)
	r = west.do(t, "POST", follower+"/_ccr/resume_follow", nil, superuser)
	if typ, reason := errOf(t, r); r.status != 400 || typ != "resource_already_exists_exception" || !strings.HasPrefix(reason, "task with id {") {
		t.Errorf("resume of an active follower (assumed PersistentTasks collision): %d %s %q", r.status, typ, reason)
	}
	if r := west.do(t, "GET", follower+"/_doc/while-paused", nil, superuser); r.status != 200 {
		t.Errorf("resumed follower did not catch up: %d", r.status)
	}
	west.must(t, 200, "PUT", "/plain", nil)
	for _, tt := range []struct{ method, path, typ, reason string }{
		{"POST", "/plain/_ccr/pause_follow", "illegal_argument_exception", "index [plain] is not a follower index"},
		{"POST", "/plain/_ccr/resume_follow", "illegal_argument_exception", "follow index [plain] does not have ccr metadata"},
		{"POST", "/nope/_ccr/pause_follow", "index_not_found_exception", "no such index [nope]"},
		{"POST", "/nope/_ccr/resume_follow", "index_not_found_exception", "no such index [nope]"},
	} {
		r := west.do(t, tt.method, tt.path, nil, superuser)
		if typ, reason := errOf(t, r); typ != tt.typ || reason != tt.reason {
			t.Errorf("%s %s: %d %s %q", tt.method, tt.path, r.status, typ, reason)
		}
	}
	if got := west.must(t, 200, "GET", "/plain/_ccr/info", nil); len(got["follower_indices"].([]any)) != 0 {
		t.Errorf("info of a plain index: %v", got)
	}
}

func TestCCR_Stats_ReportCheckpointsAndOperations(t *testing.T) {
	main, west := linked(t)
	west.must(t, 200, "PUT", follower+"/_ccr/follow?wait_for_active_shards=1", followBody)
	main.must(t, 201, "PUT", "/fleet-synced-integrations/_doc/two", map[string]any{"x": 1})
	stats := west.must(t, 200, "GET", follower+"/_ccr/stats", nil)
	shard := get(stats, "indices", 0, "shards", 0).(map[string]any)
	if shard["leader_global_checkpoint"] != 1.0 || shard["follower_global_checkpoint"] != 1.0 || shard["operations_read"] != 2.0 ||
		shard["remote_cluster"] != "main" || shard["follower_index"] != followerName || shard["fatal_exception"] != nil {
		t.Errorf("stats shard: %v", shard)
	}
	if get(stats, "indices", 0, "index") != followerName {
		t.Errorf("stats: %v", stats)
	}
}

func TestCCR_FatalFollower_StatsReportOperationsNoLongerAvailableUntilRecreated(t *testing.T) {
	main, west := linked(t)
	west.must(t, 200, "PUT", follower+"/_ccr/follow?wait_for_active_shards=1", followBody)
	if err := west.FailFollower(followerName); err != nil {
		t.Fatal(err)
	}
	main.must(t, 200, "PUT", leaderDoc, map[string]any{"integrations": []any{}})
	stats := west.must(t, 200, "GET", follower+"/_ccr/stats", nil)
	fatal, _ := get(stats, "indices", 0, "shards", 0, "fatal_exception").(map[string]any)
	if fatal["type"] != "resource_not_found_exception" || !strings.HasPrefix(fatal["reason"].(string), "Operations are no longer available for replicating. Existing retention leases [") {
		t.Fatalf("fatal_exception: %v", fatal)
	}
	if fi, _ := west.Node.FollowerStatus(followerName); !strings.HasPrefix(fi.Fatal, "Operations are no longer available for replicating.") {
		t.Errorf("FollowerStatus.Fatal = %q", fi.Fatal)
	}
	// Replication stays stopped, even across pause and resume.
	west.must(t, 200, "POST", follower+"/_ccr/pause_follow", nil)
	west.must(t, 200, "POST", follower+"/_ccr/resume_follow", nil)
	if doc := west.must(t, 200, "GET", followerDoc, nil); len(get(doc, "_source", "integrations").([]any)) != 1 {
		t.Errorf("fatal follower replicated: %v", doc)
	}
	// The fix: delete the follower and follow again.
	west.must(t, 200, "DELETE", follower, nil)
	west.must(t, 200, "PUT", follower+"/_ccr/follow?wait_for_active_shards=1", followBody)
	if doc := west.must(t, 200, "GET", followerDoc, nil); len(get(doc, "_source", "integrations").([]any)) != 0 {
		t.Errorf("recreated follower did not replicate: %v", doc)
	}
	if err := west.FailFollower("plain-or-missing"); err == nil {
		t.Errorf("FailFollower of a missing index succeeded")
	}
}

func TestCCR_LeaderDeleted_FatalIndexNotFound(t *testing.T) {
	main, west := linked(t)
	west.must(t, 200, "PUT", follower+"/_ccr/follow?wait_for_active_shards=1", followBody)
	main.must(t, 200, "DELETE", "/fleet-synced-integrations", nil)
	west.Tick()
	fatal := get(west.must(t, 200, "GET", follower+"/_ccr/stats", nil), "indices", 0, "shards", 0, "fatal_exception")
	if get(fatal, "type") != "index_not_found_exception" || get(fatal, "reason") != "no such index [fleet-synced-integrations]" {
		t.Errorf("fatal_exception: %v", fatal)
	}
}

func TestCCR_RemoteUnreachable_ReadExceptionsAndRetry(t *testing.T) {
	_, west := linked(t)
	west.must(t, 200, "PUT", follower+"/_ccr/follow?wait_for_active_shards=1", followBody)
	// Point the alias somewhere nothing listens: reads fail and are retried.
	west.must(t, 200, "PUT", "/_cluster/settings", map[string]any{"persistent": map[string]any{"cluster.remote.main.seeds": []string{"127.0.0.1:1"}}})
	west.Tick()
	shard := get(west.must(t, 200, "GET", follower+"/_ccr/stats", nil), "indices", 0, "shards", 0).(map[string]any)
	if shard["failed_read_requests"] == 0.0 || get(shard, "read_exceptions", 0, "exception", "type") != "no_seed_node_left_exception" || shard["fatal_exception"] != nil {
		t.Errorf("stats: %v", shard)
	}
}

func TestCCR_UnfollowRequiresPauseAndClose(t *testing.T) {
	_, west := linked(t)
	west.must(t, 200, "PUT", follower+"/_ccr/follow?wait_for_active_shards=1", followBody)
	r := west.do(t, "POST", follower+"/_ccr/unfollow", nil, superuser)
	if _, reason := errOf(t, r); reason != "cannot convert the follower index ["+followerName+"] to a non-follower, because it has not been closed" {
		t.Errorf("unfollow open follower: %q", reason)
	}
	west.must(t, 200, "POST", follower+"/_ccr/pause_follow", nil)
	west.must(t, 200, "POST", follower+"/_close", nil)
	if r := west.do(t, "GET", followerDoc, nil, superuser); r.status != 400 {
		t.Errorf("read of closed index: %d", r.status)
	}
	west.must(t, 200, "POST", follower+"/_ccr/unfollow", nil)
	west.must(t, 200, "POST", follower+"/_open", nil)
	if _, ok := west.Node.FollowerStatus(followerName); ok {
		t.Errorf("still a follower after unfollow")
	}
	west.must(t, 200, "PUT", followerDoc, map[string]any{"now": "writable"})
}

func TestCCR_Resume_RevalidatesRemoteAndLeader(t *testing.T) {
	main, west := linked(t)
	west.must(t, 200, "PUT", follower+"/_ccr/follow?wait_for_active_shards=1", followBody)
	west.must(t, 200, "POST", follower+"/_ccr/pause_follow", nil)
	main.must(t, 200, "DELETE", "/fleet-synced-integrations", nil)
	r := west.do(t, "POST", follower+"/_ccr/resume_follow", nil, superuser)
	if typ, reason := errOf(t, r); r.status != 404 || typ != "index_not_found_exception" || reason != "no such index [fleet-synced-integrations]" {
		t.Errorf("leader gone: %d %s %q", r.status, typ, reason)
	}
	west.must(t, 200, "PUT", "/_cluster/settings", map[string]any{"persistent": map[string]any{"cluster.remote.main.*": nil}})
	r = west.do(t, "POST", follower+"/_ccr/resume_follow", nil, superuser)
	if typ, _ := errOf(t, r); r.status != 404 || typ != "no_such_remote_cluster_exception" {
		t.Errorf("remote gone: %d %s", r.status, r.raw)
	}
}
