package reconciler

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Kibana's rules for managed integration policies and hosted agent
// policies (FLEET/server/services/package_policy.ts; messages from
// FLEET/server/errors/index.ts), in the plan and against fleetsim, which
// answers what Kibana answers (fleetsim/package_policies_managed.go).

const (
	kibanaCannotDeleteManaged = " in Fleet because the package policy is managed by an external orchestration solution, such as Elastic Cloud, Kubernetes, etc. Please make changes using your orchestration solution."
	kibanaCannotRemoveHosted  = "Cannot remove integrations of hosted agent policy in Fleet because the agent policy is managed by an external orchestration solution, such as Elastic Cloud, Kubernetes, etc. Please make changes using your orchestration solution."
)

// managedHarness is an enterprise fleetsim with agent policies a and b
// (declared) and hosted (seeded, is_managed), and nginx policy n1 in a.
func managedHarness(t *testing.T) (*simHarness, *schema.Document) {
	t.Helper()
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise"})
	if err := h.sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": {AgentPolicies: []fleetsim.SeedAgentPolicy{
		{ID: "hosted", Name: "Hosted", Namespace: "default", IsManaged: true}}}}}); err != nil {
		t.Fatal(err)
	}
	doc := &schema.Document{
		AgentPolicies: []schema.AgentPolicy{{ID: "a", Name: "A", Namespace: "default"}, {ID: "b", Name: "B", Namespace: "default"}},
		PackagePolicies: []schema.PackagePolicy{{ID: "n1", Name: "n1", Namespace: "default",
			Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}, PolicyIDs: []string{"a"}}},
	}
	h.apply(doc)
	return h, doc
}

// Kibana's update checks no agent policy: moving an integration policy into
// a hosted agent policy is accepted
// (x-pack/platform/test/fleet_api_integration/apis/package_policy/update.ts
// "should work with multiple policy ids", "should work with valid values on
// hosted policies"), so the plan does not block it; a create there is
// refused (create.ts, validateIsNotHostedPolicy) and stays blocked.
func TestSim_IntegrationPolicy_HostedAgentPolicyOnUpdateNotBlocked(t *testing.T) {
	h, doc := managedHarness(t)
	doc.PackagePolicies[0].PolicyIDs = []string{"a", "hosted"}
	p := h.plan(doc)
	ch := changeOf(p, KindIntegrationPolicy, "n1")
	if ch == nil || ch.Action != plan.Update {
		t.Fatalf("want an update; plan:\n%s", renderText(p))
	}
	h.apply(doc)
	if got := h.integrationPolicy("n1").PolicyIDs; !slices.Equal(slices.Sorted(slices.Values(got)), []string{"a", "hosted"}) {
		t.Errorf("policy_ids = %v", got)
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after apply:\n%s", renderText(p))
	}

	// A new one in the hosted agent policy: blocked, with Kibana's message.
	doc.PackagePolicies = append(doc.PackagePolicies, schema.PackagePolicy{ID: "n2", Name: "n2", Namespace: "default",
		Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}, PolicyIDs: []string{"hosted"}})
	want := "Cannot update integrations of hosted agent policy hosted in Fleet because the agent policy is managed by an external orchestration solution, such as Elastic Cloud, Kubernetes, etc. Please make changes using your orchestration solution."
	if ch := changeOf(h.plan(doc), KindIntegrationPolicy, "n2"); ch == nil || ch.Action != plan.Blocked || !strings.Contains(ch.Reason, want) {
		t.Fatalf("create in a hosted agent policy: %+v", ch)
	}
	pp := doc.PackagePolicies[1]
	if _, err := h.kb.CreateIntegrationPolicy(context.Background(), integrationPolicyCreateBody(ipBodyInput{want: &pp, fields: integrationPolicyFields(pp), version: "2.1.0"})); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("fleetsim answered %v, want %q", err, want)
	}
}

// Kibana's update refuses a managed package policy only when the request
// says is_managed: true (`packagePolicyUpdate.is_managed && !options?.force`,
// FLEET/server/services/package_policy.ts); the simplified body fleetform
// sends cannot carry is_managed (SimplifiedCreatePackagePolicyRequestBodySchema,
// FLEET/server/types/models/package_policy.ts), so a declared change to a
// managed integration policy is applied, and is_managed stays.
func TestSim_IntegrationPolicy_UpdateOfManagedPolicyIsApplied(t *testing.T) {
	h, doc := managedHarness(t)
	if _, err := h.kb.CreateIntegrationPolicy(context.Background(), map[string]any{"id": "m1", "name": "m1", "namespace": "default", "policy_ids": []any{"b"},
		"enabled": true, "inputs": []any{}, "is_managed": true, "package": map[string]any{"name": "nginx", "version": "2.1.0"}}); err != nil {
		t.Fatal(err)
	}
	d := "set by fleetform"
	doc.PackagePolicies = append(doc.PackagePolicies, schema.PackagePolicy{ID: "m1", Name: "m1", Description: &d, PolicyIDs: []string{"b"},
		Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}})
	p := h.plan(doc)
	if ch := changeOf(p, KindIntegrationPolicy, "m1"); ch == nil || ch.Action != plan.Update {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	h.apply(doc)
	got := h.integrationPolicy("m1")
	if got.Description == nil || *got.Description != d || got.Raw["is_managed"] != true {
		t.Errorf("after apply: description %v, is_managed %v", got.Description, got.Raw["is_managed"])
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after apply:\n%s", renderText(p))
	}
}

// Prune of an owned integration policy Kibana refuses to delete
// (packagePolicyService.delete, FLEET/server/services/package_policy.ts):
// one that is_managed ("Cannot delete package policy <id>"), one in a
// hosted agent policy ("Cannot remove integrations of hosted agent policy";
// apis/package_policy/delete.ts "should fail on hosted agent policies").
// Each is blocked with Kibana's message, which fleetsim gives for the
// delete fleetform would send.
func TestSim_IntegrationPolicy_PruneRefusals(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, h *simHarness, doc *schema.Document)
		want  string
	}{
		{"managed package policy", func(t *testing.T, h *simHarness, doc *schema.Document) {
			// One created managed (as kibana.yml preconfiguration does) and
			// declared as it is: apply records it as owned.
			if _, err := h.kb.CreateIntegrationPolicy(context.Background(), map[string]any{"id": "m1", "name": "m1", "namespace": "default", "policy_ids": []any{"b"},
				"enabled": true, "inputs": []any{}, "is_managed": true, "package": map[string]any{"name": "nginx", "version": "2.1.0"}}); err != nil {
				t.Fatal(err)
			}
			doc.PackagePolicies = append(doc.PackagePolicies, schema.PackagePolicy{ID: "m1", Name: "m1", PolicyIDs: []string{"b"},
				Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}})
			h.apply(doc)
			doc.PackagePolicies = doc.PackagePolicies[:1]
		}, "Cannot delete package policy m1" + kibanaCannotDeleteManaged},
		{"in a hosted agent policy", func(t *testing.T, h *simHarness, doc *schema.Document) {
			doc.PackagePolicies[0].PolicyIDs = []string{"a", "hosted"}
			h.apply(doc)
			doc.PackagePolicies = append(doc.PackagePolicies, schema.PackagePolicy{ID: "keep", Name: "keep", Namespace: "default",
				Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}, PolicyIDs: []string{"b"}})
			h.apply(doc)
			doc.PackagePolicies = doc.PackagePolicies[1:]
		}, kibanaCannotRemoveHosted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, doc := managedHarness(t)
			tt.setup(t, h, doc)
			var gone string
			recs, _ := h.inv.Load(context.Background())
			for _, rec := range recs {
				if rec.Kind == KindIntegrationPolicy && !slices.ContainsFunc(doc.PackagePolicies, func(p schema.PackagePolicy) bool { return p.ID == rec.ID }) {
					gone = rec.ID
				}
			}
			if gone == "" {
				t.Fatal("no owned integration policy left undeclared")
			}
			h.connect(func(c *Config) { c.Prune = true })
			p := h.plan(doc)
			ch := changeOf(p, KindIntegrationPolicy, gone)
			if ch == nil || ch.Action != plan.Blocked || !strings.Contains(ch.Reason, tt.want) {
				t.Fatalf("want the prune of %s blocked with %q; plan:\n%s", gone, tt.want, renderText(p))
			}
			if err := h.kb.DeleteIntegrationPolicy(context.Background(), gone); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("fleetsim answered %v, want %q", err, tt.want)
			}
		})
	}
}

// Clearing output_id needs no licence: preflightCheckPackagePolicy
// (FLEET/server/services/package_policies/utils.ts) checks the licence for
// a truthy output_id only, so null below enterprise is not blocked, while
// setting one is.
func TestIntegrationPolicyRefusals_ClearingOutputNeedsNoLicence(t *testing.T) {
	r := &Reconciler{}
	obs := &observation{license: "platinum", policies: map[string]kibana.AgentPolicy{"a": {ID: "a"}}, outputs: map[string]map[string]any{"es2": {"type": "elasticsearch"}}}
	es2 := "es2"
	have := &kibana.IntegrationPolicy{ID: "n1", Name: "n1", PolicyIDs: []string{"a"}, OutputID: &es2, Package: kibana.PackageRef{Name: "nginx", Version: "2.1.0"}}
	ipo := &ipObservation{policies: map[string]kibana.IntegrationPolicy{"n1": *have}}
	for _, tt := range []struct {
		out  schema.Nullable[string]
		want string
	}{
		{schema.Null[string](), ""},
		{schema.Some("es3"), "Output per integration is only available with an enterprise license"},
	} {
		p := &schema.PackagePolicy{ID: "n1", OutputID: tt.out}
		fields := []plan.FieldDiff{{Path: "output_id", Before: "es2", After: derefOrNil(tt.out.Ptr())}}
		got := strings.Join(r.integrationPolicyRefusals(&schema.Document{}, obs, ipo, p, have, fields), "\n")
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("output_id %+v: refusals %q, want %q", tt.out, got, tt.want)
		}
	}
}
