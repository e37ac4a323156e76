package reconciler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/fleetform/fleetform/plan"
)

// Steps of other clusters.
//
// The reconciler plans and applies the main cluster's kinds (kind.go). An
// engine that manages objects on other clusters as well (package remote:
// the remote-cluster link, the remotes' credentials, follower indices,
// outputs and packages) contributes them here, as steps — a plan.Change
// and how to carry it out — into the same computed plan. They are sorted
// with the main cluster's changes (plan.Sort: dependencies first, then the
// one table of kinds) and run by the same executor (engine.go: waves,
// dependency skipping, progress, outcomes, bounded concurrency), so the
// plan's order is the apply order on every cluster.

// ClusterStep is one change an engine wrapping the reconciler contributes
// to the plan (a change of another cluster, or a preflight problem as a
// blocked change).
type ClusterStep struct {
	Change plan.Change
	// Run carries the change out; nil for a change that runs nothing
	// (blocked).
	Run func(ctx context.Context) error
	// AfterMain marks a step computed from the main cluster's result: the
	// executor records the main cluster's outcomes in the inventory
	// before the first such step runs (once per apply), as a separate
	// apply of the main cluster would have before it. Every change of the
	// main cluster comes before it in the plan's order.
	AfterMain bool
}

// ClusterPlan is what an engine contributes to one plan or apply.
type ClusterPlan struct {
	Steps    []ClusterStep
	Warnings []string
	// Annotate, when set, adds notes for people to the main cluster's
	// changes (it must not change what they do).
	Annotate func(p *plan.Plan)
	// Stop, when set, refuses the apply before anything is written (a
	// preflight problem); the plan shows the problems as blocked changes.
	Stop error
	// StaleReason is how Apply explains a saved plan whose contributed
	// changes no longer match; default: they changed.
	StaleReason string
	// MainDone, when set, is told the main cluster's outcomes once they
	// are all in, before the first AfterMain step runs (or before Finish
	// when there is none).
	MainDone func(outcomes []Outcome)
	// Finish runs once after every step, with every outcome so far: the
	// engine's bookkeeping, and any change it found only after the main
	// cluster's writes (reported through progress and returned as
	// outcomes, after the plan's).
	Finish func(ctx context.Context, outcomes []Outcome, progress ProgressFunc) ([]Outcome, error)
}

// Clusters computes an engine's contribution to a plan, given the main
// cluster's computed plan (in its order; the engine must not change it)
// and whether owned objects no longer declared are deleted.
type Clusters func(ctx context.Context, main *plan.Plan, prune bool) (*ClusterPlan, error)

// clusterStep is the step data of a contributed change.
type clusterStep struct {
	run       func(ctx context.Context) error
	afterMain bool
}

// failedStatus is the status of step s that ended with err: a
// contributed step that found, when it ran, that it was to be skipped or
// was blocked says so by wrapping ErrSkipped or ErrBlocked.
func failedStatus(s *step, err error) string {
	if _, ok := s.data.(*clusterStep); ok {
		switch {
		case errors.Is(err, ErrSkipped):
			return StatusSkipped
		case errors.Is(err, ErrBlocked):
			return StatusBlocked
		}
	}
	return StatusFailed
}

// extend adds cp to c and puts the plan in order again.
func (c *computed) extend(cp *ClusterPlan) {
	if cp == nil {
		return
	}
	if c.contributed == nil {
		c.contributed = map[string]bool{}
	}
	for _, st := range cp.Steps {
		ch := st.Change
		c.contributed[ch.Key()] = true
		c.steps[ch.Key()] = &step{change: &ch, data: &clusterStep{run: st.Run, afterMain: st.AfterMain}}
	}
	c.plan.Warnings = append(c.plan.Warnings, cp.Warnings...)
	c.blockDependents()
	changes := make([]plan.Change, 0, len(c.steps)) // a new array: the steps point into the old one
	for _, s := range c.steps {
		changes = append(changes, *s.change)
	}
	c.plan.Changes = changes
	if cp.Annotate != nil {
		cp.Annotate(c.plan)
	}
	c.sort()
}

// sort puts the plan in order and re-points the steps at its changes.
func (c *computed) sort() {
	c.plan.Sort()
	for i := range c.plan.Changes {
		ch := &c.plan.Changes[i]
		c.steps[ch.Key()].change = ch
	}
}

// sameContributed reports whether the contributed changes of a and b ask
// for the same thing: the same objects, actions, dependencies and field
// values (compared in their JSON form, as a saved plan holds them).
// Reasons and notes are for people and are not compared.
func sameContributed(a, b []plan.Change) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if changeValue(a[i]) != changeValue(b[i]) {
			return false
		}
	}
	return true
}

func changeValue(c plan.Change) string {
	type field struct {
		Path          string
		Before, After any
		Sensitive     bool
	}
	v := struct {
		Key       string
		Name      string
		Action    plan.Action
		Fields    []field
		DependsOn []string
	}{Key: c.Key(), Name: c.Name, Action: c.Action}
	if len(c.DependsOn) > 0 {
		v.DependsOn = c.DependsOn
	}
	for _, f := range c.Fields {
		v.Fields = append(v.Fields, field{f.Path, f.Before, f.After, f.Sensitive})
	}
	b, err := json.Marshal(v)
	if err != nil { // a value JSON cannot hold never matches
		return fmt.Sprintf("%p", &v)
	}
	return string(b)
}

// split returns p's own changes (of the main cluster's kinds) and those
// an engine contributed or would have, each in p's order.
func (c *computed) split(p *plan.Plan, cluster string) (own, contributed []plan.Change) {
	for _, ch := range p.Changes {
		if c.contributed[ch.Key()] || ch.Cluster != cluster || kindNamed(ch.Kind) == nil {
			contributed = append(contributed, ch)
			continue
		}
		own = append(own, ch)
	}
	return own, contributed
}

// checkSaved refuses with ErrStalePlan a saved plan that the fresh plan c
// no longer equals: its contributed changes (cp's engine explains why)
// and its own, secrets included — a value the saved plan could not
// compare and that changed is a change it did not show.
func (c *computed) checkSaved(saved *plan.Plan, cp *ClusterPlan, cluster string) error {
	own, contributed := c.split(c.plan, cluster)
	savedOwn, savedContributed := c.split(saved, cluster)
	if !sameContributed(contributed, savedContributed) {
		why := "the changes of the other clusters no longer match it"
		if cp != nil && cp.StaleReason != "" {
			why = cp.StaleReason
		}
		return fmt.Errorf("%w: %s; run plan again", ErrStalePlan, why)
	}
	if samePlan(&plan.Plan{Changes: own}, &plan.Plan{Changes: savedOwn}) {
		return nil
	}
	if len(saved.Unverified) > 0 {
		refs := make([]string, len(saved.Unverified))
		for i, u := range saved.Unverified {
			refs[i] = u.Kind + " " + u.ID + " " + u.Path + " (" + u.Ref + ")"
		}
		return fmt.Errorf("%w: the configuration (or --prune) no longer gives the saved plan, or a secret value the plan could not compare changed (%s); run plan again where the references can be read", ErrStalePlan, strings.Join(refs, ", "))
	}
	return fmt.Errorf("%w: the configuration (or --prune) or a secret value no longer gives the saved plan; run plan again", ErrStalePlan)
}
