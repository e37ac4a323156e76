package reconciler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// record brings the inventory up to date after an apply, kind by kind: a
// record for every declared object that exists and whose change (if any)
// applied (kind.record), none for owned objects that are gone
// (kind.gone). A record that did not change is not written, so a converged
// apply writes nothing. It returns how many records it wrote or removed.
func (r *Reconciler) record(ctx context.Context, doc *schema.Document, c *computed, outcomes []Outcome, cache *secretCache, rev string) (int, error) {
	rc := &recordCtx{doc: doc, c: c, status: map[string]string{}, cache: cache, cluster: r.cfg.Cluster, now: map[string]any{}}
	for _, o := range outcomes {
		rc.status[o.Change.Key()] = o.Status
	}
	var (
		n    int
		errs []error
	)
	put := func(rec Record) {
		old, had := c.obs.records[plan.Key(rec.Cluster, rec.Kind, rec.ID)]
		if had && sameRecord(old, rec) {
			return
		}
		rec.Revision, rec.AppliedAt = rev, r.cfg.Now().UTC()
		if err := r.cfg.Inventory.Put(ctx, rec); err != nil {
			errs = append(errs, fmt.Errorf("record %s %s: %w", rec.Kind, rec.ID, err))
			return
		}
		n++
	}
	declared := map[string]bool{}
	for _, k := range kinds {
		recs, err := k.record(ctx, r, rc)
		if err != nil {
			errs = append(errs, err)
		}
		for _, rec := range recs {
			put(rec)
		}
		for _, id := range k.declared(doc) {
			declared[plan.Key(r.cfg.Cluster, k.name(), id)] = true
		}
	}
	// Forget records of objects that are gone, and of adopted objects no
	// longer declared (fleetform never owned their existence).
	for _, key := range sortedKeys(c.obs.records) {
		rec := c.obs.records[key]
		if rec.Cluster != r.cfg.Cluster || declared[key] {
			continue
		}
		k := kindNamed(rec.Kind)
		if k == nil || !k.gone(rc, rec) {
			continue
		}
		if err := r.cfg.Inventory.Delete(ctx, rec.Cluster, rec.Kind, rec.ID); err != nil {
			errs = append(errs, fmt.Errorf("forget %s %s: %w", rec.Kind, rec.ID, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// sameRecord compares what a record says, ignoring when and from which
// revision it was written.
func sameRecord(a, b Record) bool {
	return a.Cluster == b.Cluster && a.Kind == b.Kind && a.ID == b.ID && a.DesiredHash == b.DesiredHash &&
		a.Adopted == b.Adopted && maps.Equal(a.Secrets, b.Secrets)
}

// desiredHash digests the declared fields and secret references (never
// values) of an object.
func desiredHash(fields map[string]any, specs []secretSpec) string {
	refs := map[string]string{}
	for _, sp := range specs {
		refs[sp.Path] = describeRef(sp.Ref)
	}
	b, _ := json.Marshal(struct {
		Fields  map[string]any    `json:"fields"`
		Secrets map[string]string `json:"secrets,omitempty"`
	}{fields, refs}) // JSON values only: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
