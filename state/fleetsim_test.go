package state_test

import (
	"context"
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
