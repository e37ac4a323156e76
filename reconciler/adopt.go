package reconciler

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Adopt records fleetform's ownership of the declared objects that exist in
// Fleet and whose declared (non-secret) fields already match it, without
// writing to Fleet: `fleetform import --adopt`. It is the record an apply
// of the adoption would write, with one difference: fleetform has never
// seen the secret values, so each secret is recorded by its Fleet secret
// id only ("unverified"). Until its reference changes, plan and apply leave
// such a secret alone and the plan says it was not compared.
//
// Objects that differ from the declaration, or that another instance owns,
// are not recorded; Adopt returns their keys so the caller can say so.
func (r *Reconciler) Adopt(ctx context.Context, doc *schema.Document, rev string) (adopted, refused []string, err error) {
	obs, err := r.observe(ctx, doc, false)
	if err != nil {
		return nil, nil, err
	}
	doc = directSyncForKibana(doc, obs.kibanaVersion)
	c := r.compute(ctx, doc, obs, rev, false, nil)
	var errs []error
	put := func(rec Record) {
		key := plan.Key(rec.Cluster, rec.Kind, rec.ID)
		if s := c.steps[key]; s != nil && !onlyAdoptable(s.change) {
			refused = append(refused, key)
			return
		}
		if _, had := obs.records[key]; had {
			return // already owned
		}
		rec.Revision, rec.AppliedAt = rev, r.cfg.Now().UTC()
		if err := r.cfg.Inventory.Put(ctx, rec); err != nil {
			errs = append(errs, fmt.Errorf("record %s %s: %w", rec.Kind, rec.ID, err))
			return
		}
		adopted = append(adopted, key)
	}
	for _, k := range kinds {
		for _, rec := range k.adopt(r, doc, obs) {
			put(rec)
		}
	}
	return adopted, refused, errors.Join(errs...)
}

// errAdoptedUnverified marks a secret that `fleetform import --adopt`
// recorded by its Fleet secret id only: plan lists it as not compared, and
// apply leaves it alone until its reference changes.
var errAdoptedUnverified = errors.New("adopted by fleetform import; fleetform has never seen the value")

// onlyAdoptable reports whether a planned change only adopts the object:
// an adoption no-op, or an update whose every field is a secret fleetform
// has not recorded yet (Adopt records those as unverified).
func onlyAdoptable(ch *plan.Change) bool {
	switch ch.Action {
	case plan.NoOp:
		return true
	case plan.Update:
		for _, f := range ch.Fields {
			if !f.Sensitive || f.Note != "not yet recorded by fleetform" {
				return false
			}
		}
		return true
	}
	return false
}
