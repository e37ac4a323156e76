package remote

import (
	"context"
	"errors"
	"fmt"
	"slices"

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
// reconciler's changes and, contributed to the same plan (apply.go), the
// remote-side changes and every preflight problem as a blocked change of
// kind "preflight".
func (t *TwoCluster) Plan(ctx context.Context, doc *schema.Document, rev string) (*plan.Plan, error) {
	return t.Reconciler.PlanClusters(ctx, fleetView(doc), rev, t.Engine.contribute(doc))
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

var _ reconciler.Minter = (*Engine)(nil)
