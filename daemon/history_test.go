package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"testing/synctest"
	"time"

	"github.com/fleetform/fleetform/daemon"
	"github.com/fleetform/fleetform/notify"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/source"
)

// scripted answers each Reconcile with the outcome and error set last.
type scripted struct {
	mu  sync.Mutex
	out daemon.Outcome
	err error
}

func (s *scripted) set(out daemon.Outcome, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out, s.err = out, err
}

func (s *scripted) Reconcile(_ context.Context, _ *schema.Document, rev string, apply bool) (daemon.Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.out
	if !apply {
		out.Applied = nil
	}
	return out, s.err
}

// outcome is a turn that planned the given changes of outputs (action →
// count) and applied those listed in applied.
func outcome(planned map[plan.Action]int, applied ...plan.Action) daemon.Outcome {
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Changes: []plan.Change{}}
	var out daemon.Outcome
	for _, a := range []plan.Action{plan.Create, plan.Update, plan.Delete, plan.Blocked} {
		for i := range planned[a] {
			id := fmt.Sprintf("%s-%d", a, i)
			p.Changes = append(p.Changes, plan.Change{Cluster: "main", Kind: "output", ID: id, Action: a,
				Fields: []plan.FieldDiff{{Path: "hosts", Before: []any{"https://old.example:9200"}, After: []any{"https://new.example:9200"}}}})
		}
		if planned[a] > 0 {
			out.Planned = append(out.Planned, daemon.ChangeCount{Kind: "output", Action: string(a), Count: planned[a]})
		}
	}
	for _, a := range applied {
		out.Applied = append(out.Applied, daemon.ChangeCount{Kind: "output", Action: string(a), Count: planned[a]})
	}
	out.Drift, out.Plan = len(p.Changes) > 0, p
	return out
}

// recNotifier records the events it is sent; it fails while err is set.
type recNotifier struct {
	mu     sync.Mutex
	events []notify.Event
	err    error
}

func (r *recNotifier) Name() string { return "recorder" }

func (r *recNotifier) Notify(_ context.Context, e notify.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return r.err
}

func (r *recNotifier) take() []notify.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.events
	r.events = nil
	return e
}

func results(es []notify.Event) string {
	var s []string
	for _, e := range es {
		s = append(s, fmt.Sprintf("%s %s %+v", short(e.Revision), e.Result, e.Changes))
	}
	return strings.Join(s, "; ")
}

func short(rev string) string {
	if len(rev) > 13 {
		return rev[7:13]
	}
	return rev
}

// Issue 11 #6 and #7, the loop's view: what a turn records (history, last
// plan, last change), what counts as drift (only a non-empty plan for the
// revision Fleet already matched), fleetform_changes_pending going back to
// 0 after an apply, and a notification each time the result for a
// revision changes — never on an idle turn.
func TestTurnsRecordHistoryDriftPendingAndNotify(t *testing.T) {
	src := source.NewStatic(validFS("o1"), "fleet")
	rec := &scripted{}
	n := &recNotifier{}
	l := newLoop(t, daemon.DefaultConfig(), src, rec, daemon.WithNotifier(n))
	ctx := context.Background()
	pending := func(action string) string {
		return metric(t, l, `fleetform_changes_pending{action="`+action+`",kind="output"}`)
	}
	type step struct {
		name       string
		change     func() // changes the source
		out        daemon.Outcome
		err        error
		wantResult string
		wantDrift  string // fleetform_drift_detected_total after the turn
		wantNotes  string // events sent after the turn
		pendingUpd string // fleetform_changes_pending for updates
	}
	var revA, revB string
	steps := []step{
		{name: "a new revision is applied", out: outcome(map[plan.Action]int{plan.Create: 1, plan.Update: 1}, plan.Create, plan.Update),
			wantResult: daemon.ResultApplied, wantDrift: "0", wantNotes: "A applied {Create:1 Update:1 Delete:0 Blocked:0}", pendingUpd: "0"},
		{name: "idle", out: outcome(nil), wantResult: daemon.ResultInSync, wantDrift: "0", pendingUpd: "0"},
		{name: "idle again", out: outcome(nil), wantResult: daemon.ResultInSync, wantDrift: "0", pendingUpd: "0"},
		{name: "a change made in Kibana is reverted", out: outcome(map[plan.Action]int{plan.Update: 1}, plan.Update),
			wantResult: daemon.ResultApplied, wantDrift: "1", pendingUpd: "0"},
		{name: "a new commit is not drift", change: func() { src.Set(validFS("o2"), "fleet") },
			out:        outcome(map[plan.Action]int{plan.Update: 2}, plan.Update),
			wantResult: daemon.ResultApplied, wantDrift: "1", wantNotes: "B applied {Create:0 Update:2 Delete:0 Blocked:0}", pendingUpd: "0"},
		{name: "the apply fails", out: outcome(map[plan.Action]int{plan.Update: 1}), err: errors.New("kibana main: 500"),
			wantResult: daemon.ResultFailed, wantDrift: "2", wantNotes: "B failed {Create:0 Update:0 Delete:0 Blocked:0}", pendingUpd: "1"},
		{name: "it fails again: no second notification", out: outcome(map[plan.Action]int{plan.Update: 1}), err: errors.New("kibana main: 500"),
			wantResult: daemon.ResultFailed, wantDrift: "3", pendingUpd: "1"},
		{name: "it is applied at last", out: outcome(map[plan.Action]int{plan.Update: 1}, plan.Update),
			wantResult: daemon.ResultApplied, wantDrift: "4", wantNotes: "B applied {Create:0 Update:1 Delete:0 Blocked:0}", pendingUpd: "0"},
		{name: "a blocked change", change: func() { src.Set(validFS("o3"), "fleet") },
			out: outcome(map[plan.Action]int{plan.Update: 1, plan.Blocked: 1}, plan.Update), err: errors.New("not converged: output o3 is blocked"),
			wantResult: daemon.ResultBlocked, wantDrift: "4", wantNotes: "C blocked {Create:0 Update:1 Delete:0 Blocked:1}", pendingUpd: "0"},
	}
	for i, s := range steps {
		if s.change != nil {
			s.change()
		}
		rec.set(s.out, s.err)
		_ = l.Once(ctx, "interval")
		st := l.Status()
		if i == 0 {
			revA = st.Revision
		}
		if i == 4 {
			revB = st.Revision
		}
		if got := st.History[0].Result; got != s.wantResult {
			t.Errorf("%s: result %s, want %s", s.name, got, s.wantResult)
		}
		if got := metric(t, l, "fleetform_drift_detected_total"); got != s.wantDrift {
			t.Errorf("%s: drift total %s, want %s", s.name, got, s.wantDrift)
		}
		if got := pending("update"); got != s.pendingUpd {
			t.Errorf("%s: pending updates %s, want %s", s.name, got, s.pendingUpd)
		}
		got := results(n.take())
		for _, r := range [][2]string{{revA, "A"}, {revB, "B"}, {st.Revision, "C"}} {
			if r[0] != "" {
				got = strings.ReplaceAll(got, short(r[0]), r[1])
			}
		}
		if got != s.wantNotes {
			t.Errorf("%s: notifications %q, want %q", s.name, got, s.wantNotes)
		}
	}

	st := l.Status()
	if len(st.History) != len(steps)-1 {
		t.Errorf("%d history entries, want %d (the two idle turns are one)", len(st.History), len(steps)-1)
	}
	idle := st.History[len(st.History)-2]
	if idle.Result != daemon.ResultInSync || idle.Turns != 2 || idle.First.IsZero() {
		t.Errorf("idle entry %+v, want 2 in-sync turns", idle)
	}
	if d := st.History[len(st.History)-3]; !d.Drift {
		t.Errorf("the turn that reverted a change made in Kibana is not marked drift: %+v", d)
	}
	if st.LastChange == nil || st.LastChange.Plan == nil || len(st.LastChange.Plan.Changes) != 2 || st.LastChange.Result != daemon.ResultBlocked {
		t.Errorf("last change %+v, want the blocked plan", st.LastChange)
	}
	if e := st.History[0].Error; !strings.Contains(e, "output o3 is blocked") {
		t.Errorf("history error %q", e)
	}
	if got := metric(t, l, `fleetform_notifications_total{notifier="recorder",result="sent"}`); got != "5" {
		t.Errorf("notifications sent = %s, want 5", got)
	}

	// An idle turn after a change keeps the change on show.
	rec.set(outcome(nil), nil)
	_ = l.Once(ctx, "interval")
	st = l.Status()
	if st.Last.Plan == nil || len(st.Last.Plan.Changes) != 0 || st.LastChange == nil || len(st.LastChange.Plan.Changes) != 2 {
		t.Errorf("last plan %+v, last change %+v: want an empty last plan and the earlier change kept", st.Last, st.LastChange)
	}
}

// An invalid revision gets a failed status of its own, once.
func TestInvalidRevisionIsNotifiedOnce(t *testing.T) {
	src := source.NewStatic(validFS("o1"), "fleet")
	n := &recNotifier{}
	rec := &scripted{}
	rec.set(outcome(nil), nil)
	l := newLoop(t, daemon.DefaultConfig(), src, rec, daemon.WithNotifier(n))
	_ = l.Once(t.Context(), "startup")
	if got := n.take(); len(got) != 1 || got[0].Result != notify.Applied {
		t.Fatalf("first turn sent %v", results(got))
	}
	bad := fstest.MapFS{"fleet/clusters.yaml": {Data: []byte(mainYAML)}, "fleet/outputs.yaml": {Data: []byte("outputs:\n  - id: [\n")}}
	src.Set(bad, "fleet")
	_ = l.Once(t.Context(), "webhook")
	_ = l.Once(t.Context(), "interval")
	got := n.take()
	if len(got) != 1 || got[0].Result != notify.Failed || !strings.HasPrefix(got[0].Message, "invalid revision: ") || got[0].Revision == l.Status().Revision {
		t.Errorf("after an invalid push: %+v, want one failed event for the invalid revision", got)
	}
}

// Reporting only: the first plan of a revision is pending (not drift); a
// revision Fleet matches is applied; a later non-empty plan for it is drift.
func TestReportModeNotifiesPendingAndCountsDrift(t *testing.T) {
	cfg := daemon.DefaultConfig()
	cfg.Drift = daemon.DriftReport
	rec := &scripted{}
	n := &recNotifier{}
	l := newLoop(t, cfg, source.NewStatic(validFS("o1"), "fleet"), rec, daemon.WithNotifier(n))
	for i, s := range []struct {
		out                   daemon.Outcome
		result, drift, events string
	}{
		{outcome(map[plan.Action]int{plan.Create: 1}), daemon.ResultReported, "0", "pending"},
		{outcome(nil), daemon.ResultInSync, "0", "applied"},
		{outcome(map[plan.Action]int{plan.Delete: 1}), daemon.ResultReported, "1", "pending"},
	} {
		rec.set(s.out, nil)
		_ = l.Once(t.Context(), "interval")
		var ev []string
		for _, e := range n.take() {
			ev = append(ev, string(e.Result))
			if e.Result == notify.Pending && e.Message != "not applied: drift mode report" {
				t.Errorf("turn %d: pending message %q", i, e.Message)
			}
		}
		if got := l.Status().History[0].Result; got != s.result {
			t.Errorf("turn %d: result %s, want %s", i, got, s.result)
		}
		if got := metric(t, l, "fleetform_drift_detected_total"); got != s.drift {
			t.Errorf("turn %d: drift %s, want %s", i, got, s.drift)
		}
		if got := strings.Join(ev, ","); got != s.events {
			t.Errorf("turn %d: events %s, want %s", i, got, s.events)
		}
	}
	if got := metric(t, l, `fleetform_changes_pending{action="delete",kind="output"}`); got != "1" {
		t.Errorf("pending deletes while reporting = %s, want 1", got)
	}
	if got := metric(t, l, `fleetform_changes_pending{action="create",kind="output"}`); got != "0" {
		t.Errorf("pending creates after a plan without them = %s, want 0", got)
	}
}

// A failing destination is counted and logged; the turn succeeds.
func TestNotifierErrorsNeverFailTheTurn(t *testing.T) {
	rec := &scripted{}
	rec.set(outcome(map[plan.Action]int{plan.Create: 1}, plan.Create), nil)
	n := &recNotifier{err: errors.New("github commit status answered 401")}
	l := newLoop(t, daemon.DefaultConfig(), source.NewStatic(validFS("o1"), "fleet"), rec, daemon.WithNotifier(n))
	if err := l.Once(t.Context(), "startup"); err != nil {
		t.Fatalf("turn failed: %v", err)
	}
	if st := l.Status(); st.LastError != "" || st.History[0].Result != daemon.ResultApplied {
		t.Errorf("status %+v", st.History[0])
	}
	if got := metric(t, l, `fleetform_notifications_total{notifier="recorder",result="failed"}`); got != "1" {
		t.Errorf("failed notifications = %s, want 1", got)
	}
}

func TestHistoryKeepsTheLast50(t *testing.T) {
	rec := &scripted{}
	src := source.NewStatic(validFS("o0"), "fleet")
	l := newLoop(t, daemon.DefaultConfig(), src, rec)
	for i := range 60 {
		src.Set(validFS(fmt.Sprintf("o%d", i)), "fleet")
		rec.set(outcome(map[plan.Action]int{plan.Update: 1}, plan.Update), nil)
		_ = l.Once(t.Context(), "webhook")
	}
	h := l.Status().History
	if len(h) != daemon.HistorySize {
		t.Fatalf("%d entries, want %d", len(h), daemon.HistorySize)
	}
	if h[0].Revision != l.Status().Revision || !h[0].Time.After(h[len(h)-1].Time) && !h[0].Time.Equal(h[len(h)-1].Time) {
		t.Errorf("history is not newest first")
	}
}

// fleetform_leader is 1 for a single replica; the suspend reason is shown.
func TestLeaderMetricAndSuspendReason(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "suspended")
	if err := daemon.Suspend(flag, "maintenance window, ticket OPS-7"); err != nil {
		t.Fatal(err)
	}
	cfg := daemon.DefaultConfig()
	cfg.SuspendFile = flag
	rec := &scripted{}
	rec.set(outcome(map[plan.Action]int{plan.Update: 1}), nil)
	l := newLoop(t, cfg, source.NewStatic(validFS("o1"), "fleet"), rec)
	if got := metric(t, l, "fleetform_leader"); got != "1" {
		t.Errorf("fleetform_leader = %s for a single replica, want 1", got)
	}
	_ = l.Once(t.Context(), "startup")
	st := l.Status()
	if !st.Suspended || !strings.Contains(st.SuspendReason, "maintenance window, ticket OPS-7") {
		t.Errorf("suspended %v, reason %q", st.Suspended, st.SuspendReason)
	}
	w := httptest.NewRecorder()
	l.Handler(daemon.HandlerOptions{}).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(w.Body.String(), "maintenance window, ticket OPS-7") {
		t.Errorf("the page does not show the suspend reason")
	}
	if err := daemon.Resume(flag); err != nil {
		t.Fatal(err)
	}
	if st := l.Status(); st.Suspended || st.SuspendReason != "" {
		t.Errorf("after resume: suspended %v, reason %q", st.Suspended, st.SuspendReason)
	}
	leader := &fakeLeader{holder: "other"}
	standby := newLoop(t, daemon.DefaultConfig(), source.NewStatic(validFS("o1"), "fleet"), rec, daemon.WithLeader(leader))
	if got := metric(t, standby, "fleetform_leader"); got != "0" {
		t.Errorf("fleetform_leader = %s for a standby, want 0", got)
	}
}

// slowNotifier takes delay per event.
type slowNotifier struct {
	recNotifier
	delay time.Duration
}

func (s *slowNotifier) Notify(ctx context.Context, e notify.Event) error {
	time.Sleep(s.delay)
	return s.recNotifier.Notify(ctx, e)
}

// A slow destination delays no turn; events queued when the daemon stops
// are still delivered before Run returns.
func TestNotificationsRunBesideTheLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &slowNotifier{delay: 20 * time.Second}
		rec := &scripted{}
		rec.set(outcome(map[plan.Action]int{plan.Create: 1}, plan.Create), nil)
		src := source.NewStatic(validFS("o1"), "fleet")
		l := newLoop(t, daemon.DefaultConfig(), src, rec, daemon.WithNotifier(n))
		start := time.Now()
		stop := runLoop(t, l)
		synctest.Wait()
		src.Set(validFS("o2"), "fleet")
		l.Trigger("api")
		synctest.Wait()
		if turns := l.Status().Turns; turns != 2 || time.Since(start) != 0 {
			t.Fatalf("%d turns after %s, want 2 at once: the notifier delays no turn", turns, time.Since(start))
		}
		if got := len(n.take()); got != 0 {
			t.Fatalf("%d events delivered before the first delivery ended", got)
		}
		stop()
		if got := n.take(); len(got) != 2 || got[0].Revision == got[1].Revision {
			t.Errorf("delivered at shutdown: %s, want both revisions", results(got))
		}
		if took := time.Since(start); took != 40*time.Second {
			t.Errorf("Run returned after %s, want 40s (two deliveries of 20s)", took)
		}
	})
}
