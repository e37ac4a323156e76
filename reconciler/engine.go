package reconciler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// The engine: compute walks the table of kinds (kind.go) to plan, execute
// applies the plan in its order. Nothing here knows a kind's rules.

// step is one planned change with what apply needs to carry it out. The
// plan holds only what people and saved plans may see; the step also holds
// the kind's own view of the change (desired and observed objects) in data:
// *outputStep, *policyStep, *packageStep, *objectStep.
type step struct {
	change *plan.Change
	// err fails the step before it runs (a secret that could not be read).
	err  error
	data any
}

// computed is a plan with its steps, keyed by plan.Key.
type computed struct {
	plan  *plan.Plan
	steps map[string]*step
	obs   *observation
	// errs are problems found while computing that no change carries (a
	// secret of an unchanged output that could not be read to verify it).
	errs []error
	// contributed holds the keys of the steps an engine wrapping the
	// reconciler added (clusters.go).
	contributed map[string]bool
}

func (c *computed) add(s *step) { c.steps[s.change.Key()] = s }

// compute diffs doc against obs, kind by kind in the table's order, then
// plans the deletes of owned objects no longer declared. With cache nil it
// plans without secret values; with a cache it also resolves every
// declared secret and verifies it against the inventory hash — a planning
// cache (Plan) lists the references it cannot read as not compared, an
// apply cache (Apply) fails their objects.
func (r *Reconciler) compute(ctx context.Context, doc *schema.Document, obs *observation, rev string, prune bool, cache *secretCache) *computed {
	c := &computed{
		plan:  &plan.Plan{FormatVersion: plan.FormatVersion, Revision: rev, Space: r.cfg.Space, Fingerprint: obs.fingerprint, Changes: []plan.Change{}},
		steps: map[string]*step{},
		obs:   obs,
	}
	for _, k := range kinds {
		k.plan(ctx, r, doc, c, cache)
	}
	r.addReferences(doc, c)
	r.computePrune(doc, c, prune)
	r.listUnmanaged(doc, c)
	r.planSpaces(ctx, doc, c) // spaces.go
	c.blockDependents()
	for _, s := range c.steps {
		c.plan.Changes = append(c.plan.Changes, *s.change)
	}
	c.sort()
	return c
}

// addReferences makes every create, update or blocked change depend on the
// creates and updates of the objects it refers to (kind.references).
func (r *Reconciler) addReferences(doc *schema.Document, c *computed) {
	for _, s := range c.steps {
		ch := s.change
		if ch.Action == plan.NoOp || ch.Action == plan.Delete || ch.Cluster != r.cfg.Cluster {
			continue
		}
		k := kindNamed(ch.Kind)
		if k == nil {
			continue
		}
		for _, rf := range k.references(doc, ch.ID) {
			if rf.id == "" {
				continue
			}
			dep, ok := c.steps[plan.Key(r.cfg.Cluster, rf.kind, rf.id)]
			if ok && dep.change.Action != plan.NoOp && dep.change.Action != plan.Delete && !slices.Contains(ch.DependsOn, dep.change.Key()) {
				ch.DependsOn = append(ch.DependsOn, dep.change.Key())
			}
		}
	}
}

// blockDependents blocks every change that depends, directly or through
// others, on a blocked change: apply skips a change whose dependency did not
// apply (execute), so a plan showing it as a create, update or delete would
// not be what apply does. The reason names the blocked dependency, whose own
// change says why.
func (c *computed) blockDependents() {
	for changed := true; changed; {
		changed = false
		for _, key := range sortedKeys(c.steps) {
			ch := c.steps[key].change
			if ch.Action == plan.Blocked {
				continue
			}
			var on []string
			for _, d := range ch.DependsOn {
				if dep, ok := c.steps[d]; ok && dep.change.Action == plan.Blocked {
					on = append(on, dep.change.Kind+" "+dep.change.ID)
				}
			}
			if len(on) == 0 {
				continue
			}
			ch.Reason = fmt.Sprintf("needs %s, which %s blocked; apply would skip this %s", strings.Join(on, " and "), pick(len(on), "is", "are"), ch.Action)
			ch.Action = plan.Blocked
			changed = true
		}
	}
}

// computePrune plans, for every object the inventory records as owned and
// doc no longer declares, its kind's delete (or a warning without prune).
func (r *Reconciler) computePrune(doc *schema.Document, c *computed, prune bool) {
	declared := map[string]bool{}
	for _, k := range kinds {
		for _, id := range k.declared(doc) {
			declared[plan.Key(r.cfg.Cluster, k.name(), id)] = true
		}
	}
	for _, key := range sortedKeys(c.obs.records) {
		rec := c.obs.records[key]
		if declared[key] || rec.Cluster != r.cfg.Cluster || rec.Adopted {
			continue
		}
		k := kindNamed(rec.Kind)
		if k == nil {
			continue
		}
		s := k.prune(r, doc, c, rec, prune)
		if s == nil {
			continue
		}
		if owners := c.obs.foreign[key]; len(owners) > 0 && s.change.Action == plan.Delete {
			s.change.Action, s.change.Reason = plan.Blocked, fmt.Sprintf("owned by fleetform and no longer declared here, but fleetform instance %s owns it too (state index); not deleted", strings.Join(owners, ", "))
		}
		if !prune {
			c.plan.Warnings = append(c.plan.Warnings, fmt.Sprintf("%s %q is owned by fleetform but no longer declared; apply with --prune deletes it", rec.Kind, rec.ID))
			continue
		}
		c.add(s)
	}
}

// pruneStep is the delete step of an owned, undeclared object.
func pruneStep(rec Record, name string) *step {
	return &step{change: &plan.Change{Cluster: rec.Cluster, Kind: rec.Kind, ID: rec.ID, Name: name, Action: plan.Delete,
		Reason: "owned by fleetform and no longer declared"}}
}

// foreignBlock explains why an object that another fleetform instance owns
// (its record in the shared state index) is left alone, or returns "".
func (c *computed) foreignBlock(key, what string) string {
	owners := c.obs.foreign[key]
	if len(owners) == 0 {
		return ""
	}
	return fmt.Sprintf("%s is owned by fleetform instance %s (state index): two instances managing one object undo each other's changes, and one's --prune deletes what the other declares; declare it in one instance only", what, strings.Join(owners, ", "))
}

// samePlan reports whether two plans ask for the same changes.
func samePlan(a, b *plan.Plan) bool {
	ja, jb := plan.Plan{Changes: a.Changes}, plan.Plan{Changes: b.Changes}
	return fmt.Sprint(canonical(ja)) == fmt.Sprint(canonical(jb))
}

// ErrSkipped marks a change not attempted because a change it depends on
// failed, was skipped or is blocked.
var ErrSkipped = errors.New("skipped")

// ErrBlocked marks a change the plan blocked.
var ErrBlocked = errors.New("blocked")

// execute runs the plan's changes in the plan's order, the main cluster's
// and those other engines contributed (clusters.go) alike: in waves of
// one cluster, kind and direction, each wave with bounded concurrency (a
// change that depends on one of its wave starts the next). A change whose
// dependency did not apply is skipped. Before the first wave
// holding a step computed from the main cluster's result (AfterMain),
// mainDone is called once with the outcomes so far.
func (r *Reconciler) execute(ctx context.Context, c *computed, cache *secretCache, log *slog.Logger, mainDone func([]Outcome)) []Outcome {
	changes := c.plan.Changes
	outcomes := make([]Outcome, len(changes))
	status := map[string]string{}
	var mu sync.Mutex
	sem := make(chan struct{}, r.cfg.Concurrency)
	for start := 0; start < len(changes); {
		end := start + 1
		for end < len(changes) && sameWave(changes[start], changes[end]) && !dependsOnAny(changes[end], changes[start:end]) {
			end++
		}
		if mainDone != nil && slices.ContainsFunc(changes[start:end], func(ch plan.Change) bool {
			cs, ok := c.steps[ch.Key()].data.(*clusterStep)
			return ok && cs.afterMain
		}) {
			mainDone(slices.DeleteFunc(slices.Clone(outcomes[:start]), func(o Outcome) bool { return o.Status == "" }))
			mainDone = nil
		}
		var wg sync.WaitGroup
		for i := start; i < end; i++ {
			ch := changes[i]
			s := c.steps[ch.Key()]
			mu.Lock()
			var failedDep string
			for _, d := range ch.DependsOn {
				if st, ok := status[d]; ok && st != StatusApplied {
					failedDep = d
					break
				}
			}
			mu.Unlock()
			set := func(o Outcome) {
				mu.Lock()
				defer mu.Unlock()
				outcomes[i] = o
				status[ch.Key()] = o.Status
				reportProgress(ctx, ch, o.Status, o.Err)
			}
			switch {
			case ch.Action == plan.Blocked:
				set(Outcome{Change: ch, Status: StatusBlocked, Err: fmt.Errorf("%s %s: %w: %s", ch.Kind, ch.ID, ErrBlocked, ch.Reason)})
				continue
			case failedDep != "":
				set(Outcome{Change: ch, Status: StatusSkipped, Err: fmt.Errorf("%s %s %s: %w: depends on %s, which did not apply", ch.Action, ch.Kind, ch.ID, ErrSkipped, failedDep)})
				continue
			}
			wg.Go(func() {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					set(Outcome{Change: ch, Status: StatusFailed, Err: fmt.Errorf("%s %s %s: %w", ch.Action, ch.Kind, ch.ID, ctx.Err())})
					return
				}
				defer func() { <-sem }()
				reportProgress(ctx, ch, StatusStarted, nil)
				err := s.err
				if err == nil {
					err = r.run(ctx, s, cache)
				}
				if err != nil {
					log.Error("change failed", "action", ch.Action, "kind", ch.Kind, "id", ch.ID, "err", err)
					set(Outcome{Change: ch, Status: failedStatus(s, err), Err: fmt.Errorf("%s %s %s: %w", ch.Action, ch.Kind, ch.ID, err)})
					return
				}
				log.Info("change applied", "action", ch.Action, "kind", ch.Kind, "id", ch.ID)
				set(Outcome{Change: ch, Status: StatusApplied})
			})
		}
		wg.Wait()
		start = end
	}
	return outcomes
}

// dependsOnAny reports whether ch depends on one of wave's changes: it
// then starts a wave of its own, after them, so that it runs only once
// they applied (and is skipped when one did not).
func dependsOnAny(ch plan.Change, wave []plan.Change) bool {
	for _, d := range ch.DependsOn {
		if slices.ContainsFunc(wave, func(w plan.Change) bool { return w.Key() == d }) {
			return true
		}
	}
	return false
}

func sameWave(a, b plan.Change) bool {
	return a.Cluster == b.Cluster && (a.Action == plan.Delete) == (b.Action == plan.Delete) && a.Kind == b.Kind
}

// run carries out one change through its kind.
func (r *Reconciler) run(ctx context.Context, s *step, cache *secretCache) error {
	ch := s.change
	if ch.Action == plan.NoOp {
		return nil
	}
	if cs, ok := s.data.(*clusterStep); ok {
		if cs.run == nil {
			return fmt.Errorf("%s of %s on %s has nothing to run", ch.Action, ch.Kind, ch.Cluster)
		}
		return cs.run(ctx)
	}
	k := kindNamed(ch.Kind)
	if k == nil || (ch.Action != plan.Create && ch.Action != plan.Update && ch.Action != plan.Delete) {
		return fmt.Errorf("%s of %s is not supported", ch.Action, ch.Kind)
	}
	return k.apply(ctx, r, s, cache)
}

// uncertain reports whether a failed create may nevertheless have reached
// Kibana and been carried out (no answer, or a 5xx/429 that a proxy could
// have sent after the fact).
func uncertain(err error) bool {
	var te *kibana.TransportError
	if errors.As(err, &te) {
		return true
	}
	st := kibana.StatusCode(err)
	return st == http.StatusTooManyRequests || st >= 500
}

// createChecked creates an object with an existence check before every
// POST: the first check finding it means someone else created it since it
// was observed; a later one, that an earlier POST of ours went through and
// its answer was lost. A POST is repeated only after a failure that leaves
// unclear whether it was carried out (Config.CreateAttempts).
func (r *Reconciler) createChecked(ctx context.Context, what string, get func(context.Context) error, create func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := get(ctx)
		switch {
		case err == nil && attempt == 1:
			return fmt.Errorf("%s was created by someone else since it was observed; plan again", what)
		case err == nil:
			return nil // an earlier POST of ours went through; its answer was lost
		case !kibana.IsNotFound(err):
			return fmt.Errorf("check that %s does not exist: %w", what, err)
		}
		err = create(ctx)
		if err == nil || attempt >= r.cfg.CreateAttempts || !uncertain(err) {
			return err
		}
		r.log.Warn("create uncertain; checking before posting again", "object", what, "attempt", attempt, "err", err)
	}
}

// settle sets the action of a declared object's step from what planning
// found (the step's Action is already Create when the object does not
// exist): blocked when a rule refused it, an update when declared fields
// differ, an adoption no-op when it exists and matches but is not recorded
// yet. It reports whether the step belongs in the plan; an existing,
// recorded, matching object does not, and the error its secrets met while
// being verified (if any) is kept in c.errs.
func (c *computed) settle(s *step, blocked []string, exists, hasRec bool) bool {
	switch {
	case len(blocked) > 0:
		s.change.Action = plan.Blocked
		s.change.Reason = strings.Join(blocked, "\n")
	case exists && len(s.change.Fields) > 0:
		s.change.Action = plan.Update
	case exists && !hasRec:
		s.change.Action = plan.NoOp
		s.change.Reason = "exists and matches; apply records it as owned by fleetform"
	case exists:
		if s.err != nil {
			c.errs = append(c.errs, s.err)
		}
		return false
	}
	return true
}
