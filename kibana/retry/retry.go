// Package retry is the retry policy shared by fleetform's Kibana and
// Elasticsearch clients: which failures are worth another try, how long to
// wait (jittered exponential backoff that honours Retry-After), and the rule
// that a request which is not safe to repeat is never sent twice once it may
// have reached the server.
//
// The rule for non-idempotent requests (POST that creates something): the
// clients retry them only when the server provably did not act on them — a
// connection that was never established, or 429 Too Many Requests (the
// request was refused, not carried out). A reset connection, a timeout
// after the request was written, and any 5xx (Kibana may have failed after
// side effects, a gateway may have forwarded it) end the call with an
// error; the caller then checks whether the object exists before it tries
// again. A caller that knows a particular POST is harmless to repeat marks
// the context with SafeToRepeat.
package retry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Policy decides how often and how long to wait between tries. The zero
// Policy tries once.
type Policy struct {
	// Attempts is the total number of tries including the first; < 1 means 1.
	Attempts int
	// Base is the backoff before the second try; it doubles for every further try.
	Base time.Duration
	// Max caps one backoff. A Retry-After longer than Max ends the retries:
	// waiting that long inside one call would stall the caller.
	Max time.Duration
	// Sleep waits d or until ctx ends; nil uses a real timer. Tests inject a
	// recorder so that no test sleeps.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0, 1) for jitter; nil uses math/rand/v2.
	Rand func() float64
	// Now is the clock used for Retry-After dates and deadlines; nil uses time.Now.
	Now func() time.Time
}

// Default is the policy both clients start with: 5 tries, 250ms doubling
// to at most 10s, so a call gives up after roughly 4 seconds of backoff
// unless Retry-After asks for longer.
func Default() Policy {
	return Policy{Attempts: 5, Base: 250 * time.Millisecond, Max: 10 * time.Second}
}

// Backoff returns the wait after the n-th failed try (n >= 1): the
// exponential step Base·2^(n-1), capped at Max, with "equal jitter" — half
// fixed, half random — so waits still grow but concurrent clients spread out.
// A Retry-After hint raises the wait to at least that value.
func (p Policy) Backoff(n int, retryAfter time.Duration) time.Duration {
	if n < 1 {
		n = 1
	}
	step := p.Base
	for i := 1; i < n && step < p.Max; i++ {
		step *= 2
	}
	if p.Max > 0 && step > p.Max {
		step = p.Max
	}
	r := rand.Float64
	if p.Rand != nil {
		r = p.Rand
	}
	wait := step/2 + time.Duration(r()*float64(step/2))
	return max(wait, retryAfter)
}

// Attempt is what one try reports back to Do.
type Attempt struct {
	// Retry says the failure is worth another try (see Classify).
	Retry bool
	// RetryAfter is the server's Retry-After hint, 0 if none.
	RetryAfter time.Duration
}

// Do calls try until it returns a nil error, a failure that is not
// retryable, or the attempts run out, waiting Backoff between tries. It
// returns the last error of try. It never starts a wait that would outlast
// ctx's deadline: it returns the last error instead, so the caller sees why
// the call failed rather than a bare deadline.
func (p Policy) Do(ctx context.Context, try func(ctx context.Context, n int) (Attempt, error)) error {
	attempts := max(p.Attempts, 1)
	for n := 1; ; n++ {
		a, err := try(ctx, n)
		if err == nil || !a.Retry || n >= attempts || ctx.Err() != nil {
			return err
		}
		if p.Max > 0 && a.RetryAfter > p.Max {
			return err
		}
		wait := p.Backoff(n, a.RetryAfter)
		if dl, ok := ctx.Deadline(); ok && p.now().Add(wait).After(dl) {
			return err
		}
		if serr := p.sleep(ctx, wait); serr != nil {
			return errors.Join(err, serr)
		}
	}
}

func (p Policy) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p Policy) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type safeKey struct{}

// SafeToRepeat marks ctx: the caller knows the POST it is about to send may
// be repeated without harm (for example, because it checked beforehand that
// the object does not exist and a duplicate would be refused), so the client
// may retry it like a GET.
func SafeToRepeat(ctx context.Context) context.Context {
	return context.WithValue(ctx, safeKey{}, true)
}

// IsSafeToRepeat reports whether ctx was marked by SafeToRepeat.
func IsSafeToRepeat(ctx context.Context) bool {
	v, _ := ctx.Value(safeKey{}).(bool)
	return v
}

// Idempotent reports whether a request with this method may be repeated
// without changing the result: every method except POST and PATCH.
func Idempotent(method string) bool {
	return method != http.MethodPost && method != http.MethodPatch
}

// Classify decides whether a try is worth repeating. status is the HTTP
// status (0 when err is a transport error); idempotent says whether the
// request may be sent twice.
//
//	idempotent:     429, 502, 503, 504 and connection errors are retried
//	non-idempotent: 429 and failures to connect are retried; 5xx and
//	                errors after the connection was made are not
//	both:           other 4xx, other 5xx, TLS trust failures and a
//	                cancelled or expired context are never retried
func Classify(status int, err error, idempotent bool) bool {
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return false
		}
		if isPermanent(err) {
			return false
		}
		if notSent(err) {
			return true
		}
		return idempotent && isTransportError(err)
	}
	switch status {
	case http.StatusTooManyRequests:
		return true
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return idempotent
	}
	return false
}

// notSent reports errors that prove the request never reached a server:
// DNS failures and a refused or failed dial.
func notSent(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

func isTransportError(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		strings.Contains(err.Error(), "connection reset") ||
		strings.Contains(err.Error(), "server closed idle connection")
}

// isPermanent reports TLS trust failures and errors that say of themselves
// (Permanent() bool) that trying again cannot help.
func isPermanent(err error) bool {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var perm interface{ Permanent() bool }
	if errors.As(err, &perm) && perm.Permanent() {
		return true
	}
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify)
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (relative to now). It returns 0 when the header is absent or malformed.
func ParseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
