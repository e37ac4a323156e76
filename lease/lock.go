package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// The apply lock: one document beside the lease (same index) that every
// writer — `fleetform apply` and each applying turn of `fleetform serve` —
// holds while it writes, so two applies never run side by side. The
// holder renews it every TTL/3; a lock whose holder died is taken over once
// it has stayed unchanged for a TTL as seen here, or once its renewed_at is
// two TTLs old by this machine's clock (so a crashed CLI apply does not
// block the next one forever).

// LockRecord is the lock document's body.
type LockRecord struct {
	Holder     string    `json:"holder"`              // who: host, pid and command; "" when free
	Operation  string    `json:"operation,omitempty"` // apply, serve turn, …
	TTLMillis  int64     `json:"ttl_ms"`
	AcquiredAt time.Time `json:"acquired_at"`
	RenewedAt  time.Time `json:"renewed_at"`
}

// LockConfig configures AcquireLock.
type LockConfig struct {
	Index     string        // default DefaultIndex
	Name      string        // document id; default "fleetform.apply-lock"
	Holder    string        // required: who takes the lock (shown to whoever waits)
	Operation string        // what for
	TTL       time.Duration // default 30s
	// Wait is how long to wait for a lock another writer holds; 0 fails
	// at once with a *LockHeldError.
	Wait   time.Duration
	Logger *slog.Logger
}

// LockName is the lock document's id for a fleetform instance.
func LockName(instance string) string {
	if instance == "" {
		instance = "default"
	}
	return instance + ".apply-lock"
}

// LockHeldError says who holds the lock and since when.
type LockHeldError struct {
	Index, Name string
	Held        LockRecord
	Waited      time.Duration
}

func (e *LockHeldError) Error() string {
	op := ""
	if e.Held.Operation != "" {
		op = " (" + e.Held.Operation + ")"
	}
	waited := "; pass --lock-timeout to wait for it"
	if e.Waited > 0 {
		waited = fmt.Sprintf("; still held after waiting %s", e.Waited.Round(time.Millisecond))
	}
	return fmt.Sprintf("Error acquiring the apply lock %s/%s: held by %s%s since %s (last renewed %s)%s",
		e.Index, e.Name, e.Held.Holder, op, e.Held.AcquiredAt.UTC().Format(time.RFC3339),
		e.Held.RenewedAt.UTC().Format(time.RFC3339), waited)
}

// ErrLockLost is the cause of a held lock's context once the lock could
// not be renewed (another writer took it over, or renewals kept failing).
var ErrLockLost = errors.New("apply lock lost")

// Lock is a held apply lock. Release it when the apply ends.
type Lock struct {
	store  Store
	cfg    LockConfig
	log    *slog.Logger
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}

	mu  sync.Mutex
	v   Version
	rec LockRecord
}

// AcquireLock takes the apply lock in store, waiting up to cfg.Wait for a
// holder to release it. The returned context is ctx, cancelled with cause
// ErrLockLost if the lock is lost while held; run the apply under it.
func AcquireLock(ctx context.Context, store Store, cfg LockConfig) (*Lock, context.Context, error) {
	if cfg.Holder == "" {
		return nil, nil, errors.New("apply lock: holder identity is required")
	}
	if cfg.Index == "" {
		cfg.Index = DefaultIndex
	}
	if cfg.Name == "" {
		cfg.Name = LockName("")
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 30 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Lock{store: store, cfg: cfg, log: log.With("component", "apply-lock", "holder", cfg.Holder)}
	start := time.Now()
	poll := min(cfg.TTL/3, 200*time.Millisecond)
	var (
		seen    Version
		seenAt  time.Time
		seenAny bool
	)
	for {
		doc, found, err := store.Get(ctx, cfg.Index, cfg.Name)
		if err != nil {
			return nil, nil, fmt.Errorf("apply lock %s/%s: read: %w", cfg.Index, cfg.Name, err)
		}
		var (
			held LockRecord
			ifv  *Version
		)
		now := time.Now()
		if found {
			if err := json.Unmarshal(doc.Source, &held); err != nil {
				held = LockRecord{Holder: unreadableHolder}
			}
			v := Version{doc.SeqNo, doc.PrimaryTerm}
			if !seenAny || v != seen {
				seen, seenAt, seenAny = v, now, true
			}
			ifv = &v
			ttl := max(cfg.TTL, time.Duration(held.TTLMillis)*time.Millisecond)
			free := held.Holder == "" || now.Sub(seenAt) >= ttl ||
				!held.RenewedAt.IsZero() && now.Sub(held.RenewedAt) >= 2*ttl
			if !free {
				if now.Sub(start) >= cfg.Wait {
					return nil, nil, &LockHeldError{Index: cfg.Index, Name: cfg.Name, Held: held, Waited: cfg.Wait}
				}
				if err := sleep(ctx, min(poll, cfg.Wait-now.Sub(start))); err != nil {
					return nil, nil, err
				}
				continue
			}
			if held.Holder != "" {
				l.log.Warn("taking over an apply lock its holder stopped renewing", "previous", held.Holder, "renewed_at", held.RenewedAt)
			}
		}
		rec := LockRecord{Holder: cfg.Holder, Operation: cfg.Operation, TTLMillis: cfg.TTL.Milliseconds(), AcquiredAt: now.UTC(), RenewedAt: now.UTC()}
		body, err := json.Marshal(rec)
		if err != nil {
			return nil, nil, err
		}
		nv, err := store.Put(ctx, cfg.Index, cfg.Name, body, ifv)
		if errors.Is(err, ErrConflict) {
			continue // another writer moved first: look again
		}
		if err != nil {
			return nil, nil, fmt.Errorf("apply lock %s/%s: write: %w", cfg.Index, cfg.Name, err)
		}
		l.v, l.rec = nv, rec
		lctx, cancel := context.WithCancelCause(ctx)
		l.cancel, l.stop, l.done = cancel, make(chan struct{}), make(chan struct{})
		go l.renew(context.WithoutCancel(ctx), now)
		return l, lctx, nil
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(max(d, time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// renew rewrites the document every TTL/3 until Release; the lock is lost
// when a renewal conflicts or none succeeded for TTL less one interval,
// so it gives up before another writer may take the lock over.
func (l *Lock) renew(ctx context.Context, last time.Time) {
	defer close(l.done)
	every := l.cfg.TTL / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		start := time.Now()
		rctx, cancel := context.WithTimeout(ctx, every)
		err := l.put(rctx, func(r *LockRecord) { r.RenewedAt = start.UTC() })
		cancel()
		switch {
		case err == nil:
			last = start
		case errors.Is(err, ErrConflict) || time.Since(last) >= l.cfg.TTL-every:
			l.log.Error("apply lock lost; cancelling the apply", "err", err)
			l.cancel(fmt.Errorf("%w: %w", ErrLockLost, err))
			return
		default:
			l.log.Warn("apply lock renewal failed", "err", err)
		}
	}
}

func (l *Lock) put(ctx context.Context, change func(*LockRecord)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec := l.rec
	change(&rec)
	body, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	v := l.v
	nv, err := l.store.Put(ctx, l.cfg.Index, l.cfg.Name, body, &v)
	if err != nil {
		return err
	}
	l.v, l.rec = nv, rec
	return nil
}

// Release frees the lock (unless it was lost) and ends its context.
func (l *Lock) Release(ctx context.Context) error {
	close(l.stop)
	<-l.done
	defer l.cancel(nil)
	err := l.put(ctx, func(r *LockRecord) { *r = LockRecord{TTLMillis: r.TTLMillis, RenewedAt: time.Now().UTC()} })
	if err != nil && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("apply lock %s/%s: release: %w", l.cfg.Index, l.cfg.Name, err)
	}
	return nil
}
