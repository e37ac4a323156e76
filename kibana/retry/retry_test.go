package retry

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestClassify(t *testing.T) {
	dial := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	reset := &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}
	eof := &url.Error{Op: "Get", URL: "http://x", Err: io.EOF}
	dns := &net.DNSError{Err: "no such host", Name: "kb.example"}
	tlsErr := &url.Error{Op: "Get", URL: "https://x", Err: x509.UnknownAuthorityError{}}
	tests := []struct {
		name       string
		status     int
		err        error
		idempotent bool
		want       bool
	}{
		{"GET 429", 429, nil, true, true},
		{"GET 502", 502, nil, true, true},
		{"GET 503", 503, nil, true, true},
		{"GET 504", 504, nil, true, true},
		{"GET 500", 500, nil, true, false},
		{"GET 501", 501, nil, true, false},
		{"GET 400", 400, nil, true, false},
		{"GET 401", 401, nil, true, false},
		{"GET 403", 403, nil, true, false},
		{"GET 404", 404, nil, true, false},
		{"GET 409", 409, nil, true, false},
		{"GET 200", 200, nil, true, false},
		{"POST 429 refused before acting", 429, nil, false, true},
		{"POST 503 may have failed after side effects", 503, nil, false, false},
		{"POST 502 may have been forwarded", 502, nil, false, false},
		{"POST 504 may have been forwarded", 504, nil, false, false},
		{"POST 400", 400, nil, false, false},
		{"GET connection reset", 0, reset, true, true},
		{"GET EOF", 0, eof, true, true},
		{"POST connection reset after sending", 0, reset, false, false},
		{"POST EOF after sending", 0, eof, false, false},
		{"POST dial refused", 0, dial, false, true},
		{"POST DNS failure", 0, dns, false, true},
		{"GET TLS unknown authority", 0, tlsErr, true, false},
		{"GET permanent error", 0, fmt.Errorf("x: %w", permanentErr{}), true, false},
		{"GET context canceled", 0, fmt.Errorf("x: %w", context.Canceled), true, false},
		{"GET deadline exceeded", 0, &url.Error{Op: "Get", URL: "http://x", Err: context.DeadlineExceeded}, true, false},
		{"GET unknown error", 0, errors.New("something odd"), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.status, tt.err, tt.idempotent); got != tt.want {
				t.Errorf("Classify(%d, %v, idempotent=%v) = %v, want %v", tt.status, tt.err, tt.idempotent, got, tt.want)
			}
		})
	}
}

type permanentErr struct{}

func (permanentErr) Error() string   { return "pinned certificate mismatch" }
func (permanentErr) Permanent() bool { return true }

func TestIdempotent(t *testing.T) {
	for m, want := range map[string]bool{"GET": true, "HEAD": true, "PUT": true, "DELETE": true, "POST": false, "PATCH": false} {
		if got := Idempotent(m); got != want {
			t.Errorf("Idempotent(%s) = %v, want %v", m, got, want)
		}
	}
	ctx := context.Background()
	if IsSafeToRepeat(ctx) {
		t.Error("plain context is safe to repeat")
	}
	if !IsSafeToRepeat(SafeToRepeat(ctx)) {
		t.Error("SafeToRepeat context not recognised")
	}
}

func TestBackoff(t *testing.T) {
	p := Policy{Base: 100 * time.Millisecond, Max: time.Second}
	tests := []struct {
		name       string
		n          int
		rand       float64
		retryAfter time.Duration
		want       time.Duration
	}{
		{"first, no jitter", 1, 0, 0, 50 * time.Millisecond},
		{"first, full jitter", 1, 0.999999999, 0, 100 * time.Millisecond},
		{"second doubles", 2, 0, 0, 100 * time.Millisecond},
		{"third doubles again", 3, 0.5, 0, 300 * time.Millisecond},
		{"capped at max", 10, 0, 0, 500 * time.Millisecond},
		{"capped at max, full jitter", 10, 0.999999999, 0, time.Second},
		{"retry-after raises the wait", 1, 0, 3 * time.Second, 3 * time.Second},
		{"retry-after below backoff is ignored", 3, 0, 10 * time.Millisecond, 200 * time.Millisecond},
		{"n below 1 treated as 1", 0, 0, 0, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := p
			p.Rand = func() float64 { return tt.rand }
			got := p.Backoff(tt.n, tt.retryAfter).Round(time.Millisecond)
			if got != tt.want {
				t.Errorf("Backoff(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}

// recorder is an injected Sleep that records the waits and never sleeps.
type recorder struct{ waits []time.Duration }

func (r *recorder) sleep(_ context.Context, d time.Duration) error {
	r.waits = append(r.waits, d)
	return nil
}

func TestDo(t *testing.T) {
	errTry := errors.New("try failed")
	tests := []struct {
		name      string
		attempts  int
		results   []Attempt // per try; a try beyond the list succeeds
		wantTries int
		wantWaits []time.Duration
		wantErr   bool
	}{
		{"success first", 5, nil, 1, nil, false},
		{"two retryable failures then success", 5, []Attempt{{Retry: true}, {Retry: true}}, 3,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, false},
		{"not retryable stops at once", 5, []Attempt{{Retry: false}}, 1, nil, true},
		{"attempts run out", 3, []Attempt{{Retry: true}, {Retry: true}, {Retry: true}, {Retry: true}}, 3,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, true},
		{"retry-after honoured", 5, []Attempt{{Retry: true, RetryAfter: 7 * time.Second}}, 2,
			[]time.Duration{7 * time.Second}, false},
		{"retry-after beyond max gives up", 5, []Attempt{{Retry: true, RetryAfter: time.Hour}}, 1, nil, true},
		{"zero attempts means one try", 0, []Attempt{{Retry: true}}, 1, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			p := Policy{Attempts: tt.attempts, Base: 100 * time.Millisecond, Max: 10 * time.Second,
				Sleep: rec.sleep, Rand: func() float64 { return 0.999999999 }}
			tries := 0
			err := p.Do(context.Background(), func(_ context.Context, n int) (Attempt, error) {
				tries++
				if n != tries {
					t.Errorf("try number %d, want %d", n, tries)
				}
				if n <= len(tt.results) {
					return tt.results[n-1], errTry
				}
				return Attempt{}, nil
			})
			if tries != tt.wantTries {
				t.Errorf("tries = %d, want %d", tries, tt.wantTries)
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, errTry) {
				t.Errorf("err = %v, want the last try's error", err)
			}
			got := make([]time.Duration, len(rec.waits))
			for i, w := range rec.waits {
				got[i] = w.Round(time.Millisecond)
			}
			if d := cmp.Diff(tt.wantWaits, got); d != "" && !(len(tt.wantWaits) == 0 && len(got) == 0) {
				t.Errorf("waits (-want +got):\n%s", d)
			}
		})
	}
}

func TestDo_NeverWaitsPastTheDeadline(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(time.Second))
	defer cancel()
	rec := &recorder{}
	p := Policy{Attempts: 5, Base: 4 * time.Second, Max: 10 * time.Second, Sleep: rec.sleep,
		Rand: func() float64 { return 0 }, Now: func() time.Time { return now }}
	errTry := errors.New("503")
	tries := 0
	err := p.Do(ctx, func(context.Context, int) (Attempt, error) { tries++; return Attempt{Retry: true}, errTry })
	if tries != 1 || len(rec.waits) != 0 {
		t.Errorf("tries = %d, waits = %v; want one try and no wait (a 2s backoff would pass the 1s deadline)", tries, rec.waits)
	}
	if !errors.Is(err, errTry) {
		t.Errorf("err = %v, want the try's own error rather than a bare deadline", err)
	}
}

func TestDo_StopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := Policy{Attempts: 5, Base: time.Millisecond, Max: time.Second}
	tries := 0
	err := p.Do(ctx, func(context.Context, int) (Attempt, error) {
		tries++
		cancel()
		return Attempt{Retry: true}, errors.New("503")
	})
	if tries != 1 || err == nil {
		t.Errorf("tries = %d, err = %v; want 1 try and an error", tries, err)
	}
}

func TestDo_DefaultSleepWaitsAndHonoursCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) { // virtual time: nothing really sleeps
		p := Policy{Attempts: 3, Base: time.Minute, Max: time.Hour, Rand: func() float64 { return 0 }}
		start := time.Now()
		tries := 0
		_ = p.Do(context.Background(), func(context.Context, int) (Attempt, error) {
			tries++
			return Attempt{Retry: true}, errors.New("503")
		})
		if el := time.Since(start); tries != 3 || el != 90*time.Second {
			t.Errorf("tries = %d after %v; want 3 tries after 30s+60s of backoff", tries, el)
		}

		ctx, cancel := context.WithCancel(context.Background())
		p.Base = time.Hour
		start = time.Now()
		time.AfterFunc(time.Minute, cancel)
		err := p.Do(ctx, func(context.Context, int) (Attempt, error) { return Attempt{Retry: true}, errors.New("503") })
		if !errors.Is(err, context.Canceled) || time.Since(start) != time.Minute {
			t.Errorf("err = %v after %v; want context.Canceled after 1m, not the 30m backoff", err, time.Since(start))
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"-1", 0},
		{"soon", 0},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-30 * time.Second).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
