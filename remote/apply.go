package remote

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/schema"
)

// One executor for both sides: the remote side of a plan is contributed to
// the reconciler's plan as steps (reconciler.ClusterStep), which the
// reconciler sorts with its own (plan.Sort: dependencies first, then the
// one table of kinds) and runs with its own executor, so the plan's order
// is the apply order on every cluster.
//
// Steps that need the main cluster's result — the credentials minted while
// the main output is applied, the follower that needs the leader index
// Kibana creates for the main output, direct sync and prune — are marked
// AfterMain: they come after every change of the main cluster, the
// reconciler records the main cluster's outcomes before the first of them,
// and the first of them observes the remotes again (once per apply, see
// applyRun.refresh) and runs the operation computed afresh for its key.

// Apply makes the main cluster and every remote match doc, in the plan's
// order: preflight (any problem stops it before a write), the secret
// references read, the main cluster's changes (which mint generated
// credentials through the Engine), then the remotes' changes — the link
// and the remote's own elasticsearch output as planned, the others
// computed from a fresh observation — and finally the bookkeeping (the
// record of packages seen on main, ownership confirmations, journals). A
// saved plan is refused if either side moved.
func (t *TwoCluster) Apply(ctx context.Context, doc *schema.Document, saved *plan.Plan, opts reconciler.ApplyOptions) (reconciler.Result, error) {
	opts.Clusters = t.Engine.contribute(doc)
	return t.Reconciler.Apply(ctx, fleetView(doc), saved, opts)
}

// contribute returns the remote side of doc as the reconciler's
// extension: each call observes the remotes, computes their changes from
// the main cluster's plan and returns them as steps.
func (e *Engine) contribute(doc *schema.Document) reconciler.Clusters {
	return func(ctx context.Context, mainPlan *plan.Plan, prune bool) (*reconciler.ClusterPlan, error) {
		prune = e.cfg.Prune || prune
		c, err := e.plan(ctx, doc, mainPlan, prune)
		if err != nil {
			return nil, err
		}
		a := &applyRun{e: e, doc: doc, prune: prune, planned: map[string]bool{}}
		cp := &reconciler.ClusterPlan{
			Warnings:    c.warnings,
			Annotate:    func(p *plan.Plan) { noteDirect(p, doc, e.cfg.MainCluster) },
			StaleReason: "the remote clusters changed since the plan was made",
			MainDone:    a.mainDone,
			Finish:      a.finish,
		}
		cp.Steps = append(cp.Steps, problemSteps(c.problems)...)
		if len(c.problems) > 0 {
			msgs := make([]string, len(c.problems))
			for i, p := range c.problems {
				msgs[i] = p.String()
			}
			cp.Stop = fmt.Errorf("%w (nothing was written):\n%s", ErrPreflight, strings.Join(msgs, "\n"))
		}
		for _, o := range c.ops {
			cp.Steps = append(cp.Steps, a.step(o))
		}
		return cp, nil
	}
}

// problemSteps are the preflight problems as blocked changes of kind
// "preflight", one per cluster, output and check.
func problemSteps(problems []Problem) []reconciler.ClusterStep {
	var out []reconciler.ClusterStep
	at := map[string]int{}
	for _, pr := range problems {
		id := pr.Check
		if pr.Output != "" {
			id = pr.Output + "/" + pr.Check
		}
		ch := plan.Change{Cluster: pr.Cluster, Kind: KindPreflight, ID: id, Action: plan.Blocked, Reason: pr.Message}
		if i, ok := at[ch.Key()]; ok {
			out[i].Change.Reason += "\n" + pr.Message
			continue
		}
		at[ch.Key()] = len(out)
		out = append(out, reconciler.ClusterStep{Change: ch})
	}
	return out
}

// applyRun is the remote side of one apply: what the steps computed after
// the main cluster's writes share.
type applyRun struct {
	e     *Engine
	doc   *schema.Document
	prune bool

	once sync.Once
	post *computed // the remote side observed again after the main cluster's writes
	err  error     // why it could not be observed

	mu sync.Mutex
	// planned holds the slots of the plan's AfterMain steps: their fresh
	// ops run only through them (not when they were skipped or blocked).
	planned map[string]bool
	// mainStatus is the outcome status of the main cluster's changes.
	mainStatus map[string]string
	failed     bool // a step reported err already
}

// slot names what an op acts on across two computations: the credential
// for the ops of a generated credential (its name may move on between
// them), the change's key for the others.
func slot(o op) string {
	if o.cred != (credRef{}) {
		return "credential " + o.cred.cluster + "/" + o.cred.kind + "/" + o.cred.output
	}
	return o.change.Key()
}

// step turns one planned op into the reconciler's step.
func (a *applyRun) step(o op) reconciler.ClusterStep {
	st := reconciler.ClusterStep{Change: o.change}
	if o.phase == phaseAsPlanned {
		// Independent of the main cluster's result: run as planned.
		st.Run = o.run
		return st
	}
	st.AfterMain = true
	a.planned[slot(o)] = true
	if o.change.Action != plan.Blocked {
		s := slot(o)
		var mintedBy string // minted by the Minter while this main output change is applied
		if o.phase == phaseMinted {
			mintedBy = plan.Key(a.e.cfg.MainCluster, plan.KindOutput, o.cred.output)
		}
		st.Run = func(ctx context.Context) error { return a.runFresh(ctx, s, mintedBy) }
	}
	return st
}

// mainDone keeps the main cluster's outcomes for the minted credentials.
func (a *applyRun) mainDone(outcomes []reconciler.Outcome) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.mainStatus = map[string]string{}
	for _, o := range outcomes {
		a.mainStatus[o.Change.Key()] = o.Status
	}
}

// refresh observes the remotes again and computes their side from what
// the main cluster's apply left (credentials minted, leader indices
// created, packages installed), once per apply.
func (a *applyRun) refresh(ctx context.Context) error {
	a.once.Do(func() {
		a.post, a.err = a.e.plan(ctx, a.doc, nil, a.prune)
		if a.err != nil {
			a.err = fmt.Errorf("observe the remotes after the main cluster's changes: %w", a.err)
		}
	})
	return a.err
}

// runFresh runs the op that the fresh computation has for slot s: nothing
// when none is left to do. mintedBy is set when the plan said the Minter
// mints this credential while that main output change is applied: the op
// that finishes its rotation journal (whether or not the output applied)
// then fails the change when it rolled the credential back; without such
// an op the credential is in place when the output applied, and the
// change is skipped when the output did not.
func (a *applyRun) runFresh(ctx context.Context, s, mintedBy string) error {
	minted := mintedBy != ""
	if err := a.refresh(ctx); err != nil {
		a.mu.Lock()
		a.failed = true
		a.mu.Unlock()
		return err
	}
	i := slices.IndexFunc(a.post.ops, func(o op) bool { return o.phase == phaseAfterMain && slot(o) == s })
	if i < 0 {
		a.mu.Lock()
		st, planned := a.mainStatus[mintedBy]
		a.mu.Unlock()
		if minted && planned && st != reconciler.StatusApplied {
			return fmt.Errorf("%w: depends on %s, which did not apply", reconciler.ErrSkipped, mintedBy)
		}
		return nil // in its desired state after the main cluster's changes
	}
	o := a.post.ops[i]
	switch {
	case o.change.Action == plan.Blocked:
		return fmt.Errorf("%w: %s", reconciler.ErrBlocked, o.change.Reason)
	case o.run == nil:
		return nil
	}
	if err := o.run(ctx); err != nil {
		return err
	}
	if minted && o.rotation != nil && o.rotation.RolledBack {
		a.mu.Lock()
		st, planned := a.mainStatus[mintedBy]
		a.mu.Unlock()
		if planned && st != reconciler.StatusApplied {
			// The output's change did not apply, so the credential minted
			// for it was revoked again: not created, because of that.
			return fmt.Errorf("%w: depends on %s, which did not apply (%s, minted for it, was revoked again)", reconciler.ErrSkipped, mintedBy, o.change.ID)
		}
		return fmt.Errorf("output %s did not take %s, so it was revoked again (rolled back)", o.cred.output, o.change.ID)
	}
	return nil
}

// finish runs after every step of the plan: the changes the fresh
// computation found that the plan did not have (reported after the plan's),
// then the bookkeeping that is no change of Fleet (journals, ownership
// confirmations, packages seen on main).
func (a *applyRun) finish(ctx context.Context, outcomes []reconciler.Outcome, progress reconciler.ProgressFunc) ([]reconciler.Outcome, error) {
	if err := a.refresh(ctx); err != nil {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.failed {
			return nil, nil // reported by the steps that needed it
		}
		return nil, err
	}
	status := map[string]string{}
	for _, o := range outcomes {
		status[o.Change.Key()] = o.Status
	}
	var more []reconciler.Outcome
	report := func(o reconciler.Outcome) {
		more = append(more, o)
		status[o.Change.Key()] = o.Status
		progress(o.Change, o.Status, o.Err)
	}
	left := slices.DeleteFunc(slices.Clone(a.post.ops), func(o op) bool { return o.phase != phaseAfterMain || a.planned[slot(o)] })
	slices.SortStableFunc(left, func(x, y op) int { return plan.Compare(x.change, y.change) })
	for _, o := range left {
		ch := o.change
		if ch.Action == plan.Blocked {
			report(reconciler.Outcome{Change: ch, Status: reconciler.StatusBlocked,
				Err: fmt.Errorf("%s %s: %w: %s", ch.Kind, ch.ID, reconciler.ErrBlocked, ch.Reason)})
			continue
		}
		if d := slices.IndexFunc(ch.DependsOn, func(k string) bool { st, ok := status[k]; return ok && st != reconciler.StatusApplied }); d >= 0 {
			report(reconciler.Outcome{Change: ch, Status: reconciler.StatusSkipped,
				Err: fmt.Errorf("%s %s %s: %w: depends on %s, which did not apply", ch.Action, ch.Kind, ch.ID, reconciler.ErrSkipped, ch.DependsOn[d])})
			continue
		}
		if o.run == nil {
			continue
		}
		progress(ch, reconciler.StatusStarted, nil)
		if err := o.run(ctx); err != nil {
			a.e.log.Error("remote change failed", "change", ch.Key(), "err", err)
			report(reconciler.Outcome{Change: ch, Status: reconciler.StatusFailed, Err: fmt.Errorf("%s %s %s: %w", ch.Action, ch.Kind, ch.ID, err)})
			continue
		}
		report(reconciler.Outcome{Change: ch, Status: reconciler.StatusApplied})
	}
	var errs []error
	for _, o := range a.post.hidden {
		if err := o.run(ctx); err != nil {
			a.e.log.Error("remote bookkeeping failed", "err", err)
			errs = append(errs, err)
		}
	}
	return more, errors.Join(errs...)
}
