package main

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
)

// wrapCounter counts the clients built with it (each wraps its transport once).
type wrapCounter struct {
	mu sync.Mutex
	n  int
}

func (c *wrapCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return rt
}

func (c *wrapCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Issue 10 #13: the daemon built new clients (transports, TLS sessions) and
// a new secret-verification cache every turn. They are kept for the life
// of the process and rebuilt only when the clusters' configuration — here,
// the credential a reference resolves to — changes.
func TestServeKeepsClientsAcrossTurns(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	t.Setenv("FLEETFORM_TEST_KB_PW", "changeme")
	t.Setenv("FLEETFORM_TEST_ES_PW", "changeme")
	ctx := context.Background()
	wc := &wrapCounter{}
	rec := newEngineReconciler(ReconcilerOptions{Instance: "keep", Fence: wc.wrap})
	turn := func(host string) {
		t.Helper()
		if _, err := rec.Reconcile(ctx, fenceDoc(t, sim, host), "r-"+host, true); err != nil {
			t.Fatal(err)
		}
	}
	turn("a.example")
	first := wc.count()
	if first == 0 {
		t.Fatal("no client was built through the wrapper")
	}
	for _, h := range []string{"b.example", "c.example", "c.example"} {
		turn(h)
	}
	if got := wc.count(); got != first {
		t.Errorf("clients built over 4 turns with the same clusters = %d, want %d (the first turn's)", got, first)
	}
	if rec.kept.connects != 1 {
		t.Errorf("connects = %d, want 1", rec.kept.connects)
	}
	// A rotated credential (same reference, new value) reconnects once.
	t.Setenv("FLEETFORM_TEST_KB_PW", "changeme ") // fleetsim accepts only "changeme": the turn fails, yet reconnected
	_, _ = rec.Reconcile(ctx, fenceDoc(t, sim, "c.example"), "r-c", false)
	if rec.kept.connects != 2 || wc.count() != 2*first {
		t.Errorf("after a credential change: connects = %d, clients = %d; want 2, %d", rec.kept.connects, wc.count(), 2*first)
	}
}
