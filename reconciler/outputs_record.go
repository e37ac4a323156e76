package reconciler

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// record re-lists the outputs when any output changed (for the secret ids
// Kibana assigned) and returns a record of every declared output that
// exists and is in its desired state, with a salted hash of each secret it
// wrote (or the unverified record of an adopted secret).
func (outputKind) record(ctx context.Context, r *Reconciler, rc *recordCtx) ([]Record, error) {
	outputs := rc.c.obs.outputs
	changed := false
	for key, st := range rc.status {
		if s := rc.c.steps[key]; s != nil && s.change.Kind == plan.KindOutput && st == StatusApplied && s.change.Action != plan.NoOp {
			changed = true
		}
	}
	if changed {
		list, err := r.cfg.Fleet.ListOutputs(ctx)
		if err != nil {
			return nil, fmt.Errorf("record: re-observe outputs: %w", err)
		}
		outputs = make(map[string]map[string]any, len(list))
		for _, o := range list {
			outputs[o.ID()] = canonicalMap(map[string]any(o))
		}
	}
	rc.now[plan.KindOutput] = outputs
	var (
		out  []Record
		errs []error
	)
	for _, o := range rc.doc.Outputs {
		key := plan.Key(r.cfg.Cluster, plan.KindOutput, o.ID)
		have, exists := outputs[o.ID]
		if !exists || !rc.ok(key) {
			continue
		}
		old := rc.c.obs.records[key]
		rec := Record{Cluster: r.cfg.Cluster, Kind: plan.KindOutput, ID: o.ID, DesiredHash: desiredHash(outputFields(o), secretSpecs(o))}
		var s *outputStep
		if st := rc.c.steps[key]; st != nil {
			s, _ = st.data.(*outputStep)
		}
		for _, sp := range secretSpecs(o) {
			obsSec := observeSecret(have, sp)
			sr := SecretRecord{FleetSecretID: obsSec.ID, RefDescribe: describeRef(sp.Ref)}
			switch {
			case s != nil && (s.write[sp.Path] || s.mint[sp.Path]):
				v, err := r.secretValue(ctx, s, sp, rc.cache)
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
		out = append(out, rec)
	}
	return out, errors.Join(errs...)
}

// gone: deleted by this apply, or no longer listed.
func (outputKind) gone(rc *recordCtx, rec Record) bool {
	outputs, _ := rc.now[plan.KindOutput].(map[string]map[string]any)
	if outputs == nil {
		outputs = rc.c.obs.outputs
	}
	_, there := outputs[rec.ID]
	return !there || rc.applied(plan.Key(rec.Cluster, rec.Kind, rec.ID))
}

// adopt records each declared output that exists, its secrets by Fleet
// secret id only (unverified).
func (outputKind) adopt(r *Reconciler, doc *schema.Document, obs *observation) []Record {
	var out []Record
	for _, o := range doc.Outputs {
		have, exists := obs.outputs[o.ID]
		if !exists {
			continue
		}
		rec := Record{Cluster: r.cfg.Cluster, Kind: plan.KindOutput, ID: o.ID, DesiredHash: desiredHash(outputFields(o), secretSpecs(o))}
		for _, sp := range secretSpecs(o) {
			obsSec := observeSecret(have, sp)
			if !obsSec.present() {
				continue
			}
			if rec.Secrets == nil {
				rec.Secrets = map[string]SecretRecord{}
			}
			rec.Secrets[sp.Path] = SecretRecord{FleetSecretID: obsSec.ID, RefDescribe: describeRef(sp.Ref)}
		}
		out = append(out, rec)
	}
	return out
}
