package lease_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/fleetform/fleetform/lease"
)

type countRT struct{ sent []string }

func (c *countRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.sent = append(c.sent, r.Method)
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
}

// The fence sends reads always and writes only while the lease is valid by
// this replica's monotonic clock: not before it is held, not after its
// validity (TTL less the step-down margin) has passed without a renewal.
func TestFenceRefusesWritesOutsideTheLease(t *testing.T) {
	m := newMem()
	l, err := lease.New(m.as("a"), lease.Config{Holder: "a", TTL: 300 * time.Millisecond, RenewEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rt := &countRT{}
	f := lease.Fence(rt, l)
	do := func(method string) error {
		req, _ := http.NewRequest(method, "http://kibana.example/api/fleet/outputs/o1", nil)
		_, err := f.RoundTrip(req)
		return err
	}
	var fenced *lease.FencedError
	if err := do(http.MethodPut); !errors.As(err, &fenced) {
		t.Fatalf("PUT before the lease is held: err = %v, want *FencedError", err)
	}
	if err := do(http.MethodGet); err != nil {
		t.Fatalf("GET: %v", err)
	}
	if err := l.Step(context.Background()); err != nil || !l.IsLeader() {
		t.Fatalf("not leader: %v", err)
	}
	for _, m := range []string{http.MethodPut, http.MethodPost, http.MethodDelete} {
		if err := do(m); err != nil {
			t.Fatalf("%s while leading: %v", m, err)
		}
	}
	until, _ := l.ValidUntil()
	time.Sleep(time.Until(until) + 10*time.Millisecond) // a pause: no renewal
	if err := do(http.MethodPut); !errors.As(err, &fenced) {
		t.Fatalf("PUT after the validity passed: err = %v, want *FencedError", err)
	}
	if !fenced.Permanent() {
		t.Error("a fenced write must not be retried")
	}
	if err := do(http.MethodGet); err != nil {
		t.Fatalf("GET after the validity passed: %v", err)
	}
	if want := "GET PUT POST DELETE GET"; join(rt.sent) != want {
		t.Errorf("sent %q, want %q", join(rt.sent), want)
	}
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}
