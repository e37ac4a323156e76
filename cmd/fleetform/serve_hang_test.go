package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fleetform/fleetform/daemon"
)

// A Git remote that accepts connections and never answers must not keep
// serve from listening: the start-up look-up of the default branch is bounded.
func TestServeStartsWhenTheGitRemoteHangs(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) }) // runs first: lets a still-waiting request end
	defer func(d time.Duration) { trackedRefTimeout = d }(trackedRefTimeout)
	trackedRefTimeout = 200 * time.Millisecond

	cfg := serveConfig{Repo: hang.URL + "/fleet.git", LogFormat: "json", Loop: daemon.DefaultConfig()}
	cfg.Loop.Interval, cfg.Loop.ShutdownGrace = time.Hour, 0 // the first turn hangs on the same remote
	started := make(chan *daemonUnderTest, 1)
	go func() { started <- startServe(t, cfg, newRecording()) }()
	select {
	case d := <-started:
		if code, _ := d.get(t, "/healthz"); code != http.StatusOK {
			t.Errorf("/healthz = %d, want 200", code)
		}
		d.stop()
	case <-time.After(time.Minute): // liveness only: the fixed serve is up in ~200ms
		t.Fatal("serve did not start: it waits on a Git remote that never answers")
	}
}
