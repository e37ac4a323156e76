package reconciler

// The integration-policy kind's hooks into the engine's phases (compute,
// resolve, record, adopt): each phase calls one function here.

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// computeIntegrationPolicies adds the integration-policy changes, the
// Elastic Defend warnings and the prune of owned undeclared policies to c.
func (r *Reconciler) computeIntegrationPolicies(ctx context.Context, doc *schema.Document, c *computed, prune bool, cache *secretCache) {
	ipo := c.obs.ip
	if ipo == nil {
		return
	}
	dep := func(kind, id string) string {
		if id == "" {
			return ""
		}
		if s, ok := c.steps[plan.Key(r.cfg.Cluster, kind, id)]; ok && s.change.Action != plan.NoOp && s.change.Action != plan.Delete {
			return s.change.Key()
		}
		return ""
	}
	steps, unverified, errs := r.planIntegrationPolicies(ctx, doc, c.obs, ipo, cache, dep)
	c.plan.Unverified = append(c.plan.Unverified, unverified...)
	c.errs = append(c.errs, errs...)
	pruned, warnings := r.pruneIntegrationPolicies(doc, c.obs, ipo, prune)
	c.plan.Warnings = append(c.plan.Warnings, warnings...)
	c.plan.Warnings = append(c.plan.Warnings, r.defendRemoteWarnings(doc, c.obs, ipo)...)
	for _, s := range append(steps, pruned...) {
		c.add(&step{change: &s.change, err: s.err, ip: s})
	}
	// An agent policy or output deleted by prune waits for the integration
	// policies that leave it.
	for _, s := range pruned {
		if s.change.Action != plan.Delete {
			continue
		}
		for _, pid := range s.body.have.PolicyIDs {
			if st, ok := c.steps[plan.Key(r.cfg.Cluster, plan.KindAgentPolicy, pid)]; ok && st.change.Action == plan.Delete {
				st.change.DependsOn = append(st.change.DependsOn, s.change.Key())
			}
		}
		if id := derefOr(s.body.have.OutputID); id != "" {
			if st, ok := c.steps[plan.Key(r.cfg.Cluster, plan.KindOutput, id)]; ok && st.change.Action == plan.Delete {
				st.change.DependsOn = append(st.change.DependsOn, s.change.Key())
			}
		}
	}
}

// resolveIntegrationPolicySecrets reads the secret vars of every declared
// integration policy whose change is not blocked (Apply, before its first
// write).
func (r *Reconciler) resolveIntegrationPolicySecrets(ctx context.Context, doc *schema.Document, blocked map[string]bool, cache *secretCache) []error {
	var errs []error
	for _, p := range doc.PackagePolicies {
		if blocked[plan.Key(r.cfg.Cluster, KindIntegrationPolicy, p.ID)] {
			continue
		}
		for _, sv := range integrationPolicySecrets(p) {
			if sv.Ref.Generate {
				continue
			}
			if _, err := cache.get(ctx, sv.Ref); err != nil {
				errs = append(errs, fmt.Errorf("integration policy %s: %s: %w", p.ID, sv.Path(), err))
			}
		}
	}
	return errs
}

// recordIntegrationPolicies brings the inventory's integration-policy
// records up to date after an apply (re-listing them, for the secret ids
// Kibana assigned, only when one was written), and forgets records of
// policies that are gone. It returns how many records it wrote or removed.
func (r *Reconciler) recordIntegrationPolicies(ctx context.Context, doc *schema.Document, c *computed, outcomes []Outcome, rev string) (int, error) {
	if c.obs.ip == nil {
		return 0, nil
	}
	status := map[string]string{}
	written := false
	for _, o := range outcomes {
		status[o.Change.Key()] = o.Status
		if o.Change.Kind == KindIntegrationPolicy && o.Status == StatusApplied && o.Change.Action != plan.NoOp {
			written = true
		}
	}
	now := c.obs.ip.policies
	if written {
		f, _ := r.cfg.Fleet.(IntegrationPolicyFleet)
		list, err := f.ListIntegrationPolicies(ctx, kibana.IntegrationPolicyListOptions{})
		if err != nil {
			return 0, fmt.Errorf("record: re-observe integration policies: %w", err)
		}
		now = make(map[string]kibana.IntegrationPolicy, len(list))
		for _, p := range list {
			now[p.ID] = p
		}
	}
	var (
		n    int
		errs []error
	)
	declared := map[string]bool{}
	for _, p := range doc.PackagePolicies {
		key := plan.Key(r.cfg.Cluster, KindIntegrationPolicy, p.ID)
		declared[key] = true
		have, exists := now[p.ID]
		if st, planned := status[key]; !exists || (planned && st != StatusApplied) {
			continue
		}
		var s *ipStep
		if st := c.steps[key]; st != nil {
			s = st.ip
		}
		old, had := c.obs.records[key]
		rec := r.integrationPolicyRecord(p, &have, s, old)
		if had && sameRecord(old, rec) {
			continue
		}
		rec.Revision, rec.AppliedAt = rev, r.cfg.Now().UTC()
		if err := r.cfg.Inventory.Put(ctx, rec); err != nil {
			errs = append(errs, fmt.Errorf("record %s %s: %w", rec.Kind, rec.ID, err))
			continue
		}
		n++
	}
	for _, key := range sortedKeys(c.obs.records) {
		rec := c.obs.records[key]
		if rec.Kind != KindIntegrationPolicy || rec.Cluster != r.cfg.Cluster || declared[key] {
			continue
		}
		if _, there := now[rec.ID]; there && status[key] != StatusApplied && !rec.Adopted {
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

// adoptIntegrationPolicies is Adopt for the declared integration policies
// that exist.
func (r *Reconciler) adoptIntegrationPolicies(doc *schema.Document, obs *observation, put func(Record)) {
	if obs.ip == nil {
		return
	}
	for _, p := range doc.PackagePolicies {
		if have, ok := obs.ip.policies[p.ID]; ok {
			put(r.adoptIntegrationPolicyRecord(p, have))
		}
	}
}
