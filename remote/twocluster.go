package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// ErrPreflight is wrapped by Apply when preflight found problems: nothing
// was written.
var ErrPreflight = errors.New("preflight failed")

// Mint implements reconciler.Minter: it mints the next generation of a
// generated service token or Kibana API key on the output's remote, checks
// that it authenticates, and journals the rotation as "swapping". The
// reconciler puts the value into the output; Apply then finishes the
// rotation (revoking what the output held before) or rolls it back.
func (e *Engine) Mint(ctx context.Context, _ string, out schema.Output, path string) (secret.Value, error) {
	c := e.cfg.Remotes[out.Remote]
	if out.Remote == "" || c == nil {
		return secret.Value{}, fmt.Errorf("output %s: %s is generate: true, which needs remote: naming a declared remote", out.ID, path)
	}
	obj, _ := Desired(out, schema.Remote{Name: out.Remote})
	t := target{out: out, cluster: c, obj: obj}
	for _, k := range e.credKinds(t, nil) {
		if k.path != path {
			continue
		}
		rot := e.rotation(t, k, 0)
		if names, err := e.existingNames(ctx, t, k); err == nil {
			if err := e.seedGeneration(ctx, rot, k, names); err != nil {
				return secret.Value{}, err
			}
		}
		v, err := rot.Prepare(ctx)
		if err != nil {
			return secret.Value{}, fmt.Errorf("output %s: %s: %w", out.ID, path, err)
		}
		e.log.Info("credential minted", "output", out.ID, "remote", c.Name, "kind", k.kind)
		return v, nil
	}
	return secret.Value{}, fmt.Errorf("output %s: fleetform cannot generate %s", out.ID, path)
}

// existingNames lists the credentials of kind k that exist for t.
func (e *Engine) existingNames(ctx context.Context, t target, k credKind) ([]string, error) {
	var names []string
	if k.kind == KindServiceToken {
		all, err := serviceTokens(ctx, t.cluster.ES)
		if err != nil {
			return nil, err
		}
		names = all
	} else {
		keys, err := apiKeys(ctx, t.cluster.ES, k.prefix)
		if err != nil {
			return nil, err
		}
		for _, a := range keys {
			names = append(names, a.Name)
		}
	}
	var out []string
	for _, n := range names {
		if isGeneration(n, k.prefix) {
			out = append(out, n)
		}
	}
	return out, nil
}

// seedGeneration makes sure a journal without history never reuses the
// name of a credential that exists.
func (e *Engine) seedGeneration(ctx context.Context, rot *Rotation, k credKind, names []string) error {
	j, err := rot.Store.LoadJournal(ctx)
	if err != nil {
		return err
	}
	if g := maxGeneration(names, k.prefix); j.Phase == PhaseIdle && g > j.Generation {
		j.Generation = g
		return rot.Store.SaveJournal(ctx, j)
	}
	return nil
}

// TwoCluster plans and applies the main cluster (through the reconciler)
// and every remote (through the Engine) as one plan.
type TwoCluster struct {
	Engine     *Engine
	Reconciler *reconciler.Reconciler
}

// Bind pairs e with the reconciler whose Minter it is.
func (e *Engine) Bind(r *reconciler.Reconciler) *TwoCluster {
	return &TwoCluster{Engine: e, Reconciler: r}
}

// Plan computes one plan over the main cluster and every remote: the
// reconciler's changes, the remote-side changes grouped by cluster, and
// every preflight problem as a blocked change of kind "preflight".
func (t *TwoCluster) Plan(ctx context.Context, doc *schema.Document, rev string) (*plan.Plan, error) {
	p, err := t.Reconciler.Plan(ctx, fleetView(doc), rev)
	if err != nil {
		return nil, err
	}
	c, err := t.Engine.plan(ctx, doc, p, t.Engine.cfg.Prune)
	if err != nil {
		return nil, err
	}
	merge(p, c)
	noteDirect(p, doc, t.Engine.cfg.MainCluster)
	return p, nil
}

// noteDirect says, on the main output change of each sync_via: direct
// output, why Kibana's sync fields are false where the document says true:
// fleetform syncs the integrations itself (see fleetView).
func noteDirect(p *plan.Plan, doc *schema.Document, mainCluster string) {
	for _, o := range doc.Outputs {
		if o.SyncVia != SyncViaDirect {
			continue
		}
		for i := range p.Changes {
			ch := &p.Changes[i]
			if ch.Cluster != mainCluster || ch.Kind != plan.KindOutput || ch.ID != o.ID {
				continue
			}
			for j := range ch.Fields {
				if f := &ch.Fields[j]; (f.Path == "sync_integrations" || f.Path == "sync_uninstalled_integrations") && f.After == false && f.Note == "" {
					f.Note = directSyncNote(o.Remote)
				}
			}
		}
	}
}

func directSyncNote(remote string) string {
	return "sync_via: direct: fleetform installs the integrations on " + remote + " itself, so Kibana's own sync stays off"
}

// withoutDirectNotes is changes without the notes noteDirect added, as the
// reconciler computes them.
func withoutDirectNotes(changes []plan.Change, doc *schema.Document) []plan.Change {
	notes := map[string]bool{}
	for _, o := range doc.Outputs {
		if o.SyncVia == SyncViaDirect {
			notes[directSyncNote(o.Remote)] = true
		}
	}
	out := slices.Clone(changes)
	for i := range out {
		fs := slices.Clone(out[i].Fields)
		for j := range fs {
			if notes[fs[j].Note] {
				fs[j].Note = ""
			}
		}
		out[i].Fields = fs
	}
	return out
}

func (e *Engine) plan(ctx context.Context, doc *schema.Document, mainPlan *plan.Plan, prune bool) (*computed, error) {
	ts, problems := e.targets(doc)
	w, err := e.observe(ctx, ts)
	if err != nil {
		return nil, err
	}
	c := e.compute(ctx, doc, ts, w, mainPlan, true, prune)
	c.problems = append(problems, c.problems...)
	sortProblems(c.problems)
	return c, nil
}

// merge adds the remote side to the main plan and sorts it.
func merge(p *plan.Plan, c *computed) {
	for _, pr := range c.problems {
		id := pr.Check
		if pr.Output != "" {
			id = pr.Output + "/" + pr.Check
		}
		p.Changes = append(p.Changes, plan.Change{Cluster: pr.Cluster, Kind: KindPreflight, ID: id,
			Action: plan.Blocked, Reason: pr.Message})
	}
	for _, o := range c.ops {
		p.Changes = append(p.Changes, o.change)
	}
	p.Warnings = append(p.Warnings, c.warnings...)
	p.Sort()
}

// remoteChanges are the changes of p outside the main cluster, and the
// preflight problems.
func remoteChanges(p *plan.Plan, mainCluster string) []plan.Change {
	var out []plan.Change
	for _, c := range p.Changes {
		if c.Cluster != mainCluster || c.Kind == KindPreflight {
			out = append(out, c)
		}
	}
	return out
}

// Apply makes the main cluster and every remote match doc: preflight (any
// problem stops it before a write), the remote-cluster link and the
// remotes' elasticsearch outputs, the main cluster through the reconciler
// (which mints generated credentials through the Engine), then, observed
// afresh, the credentials' rotations, the follower indices, direct sync and
// the record of packages seen on main. A saved plan is refused if either
// side moved.
func (t *TwoCluster) Apply(ctx context.Context, doc *schema.Document, saved *plan.Plan, opts reconciler.ApplyOptions) (reconciler.Result, error) {
	e := t.Engine
	mainPlan, err := t.Reconciler.Plan(ctx, fleetView(doc), opts.Revision)
	if err != nil {
		return reconciler.Result{}, err
	}
	prune := e.cfg.Prune || opts.Prune
	c, err := e.plan(ctx, doc, mainPlan, prune)
	if err != nil {
		return reconciler.Result{}, err
	}
	var mainSaved *plan.Plan
	if saved != nil {
		fresh := &plan.Plan{}
		merge(fresh, c)
		if !sameChanges(remoteChanges(fresh, e.cfg.MainCluster), remoteChanges(saved, e.cfg.MainCluster)) {
			return reconciler.Result{}, fmt.Errorf("%w: the remote clusters changed since the plan was made; run plan again", reconciler.ErrStalePlan)
		}
		cp := *saved
		cp.Changes = slices.DeleteFunc(withoutDirectNotes(saved.Changes, doc), func(ch plan.Change) bool {
			return ch.Cluster != e.cfg.MainCluster || ch.Kind == KindPreflight
		})
		mainSaved = &cp
	}
	if len(c.problems) > 0 {
		msgs := make([]string, len(c.problems))
		for i, p := range c.problems {
			msgs[i] = p.String()
		}
		return reconciler.Result{}, fmt.Errorf("%w (nothing was written):\n%s", ErrPreflight, strings.Join(msgs, "\n"))
	}
	// The main apply reads its secret references before its first write;
	// the remote writes below come first, so read them here.
	if err := t.Reconciler.CheckSecrets(ctx, fleetView(doc), mainPlan); err != nil {
		return reconciler.Result{}, err
	}
	var outcomes []reconciler.Outcome
	var errs []error
	failed := map[string]bool{}
	// progress streams a remote change to apply's progress lines, like the
	// main cluster's (opts.Progress; nil: no reports).
	progress := func(ch plan.Change, status string, err error) {
		if opts.Progress != nil {
			opts.Progress(ch, status, err)
		}
	}
	// record keeps an outcome and streams it to apply's progress lines.
	record := func(o reconciler.Outcome) {
		outcomes = append(outcomes, o)
		progress(o.Change, o.Status, o.Err)
	}
	runOps := func(ops []op, phase int) {
		// The plan's order is the apply order (dependencies first).
		ops = slices.Clone(ops)
		slices.SortStableFunc(ops, func(a, b op) int { return plan.Compare(a.change, b.change) })
		for _, o := range ops {
			if o.phase != phase {
				continue
			}
			if o.change.Action == plan.Blocked {
				record(reconciler.Outcome{Change: o.change, Status: reconciler.StatusBlocked,
					Err: fmt.Errorf("%s: %w", o.change.Key(), reconciler.ErrBlocked)})
				errs = append(errs, fmt.Errorf("%s blocked: %s", o.change.Key(), o.change.Reason))
				continue
			}
			if dep := slices.IndexFunc(o.change.DependsOn, func(k string) bool { return failed[k] }); dep >= 0 {
				failed[o.change.Key()] = true
				err := fmt.Errorf("%s skipped: %s failed", o.change.Key(), o.change.DependsOn[dep])
				record(reconciler.Outcome{Change: o.change, Status: reconciler.StatusSkipped, Err: err})
				errs = append(errs, err)
				continue
			}
			if o.run == nil {
				continue
			}
			if o.change.Kind != "" {
				progress(o.change, reconciler.StatusStarted, nil)
			}
			if err := o.run(ctx); err != nil {
				failed[o.change.Key()] = true
				err = fmt.Errorf("%s %s: %w", o.change.Action, o.change.Key(), err)
				e.log.Error("remote change failed", "change", o.change.Key(), "err", err)
				record(reconciler.Outcome{Change: o.change, Status: reconciler.StatusFailed, Err: err})
				errs = append(errs, err)
				continue
			}
			e.log.Info("remote change applied", "change", o.change.Key(), "action", string(o.change.Action))
			if o.change.Kind != "" {
				record(reconciler.Outcome{Change: o.change, Status: reconciler.StatusApplied})
			}
		}
	}
	runOps(c.ops, phasePre)
	res, mainErr := t.Reconciler.Apply(ctx, fleetView(doc), mainSaved, opts)
	if mainErr != nil {
		errs = append(errs, mainErr)
	}
	for _, o := range res.Outcomes {
		if o.Status != reconciler.StatusApplied {
			failed[o.Change.Key()] = true
		}
	}
	// Observe again: the main apply minted credentials and created leader
	// indices; post operations are computed from what is there now.
	if post, err := e.plan(ctx, doc, nil, prune); err != nil {
		errs = append(errs, err)
	} else {
		ops, finished := reportMinted(post.ops, c.ops)
		runOps(ops, phasePost)
		runOps(post.hidden, phasePost)
		for _, o := range e.mintedOutcomes(c.ops, finished, res.Outcomes) {
			record(o) // minted while their output was applied: they end here
		}
	}
	res.Outcomes = append(res.Outcomes, outcomes...)
	if res.Plan != nil {
		merge(res.Plan, &computed{ops: c.ops, warnings: c.warnings})
		noteDirect(res.Plan, doc, e.cfg.MainCluster)
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("%w: %w", reconciler.ErrNotConverged, errors.Join(errs...))
	}
	return res, nil
}

// reportMinted makes apply report each credential the plan said would be
// minted during the main apply as the plan did — "create" — rather than as
// the op that finishes its rotation journal afterwards (an update that
// revokes nothing new, or a rollback when the output did not take it). The
// finishing op still runs; it fails the create when it rolled the new
// credential back. Ops of credentials the plan did not mint (a rotation a
// previous run left unfinished) keep their own change. finished holds the
// credentials whose report an op of post took over.
func reportMinted(post, planned []op) (ops []op, finished map[credRef]bool) {
	minted := map[credRef]plan.Change{}
	for _, o := range planned {
		if o.phase == phaseMinted {
			minted[o.cred] = o.change
		}
	}
	finished = map[credRef]bool{}
	for _, o := range post {
		want, ok := minted[o.cred]
		if o.cred == (credRef{}) || !ok {
			ops = append(ops, o)
			continue
		}
		finished[o.cred] = true
		ch := want
		ch.ID = o.change.ID // the name actually minted
		ch.DependsOn = o.change.DependsOn
		run, res, output := o.run, o.rotation, o.cred.output
		o.change = ch
		o.run = func(ctx context.Context) error {
			if err := run(ctx); err != nil {
				return err
			}
			if res != nil && res.RolledBack {
				return fmt.Errorf("output %s did not take %s, so it was revoked again (rolled back)", output, ch.ID)
			}
			return nil
		}
		ops = append(ops, o)
	}
	return ops, finished
}

// mintedOutcomes reports the minted credentials of the plan that no op
// after the main apply finished: their rotation journal was already idle,
// so the credential is in place when the output's change applied.
func (e *Engine) mintedOutcomes(planned []op, finished map[credRef]bool, main []reconciler.Outcome) []reconciler.Outcome {
	status := map[string]reconciler.Outcome{}
	for _, o := range main {
		status[o.Change.Key()] = o
	}
	var out []reconciler.Outcome
	for _, o := range planned {
		if o.phase != phaseMinted || finished[o.cred] {
			continue
		}
		outKey := plan.Key(e.cfg.MainCluster, plan.KindOutput, o.cred.output)
		switch mo, ok := status[outKey]; {
		case ok && mo.Status == reconciler.StatusApplied:
			out = append(out, reconciler.Outcome{Change: o.change, Status: reconciler.StatusApplied})
		default:
			out = append(out, reconciler.Outcome{Change: o.change, Status: reconciler.StatusSkipped,
				Err: fmt.Errorf("%s %s: %w: depends on %s, which did not apply", o.change.Action, o.change.Key(), reconciler.ErrSkipped, outKey)})
		}
	}
	return out
}

// fleetView is doc as Kibana on the main cluster must see it: an output
// with sync_via: direct is synced by fleetform, so Kibana's own sync is off
// for it (sync_integrations and sync_uninstalled_integrations false), which
// also keeps Kibana from refusing the output below an Enterprise licence.
func fleetView(doc *schema.Document) *schema.Document {
	if !slices.ContainsFunc(doc.Outputs, func(o schema.Output) bool { return o.SyncVia == SyncViaDirect }) {
		return doc
	}
	cp := *doc
	cp.Outputs = slices.Clone(doc.Outputs)
	off := false
	for i := range cp.Outputs {
		if o := &cp.Outputs[i]; o.SyncVia == SyncViaDirect {
			o.SyncIntegrations, o.SyncUninstalledIntegrations = &off, &off
		}
	}
	return &cp
}

// sameChanges reports whether two lists of remote changes ask for the same
// thing: the same objects, actions, dependencies and field values (compared
// in their JSON form, as a saved plan holds them). Reasons and notes are for
// people and are not compared.
func sameChanges(a, b []plan.Change) bool {
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

var _ reconciler.Minter = (*Engine)(nil)
