package lease_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fleetform/fleetform/lease"
)

// The apply lock: one writer at a time; the second fails at once naming the
// holder, or waits; a holder that stops renewing (crashed, partitioned)
// loses the lock — its context is cancelled — and another writer takes it
// over after a TTL, never before.
func TestApplyLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMem()
		ctx := context.Background()
		cfg := func(holder string, wait time.Duration) lease.LockConfig {
			return lease.LockConfig{Name: lease.LockName("x"), Holder: holder, Operation: "fleetform apply", TTL: 3 * time.Second, Wait: wait}
		}
		a, actx, err := lease.AcquireLock(ctx, m.as("a"), cfg("a", 0))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = lease.AcquireLock(ctx, m.as("b"), cfg("b", 0))
		var held *lease.LockHeldError
		if !errors.As(err, &held) || held.Held.Holder != "a" || !strings.Contains(err.Error(), "Error acquiring the apply lock fleetform-lease/x.apply-lock: held by a (fleetform apply) since ") {
			t.Fatalf("second writer, no wait: err = %v", err)
		}
		// b waits; a finishes after 5s (renewing meanwhile): b gets it then.
		go func() {
			time.Sleep(5 * time.Second)
			if err := a.Release(ctx); err != nil {
				t.Error(err)
			}
		}()
		start := time.Now()
		_, bctx, err := lease.AcquireLock(ctx, m.as("b"), cfg("b", time.Minute))
		if err != nil {
			t.Fatalf("waiting writer: %v", err)
		}
		if waited := time.Since(start); waited < 5*time.Second || waited > 6*time.Second {
			t.Errorf("b waited %s, want about 5s (until a released)", waited)
		}
		if actx.Err() == nil {
			t.Error("a's context outlived its release")
		}

		// b is partitioned: it loses the lock (its context ends) and c takes
		// over — only after the document stayed unchanged for a TTL.
		m.partition("b", true)
		start = time.Now()
		c, _, err := lease.AcquireLock(ctx, m.as("c"), cfg("c", time.Minute))
		if err != nil {
			t.Fatalf("take-over: %v", err)
		}
		if took := time.Since(start); took < 3*time.Second {
			t.Errorf("c took over after %s, before a TTL (3s)", took)
		}
		if !errors.Is(context.Cause(bctx), lease.ErrLockLost) {
			t.Errorf("b's context after its renewals failed for a TTL: cause %v, want ErrLockLost", context.Cause(bctx))
		}
		if err := c.Release(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
