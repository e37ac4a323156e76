package reconciler

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// rvPolicy is agent policy id declaring required_versions rv.
func rvPolicy(id string, rv ...schema.RequiredVersion) schema.AgentPolicy {
	return schema.AgentPolicy{ID: id, Name: "P " + id, Namespace: "default", RequiredVersions: rv}
}

// applyRefused lists the Kibana requests fleetsim answered 4xx.
func (h *simHarness) applyRefused() []string {
	var out []string
	for _, r := range h.sim.Requests() {
		if r.Listener != "es" && r.Status >= 400 && r.Method != "GET" {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// Automatic agent upgrades (required_versions) on create, by Kibana version
// and licence (services/agent_policies/required_versions.ts
// validateRequiredVersions): before 9.0.0, and on 8.18, the key is unknown
// (blockUnsupported); on 9.0.x the enableAutomaticAgentUpgrades flag is off
// by default (elastic/kibana#219932 turned it on for 9.1 and 8.19) and Kibana
// answers 400; from 9.1.0 and 8.19.1 Kibana answers 403 below an Enterprise
// licence (elastic/kibana#224393; required_versions.test.ts "should throw
// error if license is not at least Enterprise"), while 8.19.0 has the flag
// on and no licence gate. The plan blocks what Kibana would
// refuse with Kibana's message, apply agrees (nothing refused, nothing
// written for the blocked policy), and the licence is read only when a
// policy declares required_versions.
func TestSim_RequiredVersionsByVersionAndLicence(t *testing.T) {
	rv := schema.RequiredVersion{Version: "9.1.0", Percentage: 10}
	tests := []struct {
		name, version, license string
		policy                 schema.AgentPolicy
		blocked                string // a reason substring; "" = created
		licReqs                int
	}{
		{"9.3 platinum", "9.3.0", "platinum", rvPolicy("p1", rv), RequiredVersionsLicenseError + ` (main licence is "platinum"; agent policy p1 sets required_versions)`, 1},
		{"9.1.0 basic", "9.1.0", "basic", rvPolicy("p1", rv), RequiredVersionsLicenseError, 1},
		{"9.1.0 enterprise", "9.1.0", "enterprise", rvPolicy("p1", rv), "", 1},
		{"9.3 trial", "9.3.0", "trial", rvPolicy("p1", rv), "", 1},
		{"9.0.x platinum: flag off, no licence gate", "9.0.3", "platinum", rvPolicy("p1", rv),
			`Kibana would refuse agent policy p1: Policy "P p1" failed validation: required_versions are not allowed when automatic upgrades feature is disabled`, 1},
		{"9.0.x enterprise: flag off", "9.0.3", "enterprise", rvPolicy("p1", rv), "required_versions are not allowed when automatic upgrades feature is disabled", 1},
		// 8.19 got the feature from 9.x by backports (docs/fleetsim-inferred.md
		// item 58): the key and the flag from 8.19.0 (elastic/kibana#217461,
		// #221210), the licence gate from 8.19.1 (elastic/kibana#229752).
		// 8.18 never had the key.
		{"8.18: the key is unknown", "8.18.8", "enterprise", rvPolicy("p1", rv), "required_versions needs Kibana 9.0.0, or 8.19.0+ on 8.19 (and automatic agent upgrades on, which 9.0.x keeps off by default: Kibana 9.1.0, or 8.19.0+ on 8.19)", 1},
		{"8.19.0 basic: flag on, no licence gate yet", "8.19.0", "basic", rvPolicy("p1", rv), "", 1},
		{"8.19.1 basic: licence gate", "8.19.1", "basic", rvPolicy("p1", rv), RequiredVersionsLicenseError + ` (main licence is "basic"; agent policy p1 sets required_versions)`, 1},
		{"8.19.5 enterprise", "8.19.5", "enterprise", rvPolicy("p1", rv), "", 1},
		{"platinum without required_versions: licence not read", "9.3.0", "platinum", rvPolicy("p1"), "", 0},
		{"platinum, empty list: not sent, licence not read", "9.3.0", "platinum", rvPolicy("p1", []schema.RequiredVersion{}...), "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: tt.license, Version: tt.version})
			h.withLicense()
			doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{tt.policy, rvPolicy("plain")}}
			h.sim.ClearRequests()
			p := h.plan(doc)
			if got := h.licenseRequests(); got != tt.licReqs {
				t.Errorf("GET /_license per plan = %d, want %d", got, tt.licReqs)
			}
			ch, _ := findPlanChange(p, plan.KindAgentPolicy, "p1")
			if plain, _ := findPlanChange(p, plan.KindAgentPolicy, "plain"); plain.Action != plan.Create {
				t.Errorf("plain policy: %s, want create", plain.Action)
			}
			if tt.blocked == "" {
				if ch.Action != plan.Create {
					t.Fatalf("p1: %s (%s), want create", ch.Action, ch.Reason)
				}
			} else if ch.Action != plan.Blocked || !strings.Contains(ch.Reason, tt.blocked) {
				t.Fatalf("p1: %s %q, want blocked with %q", ch.Action, ch.Reason, tt.blocked)
			}
			if got, want := BlockedByRequiredVersionsLicense(ch), strings.HasPrefix(tt.blocked, RequiredVersionsLicenseError); got != want {
				t.Errorf("BlockedByRequiredVersionsLicense = %v, want %v", got, want)
			}

			h.sim.ClearRequests()
			_, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{})
			if tt.blocked != "" {
				if !errors.Is(err, ErrBlocked) {
					t.Errorf("apply err = %v, want blocked", err)
				}
				if _, err := h.kb.GetAgentPolicy(context.Background(), "p1"); !kibana.IsNotFound(err) {
					t.Errorf("blocked policy p1 was created (err %v)", err)
				}
			} else if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if refused := h.applyRefused(); len(refused) > 0 {
				t.Errorf("Kibana refused %v: the plan should have blocked it", refused)
			}
			if _, err := h.kb.GetAgentPolicy(context.Background(), "plain"); err != nil {
				t.Errorf("plain policy not created: %v", err)
			}
			if tt.blocked == "" {
				if p := h.plan(doc); !p.Empty() {
					t.Errorf("plan after apply not empty:\n%s", renderText(p))
				}
			}
		})
	}
}

// On update Kibana checks required_versions only when the PUT body carries
// it, which fleetform sends only when it changed (policyUpdateBody): a
// policy set up under Enterprise keeps working below it for every other
// change, and a change of its required_versions is blocked.
func TestSim_RequiredVersionsUpdateBelowEnterprise(t *testing.T) {
	rv := func(pct float64) schema.RequiredVersion {
		return schema.RequiredVersion{Version: "9.1.0", Percentage: pct}
	}
	tests := []struct {
		name    string
		policy  schema.AgentPolicy
		action  plan.Action
		blocked bool
	}{
		{"required_versions changed", rvPolicy("p1", rv(20)), plan.Blocked, true},
		{"required_versions added", rvPolicy("p1", rv(10), schema.RequiredVersion{Version: "9.2.0", Percentage: 5}), plan.Blocked, true},
		{"description changed, required_versions as stored", func() schema.AgentPolicy {
			p := rvPolicy("p1", rv(10))
			p.Description = ptr("new")
			return p
		}(), plan.Update, false},
		{"required_versions no longer declared: not managed", rvPolicy("p1"), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise"})
			h.withLicense()
			h.apply(&schema.Document{AgentPolicies: []schema.AgentPolicy{rvPolicy("p1", rv(10))}})
			h.main.ES().SetLicense("platinum")
			doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{tt.policy}}
			p := h.plan(doc)
			ch, found := findPlanChange(p, plan.KindAgentPolicy, "p1")
			if tt.action == "" {
				if found {
					t.Fatalf("p1: %s %q, want no change", ch.Action, ch.Reason)
				}
				return
			}
			if ch.Action != tt.action || BlockedByRequiredVersionsLicense(ch) != tt.blocked {
				t.Fatalf("p1: %s %q, want %s", ch.Action, ch.Reason, tt.action)
			}
			h.sim.ClearRequests()
			_, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{})
			if tt.blocked != errors.Is(err, ErrBlocked) {
				t.Errorf("apply err = %v, blocked %v", err, tt.blocked)
			}
			if !tt.blocked && err != nil {
				t.Fatalf("apply: %v", err)
			}
			if refused := h.applyRefused(); len(refused) > 0 {
				t.Errorf("Kibana refused %v: the plan should have blocked it", refused)
			}
			got := h.mustPolicy("p1")
			if pct := got.Raw["required_versions"].([]any)[0].(map[string]any)["percentage"]; pct != 10.0 {
				t.Errorf("stored percentage %v, want 10 (unchanged)", pct)
			}
			if !tt.blocked && (got.Description == nil || *got.Description != "new") {
				t.Errorf("description not updated: %v", got.Description)
			}
		})
	}
}
