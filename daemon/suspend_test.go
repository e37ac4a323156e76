package daemon_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/fleetform/fleetform/daemon"
	"github.com/fleetform/fleetform/source"
)

// Issue 10 #15: resume must start a turn (it only removed the file, and
// the daemon applied at its next interval); a running daemon marks its
// suspend file as watched, and stops marking it when it stops.
func TestResumeStartsATurn(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "suspended")
	if err := daemon.Suspend(flag, "test"); err != nil {
		t.Fatal(err)
	}
	if daemon.Watched(flag) {
		t.Fatal("watched before any daemon runs")
	}
	fake := newFake()
	cfg := daemon.DefaultConfig()
	cfg.Interval, cfg.SuspendFile = time.Hour, flag
	l := newLoop(t, cfg, source.NewStatic(validFS("o1"), "fleet"), fake)
	stop := runLoop(t, l)
	waitCalls := func(n int) []call {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if c := fake.Calls(); len(c) >= n {
				return c
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%d turns within 20s, want %d", len(fake.Calls()), n)
		return nil
	}
	if c := waitCalls(1); c[0].Apply {
		t.Fatal("applied while suspended")
	}
	deadline := time.Now().Add(20 * time.Second)
	for !daemon.Watched(flag) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !daemon.Watched(flag) {
		t.Fatal("a running daemon does not mark its suspend file as watched")
	}
	if err := daemon.Resume(flag); err != nil {
		t.Fatal(err)
	}
	if c := waitCalls(2); !c[1].Apply {
		t.Errorf("the turn after resume did not apply: %+v", c[1])
	}
	stop()
	if daemon.Watched(flag) {
		t.Error("still marked as watched after the daemon stopped")
	}
}
