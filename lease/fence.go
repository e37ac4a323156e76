package lease

import (
	"fmt"
	"net/http"
	"time"
)

// FencedError is what a fenced transport returns instead of sending a write
// once the lease's validity has passed: another replica may already be
// applying a newer revision, and a write from this one would undo it.
type FencedError struct {
	Method, Path string
	Holder       string // this replica
}

func (e *FencedError) Error() string {
	return fmt.Sprintf("%s %s not sent: replica %q no longer holds the lease (its validity has passed)", e.Method, e.Path, e.Holder)
}

// Permanent tells the clients' retry loops that trying again cannot help:
// only a new turn, after the lease is held again, may write.
func (e *FencedError) Permanent() bool { return true }

// ValidUntil is the local (monotonic) deadline of this replica's
// leadership, already less the step-down margin; ok is false when it does
// not lead.
func (l *Lease) ValidUntil() (until time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leaderUntil, l.leading
}

// Fence wraps rt so that no request other than GET, HEAD or OPTIONS is sent
// unless l is held and its validity has not passed, checked on the monotonic
// clock immediately before each request. A replica paused mid-apply
// (SIGSTOP, a long GC, a frozen VM) therefore sends none of its remaining
// writes when it resumes, whatever its goroutines do first.
func Fence(rt http.RoundTripper, l *Lease) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &fenced{rt: rt, l: l}
}

type fenced struct {
	rt http.RoundTripper
	l  *Lease
}

func (f *fenced) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return f.rt.RoundTrip(req)
	}
	if until, ok := f.l.ValidUntil(); !ok || !time.Now().Before(until) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &FencedError{Method: req.Method, Path: req.URL.Path, Holder: f.l.cfg.Holder}
	}
	return f.rt.RoundTrip(req)
}

// CloseIdleConnections forwards to the wrapped transport.
func (f *fenced) CloseIdleConnections() {
	if c, ok := f.rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
