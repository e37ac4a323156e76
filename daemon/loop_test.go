package daemon_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fleetform/fleetform/daemon"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/source"
)

const mainYAML = `clusters:
  main:
    kibana: {url: http://127.0.0.1:5601, auth: {basic: {username: elastic, password: {env: KB_PW}}}}
    elasticsearch: {url: http://127.0.0.1:9200, auth: {basic: {username: elastic, password: {env: ES_PW}}}}
`

func outputYAML(id string) string {
	return "outputs:\n  - id: " + id + "\n    name: " + id + "\n    type: elasticsearch\n    hosts: [https://es.example:9200]\n"
}

func validFS(outputID string) fstest.MapFS {
	return fstest.MapFS{
		"fleet/clusters.yaml": {Data: []byte(mainYAML)},
		"fleet/outputs.yaml":  {Data: []byte(outputYAML(outputID))},
	}
}

// call is one Reconcile the fake saw.
type call struct {
	Revision string
	Outputs  []string
	Apply    bool
	At       time.Duration // since the fake was made (virtual time inside synctest)
}

// fakeReconciler records calls and returns a scripted outcome.
type fakeReconciler struct {
	mu     sync.Mutex
	start  time.Time
	calls  []call
	block  chan struct{} // when non-nil, Reconcile waits for it (or ctx)
	err    error
	out    daemon.Outcome
	delay  time.Duration // virtual work per call
	ctxErr []error
}

func newFake() *fakeReconciler { return &fakeReconciler{start: time.Now()} }

func (f *fakeReconciler) Reconcile(ctx context.Context, doc *schema.Document, rev string, apply bool) (daemon.Outcome, error) {
	var ids []string
	for _, o := range doc.Outputs {
		ids = append(ids, o.ID)
	}
	f.mu.Lock()
	f.calls = append(f.calls, call{Revision: rev, Outputs: ids, Apply: apply, At: time.Since(f.start)})
	block, delay, out, err := f.block, f.delay, f.out, f.err
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
		}
	}
	f.mu.Lock()
	f.ctxErr = append(f.ctxErr, ctx.Err())
	f.mu.Unlock()
	if ctx.Err() != nil {
		return daemon.Outcome{}, ctx.Err()
	}
	return out, err
}

func (f *fakeReconciler) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func newLoop(t *testing.T, cfg daemon.Config, src source.Source, rec daemon.Reconciler, opts ...daemon.Option) *daemon.Loop {
	t.Helper()
	opts = append([]daemon.Option{daemon.WithRand(rand.New(rand.NewPCG(1, 2)))}, opts...)
	l, err := daemon.New(cfg, src, rec, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// runLoop starts l.Run and returns a stop function that cancels it and waits.
func runLoop(t *testing.T, l *daemon.Loop) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

func TestIntervalWithJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFake()
		cfg := daemon.DefaultConfig()
		cfg.Interval, cfg.Jitter = time.Minute, 0.1
		l := newLoop(t, cfg, source.NewStatic(validFS("o1"), "fleet"), fake)
		stop := runLoop(t, l)
		time.Sleep(30*time.Minute + time.Second)
		stop()

		calls := fake.Calls()
		if len(calls) < 28 || len(calls) > 34 {
			t.Fatalf("%d turns in 30 minutes at 1m ± 10%%, want 28..34", len(calls))
		}
		if calls[0].At != 0 {
			t.Errorf("first turn at %s, want at start", calls[0].At)
		}
		distinct := map[time.Duration]bool{}
		for i := 1; i < len(calls); i++ {
			gap := calls[i].At - calls[i-1].At
			distinct[gap] = true
			if gap < 54*time.Second || gap >= 66*time.Second {
				t.Errorf("gap %d = %s, want within [54s, 66s)", i, gap)
			}
		}
		if len(distinct) < len(calls)/2 {
			t.Errorf("only %d distinct gaps in %d turns: no jitter", len(distinct), len(calls)-1)
		}
	})
}

func TestBurstOfPokesIsOneTurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFake()
		fake.block = make(chan struct{})
		l := newLoop(t, daemon.DefaultConfig(), source.NewStatic(validFS("o1"), "fleet"), fake)
		stop := runLoop(t, l)
		synctest.Wait() // the startup turn is blocked in Reconcile
		for range 100 {
			l.Trigger("api") // never blocks, even with a turn in flight
		}
		fake.mu.Lock()
		close(fake.block)
		fake.block = nil
		fake.mu.Unlock()
		synctest.Wait()
		if n := len(fake.Calls()); n != 2 {
			t.Fatalf("%d turns after a burst of 100 pokes during a turn, want 2 (startup + one merged)", n)
		}
		time.Sleep(time.Second)
		l.Trigger("api")
		synctest.Wait()
		if n := len(fake.Calls()); n != 3 {
			t.Fatalf("%d turns after one more poke, want 3", n)
		}
		stop()
	})
}

func TestInvalidRevisionKeepsTheLastGoodOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFake()
		src := source.NewStatic(validFS("o1"), "fleet")
		l := newLoop(t, daemon.DefaultConfig(), src, fake)
		stop := runLoop(t, l)
		defer stop()
		synctest.Wait()
		good, _ := src.Head(t.Context())

		bad := validFS("o1")
		bad["fleet/outputs.yaml"] = &fstest.MapFile{Data: []byte("outputs:\n  - id: o2\n    nmae: typo\n")}
		src.Set(bad, "fleet")
		badRev, _ := src.Head(t.Context())
		l.Trigger("webhook")
		synctest.Wait()
		l.Trigger("interval") // the same bad head again: not refetched, still reported
		synctest.Wait()

		want := []call{{Revision: good, Outputs: []string{"o1"}, Apply: true}, {Revision: good, Outputs: []string{"o1"}, Apply: true}, {Revision: good, Outputs: []string{"o1"}, Apply: true}}
		if d := cmp.Diff(want, fake.Calls(), ignoreAt); d != "" {
			t.Fatalf("reconciles (-want +got):\n%s", d)
		}
		st := l.Status()
		if st.Invalid == nil || st.Invalid.Revision != badRev || !strings.Contains(st.Invalid.Error, "nmae") {
			t.Errorf("status.invalid_revision = %+v, want %s with the validation error", st.Invalid, badRev)
		}
		if !strings.Contains(st.LastError, "is invalid, keeping") || st.Revision != good || st.AppliedRevision != good {
			t.Errorf("status = %+v", st)
		}
		if got := metric(t, l, "fleetform_invalid_revision"); got != "1" {
			t.Errorf("fleetform_invalid_revision = %s, want 1", got)
		}

		src.Set(validFS("o3"), "fleet")
		fixed, _ := src.Head(t.Context())
		l.Trigger("webhook")
		synctest.Wait()
		calls := fake.Calls()
		if last := calls[len(calls)-1]; last.Revision != fixed || last.Outputs[0] != "o3" {
			t.Errorf("after the fix reconciled %+v, want %s", last, fixed)
		}
		if st := l.Status(); st.Invalid != nil || st.LastError != "" || st.AppliedRevision != fixed {
			t.Errorf("status after the fix = %+v", st)
		}
		if got := metric(t, l, `fleetform_last_applied_revision_info{revision="`+fixed+`"}`); got != "1" {
			t.Errorf("revision info = %q, want 1", got)
		}
	})
}

var ignoreAt = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".At" }, cmp.Ignore())

func TestApplyIsOffWhenReportingSuspendedOrStandby(t *testing.T) {
	dir := t.TempDir()
	flag := filepath.Join(dir, "suspended")
	tests := []struct {
		name      string
		drift     daemon.DriftMode
		suspended bool
		leader    *fakeLeader
		wantCalls []bool // Apply of each call
		wantRole  string
	}{
		{"correct", daemon.DriftCorrect, false, nil, []bool{true}, daemon.RoleSingle},
		{"report", daemon.DriftReport, false, nil, []bool{false}, daemon.RoleSingle},
		{"suspended", daemon.DriftCorrect, true, nil, []bool{false}, daemon.RoleSingle},
		{"leader", daemon.DriftCorrect, false, &fakeLeader{leading: true, holder: "me"}, []bool{true}, daemon.RoleLeader},
		{"standby", daemon.DriftCorrect, false, &fakeLeader{holder: "other"}, nil, daemon.RoleStandby},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				if err := daemon.Resume(flag); err != nil {
					t.Fatal(err)
				}
				if tt.suspended {
					if err := daemon.Suspend(flag, "test"); err != nil {
						t.Fatal(err)
					}
				}
				cfg := daemon.DefaultConfig()
				cfg.Drift, cfg.SuspendFile = tt.drift, flag
				var opts []daemon.Option
				if tt.leader != nil {
					opts = append(opts, daemon.WithLeader(tt.leader))
				}
				fake := newFake()
				fake.out = daemon.Outcome{Drift: true, Planned: []daemon.ChangeCount{{Kind: "output", Action: "update", Count: 1}}}
				l := newLoop(t, cfg, source.NewStatic(validFS("o1"), "fleet"), fake, opts...)
				stop := runLoop(t, l)
				synctest.Wait()
				stop()
				var got []bool
				for _, c := range fake.Calls() {
					got = append(got, c.Apply)
				}
				if d := cmp.Diff(tt.wantCalls, got); d != "" {
					t.Errorf("apply flags (-want +got):\n%s", d)
				}
				st := l.Status()
				if st.Role != tt.wantRole || st.Suspended != tt.suspended {
					t.Errorf("role, suspended = %s, %v; want %s, %v", st.Role, st.Suspended, tt.wantRole, tt.suspended)
				}
				// The first plan of a revision holds the revision's own
				// changes: they are not drift.
				if got := metric(t, l, "fleetform_drift_detected_total"); got != "0" {
					t.Errorf("drift counted for a new revision's changes: %s", got)
				}
			})
		})
	}
}

type fakeLeader struct {
	mu      sync.Mutex
	leading bool
	holder  string
}

func (f *fakeLeader) IsLeader() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.leading }
func (f *fakeLeader) Holder() string { f.mu.Lock(); defer f.mu.Unlock(); return f.holder }

func TestShutdownFinishesTheTurnInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFake()
		fake.delay = 10 * time.Second // an apply that takes 10s
		cfg := daemon.DefaultConfig()
		cfg.ShutdownGrace = 30 * time.Second
		l := newLoop(t, cfg, source.NewStatic(validFS("o1"), "fleet"), fake)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		start := time.Now()
		go func() { l.Run(ctx); close(done) }()
		time.Sleep(time.Second)
		cancel() // SIGTERM one second into the turn
		<-done
		if took := time.Since(start); took != 10*time.Second {
			t.Errorf("Run returned after %s, want 10s (the turn finished)", took)
		}
		if d := cmp.Diff([]error{nil}, fake.ctxErr, cmp.Comparer(func(a, b error) bool { return errors.Is(a, b) })); d != "" {
			t.Errorf("turn context errors (-want +got):\n%s", d)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		fake := newFake()
		fake.delay = time.Hour // a hung apply
		cfg := daemon.DefaultConfig()
		cfg.ShutdownGrace = 5 * time.Second
		l := newLoop(t, cfg, source.NewStatic(validFS("o1"), "fleet"), fake)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		start := time.Now()
		go func() { l.Run(ctx); close(done) }()
		time.Sleep(time.Second)
		cancel()
		<-done
		if took := time.Since(start); took != 6*time.Second {
			t.Errorf("Run returned after %s, want 6s (1s + 5s grace)", took)
		}
		if len(fake.ctxErr) != 1 || !errors.Is(fake.ctxErr[0], context.Canceled) {
			t.Errorf("turn context errors = %v, want [context.Canceled]", fake.ctxErr)
		}
	})
}

func TestSourceErrorsKeepReconcilingTheLastGoodRevision(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFake()
		src := source.NewStatic(validFS("o1"), "fleet")
		l := newLoop(t, daemon.DefaultConfig(), src, fake)
		stop := runLoop(t, l)
		defer stop()
		synctest.Wait()
		src.Fail(source.ErrUnreachable)
		l.Trigger("api")
		synctest.Wait()
		if n := len(fake.Calls()); n != 2 {
			t.Fatalf("%d reconciles, want 2: drift correction goes on while Git is down", n)
		}
		if st := l.Status(); !strings.Contains(st.LastError, "head check: source unreachable") {
			t.Errorf("last_error = %q", st.LastError)
		}
		if got := metric(t, l, "fleetform_git_fetch_errors_total"); got != "1" {
			t.Errorf("fetch errors = %s, want 1", got)
		}
	})
}

func TestHTTPEndpoints(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFake()
		fake.out = daemon.Outcome{
			Drift:   true,
			Planned: []daemon.ChangeCount{{Kind: "output", Action: "create", Count: 2}, {Kind: "agent_policy", Action: "update", Count: 1}},
			Applied: []daemon.ChangeCount{{Kind: "output", Action: "create", Count: 2}, {Kind: "agent_policy", Action: "update", Count: 1}},
			Outputs: []daemon.OutputState{{ID: "o1", Type: "elasticsearch", State: "in-sync"}},
		}
		fake.block = make(chan struct{})
		l := newLoop(t, daemon.DefaultConfig(), source.NewStatic(validFS("o1"), "fleet"), fake)
		h := l.Handler(daemon.HandlerOptions{Token: secret.New("tok")})
		get := func(method, path string, hdr ...string) (int, string) {
			req := httptest.NewRequest(method, path, nil)
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			b, _ := io.ReadAll(w.Result().Body)
			return w.Code, string(b)
		}
		stop := runLoop(t, l)
		defer stop()
		synctest.Wait()
		if code, _ := get("GET", "/healthz"); code != 200 {
			t.Errorf("/healthz = %d", code)
		}
		if code, _ := get("GET", "/readyz"); code != 503 {
			t.Errorf("/readyz before the first reconcile = %d, want 503", code)
		}
		close(fake.block)
		synctest.Wait()
		if code, _ := get("GET", "/readyz"); code != 200 {
			t.Errorf("/readyz after = %d, want 200", code)
		}
		code, body := get("GET", "/status")
		for _, want := range []string{`"ready": true`, `"applied_revision": "sha256:`, `"kind": "agent_policy"`, `"state": "in-sync"`, `"result": "applied"`} {
			if code != 200 || !strings.Contains(body, want) {
				t.Errorf("/status = %d, missing %s:\n%s", code, want, body)
			}
		}
		if code, body := get("GET", "/"); code != 200 || !strings.Contains(body, "<h1>fleetform</h1>") || !strings.Contains(body, "agent_policy") {
			t.Errorf("/ = %d:\n%s", code, body)
		}
		if code, _ := get("GET", "/debug/pprof/"); code != 404 {
			t.Errorf("/debug/pprof/ = %d, want 404", code)
		}
		code, body = get("GET", "/metrics")
		for _, want := range []string{
			`fleetform_reconciles_total{result="success"} 1`,
			`fleetform_changes_applied_total{action="create",kind="output"} 2`,
			`fleetform_drift_detected_total 0`,
			`fleetform_changes_pending{action="create",kind="output"} 0`,
			`fleetform_leader 1`,
			`fleetform_last_applied_revision_info{revision="sha256:`,
			`fleetform_reconcile_duration_seconds_count 1`,
			`fleetform_git_fetch_duration_seconds_count 1`,
			`fleetform_git_fetch_errors_total 0`,
		} {
			if code != 200 || !strings.Contains(body, want) {
				t.Errorf("/metrics missing %s", want)
			}
		}
		if code, _ := get("POST", "/reconcile"); code != 401 {
			t.Errorf("POST /reconcile without token = %d, want 401", code)
		}
		if code, _ := get("POST", "/reconcile", "Authorization", "Bearer tok"); code != 202 {
			t.Errorf("POST /reconcile = %d, want 202", code)
		}
		synctest.Wait()
		if n := len(fake.Calls()); n != 2 {
			t.Errorf("%d reconciles after POST /reconcile, want 2", n)
		}
		// The same plan again for the revision just applied: changes made
		// outside Git.
		if got := metric(t, l, "fleetform_drift_detected_total"); got != "1" {
			t.Errorf("drift after a non-empty plan for the applied revision = %s, want 1", got)
		}
		if code, _ := get("GET", "/reconcile"); code != http.StatusMethodNotAllowed {
			t.Errorf("GET /reconcile = %d", code)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	cfg := daemon.Config{Interval: 0, Jitter: 1.5, Drift: "sometimes", TurnTimeout: time.Minute}
	err := cfg.Validate()
	for _, want := range []string{"interval 0s: must be positive", "jitter 1.5", `drift mode "sometimes"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, missing %q", err, want)
		}
	}
	if cfg.Interval != 0 {
		t.Error("Validate changed the config")
	}
}

// metric returns the value of the series named exactly (with labels) in /metrics.
func metric(t *testing.T, l *daemon.Loop, series string) string {
	t.Helper()
	w := httptest.NewRecorder()
	l.Handler(daemon.HandlerOptions{}).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.Lines(w.Body.String()) {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// countingSource counts Head and Fetch calls.
type countingSource struct {
	source.Source
	mu           sync.Mutex
	heads, fetch int
}

func (c *countingSource) Head(ctx context.Context) (string, error) {
	c.mu.Lock()
	c.heads++
	c.mu.Unlock()
	return c.Source.Head(ctx)
}

func (c *countingSource) Fetch(ctx context.Context, rev string) (source.Snapshot, error) {
	c.mu.Lock()
	c.fetch++
	c.mu.Unlock()
	return c.Source.Fetch(ctx, rev)
}

func TestTurnsCheckTheHeadBeforeFetching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		static := source.NewStatic(validFS("o1"), "fleet")
		src := &countingSource{Source: static}
		fake := newFake()
		l := newLoop(t, daemon.DefaultConfig(), src, fake)
		stop := runLoop(t, l)
		defer stop()
		synctest.Wait()
		time.Sleep(210 * time.Second) // 3 idle interval turns (at most 3×66s, the 4th at least 4×54s): head checks only
		synctest.Wait()
		static.Set(validFS("o2"), "fleet")
		rev, err := static.Head(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		l.TriggerPush(rev) // a push announcing a new revision: fetch at once, no separate head check
		synctest.Wait()
		src.mu.Lock()
		defer src.mu.Unlock()
		turns := len(fake.Calls())
		if turns != 5 || src.heads != 4 || src.fetch != 2 {
			t.Errorf("turns=%d heads=%d fetches=%d; want 5 turns (startup, 3 idle, webhook), 4 head checks, 2 fetches", turns, src.heads, src.fetch)
		}
	})
}

// Issue 10 #9: a webhook for the revision already applied — a redelivery,
// the rest of a burst, or a poke naming no revision while the head has not
// moved — costs no Fleet plan and no fetch.
func TestWebhookForTheAppliedRevisionCostsNoPlan(t *testing.T) {
	static := source.NewStatic(validFS("o1"), "fleet")
	src := &countingSource{Source: static}
	fake := newFake()
	l := newLoop(t, daemon.DefaultConfig(), src, fake)
	ctx := context.Background()
	if err := l.Once(ctx, "startup"); err != nil {
		t.Fatal(err)
	}
	applied := l.AppliedRevision()
	if applied == "" {
		t.Fatal("nothing applied")
	}
	l.TriggerPush(applied)                         // what serve does for a webhook naming the applied revision…
	if err := l.Once(ctx, "webhook"); err != nil { // …and the turn it asks for
		t.Fatal(err)
	}
	l.TriggerPush("") // a webhook that names no revision
	if err := l.Once(ctx, "webhook"); err != nil {
		t.Fatal(err)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if n := len(fake.Calls()); n != 1 || src.fetch != 1 {
		t.Errorf("reconciles = %d, fetches = %d; want 1 and 1 (the startup turn's)", n, src.fetch)
	}
	if got := metric(t, l, `fleetform_reconciles_total{result="skipped"}`); got != "2" {
		t.Errorf("skipped turns counted = %q, want 2", got)
	}
}

// A watched directory pokes the loop: an edit is reconciled without waiting
// for the interval. Real file-system events, so real (short) time.
func TestDirSourceEditTriggersATurn(t *testing.T) {
	dir := t.TempDir()
	for name, f := range validFS("o1") {
		p := filepath.Join(dir, filepath.Base(name))
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fake := newFake()
	cfg := daemon.DefaultConfig()
	cfg.Interval = time.Hour
	l := newLoop(t, cfg, source.NewDir(dir, source.WithDebounce(20*time.Millisecond)), fake)
	stop := runLoop(t, l)
	defer stop()
	deadline := time.Now().Add(20 * time.Second)
	for len(fake.Calls()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the watcher is registered after Run starts
	if err := os.WriteFile(filepath.Join(dir, "outputs.yaml"), []byte(outputYAML("o9")), 0o644); err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(deadline) {
		calls := fake.Calls()
		if last := calls[len(calls)-1]; len(last.Outputs) == 1 && last.Outputs[0] == "o9" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the edit was not reconciled within 20s: %+v", fake.Calls())
}

// panicky panics on its first call and reconciles normally afterwards.
type panicky struct {
	mu    sync.Mutex
	calls int
}

func (p *panicky) Reconcile(ctx context.Context, doc *schema.Document, rev string, apply bool) (daemon.Outcome, error) {
	p.mu.Lock()
	p.calls++
	n := p.calls
	p.mu.Unlock()
	if n == 1 {
		var m map[string]int
		m["boom"]++ // a nil-map write, as a bug in the engine would do
	}
	return daemon.Outcome{}, nil
}

func TestPanickingTurnIsReportedAndTheLoopSurvives(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &panicky{}
		cfg := daemon.DefaultConfig()
		cfg.Jitter = 0
		l := newLoop(t, cfg, source.NewStatic(validFS("es"), "fleet"), rec)
		stop := runLoop(t, l)
		defer stop()

		synctest.Wait()
		s := l.Status()
		if !strings.Contains(s.LastError, "reconcile panicked") || !strings.Contains(s.LastError, "nil map") {
			t.Errorf("after the panicking turn, last_error = %q; want the panic", s.LastError)
		}
		if s.Turns != 1 || s.Ready {
			t.Errorf("after the panicking turn: turns %d, ready %v; want 1, false", s.Turns, s.Ready)
		}
		if got := metric(t, l, `fleetform_reconciles_total{result="error"}`); got != "1" {
			t.Errorf(`fleetform_reconciles_total{result="error"} = %s, want 1`, got)
		}

		l.Trigger("api")
		synctest.Wait()
		s = l.Status()
		if s.LastError != "" || !s.Ready || s.Turns != 2 {
			t.Errorf("next turn: last_error %q, ready %v, turns %d; want a clean second turn", s.LastError, s.Ready, s.Turns)
		}
	})
}

func TestLosingTheLeaseCancelsTheTurnInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		leader := &fakeLeader{leading: true, holder: "me"}
		fake := newFake()
		fake.delay = 5 * time.Minute // a long apply
		l := newLoop(t, daemon.DefaultConfig(), source.NewStatic(validFS("o1"), "fleet"), fake, daemon.WithLeader(leader))
		stop := runLoop(t, l)
		defer stop()

		time.Sleep(10 * time.Second)
		leader.mu.Lock()
		leader.leading, leader.holder = false, "other" // renewals failed past the TTL
		leader.mu.Unlock()
		lost := time.Now()
		synctest.Wait()
		time.Sleep(time.Second)
		synctest.Wait()

		fake.mu.Lock()
		ctxErr := append([]error(nil), fake.ctxErr...)
		fake.mu.Unlock()
		if len(ctxErr) != 1 || !errors.Is(ctxErr[0], context.Canceled) {
			t.Fatalf("turn context errors %v, %s after losing the lease; want [context.Canceled]", ctxErr, time.Since(lost))
		}
		if s := l.Status(); !strings.Contains(s.LastError, "lease lost") {
			t.Errorf("last_error = %q; want it to say the lease was lost", s.LastError)
		}
	})
}
