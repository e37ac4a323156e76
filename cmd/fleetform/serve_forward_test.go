package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/webhook"
)

type fakeLeader struct{ addr string }

func (fakeLeader) IsLeader() bool          { return false }
func (f fakeLeader) LeaderAddress() string { return f.addr }

// Issue 10 #11: a standby forwarded webhooks with the webhook secret as a
// Bearer token, over http:// by default, to whatever address the lease
// document names. The forward must carry no secret (only a signature the
// leader verifies), go to plain http only when allowed, and end with the
// daemon.
func TestServeForwardCarriesNoSecret(t *testing.T) {
	key := secret.New("the-webhook-secret")
	type got struct {
		header http.Header
		body   string
	}
	var (
		mu   sync.Mutex
		reqs []got
	)
	leader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, got{r.Header.Clone(), string(b)})
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer leader.Close()
	ev := webhook.Event{Provider: webhook.GitHub, Kind: "push", Ref: "refs/heads/main", After: "abc123"}

	for _, tc := range []struct {
		name      string
		allowHTTP bool
		wantSent  bool
	}{
		{"plain http refused by default", false, false},
		{"plain http when allowed", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			reqs = nil
			mu.Unlock()
			ctx, cancel := context.WithCancel(context.Background())
			f := &forwarder{ctx: ctx, lease: fakeLeader{leader.URL}, secret: key, allowHTTP: tc.allowHTTP,
				log: slog.New(slog.DiscardHandler), client: &http.Client{Timeout: 5 * time.Second}}
			sent := f.forward(ev)
			for deadline := time.Now().Add(10 * time.Second); sent && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				mu.Lock()
				n := len(reqs)
				mu.Unlock()
				if n > 0 {
					break
				}
			}
			cancel() // the daemon stops: the forwarder ends with it
			f.wait()
			if f.forward(ev) {
				t.Error("forwarded after the daemon's context ended")
			}
			if sent != tc.wantSent {
				t.Fatalf("forward = %v, want %v", sent, tc.wantSent)
			}
			mu.Lock()
			defer mu.Unlock()
			if !tc.wantSent {
				if len(reqs) != 0 {
					t.Fatalf("sent %d requests over plain http", len(reqs))
				}
				return
			}
			if len(reqs) != 1 {
				t.Fatalf("leader got %d forwards, want 1", len(reqs))
			}
			r := reqs[0]
			for k, vs := range r.header {
				if strings.Contains(strings.Join(vs, " "), key.Reveal()) {
					t.Errorf("header %s carries the webhook secret", k)
				}
			}
			if strings.Contains(r.body, key.Reveal()) {
				t.Error("the body carries the webhook secret")
			}
			if a := r.header.Get("Authorization"); a != "" {
				t.Errorf("Authorization = %q, want none", a)
			}
			back, err := webhook.ParseForwarded(key, r.header, []byte(r.body), time.Now())
			if err != nil || back.After != ev.After {
				t.Fatalf("the leader cannot verify the forward: %+v, %v", back, err)
			}
			if _, err := webhook.ParseForwarded(secret.New("another secret"), r.header, []byte(r.body), time.Now()); err == nil {
				t.Error("a forward verified under another secret")
			}
		})
	}
}
