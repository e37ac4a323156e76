package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/daemon"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/source/gittest"
)

// Two daemons against fleetsim's Elasticsearch: one applies, the other
// stands by and forwards webhooks to it; when the leader stops, the standby
// takes over and reconciles.
func TestServeTwoReplicasOneLeader(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	t.Setenv("FLEETFORM_TEST_KB_PW", "changeme")
	t.Setenv("FLEETFORM_TEST_ES_PW", "changeme")
	t.Setenv("FLEETFORM_TEST_GIT_PW", "pw")
	repo := gittest.NewRepo(t)
	clusters := fmt.Sprintf(serveClustersYAML, sim.Cluster("main").KibanaURL(), sim.Cluster("main").ESURL())
	v1 := repo.Commit("main", "v1", map[string]string{"fleet/clusters.yaml": clusters, "fleet/outputs.yaml": serveOutputYAML("o1")})
	url := repo.ServeHTTP("fleetform", "pw")

	start := func(name string, rec *recordingReconciler) *daemonUnderTest {
		loop := daemon.DefaultConfig()
		loop.Interval = time.Hour // only pokes (webhook, forwarded webhook, lease change) cause turns
		return startServe(t, serveConfig{Repo: url, Branch: "main", Path: "fleet", GitUsername: "fleetform", GitPasswordEnv: "FLEETFORM_TEST_GIT_PW",
			LogFormat: "json", Instance: "lease-test", Lease: true, LeaseTTL: 900 * time.Millisecond, LeaseHolder: name, ForwardAllowHTTP: true, Loop: loop}, rec)
	}
	recA, recB := newRecording(), newRecording()
	a := start("a", recA)
	waitFor(t, recA.seen, v1)
	b := start("b", recB)
	// b needs a valid revision to find Elasticsearch, then sees a's lease.
	waitUntil(t, "b standby", func() bool {
		st := b.status(t)
		return st.Role == daemon.RoleStandby && st.Holder == "a" && st.Revision == v1
	})
	if code, _ := b.get(t, "/readyz"); code != 200 {
		t.Errorf("standby /readyz = %d, want 200", code)
	}
	if st := a.status(t); st.Role != daemon.RoleLeader {
		t.Fatalf("a role = %s", st.Role)
	}
	if len(recB.seen) != 0 {
		t.Fatal("the standby reconciled")
	}

	// A push announced to the standby is forwarded to the leader (which
	// advertises its --listen address), so the leader applies it at once.
	v2 := repo.Commit("main", "v2", map[string]string{"fleet/outputs.yaml": serveOutputYAML("o2")})
	if code := b.githubPush(t, "refs/heads/main", v2); code != 202 {
		t.Fatalf("webhook to standby = %d", code)
	}
	waitFor(t, recA.seen, v2, v1)
	if len(recB.seen) != 0 {
		t.Fatal("the standby reconciled")
	}
	if _, m := a.get(t, "/metrics"); !strings.Contains(m, `fleetform_triggers_total{trigger="webhook"} 1`) {
		t.Error("the leader did not receive the forwarded webhook")
	}

	a.stop() // graceful: finishes, releases the lease
	waitFor(t, recB.seen, v2)
	waitUntil(t, "b leads and applied v2", func() bool {
		st := b.status(t)
		return st.Role == daemon.RoleLeader && st.AppliedRevision == v2
	})
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
