package reconciler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// A package install still running inside Kibana when fleetform plans or
// applies (FLEET/server/services/epm/packages/install_state_machine/steps/
// step_create_restart_installation.ts): a second install within
// MAX_TIME_COMPLETE_INSTALL answers 409 "Concurrent installation or upgrade
// of <name>-<version> detected, aborting.", and one with force restarts the
// running install. fleetsim runs such an install with an install delay
// (fleetsim/epm_install.go).

const installingPath = "/api/fleet/epm/packages/nginx/2.1.0"

// startSlowInstall starts an install of nginx 2.1.0 that takes delay and
// gives up on its answer, as a client whose connection dropped.
func startSlowInstall(t *testing.T, h *simHarness, delay time.Duration) {
	t.Helper()
	h.main.SetInstallDelay("nginx", delay)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.kb.InstallPackage(ctx, "nginx", "2.1.0", false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow install: %v, want the client to give up", err)
	}
	// fleetsim records the abandoned request once its handler has noticed.
	for deadline := time.Now().Add(5 * time.Second); len(installRequests(h, true)) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	h.sim.ClearRequests()
}

// installPosts lists the status of every install request for nginx 2.1.0
// but the abandoned ones (fleetsim's 408, answered to no one, recorded when
// its handler notices, which may be after the test moved on).
func installPosts(h *simHarness) []int { return installRequests(h, false) }

func installRequests(h *simHarness, abandoned bool) []int {
	var out []int
	for _, r := range h.sim.Requests() {
		if r.Method == http.MethodPost && r.Path == installingPath && (abandoned || r.Status != http.StatusRequestTimeout) {
			out = append(out, r.Status)
		}
	}
	return out
}

// TestSim_PackageInstalling_PlanWaitsApplyNeverOverlaps: a plan made while
// Kibana installs the declared package shows a change that waits; apply
// waits for the install to end and sends none of its own — before, the plan
// read the package as a failed install and apply reinstalled it with force,
// which restarts the running install.
func TestSim_PackageInstalling_PlanWaitsApplyNeverOverlaps(t *testing.T) {
	for _, tc := range []struct {
		name      string
		installed string // nginx before the slow install
		pin       string
		wantPosts int // installs apply sends once the slow one has ended
	}{
		{name: "fresh install of the declared version", pin: "2.1.0"},
		{name: "upgrade to the declared version", installed: "2.0.0", pin: "2.1.0"},
		{name: "latest", pin: "latest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main"})
			h.connect(func(c *Config) {
				c.InstallWait = kibana.InstallWait{Timeout: 10 * time.Second, Poll: 20 * time.Millisecond}
			})
			if tc.installed != "" {
				if err := h.kb.InstallPackage(context.Background(), "nginx", tc.installed, true); err != nil {
					t.Fatal(err)
				}
			}
			startSlowInstall(t, h, 500*time.Millisecond)
			doc := &schema.Document{Packages: []schema.Package{{Name: "nginx", Version: tc.pin}}}
			p := h.plan(doc)
			if len(p.Changes) != 1 || p.Changes[0].Action != plan.Update || len(p.Changes[0].Fields) != 1 {
				t.Fatalf("plan:\n%s", renderText(p))
			}
			f := p.Changes[0].Fields[0]
			wantNote := "an install is in progress in Kibana (install_status installing); apply waits for it to end (at most 10s), then installs 2.1.0 only if Kibana has not"
			if f.Before != cmpOr(tc.installed, "2.1.0") || f.Note != wantNote {
				t.Errorf("version field = %+v, want before %q and note %q", f, cmpOr(tc.installed, "2.1.0"), wantNote)
			}
			h.apply(doc)
			if posts := installPosts(h); len(posts) != 0 {
				t.Errorf("apply sent %d install(s) (statuses %v) while Kibana was installing", len(posts), posts)
			}
			mustBeEmpty(t, h, doc)
		})
	}
}

// dropInstall stands for a connection that drops while Kibana installs:
// the first install request reaches Kibana, which goes on installing, and
// the client sees the connection reset.
type dropInstall struct {
	rt      http.RoundTripper
	dropped *atomic.Bool
}

func (d dropInstall) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || r.URL.Path != installingPath || !d.dropped.CompareAndSwap(false, true) {
		return d.rt.RoundTrip(r)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 50*time.Millisecond)
	defer cancel()
	if resp, err := d.rt.RoundTrip(r.Clone(ctx)); err == nil {
		resp.Body.Close()
		return nil, fmt.Errorf("the install answered %d before its delay", resp.StatusCode)
	}
	return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
}

// TestSim_PackageInstall_LostAnswerThenConverges: the connection of the
// install drops while Kibana goes on installing. With retries, the retry
// gets Kibana's 409, which apply turns into a wait and a look: the apply
// converges. Without, the apply fails on the reset and the next one reads
// the package as installing, waits and converges. Neither sends an install
// Kibana runs besides the first.
func TestSim_PackageInstall_LostAnswerThenConverges(t *testing.T) {
	for _, tc := range []struct {
		name       string
		attempts   int
		firstFails bool
		want409    int // install requests of the first apply Kibana refused
	}{
		{name: "retry: the 409 becomes a wait", attempts: 3, want409: 1},
		{name: "no retry: the next apply waits", attempts: 1, firstFails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main"})
			h.main.SetInstallDelay("nginx", 500*time.Millisecond)
			dropping, err := kibana.New(h.main.KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("changeme")},
				kibana.WithRetry(tc.attempts, time.Millisecond),
				kibana.WithTransportWrapper(func(rt http.RoundTripper) http.RoundTripper { return dropInstall{rt: rt, dropped: &atomic.Bool{}} }))
			if err != nil {
				t.Fatal(err)
			}
			wait := kibana.InstallWait{Timeout: 10 * time.Second, Poll: 20 * time.Millisecond}
			h.connect(func(c *Config) { c.Fleet, c.InstallWait = dropping, wait })
			doc := &schema.Document{Packages: []schema.Package{{Name: "nginx", Version: "2.1.0"}}}
			res, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{})
			failed := err != nil || res.Counts()[StatusFailed] > 0
			if failed != tc.firstFails {
				t.Fatalf("first apply failed = %v (%v, %v), want %v", failed, err, res.Counts(), tc.firstFails)
			}
			if got := installPosts(h); countInts(got, http.StatusConflict) != tc.want409 || countInts(got, http.StatusOK) != 0 {
				t.Errorf("install requests of the first apply answered %v, want %d refused with 409 and none done", got, tc.want409)
			}
			h.sim.ClearRequests()
			h.connect(func(c *Config) { c.InstallWait = wait })
			res = h.apply(doc)
			if n := res.Counts()[StatusFailed]; n > 0 {
				t.Fatalf("re-apply: %d failed: %v", n, res.Outcomes)
			}
			if posts := installPosts(h); len(posts) != 0 {
				t.Errorf("re-apply sent installs %v", posts)
			}
			mustBeEmpty(t, h, doc)
		})
	}
}

// TestSim_PackageInstalling_WaitTimesOut: an install that outlasts the
// wait fails the change with an error naming package, version and cluster
// and quoting Kibana's 409 to the one install without force sent after the
// wait; the package is left to Kibana.
func TestSim_PackageInstalling_WaitTimesOut(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main"})
	startSlowInstall(t, h, time.Hour)
	h.connect(func(c *Config) {
		c.InstallWait = kibana.InstallWait{Timeout: 200 * time.Millisecond, Poll: 20 * time.Millisecond}
	})
	doc := &schema.Document{Packages: []schema.Package{{Name: "nginx", Version: "2.1.0"}}}
	start := time.Now()
	res, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{})
	var failure error
	for _, o := range res.Outcomes {
		if o.Status == StatusFailed {
			failure = o.Err
		}
	}
	if failure == nil {
		t.Fatalf("apply: %v, outcomes %v; want the package change failed", err, res.Outcomes)
	}
	for _, want := range []string{
		"package nginx 2.1.0 on cluster main: still installing in Kibana after waiting 200ms",
		"Concurrent installation or upgrade of nginx-2.1.0 detected, aborting.",
	} {
		if !strings.Contains(failure.Error(), want) {
			t.Errorf("error %q does not contain %q", failure, want)
		}
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("gave up after %v, before the 200ms wait", d)
	}
	if posts := installPosts(h); !equalInts(posts, []int{409}) {
		t.Errorf("install requests = %v, want the one after the wait, refused with 409", posts)
	}
	st := h.plan(doc)
	if len(st.Changes) != 1 || !strings.Contains(st.Changes[0].Fields[0].Note, "install is in progress") {
		t.Errorf("plan after the failure:\n%s", renderText(st))
	}
}

func countInts(a []int, v int) int {
	n := 0
	for _, x := range a {
		if x == v {
			n++
		}
	}
	return n
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mustBeEmpty(t *testing.T, h *simHarness, doc *schema.Document) {
	t.Helper()
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after apply not empty:\n%s", renderText(p))
	}
}
