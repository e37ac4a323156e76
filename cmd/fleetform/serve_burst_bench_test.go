package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/source/gittest"
	"github.com/fleetform/fleetform/webhook"
)

// burstPushes and burstConcurrency shape one webhook burst.
const (
	burstPushes      = 1000
	burstConcurrency = 50
)

// BenchmarkWebhookBurst measures a burst of signed GitHub push webhooks
// (1000, 50 at a time) announcing one real change, against the real engine
// and fleetsim. Per burst it reports the reconciles the burst cost
// (reconciles/burst), the requests fleetsim received (fleet_req/burst) and
// the time from the burst's first webhook to the change being applied
// (applied_p50_ms, applied_p95_ms over the bursts). Run with
// -benchtime=5x. A failed reconcile fails the benchmark.
func BenchmarkWebhookBurst(b *testing.B) {
	repo := gittest.NewRepo(b)
	sim := fleetsim.StartTest(b, fleetsim.Options{})
	b.Setenv("FLEETFORM_TEST_KB_PW", "changeme")
	b.Setenv("FLEETFORM_TEST_ES_PW", "changeme")
	b.Setenv("FLEETFORM_TEST_GIT_PW", "pw")
	clusters := fmt.Sprintf(serveClustersYAML, sim.Cluster("main").KibanaURL(), sim.Cluster("main").ESURL())
	first := repo.Commit("main", "v0", map[string]string{"fleet/clusters.yaml": clusters, "fleet/outputs.yaml": serveOutputYAML("o0")})
	url := repo.ServeHTTP("fleetform", "pw")
	seen := make(chan string, 1<<16)
	d := startServe(b, serveConfig{Repo: url, Branch: "main", Path: "fleet", GitUsername: "fleetform", GitPasswordEnv: "FLEETFORM_TEST_GIT_PW", LogFormat: "json"}, newSeenReconciler(seen))
	waitFor(b, seen, first)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: burstConcurrency}}

	var lat []time.Duration
	reconciles, fleetReqs := 0, 0
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		repo.Git(repo.Work, "checkout", "--quiet", "main")
		writeFile(b, repo.Work+"/fleet/outputs.yaml", serveOutputYAML(fmt.Sprintf("o%d", i+1)))
		repo.Git(repo.Work, "commit", "--quiet", "-am", fmt.Sprintf("v%d", i+1))
		rev := repo.Git(repo.Work, "rev-parse", "HEAD")
		repo.Git(repo.Work, "push", "--quiet", "origin", "HEAD:refs/heads/main")
		sim.ClearRequests()
		body, _ := json.Marshal(map[string]any{"ref": "refs/heads/main", "after": rev, "repository": map[string]string{"full_name": "acme/fleet"}})
		sig := webhook.SignatureHeader(d.secret, body)
		b.StartTimer()

		t0 := time.Now()
		var next, bad atomic.Int64
		var wg sync.WaitGroup
		for range burstConcurrency {
			wg.Go(func() {
				for next.Add(1) <= burstPushes {
					req, _ := http.NewRequest("POST", d.base+"/webhook/github", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-GitHub-Event", "push")
					req.Header.Set("X-Hub-Signature-256", sig)
					resp, err := client.Do(req)
					if err != nil || resp.StatusCode != http.StatusAccepted {
						bad.Add(1)
					}
					if resp != nil {
						resp.Body.Close()
					}
				}
			})
		}
		applied := make(chan time.Duration, 1)
		go func() {
			for got := range seen {
				if got == rev {
					applied <- time.Since(t0)
					return
				}
				if got != fmt.Sprint(reconcileOf(got)) {
					applied <- -1
					return
				}
				reconciles++
			}
		}()
		var took time.Duration
		select {
		case took = <-applied:
		case <-time.After(60 * time.Second):
			b.Fatalf("burst %d: %s not applied within 60s", i, rev)
		}
		wg.Wait()
		b.StopTimer()
		if took < 0 {
			b.Fatalf("burst %d: a reconcile failed", i)
		}
		if n := bad.Load(); n > 0 {
			b.Fatalf("burst %d: %d webhooks not accepted", i, n)
		}
		reconciles++ // the one that applied rev
		lat = append(lat, took)
		// Let the turns the burst queued run out, and count them too.
		quiet := time.NewTimer(time.Second)
	drain:
		for {
			select {
			case got := <-seen:
				if got != rev {
					b.Fatalf("burst %d: reconciled %q after %s", i, got, rev)
				}
				reconciles++
				quiet.Reset(time.Second)
			case <-quiet.C:
				break drain
			}
		}
		fleetReqs += len(sim.Requests())
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(reconciles)/float64(b.N), "reconciles/burst")
	b.ReportMetric(float64(fleetReqs)/float64(b.N), "fleet_req/burst")
	b.ReportMetric(float64(percentile(lat, .50).Microseconds())/1000, "applied_p50_ms")
	b.ReportMetric(float64(percentile(lat, .95).Microseconds())/1000, "applied_p95_ms")
}

// reconcileOf is got unless it reports a failure (see seenValue).
func reconcileOf(got string) string {
	if len(got) > 7 && got[:7] == "FAILED " {
		return ""
	}
	return got
}
