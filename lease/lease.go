// Package lease elects one applier among fleetform replicas with a lease
// document in the main cluster's Elasticsearch. The holder renews the
// document with if_seq_no/if_primary_term; the others watch it and take over
// once it has not changed for a whole TTL.
//
// Time is measured locally on each replica, never compared across clocks:
// a standby counts the TTL from the moment it saw the current version of the
// document, and the holder stops considering itself leader a margin (half
// the renew interval, or half of what is left of the TTL after it) before one
// TTL after it started its last successful renewal.
// Because a standby sees a renewal only after it was written, the two
// intervals never overlap, whatever the wall clocks say; the margin leaves
// the holder time to cancel the change in flight before a standby may start.
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

// Doc is a stored lease document with its concurrency-control numbers.
type Doc struct {
	SeqNo, PrimaryTerm int64
	Source             json.RawMessage
}

// Version identifies one write of the document.
type Version struct{ SeqNo, PrimaryTerm int64 }

// Store is the slice of an Elasticsearch client the lease needs. Put with a
// nil version creates the document and must fail if it exists; with a
// version it must fail unless the document is at that version. Both
// failures wrap ErrConflict.
type Store interface {
	Get(ctx context.Context, index, id string) (Doc, bool, error)
	Put(ctx context.Context, index, id string, src json.RawMessage, ifVersion *Version) (Version, error)
}

// ErrConflict is what a Store returns when a conditional write lost a race.
var ErrConflict = errors.New("lease: version conflict")

// Record is the lease document's body.
type Record struct {
	Holder      string    `json:"holder"`            // replica identity; "" when released
	Address     string    `json:"address,omitempty"` // where the holder's HTTP API listens, for forwarded pokes
	TTLMillis   int64     `json:"ttl_ms"`
	AcquiredAt  time.Time `json:"acquired_at"`
	RenewedAt   time.Time `json:"renewed_at"` // the holder's clock; for people, not for the protocol
	Transitions int       `json:"transitions"`
}

// Config configures a lease.
type Config struct {
	Index      string        // default "fleetform-lease"
	Name       string        // document id: one lease per fleetform instance (default "fleetform")
	Holder     string        // this replica's identity, e.g. the pod name; required
	Address    string        // optional host:port of this replica's HTTP API
	TTL        time.Duration // default 15s
	RenewEvery time.Duration // default TTL/3; also how often a standby looks
	Logger     *slog.Logger
	// OnChange is called (from Run) when this replica gains or loses the lease.
	OnChange func(leader bool)
}

// unreadableHolder stands for the holder of a document that does not parse.
const unreadableHolder = "(unreadable lease document)"

// DefaultIndex holds the lease documents.
const DefaultIndex = "fleetform-lease"

// Lease is one replica's view of the lease. Run it; ask IsLeader.
type Lease struct {
	store Store
	cfg   Config
	log   *slog.Logger

	mu          sync.Mutex
	leading     bool
	leaderUntil time.Time // local deadline of our leadership
	seen        Version   // version of the document last seen
	seenAt      time.Time // local time it was first seen
	seenAny     bool
	record      Record
}

// New returns a lease for store. It does no I/O.
func New(store Store, cfg Config) (*Lease, error) {
	if cfg.Holder == "" {
		return nil, errors.New("lease: holder identity is required")
	}
	if cfg.Index == "" {
		cfg.Index = DefaultIndex
	}
	if cfg.Name == "" {
		cfg.Name = "fleetform"
	}
	if cfg.TTL == 0 {
		cfg.TTL = 15 * time.Second
	}
	if cfg.RenewEvery == 0 {
		cfg.RenewEvery = cfg.TTL / 3
	}
	if cfg.TTL <= 0 || cfg.RenewEvery <= 0 || cfg.RenewEvery >= cfg.TTL {
		return nil, fmt.Errorf("lease: need 0 < renew interval (%s) < TTL (%s)", cfg.RenewEvery, cfg.TTL)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Lease{store: store, cfg: cfg, log: log.With("component", "lease", "holder", cfg.Holder)}, nil
}

// IsLeader reports whether this replica holds the lease now.
func (l *Lease) IsLeader() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leading && time.Now().Before(l.leaderUntil)
}

// Holder is the replica that holds the lease as last seen ("" if none).
func (l *Lease) Holder() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.record.Holder
}

// LeaderAddress is the holder's advertised HTTP address, "" if unknown.
func (l *Lease) LeaderAddress() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.record.Holder == "" {
		return ""
	}
	return l.record.Address
}

// Run acquires, renews and watches the lease until ctx ends, then releases
// it if held, so that a standby takes over at once instead of after a TTL.
func (l *Lease) Run(ctx context.Context) error {
	for {
		// A round never outlasts its interval: a request hung on a half-open
		// connection must not stop this replica from renewing, or from
		// taking over, for as long as the kernel keeps the socket.
		sctx, cancel := context.WithTimeout(ctx, l.cfg.RenewEvery)
		err := l.Step(sctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			l.log.Warn("lease step failed", "err", err)
		}
		t := time.NewTimer(l.cfg.RenewEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.cfg.RenewEvery)
			defer cancel()
			return l.release(rctx)
		case <-t.C:
		}
	}
}

// Step runs one round: read the document, then renew it, take it over or
// stand by. Run calls it every RenewEvery.
func (l *Lease) Step(ctx context.Context) error {
	start := time.Now()
	doc, found, err := l.store.Get(ctx, l.cfg.Index, l.cfg.Name)
	if err != nil {
		l.expire()
		return fmt.Errorf("lease: read %s/%s: %w", l.cfg.Index, l.cfg.Name, err)
	}
	// A new version is dated when the read returned, not when it was sent:
	// the holder may have written it during a slow read, and its TTL runs
	// from then.
	readAt := time.Now()
	if !found {
		return l.write(ctx, start, nil, Record{})
	}
	var rec Record
	if err := json.Unmarshal(doc.Source, &rec); err != nil {
		// Treated as held by nobody we know: taken over once it has stayed
		// unchanged for a TTL, rather than leaving every replica standby.
		l.log.Warn("lease document unreadable; it will be taken over after a TTL", "index", l.cfg.Index, "id", l.cfg.Name, "err", err)
		rec = Record{Holder: unreadableHolder}
	}
	v := Version{doc.SeqNo, doc.PrimaryTerm}
	l.mu.Lock()
	if !l.seenAny || v != l.seen {
		l.seen, l.seenAt, l.seenAny = v, readAt, true
	}
	seenFor := start.Sub(l.seenAt)
	l.record = rec
	l.mu.Unlock()

	// The holder keeps leading for its own TTL, which it wrote down; during a
	// rolling change of --lease-ttl a standby with a shorter one must not
	// take over while the holder still believes it leads.
	ttl := max(l.cfg.TTL, time.Duration(rec.TTLMillis)*time.Millisecond)
	switch {
	case rec.Holder == l.cfg.Holder:
		return l.write(ctx, start, &v, rec)
	case rec.Holder == "" || seenFor >= ttl:
		if rec.Holder != "" {
			l.log.Info("lease lapsed; taking over", "previous", rec.Holder, "unchanged_for", seenFor)
		}
		return l.write(ctx, start, &v, rec)
	}
	l.setLeading(false, time.Time{})
	return nil
}

// write renews (prev.Holder is us) or acquires the lease at version v.
func (l *Lease) write(ctx context.Context, start time.Time, v *Version, prev Record) error {
	rec := Record{Holder: l.cfg.Holder, Address: l.cfg.Address, TTLMillis: l.cfg.TTL.Milliseconds(),
		AcquiredAt: prev.AcquiredAt, RenewedAt: time.Now().UTC(), Transitions: prev.Transitions}
	if prev.Holder != l.cfg.Holder {
		rec.AcquiredAt = rec.RenewedAt
		rec.Transitions++
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	nv, err := l.store.Put(ctx, l.cfg.Index, l.cfg.Name, body, v)
	if err != nil {
		if errors.Is(err, ErrConflict) {
			l.setLeading(false, time.Time{}) // someone else wrote first
			return nil
		}
		l.expire()
		return fmt.Errorf("lease: write %s/%s: %w", l.cfg.Index, l.cfg.Name, err)
	}
	l.mu.Lock()
	l.seen, l.seenAt, l.seenAny, l.record = nv, start, true, rec
	l.mu.Unlock()
	// Step down a margin before the TTL ends, yet after the next renewal is due.
	margin := min(l.cfg.RenewEvery, l.cfg.TTL-l.cfg.RenewEvery) / 2
	l.setLeading(true, start.Add(l.cfg.TTL-margin))
	return nil
}

// expire drops leadership once its deadline has passed (renewals failing).
func (l *Lease) expire() {
	l.mu.Lock()
	lost := l.leading && !time.Now().Before(l.leaderUntil)
	l.mu.Unlock()
	if lost {
		l.setLeading(false, time.Time{})
	}
}

func (l *Lease) setLeading(leading bool, until time.Time) {
	l.mu.Lock()
	changed := l.leading != leading
	l.leading = leading
	if leading {
		l.leaderUntil = until
	}
	l.mu.Unlock()
	if !changed {
		return
	}
	l.log.Info("lease changed", "leader", leading)
	if l.cfg.OnChange != nil {
		l.cfg.OnChange(leading)
	}
}

// release writes an empty holder if we still hold the lease.
func (l *Lease) release(ctx context.Context) error {
	l.mu.Lock()
	held, v, rec := l.leading, l.seen, l.record
	l.mu.Unlock()
	if !held {
		return nil
	}
	l.setLeading(false, time.Time{})
	rec.Holder, rec.Address, rec.RenewedAt = "", "", time.Now().UTC()
	body, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := l.store.Put(ctx, l.cfg.Index, l.cfg.Name, body, &v); err != nil && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("lease: release: %w", err)
	}
	return nil
}
