package reconciler

import (
	"context"
	"fmt"
	"slices"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Integration policies (kind "package_policy") in the engine's table: the
// rules are in package_policies.go (fields, diff, bodies) and
// package_policies_plan.go (plan, Kibana's refusals, prune, apply,
// records); the Elastic Defend warning in defend.go.

type integrationPolicyKind struct{}

func (integrationPolicyKind) name() string { return KindIntegrationPolicy }

// observed: when declared or recorded, and when the document declares a
// remote_elasticsearch output, for the Elastic Defend warning (defend.go),
// which looks at every integration policy, declared or not.
func (k integrationPolicyKind) observed(doc *schema.Document, recorded func(kind string) bool) bool {
	if len(doc.PackagePolicies) > 0 || (recorded != nil && recorded(KindIntegrationPolicy)) {
		return true
	}
	return slices.ContainsFunc(doc.Outputs, func(o schema.Output) bool { return o.Type == "remote_elasticsearch" })
}

func (integrationPolicyKind) declared(doc *schema.Document) []string {
	ids := make([]string, len(doc.PackagePolicies))
	for i, p := range doc.PackagePolicies {
		ids[i] = p.ID
	}
	return ids
}

// observe lists every integration policy in the simplified format with one
// paged list call (4,000 policies are 4 requests).
func (integrationPolicyKind) observe(ctx context.Context, r *Reconciler) (func(*observation), error) {
	f, ok := r.cfg.Fleet.(IntegrationPolicyFleet)
	if !ok {
		return nil, nil // plan blocks declared ones; the Defend warning is not given
	}
	list, err := f.ListIntegrationPolicies(ctx, kibana.IntegrationPolicyListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list integration policies: %w", err)
	}
	return func(obs *observation) {
		obs.ip = &ipObservation{policies: make(map[string]kibana.IntegrationPolicy, len(list))}
		for _, p := range list {
			obs.ip.policies[p.ID] = p
		}
	}, nil
}

// fingerprint: id, name and revision of every integration policy. Kibana
// bumps a package policy's revision on every update
// (FLEET/server/services/package_policy.ts, update: revision + 1), so the
// revision stands for its inputs and vars, which are not digested: a plan
// of 4,000 policies would spend most of its time on them.
func (integrationPolicyKind) fingerprint(obs *observation) any {
	if obs.ip == nil {
		return nil
	}
	type view struct {
		ID, Name string
		Revision int
	}
	out := make([]view, 0, len(obs.ip.policies))
	for _, id := range sortedKeys(obs.ip.policies) {
		p := obs.ip.policies[id]
		out = append(out, view{id, p.Name, p.Revision})
	}
	return out
}

// plan adds the declared integration policies' changes and the Elastic
// Defend warnings.
func (integrationPolicyKind) plan(ctx context.Context, r *Reconciler, doc *schema.Document, c *computed, cache *secretCache) {
	if c.obs.ip == nil {
		for _, p := range doc.PackagePolicies {
			c.add(&step{change: &plan.Change{Cluster: r.cfg.Cluster, Kind: KindIntegrationPolicy, ID: p.ID, Name: p.Name, Action: plan.Blocked,
				Reason: fmt.Sprintf("the Fleet client (%T) cannot manage integration policies", r.cfg.Fleet)}})
		}
		return
	}
	steps, unverified, errs := r.planIntegrationPolicies(ctx, doc, c.obs, c.obs.ip, cache)
	c.plan.Warnings = append(c.plan.Warnings, r.checkIntegrationPolicyPackages(ctx, steps, c.obs.kibanaVersion)...) // package_policies_manifest.go
	c.plan.Unverified = append(c.plan.Unverified, unverified...)
	c.errs = append(c.errs, errs...)
	c.plan.Warnings = append(c.plan.Warnings, r.defendRemoteWarnings(doc, c.obs, c.obs.ip)...)
	for _, s := range steps {
		c.add(&step{change: &s.change, err: s.err, data: s})
	}
	r.blockUnsupported(c)
}

// references: the package (installed by the packages kind), the output of
// output_id and the agent policies of policy_ids.
func (integrationPolicyKind) references(doc *schema.Document, id string) []ref {
	p, ok := doc.PackagePolicy(id)
	if !ok {
		return nil
	}
	out := []ref{{plan.KindPackage, ipPackageName(p, nil)}, {plan.KindOutput, derefOr(p.OutputID.Ptr())}}
	for _, pid := range p.PolicyIDs {
		out = append(out, ref{plan.KindAgentPolicy, pid})
	}
	return out
}

func (integrationPolicyKind) prune(_ *Reconciler, _ *schema.Document, c *computed, rec Record, _ bool) *step {
	s := pruneIntegrationPolicy(c.obs, rec)
	if s == nil {
		return nil
	}
	return &step{change: &s.change, data: s}
}

func (integrationPolicyKind) apply(ctx context.Context, r *Reconciler, st *step, cache *secretCache) error {
	return r.runIntegrationPolicy(ctx, st.data.(*ipStep), cache)
}

// record: every declared integration policy that exists and is in its
// desired state, re-listed (for the secret ids Kibana assigned) only when
// this apply wrote one.
func (integrationPolicyKind) record(ctx context.Context, r *Reconciler, rc *recordCtx) ([]Record, error) {
	if rc.c.obs.ip == nil || len(rc.doc.PackagePolicies) == 0 {
		return nil, nil
	}
	now := rc.c.obs.ip.policies
	written := false
	for key, st := range rc.status {
		if s := rc.c.steps[key]; s != nil && s.change.Kind == KindIntegrationPolicy && st == StatusApplied && s.change.Action != plan.NoOp {
			written = true
		}
	}
	if written {
		f, err := clientFor[IntegrationPolicyFleet](r, KindIntegrationPolicy)
		if err != nil {
			return nil, err
		}
		list, err := f.ListIntegrationPolicies(ctx, kibana.IntegrationPolicyListOptions{})
		if err != nil {
			return nil, fmt.Errorf("record: re-observe integration policies: %w", err)
		}
		now = make(map[string]kibana.IntegrationPolicy, len(list))
		for _, p := range list {
			now[p.ID] = p
		}
	}
	rc.now[KindIntegrationPolicy] = now
	var out []Record
	for _, p := range rc.doc.PackagePolicies {
		key := plan.Key(r.cfg.Cluster, KindIntegrationPolicy, p.ID)
		have, exists := now[p.ID]
		if !exists || !rc.ok(key) {
			continue
		}
		var s *ipStep
		if st := rc.c.steps[key]; st != nil {
			s, _ = st.data.(*ipStep)
		}
		rec, err := r.integrationPolicyRecord(p, &have, s, rc.c.obs.records[key])
		if err != nil {
			return out, fmt.Errorf("record integration policy %s: %w", p.ID, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// gone: deleted by this apply, gone on its own, or adopted (fleetform
// never owned its existence).
func (integrationPolicyKind) gone(rc *recordCtx, rec Record) bool {
	if rec.Adopted || rc.applied(plan.Key(rec.Cluster, rec.Kind, rec.ID)) {
		return true
	}
	if rc.c.obs.ip == nil {
		return false
	}
	_, there := rc.c.obs.ip.policies[rec.ID]
	return !there
}

func (integrationPolicyKind) adopt(r *Reconciler, doc *schema.Document, obs *observation) []Record {
	if obs.ip == nil {
		return nil
	}
	var out []Record
	for _, p := range doc.PackagePolicies {
		if have, ok := obs.ip.policies[p.ID]; ok {
			// One Kibana's answer cannot be read for is blocked in the plan,
			// so Adopt refuses it; it is not recorded here either.
			if rec, err := r.adoptIntegrationPolicyRecord(p, have); err == nil {
				out = append(out, rec)
			}
		}
	}
	return out
}

// secrets: the declared secret vars, which Apply reads before its first
// write.
func (integrationPolicyKind) secrets(doc *schema.Document) []declaredSecret {
	var out []declaredSecret
	for _, p := range doc.PackagePolicies {
		for _, sv := range integrationPolicySecrets(p) {
			out = append(out, declaredSecret{kind: KindIntegrationPolicy, id: p.ID, spec: sv.spec()})
		}
	}
	return out
}

// ownable: the observed integration policies a repository could own — not
// those Kibana manages (is_managed: preconfigured in kibana.yml) nor those
// only in hosted (is_managed) agent policies.
func (integrationPolicyKind) ownable(obs *observation) []plan.Object {
	if obs.ip == nil {
		return nil
	}
	var out []plan.Object
	for _, id := range sortedKeys(obs.ip.policies) {
		p := obs.ip.policies[id]
		if p.Raw["is_managed"] == true {
			continue
		}
		hosted := len(p.PolicyIDs) > 0
		for _, pid := range p.PolicyIDs {
			if ap, ok := obs.policies[pid]; !ok || !ap.IsManaged {
				hosted = false
			}
		}
		if !hosted {
			out = append(out, plan.Object{ID: id, Name: p.Name})
		}
	}
	return out
}
