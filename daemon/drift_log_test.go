package daemon_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/daemon"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/source"
)

// The "reconciled" log line says drift=true only for what /status and
// fleetform_drift_detected_total call drift — changes to a revision Fleet
// already matched — never for a new revision's changes. It logged
// drift=true whenever the plan was not empty.
func TestReconciledLogDriftAsStatus(t *testing.T) {
	var buf bytes.Buffer
	src := source.NewStatic(validFS("o1"), "fleet")
	rec := &scripted{}
	l := newLoop(t, daemon.DefaultConfig(), src, rec, daemon.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	ctx := context.Background()
	for _, s := range []struct {
		name   string
		change func()
		out    daemon.Outcome
		want   string
	}{
		{"a new revision's changes", nil, outcome(map[plan.Action]int{plan.Create: 1}, plan.Create), "drift=false"},
		{"idle", nil, outcome(nil), "drift=false"},
		{"a change made in Kibana", nil, outcome(map[plan.Action]int{plan.Update: 1}, plan.Update), "drift=true"},
		{"the next commit", func() { src.Set(validFS("o2"), "fleet") }, outcome(map[plan.Action]int{plan.Update: 1}, plan.Update), "drift=false"},
	} {
		if s.change != nil {
			s.change()
		}
		buf.Reset()
		rec.set(s.out, nil)
		if err := l.Once(ctx, "push"); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var line string
		for _, ln := range strings.Split(buf.String(), "\n") {
			if strings.Contains(ln, "msg=reconciled") {
				line = ln
			}
		}
		if !strings.Contains(line, s.want) {
			t.Errorf("%s: %q, want %s", s.name, line, s.want)
		}
		if got, want := l.Status().History[0].Drift, s.want == "drift=true"; got != want {
			t.Errorf("%s: history drift %v, want %v", s.name, got, want)
		}
	}
}
