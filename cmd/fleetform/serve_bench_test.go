package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/daemon"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/esim"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/source"
	"github.com/fleetform/fleetform/source/gittest"
)

// seenReconciler is the production adapter (engineReconciler) that also
// reports each reconciled revision on seen — or, when the reconcile failed,
// a value naming the failure, which waitFor never takes for a revision: a
// benchmark must not count a failed reconcile as applied.
type seenReconciler struct {
	*engineReconciler
	seen chan string
}

func (a *seenReconciler) Reconcile(ctx context.Context, doc *schema.Document, rev string, apply bool) (daemon.Outcome, error) {
	out, err := a.engineReconciler.Reconcile(ctx, doc, rev, apply)
	if a.seen != nil {
		a.seen <- seenValue(rev, err)
	}
	return out, err
}

func newSeenReconciler(seen chan string) *seenReconciler {
	return &seenReconciler{engineReconciler: newEngineReconciler(ReconcilerOptions{Instance: "bench"}), seen: seen}
}

// seenValue is what a reconcile of rev reports on seen.
func seenValue(rev string, err error) string {
	if err != nil {
		return "FAILED " + rev + ": " + err.Error()
	}
	return rev
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkPushToReconciled measures git push → webhook → reconciled, per
// push (run with -benchtime=50x for "over 50 pushes"). push_p50/p95 time
// from the start of `git push` (commit already made) to the Reconciler
// returning; webhook_p50/p95 from the webhook POST. With "fleetsim" the
// real plan/apply engine applies each push to an in-process fleetsim.
func BenchmarkPushToReconciled(b *testing.B) {
	for _, mode := range []string{"fake", "fleetsim"} {
		b.Run(mode, func(b *testing.B) {
			repo := gittest.NewRepo(b)
			kb, es := "http://127.0.0.1:5601", "http://127.0.0.1:9200"
			var rec daemon.Reconciler
			seen := make(chan string, 1024)
			if mode == "fleetsim" {
				sim := fleetsim.StartTest(b, fleetsim.Options{})
				kb, es = sim.Cluster("main").KibanaURL(), sim.Cluster("main").ESURL()
				b.Setenv("FLEETFORM_TEST_KB_PW", "changeme")
				b.Setenv("FLEETFORM_TEST_ES_PW", "changeme")
				rec = newSeenReconciler(seen)
			} else {
				r := newRecording()
				r.seen = seen
				rec = r
			}
			clusters := fmt.Sprintf(serveClustersYAML, kb, es)
			first := repo.Commit("main", "v0", map[string]string{"fleet/clusters.yaml": clusters, "fleet/outputs.yaml": serveOutputYAML("o0")})
			url := repo.ServeHTTP("fleetform", "pw")
			b.Setenv("FLEETFORM_TEST_GIT_PW", "pw")
			d := startServe(b, serveConfig{Repo: url, Branch: "main", Path: "fleet", GitUsername: "fleetform", GitPasswordEnv: "FLEETFORM_TEST_GIT_PW", LogFormat: "json"}, rec)
			waitFor(b, seen, first)

			var pushLat, hookLat []time.Duration
			prev := first
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				// Commit locally (not timed), then push (timed) and notify.
				repo.Git(repo.Work, "checkout", "--quiet", "main")
				writeFile(b, repo.Work+"/fleet/outputs.yaml", serveOutputYAML(fmt.Sprintf("o%d", i+1)))
				repo.Git(repo.Work, "commit", "--quiet", "-am", fmt.Sprintf("v%d", i+1))
				rev := repo.Git(repo.Work, "rev-parse", "HEAD")
				b.StartTimer()
				t0 := time.Now()
				repo.Git(repo.Work, "push", "--quiet", "origin", "HEAD:refs/heads/main")
				t1 := time.Now()
				if code := d.githubPush(b, "refs/heads/main", rev); code != 202 {
					b.Fatalf("webhook = %d", code)
				}
				waitFor(b, seen, rev, prev)
				done := time.Now()
				pushLat, hookLat = append(pushLat, done.Sub(t0)), append(hookLat, done.Sub(t1))
				prev = rev
			}
			b.StopTimer()
			b.ReportMetric(float64(percentile(pushLat, .50).Microseconds())/1000, "push_p50_ms")
			b.ReportMetric(float64(percentile(pushLat, .95).Microseconds())/1000, "push_p95_ms")
			b.ReportMetric(float64(percentile(hookLat, .50).Microseconds())/1000, "webhook_p50_ms")
			b.ReportMetric(float64(percentile(hookLat, .95).Microseconds())/1000, "webhook_p95_ms")
		})
	}
}

// Issue 10 #14: the push benchmark counted a revision as applied even when
// its reconcile failed. A failed reconcile must never read as the revision.
func TestBenchReconcilerReportsFailures(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_KB_PW", "changeme")
	t.Setenv("FLEETFORM_TEST_ES_PW", "changeme")
	dir := t.TempDir()
	// Nothing listens on port 1: every request fails at once.
	writeFile(t, dir+"/clusters.yaml", fmt.Sprintf(serveClustersYAML, "http://127.0.0.1:1", "http://127.0.0.1:1"))
	writeFile(t, dir+"/outputs.yaml", serveOutputYAML("o1"))
	doc, err := loadConfig(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 1)
	if _, err := newSeenReconciler(seen).Reconcile(context.Background(), doc, "rev1", true); err == nil {
		t.Fatal("reconcile against a closed port succeeded")
	}
	if got := <-seen; got == "rev1" {
		t.Error("a failed reconcile was reported as the revision applied")
	}
}

func writeFile(b testing.TB, path, content string) {
	b.Helper()
	if err := writeFileErr(path, content); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkIdlePoll measures one interval turn when nothing changed: an
// ls-remote head check (no fetch) and, with "fleetsim", a full observe + plan
// against fleetsim; with "fake", the daemon's own cost around a no-op
// Reconciler. It reports HTTP requests per turn to Git and to fleetsim;
// allocs/op count everything in the process, fleetsim's handlers included.
func BenchmarkIdlePoll(b *testing.B) {
	for _, mode := range []string{"fake", "fleetsim"} {
		b.Run(mode, func(b *testing.B) {
			repo := gittest.NewRepo(b)
			sim := fleetsim.StartTest(b, fleetsim.Options{})
			b.Setenv("FLEETFORM_TEST_KB_PW", "changeme")
			b.Setenv("FLEETFORM_TEST_ES_PW", "changeme")
			clusters := fmt.Sprintf(serveClustersYAML, sim.Cluster("main").KibanaURL(), sim.Cluster("main").ESURL())
			repo.Commit("main", "v0", map[string]string{"fleet/clusters.yaml": clusters, "fleet/outputs.yaml": serveOutputYAML("o0")})
			url := repo.ServeHTTP("fleetform", "pw")
			b.Setenv("FLEETFORM_TEST_GIT_PW", "pw")
			g, err := source.NewGit(source.GitConfig{URL: url, Branch: "main", Path: "fleet", Username: "fleetform", Password: &schema.SecretRef{Env: "FLEETFORM_TEST_GIT_PW"}})
			if err != nil {
				b.Fatal(err)
			}
			var rec daemon.Reconciler = newSeenReconciler(nil)
			if mode == "fake" {
				rec = daemon.ReconcilerFunc(func(context.Context, *schema.Document, string, bool) (daemon.Outcome, error) {
					return daemon.Outcome{}, nil
				})
			}
			loop, err := daemon.New(daemon.DefaultConfig(), g, rec)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if err := loop.Once(ctx, "startup"); err != nil { // fetch and apply v0
				b.Fatal(err)
			}
			if err := loop.Once(ctx, "interval"); err != nil { // warm: converged
				b.Fatal(err)
			}
			gitBefore := repo.HTTPRequests()
			sim.ClearRequests()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := loop.Once(ctx, "interval"); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			var writes int
			for _, r := range sim.Requests() {
				if !esim.ReadOnly(r.Method, r.Path) {
					writes++
				}
			}
			b.ReportMetric(float64(repo.HTTPRequests()-gitBefore)/float64(b.N), "git_req/op")
			b.ReportMetric(float64(len(sim.Requests()))/float64(b.N), "fleet_req/op")
			b.ReportMetric(float64(writes)/float64(b.N), "fleet_writes/op")
		})
	}
}

func writeFileErr(path, content string) error { return os.WriteFile(path, []byte(content), 0o644) }

func hasSuffix(s, suf string) bool { return strings.HasSuffix(s, suf) }
