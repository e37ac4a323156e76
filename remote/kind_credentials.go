package remote

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// The generated credentials of an output (kinds service_token and
// api_key, of equal rank): a service token on elastic/fleet-server-remote
// and a Kibana API key on the output's remote, named <prefix><generation>.
// Minted by the Minter while the main output is applied (Engine.Mint), or
// rotated afterwards (rotation.go, credentials.go: the state machine and
// the swap into the output); a rotation an earlier run left unfinished is
// finished or rolled back. Their ownership is the rotation journal in the
// state index. Pruned once the main output that carried them is gone or
// holds another credential (the delete depends on the output's change).

func mainMints(p *plan.Plan, cluster, outputID, path string) bool {
	if p == nil {
		return false
	}
	for _, ch := range p.Changes {
		if ch.Cluster != cluster || ch.Kind != plan.KindOutput || ch.ID != outputID {
			continue
		}
		for _, f := range ch.Fields {
			if f.Path == path && f.After == plan.ToBeGenerated {
				return ch.Action == plan.Create || ch.Action == plan.Update
			}
		}
	}
	return false
}

func (e *Engine) planCredentials(c *computed, t target, ro *remoteObs, w *world, mainPlan *plan.Plan) {
	outKey := plan.Key(e.cfg.MainCluster, plan.KindOutput, t.out.ID)
	for _, k := range e.credKinds(t, ro) {
		j := w.ledger.journal(t.cluster.Name, k.ledger, t.out.ID)
		if j.Phase == PhaseIdle && j.Current == "" && j.Generation == 0 {
			j.Generation = maxGeneration(k.existing, k.prefix) // no journal: never reuse a name
		}
		minted := mainMints(mainPlan, e.cfg.MainCluster, t.out.ID, k.path)
		rot := e.rotation(t, k, 0)
		ref := credRef{cluster: t.cluster.Name, kind: k.kind, output: t.out.ID}
		ch := plan.Change{Cluster: t.cluster.Name, Kind: k.kind, ID: k.prefix + strconv.Itoa(j.Generation+1)}
		switch {
		case j.Phase != PhaseIdle:
			ch.ID, ch.Action = cmp.Or(j.Next, j.Current), plan.Update
			ch.Reason = fmt.Sprintf("finish or roll back the rotation interrupted in phase %s", j.Phase)
			if j.Phase == PhaseSwapped {
				ch.Reason = fmt.Sprintf("output %s holds %s; %s is revoked once the output reports healthy or no agent uses it", t.out.ID, j.Current, j.Previous)
			}
			res := &RotationResult{}
			c.ops = append(c.ops, op{change: ch, phase: phaseAfterMain, cred: ref, rotation: res, run: func(ctx context.Context) error {
				r, err := rot.Resume(ctx)
				*res = r
				return err
			}})
		case minted:
			ch.Action = plan.Create
			ch.Reason = fmt.Sprintf("minted while output %s is applied; the value goes into its %s and nowhere else", t.out.ID, k.path)
			ch.Fields = []plan.FieldDiff{{Path: "value", After: plan.ToBeGenerated, Sensitive: true}}
			c.ops = append(c.ops, op{change: ch, phase: phaseMinted, cred: ref}) // done by the Minter during the main apply
		case j.Current == "" || !slices.Contains(k.existing, j.Current):
			ch.Action = plan.Create
			if j.Current == "" {
				ch.Reason = fmt.Sprintf("no record of the credential output %s uses; a new one is minted and swapped in", t.out.ID)
			} else {
				ch.Reason = fmt.Sprintf("drift: %s was deleted on the remote; a new one is minted and swapped into output %s", j.Current, t.out.ID)
			}
			ch.Fields = []plan.FieldDiff{{Path: "value", After: plan.ToBeGenerated, Sensitive: true}}
			ch.DependsOn = []string{outKey}
			c.ops = append(c.ops, op{change: ch, phase: phaseAfterMain, cred: ref, run: func(ctx context.Context) error {
				_, err := rot.Rotate(ctx)
				return err
			}})
		}
		// Credentials of this output that are no longer in use.
		for _, n := range k.existing {
			if n == j.Current || n == j.Next || n == j.Previous || j.Phase != PhaseIdle || minted {
				continue
			}
			if j.Current == "" { // unknown which one the output holds: keep them until a journal exists
				continue
			}
			name := n
			del := plan.Change{Cluster: t.cluster.Name, Kind: k.kind, ID: name, Action: plan.Delete,
				Reason: fmt.Sprintf("created by fleetform for output %s and no longer in use", t.out.ID)}
			cred := rot.Cred
			c.ops = append(c.ops, op{change: del, phase: phaseAfterMain, run: func(ctx context.Context) error {
				return cred.Revoke(ctx, name)
			}})
		}
	}
}

func (e *Engine) pruneCredentials(o orphan, cl *Cluster, ro *remoteObs, _ []string) []op {
	prefix := credentialPrefix(o)
	mainOut := plan.Key(e.cfg.MainCluster, plan.KindOutput, o.output)
	var ops []op
	add := func(name string, revoke func(ctx context.Context) error) {
		ch := plan.Change{Cluster: o.cluster, Kind: o.kind, ID: name, Action: plan.Delete, Reason: createdFor(o), DependsOn: []string{mainOut}}
		ops = append(ops, op{change: ch, phase: phaseAfterMain, run: func(ctx context.Context) error {
			if err := e.checkUnused(ctx, o); err != nil {
				return err
			}
			return revoke(ctx)
		}})
	}
	es := cl.ES
	if o.kind == KindServiceToken {
		for _, n := range ro.tokens {
			if isGeneration(n, prefix) {
				add(n, func(ctx context.Context) error { return deleteServiceToken(ctx, es, n) })
			}
		}
		return ops
	}
	for _, k := range ro.keys {
		if isGeneration(k.Name, prefix) {
			id := k.ID
			add(k.Name, func(ctx context.Context) error { return invalidateAPIKeys(ctx, es, id) })
		}
	}
	return ops
}

// forgetCredentials drops a credential journal once the output's
// credentials are all gone from the remote.
func (e *Engine) forgetCredentials(o orphan, cl *Cluster, forget op) op {
	return op{phase: phaseAfterMain, run: func(ctx context.Context) error {
		names, err := e.credentialNames(ctx, o, cl)
		if err != nil || len(names) > 0 {
			return err // keep the journal: the next prune tries again
		}
		return forget.run(ctx)
	}}
}

func credentialPrefix(o orphan) string {
	prefix := "fleetform-" + sanitizeName(o.output) + "-"
	if o.kind == KindAPIKey {
		prefix += "kibana-"
	}
	return prefix
}

// credentialNames lists the credentials of o's output that exist on its remote.
func (e *Engine) credentialNames(ctx context.Context, o orphan, cl *Cluster) ([]string, error) {
	prefix := credentialPrefix(o)
	var names []string
	if o.kind == KindServiceToken {
		all, err := serviceTokens(ctx, cl.ES)
		if err != nil {
			return nil, err
		}
		names = all
	} else {
		keys, err := apiKeys(ctx, cl.ES, prefix)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			names = append(names, k.Name)
		}
	}
	return slices.DeleteFunc(names, func(n string) bool { return !isGeneration(n, prefix) }), nil
}

// checkUnused refuses to revoke o's credentials while the main output still
// holds the one its journal says it holds.
func (e *Engine) checkUnused(ctx context.Context, o orphan) error {
	out, err := e.cfg.MainFleet.GetOutput(ctx, o.output)
	if kibana.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read output %s: %w", o.output, err)
	}
	var paths []string
	if o.kind == KindServiceToken {
		paths = []string{"secrets.service_token", "service_token"}
	} else {
		paths = []string{"kibana_api_key"}
	}
	generated, known, err := e.holdsGenerated(ctx, o.output, paths)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if known && generated[p] || !known && credentialAt(out, p) {
			return fmt.Errorf("output %s still exists on %s and may hold this credential at %s; it is revoked once the output is deleted or holds another one",
				o.output, e.cfg.MainCluster, p)
		}
	}
	return nil
}

// holdsGenerated reads the reconciler's record of output id: which of paths
// hold a generated credential. known is false without a record, and then
// any credential at those paths counts as possibly ours.
func (e *Engine) holdsGenerated(ctx context.Context, id string, paths []string) (map[string]bool, bool, error) {
	if e.cfg.Inventory == nil {
		return nil, false, nil
	}
	recs, err := e.cfg.Inventory.Load(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("load inventory: %w", err)
	}
	for _, rec := range recs {
		if rec.Kind != plan.KindOutput || rec.ID != id || rec.Cluster != "" && rec.Cluster != e.cfg.MainCluster {
			continue
		}
		out := map[string]bool{}
		for _, p := range paths {
			out[p] = rec.Secrets[p].RefDescribe == "generate"
		}
		return out, true, nil
	}
	return nil, false, nil
}

// credentialAt reports whether out carries a credential at path.
func credentialAt(out kibana.Output, path string) bool {
	if rest, ok := strings.CutPrefix(path, "secrets."); ok {
		return out.SecretID(strings.Split(rest, ".")...) != ""
	}
	v, _ := kibana.Output(out).Field(path).(string)
	return v != ""
}

// adoptedUnverified reports whether the output's declared credential at path
// is one `fleetform import --adopt` recorded without its value, under this
// same reference: apply leaves such a secret as Fleet holds it until
// its reference changes (reconciler: errAdoptedUnverified), so the plan
// neither asks for its value nor tries it against the remote — a different
// valid token would pass while Fleet keeps the one it has.
func (e *Engine) adoptedUnverified(ctx context.Context, w *world, outputID, path string, ref schema.SecretRef) bool {
	recs, err := e.mainRecords(ctx, w)
	if err != nil {
		return false // the probe runs, and says what it finds
	}
	for _, rec := range recs {
		if rec.Kind != plan.KindOutput || rec.ID != outputID || rec.Cluster != "" && rec.Cluster != e.cfg.MainCluster {
			continue
		}
		sr, ok := rec.Secrets[path]
		return ok && sr.Hash == "" && sr.RefDescribe == ref.Describe()
	}
	return false
}
