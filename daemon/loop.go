// Package daemon runs fleetform as a GitOps daemon: one reconcile loop that a
// timer (with jitter), push webhooks, directory events, SIGHUP and
// POST /reconcile only poke, plus the HTTP endpoints operators watch
// (/healthz, /readyz, /status, /metrics).
//
// Each turn checks the source's head, fetches and validates a new revision
// (an invalid one is reported and the last good revision stays in force),
// then hands the document to a Reconciler that observes, plans and applies —
// or only reports, in drift mode "report", while suspended, or on a replica
// that does not hold the lease.
package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/fleetform/fleetform/notify"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/source"
)

// DriftMode says what a turn does with differences it finds.
type DriftMode string

const (
	DriftCorrect DriftMode = "correct" // apply the plan
	DriftReport  DriftMode = "report"  // plan and report, never apply
)

// Config is the loop's configuration; BindFlags binds it to serve's flags.
type Config struct {
	Interval      time.Duration // time between turns when nothing pokes the loop
	Jitter        float64       // each wait is Interval ± Jitter·Interval (0 ≤ Jitter < 1)
	Drift         DriftMode     // correct | report
	SuspendFile   string        // while this file exists, apply is suspended ("" disables)
	TurnTimeout   time.Duration // upper bound of one turn
	ShutdownGrace time.Duration // how long shutdown waits for the turn in flight
}

// DefaultConfig returns the defaults BindFlags registers.
func DefaultConfig() Config {
	return Config{Interval: time.Minute, Jitter: 0.1, Drift: DriftCorrect, TurnTimeout: 10 * time.Minute, ShutdownGrace: 30 * time.Second}
}

// BindFlags registers the loop's flags on fs with DefaultConfig's values.
func (c *Config) BindFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	fs.DurationVar(&c.Interval, "interval", d.Interval, "reconcile `period` when nothing triggers a turn (drift is corrected at least this often)")
	fs.Float64Var(&c.Jitter, "jitter", d.Jitter, "random `fraction` of the interval added or removed from each wait")
	c.Drift = d.Drift
	fs.Func("drift", "what to do with drift (`mode`): correct (apply; the default) or report (plan only)", func(s string) error {
		c.Drift = DriftMode(s)
		return c.checkDrift()
	})
	fs.StringVar(&c.SuspendFile, "suspend-file", "", "while this `file` exists, changes are reported but not applied (fleetform suspend/resume manage it)")
	fs.DurationVar(&c.TurnTimeout, "turn-timeout", d.TurnTimeout, "upper bound of one reconcile `duration`")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", d.ShutdownGrace, "on SIGTERM, how long to let the change in flight finish")
}

func (c Config) checkDrift() error {
	if c.Drift != DriftCorrect && c.Drift != DriftReport {
		return fmt.Errorf("drift mode %q: want correct or report", c.Drift)
	}
	return nil
}

// Validate reports every problem in c; it never changes c.
func (c Config) Validate() error {
	var errs []error
	if c.Interval <= 0 {
		errs = append(errs, fmt.Errorf("interval %s: must be positive", c.Interval))
	}
	if c.Jitter < 0 || c.Jitter >= 1 {
		errs = append(errs, fmt.Errorf("jitter %g: want 0 ≤ jitter < 1", c.Jitter))
	}
	if err := c.checkDrift(); err != nil {
		errs = append(errs, err)
	}
	if c.TurnTimeout <= 0 {
		errs = append(errs, fmt.Errorf("turn timeout %s: must be positive", c.TurnTimeout))
	}
	if c.ShutdownGrace < 0 {
		errs = append(errs, fmt.Errorf("shutdown grace %s: must not be negative", c.ShutdownGrace))
	}
	return errors.Join(errs...)
}

// Leader is the lease a replica must hold to apply (see package lease).
type Leader interface {
	IsLeader() bool
	Holder() string // who holds the lease now, "" if nobody
}

// Option configures a Loop.
type Option func(*Loop)

// WithLeader makes the loop apply only while l.IsLeader(); other turns are
// skipped and the replica reports itself as standby.
func WithLeader(l Leader) Option { return func(lp *Loop) { lp.leader = l } }

// WithRand sets the random source of the jitter (tests pass a seeded one).
func WithRand(r *rand.Rand) Option { return func(lp *Loop) { lp.rand = r } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(lp *Loop) { lp.log = l } }

// Loop is the daemon's single reconcile loop. Create it with New, run it with
// Run, poke it with Trigger, and serve its Handler.
type Loop struct {
	cfg    Config
	src    source.Source
	rec    Reconciler
	leader Leader
	rand   *rand.Rand
	log    *slog.Logger
	m      *metrics
	kick   chan string // capacity 1: a burst of pokes is one turn

	notifiers []notify.Notifier
	events    chan notify.Event // events not yet delivered

	mu     sync.Mutex // guards the fields below
	good   *revision  // last revision that loaded and validated
	pushed string     // newest revision a webhook announced ("" if it named none)
	bad    *badRevision
	status Status
	// settled is the revision Fleet was last found to match (applied
	// without error, or planned empty): a non-empty plan for it is drift,
	// a change made outside Git.
	settled string
	// pending are the label pairs fleetform_changes_pending has had, so
	// that a pair no longer planned goes back to 0 instead of vanishing.
	pending map[[2]string]bool
	// noteGood and noteBad are the last results notified for a reconciled
	// and for an invalid revision.
	noteGood, noteBad notified
}

type revision struct {
	rev string
	doc *schema.Document
}

type badRevision struct {
	rev string
	err error
}

// New returns a loop over src that reconciles with rec.
func New(cfg Config, src source.Source, rec Reconciler, opts ...Option) (*Loop, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if src == nil || rec == nil {
		return nil, errors.New("daemon: a source and a reconciler are required")
	}
	l := &Loop{cfg: cfg, src: src, rec: rec, log: slog.New(slog.DiscardHandler), m: newMetrics(), kick: make(chan string, 1),
		events: make(chan notify.Event, notifyQueue), pending: map[[2]string]bool{}}
	for _, o := range opts {
		o(l)
	}
	if l.rand == nil {
		l.rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	l.log = l.log.With("component", "daemon")
	l.status = Status{Source: describe(src), Drift: string(cfg.Drift), Interval: cfg.Interval.String(), Role: RoleSingle}
	if l.leader != nil {
		l.status.Role = RoleStandby
	} else {
		l.m.leader.Set(1) // a single replica always applies
	}
	return l, nil
}

func describe(src source.Source) string {
	if s, ok := src.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", src)
}

// Trigger asks for a turn as soon as the current one (if any) ends. It never
// blocks: pokes that arrive while one is pending are merged into it.
func (l *Loop) Trigger(reason string) {
	l.m.triggers.WithLabelValues(reason).Inc()
	select {
	case l.kick <- reason:
	default:
	}
}

// Run runs turns until ctx is done: one at start, then one per poke or per
// jittered interval. A turn in flight when ctx ends is given ShutdownGrace to
// finish. Failures are logged and shown on /status; they never end Run.
func (l *Loop) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if n, ok := l.src.(source.Notifier); ok {
		wg.Go(func() {
			if err := n.Watch(ctx, func() { l.Trigger("fsnotify") }); err != nil {
				l.log.Error("watch failed; falling back to the interval", "err", err)
			}
		})
	}
	if l.cfg.SuspendFile != "" {
		wg.Go(func() { l.watchSuspend(ctx) })
	}
	defer wg.Wait()
	if len(l.notifiers) > 0 {
		// Delivery outlives ctx by the last turn: its events are sent too.
		turnsOver := make(chan struct{})
		defer close(turnsOver)
		wg.Go(func() { l.deliver(ctx, turnsOver) })
	}
	reason := "startup"
	for ctx.Err() == nil {
		_ = l.turn(ctx, reason) // failures are logged and shown on /status
		t := time.NewTimer(l.jitter())
		select {
		case <-ctx.Done():
		case <-t.C:
			reason = "interval"
			l.m.triggers.WithLabelValues(reason).Inc()
		case reason = <-l.kick:
		}
		t.Stop()
	}
	return nil
}

// jitter returns the next wait: Interval scaled by a uniform factor in
// [1-Jitter, 1+Jitter).
func (l *Loop) jitter() time.Duration {
	f := 1 + l.cfg.Jitter*(2*l.rand.Float64()-1)
	return time.Duration(float64(l.cfg.Interval) * f)
}

// turnContext returns the context of one turn: detached from ctx so that a
// shutdown lets the change in flight finish, but cancelled ShutdownGrace
// after ctx ends, and bounded by TurnTimeout.
func (l *Loop) turnContext(ctx context.Context) (context.Context, context.CancelFunc) {
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.cfg.TurnTimeout)
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-ctx.Done():
			t := time.NewTimer(l.cfg.ShutdownGrace)
			defer t.Stop()
			select {
			case <-done:
			case <-t.C:
				cancel()
			}
		}
	}()
	return tctx, func() { close(done); cancel() }
}

// TriggerPush asks for a turn for a webhook announcing rev ("" when the
// webhook named no revision). A burst of them is one turn, and a turn for
// a revision already in hand neither fetches nor checks the head.
func (l *Loop) TriggerPush(rev string) {
	l.mu.Lock()
	l.pushed = rev
	l.mu.Unlock()
	l.Trigger("webhook")
}

// AppliedRevision is the last revision a turn applied without error ("" if
// none). A webhook announcing it starts no turn.
func (l *Loop) AppliedRevision() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.status.LastError != "" {
		return ""
	}
	return l.status.AppliedRevision
}

// Document returns the newest valid document and its revision (nil before
// the first valid fetch). The lease uses it to find the main cluster.
func (l *Loop) Document() (*schema.Document, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.good == nil {
		return nil, ""
	}
	return l.good.doc, l.good.rev
}

// suspended reports whether the suspend flag file exists.
func (l *Loop) suspended() bool {
	if l.cfg.SuspendFile == "" {
		return false
	}
	_, err := os.Stat(l.cfg.SuspendFile)
	return err == nil
}

// turn runs one reconcile. A panic in it (the reconciler, the loader) is
// recovered, logged with its stack and recorded as the turn's error, so the
// daemon keeps running and /status and /metrics say what happened.
func (l *Loop) turn(parent context.Context, trigger string) (err error) {
	start := time.Now()
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		err = fmt.Errorf("%w: %v", ErrPanic, p)
		elapsed := time.Since(start)
		l.log.Error("reconcile panicked", "trigger", trigger, "duration", elapsed, "err", err, "stack", string(debug.Stack()))
		l.m.reconcileDuration.Observe(elapsed.Seconds())
		l.m.reconciles.WithLabelValues("error").Inc()
		l.mu.Lock()
		defer l.mu.Unlock()
		l.status.Turns++
		l.status.LastTrigger = trigger
		l.status.LastAttempt = start.UTC()
		l.status.LastDuration = elapsed.Round(time.Millisecond).String()
		l.status.LastError = err.Error()
		l.addHistory(Turn{Time: start.UTC(), Trigger: trigger, Result: ResultFailed,
			Duration: l.status.LastDuration, Error: firstLine(err.Error(), 300)})
	}()
	return l.reconcileTurn(parent, trigger)
}

// ErrPanic marks a turn that panicked; the panic is recovered and reported.
var ErrPanic = errors.New("reconcile panicked")

// reconcileTurn is one reconcile: head → (fetch → load+validate) → reconcile → record.
func (l *Loop) reconcileTurn(parent context.Context, trigger string) error {
	ctx, done := l.turnContext(parent)
	defer done()
	start := time.Now()
	log := l.log.With("trigger", trigger)

	suspended := l.suspended()
	l.m.suspended.Set(b2f(suspended))

	// Every replica follows the source, so a standby shows the head and any
	// invalid revision, and is ready to apply the moment it takes over.
	var errs []error
	good, srcErr := l.refresh(ctx, log, trigger == "webhook")
	if srcErr != nil {
		errs = append(errs, srcErr)
	}
	if l.leader != nil {
		leading := l.leader.IsLeader()
		l.m.leader.Set(b2f(leading))
		l.mu.Lock()
		l.status.Holder = l.leader.Holder()
		l.status.Suspended = suspended
		l.status.Role = RoleLeader
		if !leading {
			l.status.Role = RoleStandby
			l.status.LastError = ""
			if srcErr != nil {
				l.status.LastError = srcErr.Error()
			}
			if good != nil {
				l.status.Revision = good.rev
			}
		}
		l.mu.Unlock()
		if !leading {
			l.m.reconciles.WithLabelValues("skipped").Inc()
			log.Debug("turn skipped", "reason", "standby", "holder", l.leader.Holder())
			return errStandby
		}
		var stop func()
		ctx, stop = l.whileLeading(ctx, log)
		defer stop()
	}
	apply := l.cfg.Drift == DriftCorrect && !suspended
	if trigger == "webhook" && apply && srcErr == nil && good != nil && l.AppliedRevision() == good.rev {
		// A push announcement for what is already applied (a redelivery, a
		// burst, a push to another path): no Fleet plan. Drift is
		// corrected by the interval turns.
		l.m.reconciles.WithLabelValues("skipped").Inc()
		log.Debug("turn skipped", "reason", "revision already applied", "revision", good.rev)
		return nil
	}
	var (
		out    Outcome
		recErr error
	)
	if good == nil {
		recErr = errors.New("no valid revision yet")
		errs = append(errs, recErr)
	} else {
		log = log.With("revision", good.rev)
		out, recErr = l.rec.Reconcile(ctx, good.doc, good.rev, apply)
		if cause := context.Cause(ctx); recErr != nil && errors.Is(cause, ErrLeaseLost) {
			recErr = fmt.Errorf("%w: %w", cause, recErr)
		}
		if recErr != nil {
			errs = append(errs, fmt.Errorf("reconcile %s: %w", short(good.rev), recErr))
		}
	}
	elapsed := time.Since(start)
	err := errors.Join(errs...)
	// drift: changes made outside Git to a revision Fleet already matched
	// (out.Drift only says the plan was not empty).
	drift := l.record(good, out, apply, suspended, trigger, start, elapsed, recErr, err)
	if err != nil {
		log.Error("reconcile failed", "duration", elapsed, "applied", Total(out.Applied), "planned", Total(out.Planned), "err", err)
		return err
	}
	log.Info("reconciled", "duration", elapsed, "apply", apply, "drift", drift,
		"planned", Total(out.Planned), "applied", Total(out.Applied))
	return nil
}

// ErrLeaseLost cancels a turn whose replica lost the lease while applying:
// another replica may take over at the end of the lease's TTL, and two
// appliers must never run side by side.
var ErrLeaseLost = errors.New("lease lost during the turn")

// leaseCheckEvery is how often a leading turn checks that it still leads.
const leaseCheckEvery = 250 * time.Millisecond

// whileLeading returns ctx cancelled (with cause ErrLeaseLost) as soon as
// the leader stops leading; stop ends the watch.
func (l *Loop) whileLeading(ctx context.Context, log *slog.Logger) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(leaseCheckEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if !l.leader.IsLeader() {
					log.Warn("lease lost during the turn; cancelling it", "holder", l.leader.Holder())
					cancel(ErrLeaseLost)
					return
				}
			}
		}
	}()
	return ctx, func() { close(done); cancel(nil) }
}

// errStandby is Once's answer on a replica that does not hold the lease.
var errStandby = errors.New("standby: another replica holds the lease")

// Once runs a single turn now, outside Run, and returns its error (also
// recorded on /status). Use it for one-shot runs and benchmarks; never
// concurrently with Run.
func (l *Loop) Once(ctx context.Context, trigger string) error {
	err := l.turn(ctx, trigger)
	l.flushNotifications(ctx)
	return err
}

// refresh checks the head and, when it moved to a revision not seen yet,
// fetches and validates it. It returns the revision to reconcile (the newest
// valid one) and the source or validation error to report. pushed says a
// webhook announced a push: then the head check would only repeat what the
// fetch learns, so refresh fetches the newest revision straight away.
func (l *Loop) refresh(ctx context.Context, log *slog.Logger, pushed bool) (*revision, error) {
	l.mu.Lock()
	good, bad := l.good, l.bad
	l.mu.Unlock()

	l.mu.Lock()
	announced := l.pushed
	l.mu.Unlock()
	if pushed && good != nil && announced == good.rev {
		return good, nil // the announced revision is the one in hand
	}
	head := ""
	// After a push announcing another revision, fetch at once: the head
	// check would only repeat what the fetch learns. A poke that names no
	// revision checks the head first (one ls-remote, no fetch when it did
	// not move).
	if !pushed || announced == "" {
		var err error
		if head, err = l.src.Head(ctx); err != nil {
			l.m.fetchErrors.Inc()
			return good, fmt.Errorf("head check: %w", err)
		}
		l.mu.Lock()
		l.status.Head = head
		l.mu.Unlock()
		switch {
		case good != nil && head == good.rev:
			return good, nil
		case bad != nil && head == bad.rev:
			return good, fmt.Errorf("revision %s is invalid, keeping %s: %w", short(head), shortRev(good), bad.err)
		}
	}

	start := time.Now()
	snap, err := l.src.Fetch(ctx, head)
	l.m.fetchDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		l.m.fetchErrors.Inc()
		return good, fmt.Errorf("fetch %s: %w", cmpOr(short(head), "newest revision"), err)
	}
	l.mu.Lock()
	l.status.Head = snap.Revision
	l.mu.Unlock()
	switch {
	case good != nil && snap.Revision == good.rev:
		return good, nil
	case bad != nil && snap.Revision == bad.rev:
		return good, fmt.Errorf("revision %s is invalid, keeping %s: %w", short(snap.Revision), shortRev(good), bad.err)
	}
	log.Info("fetched", "revision", snap.Revision, "duration", time.Since(start))
	doc, err := schema.Load(ctx, snap.FS, snap.Root)
	if err != nil {
		l.mu.Lock()
		l.bad = &badRevision{rev: snap.Revision, err: err}
		l.mu.Unlock()
		l.m.invalidRevision.Set(1)
		log.Error("invalid revision; keeping the last good one", "invalid", snap.Revision, "kept", shortRev(good), "err", err)
		return good, fmt.Errorf("revision %s is invalid, keeping %s: %w", short(snap.Revision), shortRev(good), err)
	}
	good = &revision{rev: snap.Revision, doc: doc}
	l.mu.Lock()
	l.good, l.bad = good, nil
	l.mu.Unlock()
	l.m.invalidRevision.Set(0)
	return good, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// short abbreviates a commit SHA for messages.
func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

func shortRev(r *revision) string {
	if r == nil {
		return "none"
	}
	return short(r.rev)
}
