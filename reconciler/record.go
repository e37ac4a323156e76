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

// record re-observes the outputs (for the secret ids Kibana assigned) and
// brings the inventory up to date: a record for every declared object that
// exists and whose change (if any) applied, none for objects that are gone.
// A record that did not change is not written, so a converged apply writes
// nothing. It returns how many records it wrote or removed.
func (r *Reconciler) record(ctx context.Context, doc *schema.Document, c *computed, outcomes []Outcome, cache *secretCache, rev string) (int, error) {
	status := map[string]string{}
	outputsChanged := false
	for _, o := range outcomes {
		status[o.Change.Key()] = o.Status
		if o.Change.Kind == plan.KindOutput && o.Status == StatusApplied && o.Change.Action != plan.NoOp {
			outputsChanged = true
		}
	}
	outputs := c.obs.outputs
	if outputsChanged {
		list, err := r.cfg.Fleet.ListOutputs(ctx)
		if err != nil {
			return 0, fmt.Errorf("record: re-observe outputs: %w", err)
		}
		outputs = make(map[string]map[string]any, len(list))
		for _, o := range list {
			outputs[o.ID()] = canonicalMap(map[string]any(o))
		}
	}
	// ok reports whether key's object is in its desired state now.
	ok := func(key string) bool {
		st, planned := status[key]
		return !planned || st == StatusApplied
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
	for _, o := range doc.Outputs {
		key := plan.Key(r.cfg.Cluster, plan.KindOutput, o.ID)
		have, exists := outputs[o.ID]
		if !exists || !ok(key) {
			continue
		}
		old := c.obs.records[key]
		rec := Record{Cluster: r.cfg.Cluster, Kind: plan.KindOutput, ID: o.ID, DesiredHash: desiredHash(outputFields(o), secretSpecs(o))}
		s := c.steps[key]
		for _, sp := range secretSpecs(o) {
			obsSec := observeSecret(have, sp)
			sr := SecretRecord{FleetSecretID: obsSec.ID, RefDescribe: describeRef(sp.Ref)}
			switch {
			case s != nil && (s.write[sp.Path] || s.mint[sp.Path]):
				v, err := r.secretValue(ctx, s, sp, cache)
				if err != nil {
					errs = append(errs, fmt.Errorf("record output %s: %w", o.ID, err))
					continue
				}
				sr.Hash = r.cfg.Hasher.Hash(v)
			case old.Secrets[sp.Path].Hash != "":
				sr.Hash = old.Secrets[sp.Path].Hash
			case old.Secrets[sp.Path].RefDescribe == sr.RefDescribe && old.Secrets[sp.Path].FleetSecretID == sr.FleetSecretID:
				// adopted by import, value unverified: keep it as it is
			default:
				continue // never written by fleetform: nothing to remember
			}
			if rec.Secrets == nil {
				rec.Secrets = map[string]SecretRecord{}
			}
			rec.Secrets[sp.Path] = sr
		}
		put(rec)
	}
	for _, p := range doc.AgentPolicies {
		key := plan.Key(r.cfg.Cluster, plan.KindAgentPolicy, p.ID)
		_, existed := c.obs.policies[p.ID]
		s := c.steps[key]
		created := s != nil && s.change.Action == plan.Create && status[key] == StatusApplied
		if !(existed || created) || !ok(key) {
			continue
		}
		put(Record{Cluster: r.cfg.Cluster, Kind: plan.KindAgentPolicy, ID: p.ID, Adopted: p.Adopt, DesiredHash: desiredHash(policyFields(p), nil)})
	}
	for _, p := range doc.Packages {
		key := plan.Key(r.cfg.Cluster, plan.KindPackage, p.Name)
		_, existed := c.obs.packages[p.Name]
		s := c.steps[key]
		installed := s != nil && s.change.Action != plan.NoOp && status[key] == StatusApplied
		if !(existed || installed) || !ok(key) {
			continue
		}
		put(Record{Cluster: r.cfg.Cluster, Kind: plan.KindPackage, ID: p.Name, DesiredHash: desiredHash(map[string]any{"version": p.Version}, nil)})
	}
	// Forget records of objects that are gone, and of adopted policies no
	// longer declared (fleetform never owned their existence).
	declared := map[string]bool{}
	for _, o := range doc.Outputs {
		declared[plan.Key(r.cfg.Cluster, plan.KindOutput, o.ID)] = true
	}
	for _, p := range doc.AgentPolicies {
		declared[plan.Key(r.cfg.Cluster, plan.KindAgentPolicy, p.ID)] = true
	}
	for _, p := range doc.Packages {
		declared[plan.Key(r.cfg.Cluster, plan.KindPackage, p.Name)] = true
	}
	for _, key := range sortedKeys(c.obs.records) {
		rec := c.obs.records[key]
		if rec.Cluster != r.cfg.Cluster || declared[key] {
			continue
		}
		gone := false
		switch rec.Kind {
		case plan.KindOutput:
			_, there := outputs[rec.ID]
			gone = !there || status[key] == StatusApplied
		case plan.KindAgentPolicy:
			_, there := c.obs.policies[rec.ID]
			gone = !there || status[key] == StatusApplied || rec.Adopted
		case plan.KindPackage:
			_, there := c.obs.packages[rec.ID]
			gone = !there || status[key] == StatusApplied
		}
		if !gone {
			continue
		}
		if err := r.cfg.Inventory.Delete(ctx, rec.Cluster, rec.Kind, rec.ID); err != nil {
			errs = append(errs, fmt.Errorf("forget %s %s: %w", rec.Kind, rec.ID, err))
			continue
		}
		n++
	}
	m, err := r.recordIntegrationPolicies(ctx, doc, c, outcomes, rev)
	return n + m, errors.Join(append(errs, err)...)
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
