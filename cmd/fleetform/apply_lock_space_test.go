package main

import (
	"strings"
	"testing"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/lease"
	"github.com/fleetform/fleetform/secret"
)

// Repositories of different Kibana spaces are different instances
// (default@SPACE, reconciler.InstanceFor) and each has its own apply lock:
// one space's apply never waits on another's. The lock was taken as
// "default" whatever the space, so every space queued behind every other.
func TestApplyLock_PerSpace(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	createSpace(t, sim, "team-a")
	createSpace(t, sim, "team-b")
	es, err := elastic.New(sim.Cluster("main").ESURL(), elastic.Auth{Username: "elastic", Password: secret.New("changeme")})
	if err != nil {
		t.Fatal(err)
	}
	held, _, err := lease.AcquireLock(t.Context(), lease.ElasticStore{Client: es}, lease.LockConfig{
		Name: lease.LockName("default@team-a"), Holder: "another fleetform", Operation: "fleetform apply"})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release(t.Context())

	b := spaceRepo(t, sim, "team-b", "  - {id: pb, name: PB, namespace: default}\n")
	if out, errOut, code := runCLI(t, "apply", "-c", b, "--auto-approve"); code != 0 {
		t.Fatalf("team-b apply while team-a's lock is held: exit %d\n%s\n%s", code, out, errOut)
	}
	a := spaceRepo(t, sim, "team-a", "  - {id: pa, name: PA, namespace: default}\n")
	out, errOut, code := runCLI(t, "apply", "-c", a, "--auto-approve")
	if code != 1 || !strings.Contains(out+errOut, "fleetform-lease/"+lease.LockName("default@team-a")+": held by another fleetform") {
		t.Fatalf("team-a apply while its lock is held: exit %d, want 1 naming the holder\n%s\n%s", code, out, errOut)
	}
}
