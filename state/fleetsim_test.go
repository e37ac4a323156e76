package state_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana/retry"
	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/state"
)

func TestFleetsim_StoreOnSimulatedES(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	es, err := elastic.New(sim.Cluster("main").ESURL(), elastic.Auth{Username: "elastic", Password: secret.New("changeme")},
		elastic.WithRetryPolicy(retry.Policy{Attempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := state.NewStore(es, "", "")
	got, err := s.Load(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("Load on an empty cluster = %v, %v", got, err)
	}
	const token = "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyLXJlbW90ZS90b2tlbi1zaW0"
	e := state.Entry{Kind: "output", ID: "remote-west", Cluster: "main", DesiredHash: "h1", Revision: "abc",
		AppliedAt: time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC),
		Secrets:   map[string]state.SecretRecord{"secrets.service_token": {Hash: state.HashSecret(secret.New(token)), FleetSecretID: "s1", RefDescribe: "env:WEST_TOKEN"}}}
	if err := s.Put(ctx, e); err != nil {
		t.Fatal(err)
	}
	got, err = s.Load(ctx) // Put waited for refresh: the next search sees it
	if err != nil {
		t.Fatal(err)
	}
	loaded, ok := got[e.Key()]
	if !ok || loaded.Instance != "default" || loaded.DesiredHash != "h1" || !state.VerifySecret(secret.New(token), loaded.Secrets["secrets.service_token"].Hash) {
		t.Fatalf("loaded = %+v", got)
	}
	snap := string(sim.Cluster("main").ES().Snapshot())
	if strings.Contains(snap, token) {
		t.Error("the secret value is in the cluster's state")
	}
	if !strings.Contains(snap, "default/main/output/remote-west") {
		t.Error("state document not found under its id in the cluster snapshot")
	}
	if err := s.Delete(ctx, e.Key()); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Load(ctx); len(got) != 0 {
		t.Errorf("after delete: %v", got)
	}
}

// TestFleetsim_LoadReadsPast10000Entries: Elasticsearch counts hits.total
// only up to 10,000 without track_total_hits and returns at most
// index.max_result_window (10,000) hits per search, so a store that read
// the index with one search would lose entries silently past that.
func TestFleetsim_LoadReadsPast10000Entries(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	es, err := elastic.New(sim.Cluster("main").ESURL(), elastic.Auth{Username: "elastic", Password: secret.New("changeme")},
		elastic.WithRetryPolicy(retry.Policy{Attempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := state.NewStore(es, "", "")
	if err := s.Put(ctx, state.Entry{Kind: "output", ID: "first", Cluster: "main"}); err != nil { // creates the index with its mapping
		t.Fatal(err)
	}
	node := sim.Cluster("main").ES()
	const n = 10_050
	for i := range n {
		id := fmt.Sprintf("p%05d", i)
		src := fmt.Sprintf(`{"kind":"agent_policy","id":%q,"cluster":"main","instance":"default","applied_at":"2026-11-27T13:00:00Z"}`, id)
		if _, err := node.IndexDoc(state.DefaultIndex, "default/main/agent_policy/"+id, []byte(src)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n+1 {
		t.Fatalf("Load returned %d entries, want %d", len(got), n+1)
	}
	if _, ok := got[state.Key{Cluster: "main", Kind: "agent_policy", ID: "p10049"}]; !ok {
		t.Error("the last entry written is missing")
	}
}

// TestFleetsim_LoadNamesEveryUndecodableDoc: a page is decoded once into
// typed entries; a document that does not decode as an entry must still be
// reported by its id (every such document, not only the first), whichever
// page it is on, and must not hide the others' errors.
func TestFleetsim_LoadNamesEveryUndecodableDoc(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	es, err := elastic.New(sim.Cluster("main").ESURL(), elastic.Auth{Username: "elastic", Password: secret.New("changeme")},
		elastic.WithRetryPolicy(retry.Policy{Attempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := state.NewStore(es, "", "")
	if err := s.Put(ctx, state.Entry{Kind: "output", ID: "good", Cluster: "main"}); err != nil {
		t.Fatal(err)
	}
	node := sim.Cluster("main").ES()
	bad := map[string]string{
		"default/main/output/kind-number": `{"kind":5,"id":"kind-number","cluster":"main","instance":"default"}`,
		"default/main/output/bad-time":    `{"kind":"output","id":"bad-time","cluster":"main","instance":"default","applied_at":"yesterday"}`,
	}
	for id, src := range bad {
		if _, err := node.IndexDoc(state.DefaultIndex, id, []byte(src)); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.Load(ctx)
	if err == nil {
		t.Fatal("Load accepted documents that are not entries")
	}
	for id := range bad {
		if !strings.Contains(err.Error(), "state doc "+id+": ") {
			t.Errorf("error does not name %s: %v", id, err)
		}
	}
	if strings.Contains(err.Error(), "state doc default/main/output/good") {
		t.Errorf("error names the good document: %v", err)
	}
}
