package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
)

// Direct sync to a remote whose Kibana is running an install of the
// package (a lost answer on an earlier sync, or anyone's install): Kibana
// refuses another install meanwhile with 409 "Concurrent installation or
// upgrade of <name>-<version> detected, aborting." and force would restart
// the running one (FLEET/server/services/epm/packages/install_state_machine/
// steps/step_create_restart_installation.ts). The plan shows an install that
// waits; apply waits for it to end and sends nothing when the remote then
// has the version. fleetsim runs the install with an install delay.

// slowRemoteInstall starts an install of nginx 2.0.0 on west that takes
// delay, and gives up on its answer.
func slowRemoteInstall(t *testing.T, env *simEnv, delay time.Duration) {
	t.Helper()
	env.sim.Cluster("west").SetInstallDelay("nginx", delay)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := env.kibana(t, "west").InstallPackage(ctx, "nginx", "2.0.0", true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow install on west: %v, want the client to give up", err)
	}
	for deadline := time.Now().Add(5 * time.Second); len(westInstalls(env, true)) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond) // fleetsim records the abandoned request once its handler noticed
	}
	env.sim.ClearRequests()
}

// westInstalls lists the statuses of the install requests for nginx 2.0.0
// on west; abandoned ones (fleetsim's 408, answered to no one) only when
// asked for.
func westInstalls(env *simEnv, abandoned bool) []int {
	var out []int
	for _, r := range env.sim.Requests() {
		if r.Cluster == "west" && r.Method == http.MethodPost && r.Path == "/api/fleet/epm/packages/nginx/2.0.0" &&
			(abandoned || r.Status != http.StatusRequestTimeout) {
			out = append(out, r.Status)
		}
	}
	return out
}

func TestTwoCluster_DirectSyncWaitsForInstallInProgress(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "basic"}, {Name: "west", License: "basic"}},
		fmt.Sprintf(directBody, true))
	slowRemoteInstall(t, env, 500*time.Millisecond)
	tc := env.connect(t, ConnectOptions{})
	tc.Engine.cfg.InstallWait = kibana.InstallWait{Timeout: 10 * time.Second, Poll: 20 * time.Millisecond}
	p := mustPlan(t, tc, env.doc)
	ch, ok := findChange(p, "west", KindPackage, "nginx")
	wantReason := "an install is in progress on the remote (install_status installing, installed version 2.0.0); apply waits for it to end, then installs 2.0.0 only if the remote has neither it nor a newer version"
	if !ok || ch.Action != plan.Update || !strings.Contains(ch.Reason, wantReason) {
		t.Fatalf("west nginx change = %+v (found %v), want an update whose reason says %q\n%s", ch, ok, wantReason, planText(p))
	}
	mustApply(t, tc, env.doc)
	if got := westInstalls(env, false); len(got) != 0 {
		t.Errorf("apply sent installs to west while it was installing: %v", got)
	}
	if v := env.installedOn(t, "west")["nginx"]; v != "2.0.0" {
		t.Fatalf("nginx on west = %q, want 2.0.0", v)
	}
	if p2 := mustPlan(t, tc, env.doc); !p2.Empty() {
		t.Fatalf("second plan not empty:\n%s", planText(p2))
	}
}

// An install that outlasts the wait: the change fails naming package,
// version and cluster with Kibana's 409 to the one install without force
// sent after the wait, no failed install is recorded for the backoff, and
// the next plan waits again.
func TestTwoCluster_DirectSyncInstallWaitTimesOut(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "basic"}, {Name: "west", License: "basic"}},
		fmt.Sprintf(directBody, true))
	slowRemoteInstall(t, env, time.Hour)
	tc := env.connect(t, ConnectOptions{})
	tc.Engine.cfg.InstallWait = kibana.InstallWait{Timeout: 200 * time.Millisecond, Poll: 20 * time.Millisecond}
	res, _ := tc.Apply(t.Context(), env.doc, nil, applyOpts())
	var failure error
	for _, o := range res.Outcomes {
		if o.Change.Cluster == "west" && o.Change.Kind == KindPackage && o.Status == reconciler.StatusFailed {
			failure = o.Err
		}
	}
	if failure == nil {
		t.Fatalf("outcomes %+v: want west's nginx failed", res.Outcomes)
	}
	for _, want := range []string{
		"package nginx 2.0.0 on cluster west: still installing in Kibana after waiting 200ms",
		"Concurrent installation or upgrade of nginx-2.0.0 detected, aborting.",
	} {
		if !strings.Contains(failure.Error(), want) {
			t.Errorf("error %q does not contain %q", failure, want)
		}
	}
	if got := westInstalls(env, false); len(got) != 1 || got[0] != http.StatusConflict {
		t.Errorf("installs on west = %v, want the one after the wait, refused with 409", got)
	}
	p := mustPlan(t, tc, env.doc)
	if ch, ok := findChange(p, "west", KindPackage, "nginx"); !ok || !strings.Contains(ch.Reason, "apply waits") {
		t.Errorf("next plan's west nginx change = %+v (found %v), want the wait again, not a backoff\n%s", ch, ok, planText(p))
	}
}
