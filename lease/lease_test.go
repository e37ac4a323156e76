package lease_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/lease"
	"github.com/fleetform/fleetform/secret"
)

// memStore is an in-memory Store with Elasticsearch's seq_no semantics.
type memStore struct {
	mu    sync.Mutex
	docs  map[string]lease.Doc
	seq   int64
	down  map[string]bool // holder → its requests fail (a partitioned replica)
	calls int
}

func newMem() *memStore { return &memStore{docs: map[string]lease.Doc{}, down: map[string]bool{}} }

// as returns a view of the store that fails while holder is partitioned.
func (m *memStore) as(holder string) lease.Store { return view{m, holder} }

func (m *memStore) partition(holder string, down bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down[holder] = down
}

type view struct {
	m      *memStore
	holder string
}

var errDown = errors.New("connection refused")

func (v view) Get(ctx context.Context, index, id string) (lease.Doc, bool, error) {
	v.m.mu.Lock()
	defer v.m.mu.Unlock()
	v.m.calls++
	if v.m.down[v.holder] {
		return lease.Doc{}, false, errDown
	}
	d, ok := v.m.docs[index+"/"+id]
	return d, ok, nil
}

func (v view) Put(ctx context.Context, index, id string, src json.RawMessage, ver *lease.Version) (lease.Version, error) {
	v.m.mu.Lock()
	defer v.m.mu.Unlock()
	v.m.calls++
	if v.m.down[v.holder] {
		return lease.Version{}, errDown
	}
	key := index + "/" + id
	cur, exists := v.m.docs[key]
	switch {
	case ver == nil && exists:
		return lease.Version{}, fmt.Errorf("%w: document already exists", lease.ErrConflict)
	case ver != nil && (!exists || cur.SeqNo != ver.SeqNo || cur.PrimaryTerm != ver.PrimaryTerm):
		return lease.Version{}, fmt.Errorf("%w: version conflict", lease.ErrConflict)
	}
	v.m.seq++
	v.m.docs[key] = lease.Doc{SeqNo: v.m.seq, PrimaryTerm: 1, Source: append(json.RawMessage(nil), src...)}
	return lease.Version{SeqNo: v.m.seq, PrimaryTerm: 1}, nil
}

func newLease(t *testing.T, s lease.Store, holder string) *lease.Lease {
	t.Helper()
	l, err := lease.New(s, lease.Config{Holder: holder, Address: holder + ":8080", TTL: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// watch samples both replicas every 100ms of virtual time and fails on any
// moment with two leaders. It returns the leader per second.
func watch(t *testing.T, d time.Duration, ls map[string]*lease.Lease) []string {
	t.Helper()
	var timeline []string
	for i := 0; i < int(d/(100*time.Millisecond)); i++ {
		var leaders []string
		for name, l := range ls {
			if l.IsLeader() {
				leaders = append(leaders, name)
			}
		}
		if len(leaders) > 1 {
			t.Fatalf("two leaders at +%s: %v", time.Duration(i)*100*time.Millisecond, leaders)
		}
		if i%10 == 0 {
			if len(leaders) == 0 {
				timeline = append(timeline, "-")
			} else {
				timeline = append(timeline, leaders[0])
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return timeline
}

func TestOneLeaderTakeoverAfterPartitionAndRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMem()
		a, b := newLease(t, store.as("a"), "a"), newLease(t, store.as("b"), "b")
		ctxA, stopA := context.WithCancel(context.Background())
		ctxB, stopB := context.WithCancel(context.Background())
		doneA, doneB := make(chan error, 1), make(chan error, 1)
		go func() { doneA <- a.Run(ctxA) }()
		synctest.Wait()
		go func() { doneB <- b.Run(ctxB) }()
		synctest.Wait()
		all := map[string]*lease.Lease{"a": a, "b": b}

		if tl := watch(t, 60*time.Second, all); countOf(tl, "a") != len(tl) {
			t.Fatalf("a should hold the lease for the first minute: %v", tl)
		}
		if b.Holder() != "a" || b.LeaderAddress() != "a:8080" {
			t.Errorf("standby sees holder %q at %q", b.Holder(), b.LeaderAddress())
		}

		// a is cut off from Elasticsearch (a crash looks the same to b).
		store.partition("a", true)
		tl := watch(t, 40*time.Second, all)
		// a steps down within one TTL of its last renewal; b takes over one TTL
		// after the last version it saw. Never both; at most ~TTL+renew with none.
		first := indexOf(tl, "b")
		if first < 0 || countOf(tl[first:], "b") != len(tl[first:]) {
			t.Fatalf("b did not take over for good: %v", tl)
		}
		if gap := countOf(tl, "-"); gap > 21 {
			t.Errorf("%ds without a leader, want ≤ TTL+renew (20s): %v", gap, tl)
		}

		// a comes back: it must not grab the lease back.
		store.partition("a", false)
		if tl := watch(t, 30*time.Second, all); countOf(tl, "b") != len(tl) {
			t.Fatalf("b lost the lease after a returned: %v", tl)
		}

		// b shuts down gracefully: it releases, a takes over within one renew interval.
		stopB()
		if err := <-doneB; err != nil {
			t.Fatalf("b.Run: %v", err)
		}
		tl = watch(t, 10*time.Second, all)
		if i := indexOf(tl, "a"); i < 0 || i > 6 { // one renew interval (5s) plus the 1s sampling
			t.Errorf("a took over at +%ds after b released, want within one renew interval: %v", i, tl)
		}
		stopA()
		<-doneA
	})
}

func TestStandbyCostIsOneReadPerInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMem()
		a, b := newLease(t, store.as("a"), "a"), newLease(t, store.as("b"), "b")
		if err := a.Step(t.Context()); err != nil {
			t.Fatal(err)
		}
		store.calls = 0
		for range 3 {
			if err := b.Step(t.Context()); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Second)
		}
		if store.calls != 3 || b.IsLeader() {
			t.Errorf("standby made %d calls in 3 steps (want 3 reads), leader=%v", store.calls, b.IsLeader())
		}
	})
}

func countOf(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// Two leases against fleetsim's Elasticsearch through the real client: the
// conditional writes, 409 conflicts and the handover go over HTTP.
func TestLeaseAgainstFleetsim(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	es := sim.Cluster("main").ESURL()
	client := func() lease.Store {
		c, err := elastic.New(es, elastic.Auth{Username: "elastic", Password: secret.New("changeme")})
		if err != nil {
			t.Fatal(err)
		}
		return lease.ElasticStore{Client: c}
	}
	const ttl = 300 * time.Millisecond
	mk := func(holder string) *lease.Lease {
		l, err := lease.New(client(), lease.Config{Holder: holder, TTL: ttl, RenewEvery: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	a, b := mk("a"), mk("b")
	ctx := t.Context()
	// Steps are driven by hand; only the TTL needs real time to pass.
	if err := a.Step(ctx); err != nil || !a.IsLeader() {
		t.Fatalf("a.Step: %v, leader=%v", err, a.IsLeader())
	}
	if err := b.Step(ctx); err != nil || b.IsLeader() || b.Holder() != "a" {
		t.Fatalf("b.Step: %v, leader=%v holder=%q", err, b.IsLeader(), b.Holder())
	}
	if err := a.Step(ctx); err != nil || !a.IsLeader() { // renew: a conditional write that must not conflict
		t.Fatalf("a renew: %v, leader=%v", err, a.IsLeader())
	}
	// a stops renewing (killed). b saw the renewed version now; after a TTL it takes over.
	if err := b.Step(ctx); err != nil || b.IsLeader() {
		t.Fatalf("b.Step: %v, leader=%v", err, b.IsLeader())
	}
	time.Sleep(ttl + 50*time.Millisecond)
	if a.IsLeader() {
		t.Error("a still believes it leads one TTL after its last renewal")
	}
	if err := b.Step(ctx); err != nil || !b.IsLeader() {
		t.Fatalf("b did not take over a lapsed lease: %v", err)
	}
	// a wakes up and tries to renew with its old version: 409, it stands by.
	if err := a.Step(ctx); err != nil || a.IsLeader() || a.Holder() != "b" {
		t.Fatalf("a after takeover: %v, leader=%v holder=%q", err, a.IsLeader(), a.Holder())
	}
	doc, found, err := client().Get(ctx, lease.DefaultIndex, "fleetform")
	var rec lease.Record
	if err != nil || !found || json.Unmarshal(doc.Source, &rec) != nil || rec.Holder != "b" || rec.Transitions != 2 {
		t.Errorf("stored lease = %s (found %v, err %v), want holder b after 2 transitions", doc.Source, found, err)
	}
}

// During a rolling update that shortens --lease-ttl, the new replica must
// wait out the holder's (longer) TTL, not its own, before taking over.
func TestStandbyWaitsOutTheHoldersLongerTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMem()
		mk := func(holder string, ttl time.Duration) *lease.Lease {
			l, err := lease.New(store.as(holder), lease.Config{Holder: holder, TTL: ttl})
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		old, young := mk("old", 60*time.Second), mk("young", 15*time.Second)
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 2)
		go func() { done <- old.Run(ctx) }()
		synctest.Wait()
		go func() { done <- young.Run(ctx) }()
		synctest.Wait()
		all := map[string]*lease.Lease{"old": old, "young": young}

		// old renews every 20s: its document is unchanged for longer than
		// young's 15s TTL between renewals, yet old is alive and leading.
		if tl := watch(t, 90*time.Second, all); countOf(tl, "old") != len(tl) {
			t.Errorf("the live holder lost the lease to a standby with a shorter TTL: %v", tl)
		}

		// old dies: young takes over once old's 60s TTL has passed since its
		// last renewal, which was at most 20s before the partition.
		store.partition("old", true)
		tl := watch(t, 90*time.Second, all)
		if i := indexOf(tl, "young"); i < 40 || i > 70 {
			t.Errorf("young took over at +%ds after old stopped renewing, want 40–70s (old's TTL 60s, renewed every 20s): %v", i, tl)
		}
		stop()
		<-done
		<-done
	})
}

// hangOnce is a Store whose first Get hangs until its context ends (a
// request on a half-open connection); later calls go to the wrapped store.
type hangOnce struct {
	lease.Store
	mu   sync.Mutex
	hung bool
}

func (h *hangOnce) Get(ctx context.Context, index, id string) (lease.Doc, bool, error) {
	h.mu.Lock()
	first := !h.hung
	h.hung = true
	h.mu.Unlock()
	if first {
		<-ctx.Done()
		return lease.Doc{}, false, ctx.Err()
	}
	return h.Store.Get(ctx, index, id)
}

func TestAHungRequestDoesNotStallTheLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMem()
		a := newLease(t, &hangOnce{Store: store.as("a")}, "a")
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		tl := watch(t, 30*time.Second, map[string]*lease.Lease{"a": a})
		if i := indexOf(tl, "a"); i < 0 || i > 11 { // the hung round ends after one renew interval (5s)
			t.Errorf("a acquired the free lease at +%ds, want within two renew intervals: %v", i, tl)
		}
		stop()
		<-done
	})
}

// slowFirstRead delays its first Get by d before reading the store.
type slowFirstRead struct {
	lease.Store
	d    time.Duration
	mu   sync.Mutex
	done bool
}

func (s *slowFirstRead) Get(ctx context.Context, index, id string) (lease.Doc, bool, error) {
	s.mu.Lock()
	first := !s.done
	s.done = true
	s.mu.Unlock()
	if first {
		time.Sleep(s.d)
	}
	return s.Store.Get(ctx, index, id)
}

// A standby whose read was slow must date the version it saw from when the
// read returned: the holder may have renewed while the request was in flight.
func TestSlowReadDoesNotShortenTheHoldersTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMem()
		cfg := func(h string) lease.Config {
			return lease.Config{Holder: h, TTL: 15 * time.Second, RenewEvery: 10 * time.Second}
		}
		a, err := lease.New(store.as("a"), cfg("a"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := lease.New(&slowFirstRead{Store: store.as("b"), d: 6 * time.Second}, cfg("b"))
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 2)
		go func() { done <- a.Run(ctx) }() // acquires at 0, renews at 10
		time.Sleep(4500 * time.Millisecond)
		go func() { done <- b.Run(ctx) }() // its read leaves at 4.5s, returns at 10.5s with a's renewal
		time.Sleep(5600 * time.Millisecond)
		store.partition("a", true) // at 10.1s, just after a's last renewal: a leads until 25s
		all := map[string]*lease.Lease{"a": a, "b": b}
		tl := watch(t, 30*time.Second, all) // fails on two leaders
		if indexOf(tl, "b") < 0 {
			t.Errorf("b never took over: %v", tl)
		}
		stop()
		<-done
		<-done
	})
}

// When renewals fail, the holder steps down a margin before a standby may
// take over, so the change it has in flight can be cancelled first.
func TestHolderStepsDownBeforeTheStandbyMayTakeOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMem()
		a, b := newLease(t, store.as("a"), "a"), newLease(t, store.as("b"), "b")
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 2)
		go func() { done <- a.Run(ctx) }() // acquires at 0, renews at 5 and 10
		time.Sleep(500 * time.Millisecond)
		go func() { done <- b.Run(ctx) }() // reads at 0.5, 5.5, 10.5, …
		time.Sleep(9600 * time.Millisecond)
		store.partition("a", true) // at 10.1s: a's last renewal started at 10s
		var aLost, bWon time.Duration
		for i := 0; i < 300 && (aLost == 0 || bWon == 0); i++ {
			time.Sleep(100 * time.Millisecond)
			now := time.Duration(i+1) * 100 * time.Millisecond
			if aLost == 0 && !a.IsLeader() {
				aLost = now
			}
			if bWon == 0 && b.IsLeader() {
				bWon = now
			}
		}
		if bWon == 0 || aLost == 0 {
			t.Fatalf("no hand-over: a lost at +%s, b won at +%s", aLost, bWon)
		}
		if gap := bWon - aLost; gap < 2*time.Second {
			t.Errorf("a stepped down at +%s and b took over at +%s: %s apart, want ≥ 2s (half a renew interval)", aLost, bWon, gap)
		}
		stop()
		<-done
		<-done
	})
}

// A lease document that does not parse (hand-edited, or written by something
// else) is taken over after a TTL instead of leaving every replica standby.
func TestUnreadableLeaseDocumentIsTakenOverAfterATTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMem()
		store.docs[lease.DefaultIndex+"/fleetform"] = lease.Doc{SeqNo: 7, PrimaryTerm: 1, Source: json.RawMessage(`{"holder": 42}`)}
		a := newLease(t, store.as("a"), "a")
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		tl := watch(t, 30*time.Second, map[string]*lease.Lease{"a": a})
		if i := indexOf(tl, "a"); i < 15 || i > 21 { // one TTL, plus up to one renew interval
			t.Errorf("a took over the unreadable lease at +%ds, want after one TTL (15–21s): %v", i, tl)
		}
		stop()
		<-done
	})
}
