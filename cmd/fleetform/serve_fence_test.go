package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/lease"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// pauser stands for a SIGSTOP: armed, it holds the first write to Fleet's
// outputs before it reaches the transport below it (the fence), until
// resumed. Nothing else in the process is paused, so the test also shows
// that the fence does not rely on any other goroutine noticing the loss.
type pauser struct {
	next    http.RoundTripper
	armed   chan struct{} // closed: pause the next output write
	paused  chan struct{} // closed when a write is held
	resumed chan struct{} // close to let it go on
	once    sync.Once
}

func (p *pauser) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case <-p.armed:
		if r.Method != http.MethodGet && strings.Contains(r.URL.Path, "/api/fleet/outputs") {
			first := false
			p.once.Do(func() { first = true })
			if first {
				close(p.paused)
				<-p.resumed
			}
		}
	default:
	}
	return p.next.RoundTrip(r)
}

// fenceDoc writes a document declaring one output with host and loads it.
func fenceDoc(t *testing.T, sim *fleetsim.Sim, host string) *schema.Document {
	t.Helper()
	dir := t.TempDir()
	clusters := fmt.Sprintf(serveClustersYAML, sim.Cluster("main").KibanaURL(), sim.Cluster("main").ESURL())
	out := fmt.Sprintf("outputs:\n  - id: o1\n    name: o1\n    type: elasticsearch\n    hosts: [https://%s:9200]\n", host)
	for name, body := range map[string]string{"clusters.yaml": clusters, "outputs.yaml": out} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := schema.LoadDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// Issue 10 #3: a leader paused mid-apply loses its lease; another replica
// takes over and applies a newer revision; when the old leader resumes, its
// remaining write must not be sent (it would put the old values back).
func TestServeFencePausedLeaderSendsNoWrite(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	t.Setenv("FLEETFORM_TEST_KB_PW", "changeme")
	t.Setenv("FLEETFORM_TEST_ES_PW", "changeme")
	ctx := context.Background()
	es, err := elastic.New(sim.Cluster("main").ESURL(), elastic.Auth{Username: "elastic", Password: secret.New("changeme")})
	if err != nil {
		t.Fatal(err)
	}
	newLease := func(holder string) *lease.Lease {
		l, err := lease.New(lease.ElasticStore{Client: es}, lease.Config{Name: "fence", Holder: holder, TTL: 600 * time.Millisecond, RenewEvery: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	la, lb := newLease("a"), newLease("b")
	if err := la.Step(ctx); err != nil || !la.IsLeader() {
		t.Fatalf("a does not lead: %v", err)
	}
	p := &pauser{armed: make(chan struct{}), paused: make(chan struct{}), resumed: make(chan struct{})}
	engine := func(l *lease.Lease, pause bool) planApplier {
		wrap := func(rt http.RoundTripper) http.RoundTripper { return lease.Fence(rt, l) }
		if pause {
			wrap = func(rt http.RoundTripper) http.RoundTripper { p.next = lease.Fence(rt, l); return p }
		}
		r, _, err := connectEngine(ctx, fenceDoc(t, sim, "v0"), engineOptions{Instance: "fence", WrapTransport: wrap})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	ra, rb := engine(la, true), engine(lb, false)
	if _, err := ra.Apply(ctx, fenceDoc(t, sim, "v1.example"), nil, reconciler.ApplyOptions{Revision: "v1"}); err != nil {
		t.Fatal(err)
	}

	// a applies v2 and is paused just before its output write.
	close(p.armed)
	errA := make(chan error, 1)
	go func() {
		_, err := ra.Apply(ctx, fenceDoc(t, sim, "v2.example"), nil, reconciler.ApplyOptions{Revision: "v2"})
		errA <- err
	}()
	<-p.paused
	// b sees a's lease, waits out its TTL unchanged, takes over, applies v3.
	if err := lb.Step(ctx); err != nil {
		t.Fatal(err)
	}
	for !lb.IsLeader() {
		time.Sleep(100 * time.Millisecond)
		if err := lb.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rb.Apply(ctx, fenceDoc(t, sim, "v3.example"), nil, reconciler.ApplyOptions{Revision: "v3"}); err != nil {
		t.Fatalf("b's apply: %v", err)
	}
	// a resumes: its write must be refused before it is sent.
	close(p.resumed)
	err = <-errA
	var fenced *lease.FencedError
	if !errors.As(err, &fenced) {
		t.Errorf("a's apply after its lease passed: err = %v, want a *lease.FencedError", err)
	}
	kb, err := kibana.New(sim.Cluster("main").KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("changeme")})
	if err != nil {
		t.Fatal(err)
	}
	o, err := kb.GetOutput(ctx, "o1")
	if err != nil {
		t.Fatal(err)
	}
	if hosts := fmt.Sprint(o["hosts"]); !strings.Contains(hosts, "v3.example") {
		t.Errorf("output o1 hosts = %s, want b's v3 (a's stale write went through)", hosts)
	}
}
