package reconciler

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// secretFile is a file: reference the harness resolves to value.
func (h *simHarness) secretFile(name, value string) *schema.SecretRef {
	h.secrets["file:/secrets/"+name] = value
	return &schema.SecretRef{File: "/secrets/" + name}
}

// change returns the plan's change of kind/id, failing when there is none.
func change(t *testing.T, p *plan.Plan, kind, id string) plan.Change {
	t.Helper()
	for _, c := range p.Changes {
		if c.Kind == kind && c.ID == id {
			return c
		}
	}
	t.Fatalf("no change of %s %s in plan:\n%s", kind, id, renderText(p))
	return plan.Change{}
}

// field returns a change's field diff at path, or nil.
func field(c plan.Change, path string) *plan.FieldDiff {
	for i := range c.Fields {
		if c.Fields[i].Path == path {
			return &c.Fields[i]
		}
	}
	return nil
}

// converge applies doc, checks that the next plan is empty and that a
// second apply sends no write and bumps no agent policy's revision.
func (h *simHarness) converge(doc *schema.Document, opts ...ApplyOptions) {
	h.t.Helper()
	h.apply(doc, opts...)
	if p := h.plan(doc); !p.Empty() {
		h.t.Fatalf("plan after apply not empty:\n%s", renderText(p))
	}
	revs := h.revisions()
	h.sim.ClearRequests()
	h.apply(doc, opts...)
	var fleetWrites []string
	for _, w := range h.writes() {
		if strings.Contains(w, "/api/fleet/") {
			fleetWrites = append(fleetWrites, w)
		}
	}
	if len(fleetWrites) > 0 {
		h.t.Fatalf("second apply wrote to Fleet: %v", fleetWrites)
	}
	if after := h.revisions(); !mapsEqual(revs, after) {
		h.t.Fatalf("second apply bumped agent policy revisions: %v → %v", revs, after)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// own records every declared object that exists as owned (import --adopt).
func (h *simHarness) own(doc *schema.Document) []string {
	h.t.Helper()
	adopted, refused, err := h.r.Adopt(context.Background(), doc, "rev")
	if err != nil || len(refused) > 0 {
		h.t.Fatalf("adopt: %v, refused %v", err, refused)
	}
	slices.Sort(adopted)
	return adopted
}
