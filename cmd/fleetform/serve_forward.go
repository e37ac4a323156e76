package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/webhook"
)

// leaderInfo is what the forwarder needs of the lease.
type leaderInfo interface {
	IsLeader() bool
	LeaderAddress() string
}

// forwarder hands a verified webhook on to the lease holder when this
// replica is a standby, so a push reaches the applier at once whichever
// replica the Service routed it to. The forward is signed with a key
// derived from the webhook secret (see webhook.NewForwardRequest) and never
// carries the secret; it goes only to an https:// address unless plain
// http was allowed (--forward-allow-http). Forwards run under the daemon's
// context (wait ends them at shutdown), one at a time: a burst of webhooks
// becomes at most one forward in flight and one queued (the newest).
type forwarder struct {
	ctx       context.Context
	lease     leaderInfo
	secret    secret.Value
	allowHTTP bool
	client    *http.Client
	log       *slog.Logger

	mu      sync.Mutex
	running bool
	next    *webhook.Event // newest event waiting for the forward in flight
	refused string         // the address last refused, so it is logged once
	wg      sync.WaitGroup
}

// forward reports whether ev was handed to another replica (asynchronously)
// and so needs no turn here.
func (f *forwarder) forward(ev webhook.Event) bool {
	if f.lease == nil || f.lease.IsLeader() || f.ctx.Err() != nil {
		return false
	}
	addr := f.lease.LeaderAddress()
	if addr == "" || !f.allowed(addr) {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running {
		f.next = &ev
		return true
	}
	f.running = true
	f.wg.Go(func() { f.run(addr, ev) })
	return true
}

// allowed reports whether addr may receive forwards, logging a refusal once.
func (f *forwarder) allowed(addr string) bool {
	u, err := url.Parse(addr)
	ok := err == nil && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http" && f.allowHTTP)
	if !ok {
		f.mu.Lock()
		first := f.refused != addr
		f.refused = addr
		f.mu.Unlock()
		if first {
			f.log.Warn("not forwarding webhooks to the leader: its advertised address is not https:// (pass --forward-allow-http to allow plain http); the leader picks the push up at its next interval",
				"leader", addr)
		}
	}
	return ok
}

func (f *forwarder) run(addr string, ev webhook.Event) {
	for {
		f.send(addr, ev)
		f.mu.Lock()
		if f.next == nil || f.ctx.Err() != nil {
			f.running, f.next = false, nil
			f.mu.Unlock()
			return
		}
		ev, f.next = *f.next, nil
		f.mu.Unlock()
		if a := f.lease.LeaderAddress(); a != "" && f.allowed(a) {
			addr = a
		}
	}
}

func (f *forwarder) send(addr string, ev webhook.Event) {
	ctx, cancel := context.WithTimeout(f.ctx, f.client.Timeout)
	defer cancel()
	req, err := webhook.NewForwardRequest(addr, f.secret, ev, time.Now())
	if err != nil {
		f.log.Warn("forward webhook", "leader", addr, "err", err)
		return
	}
	resp, err := f.client.Do(req.WithContext(ctx))
	if err != nil {
		f.log.Warn("forward webhook", "leader", addr, "err", err)
		return
	}
	resp.Body.Close()
	f.log.Info("webhook forwarded to the leader", "leader", addr, "status", resp.StatusCode)
}

// wait returns once no forward is in flight (call after the daemon's
// context ended).
func (f *forwarder) wait() { f.wg.Wait() }
