package reconciler

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/plan"
	"github.com/google/go-cmp/cmp"
)

// TestPlan_ComparesSecretValuesItCanRead is issue 10 item 7: plan said "No
// changes" after a secret's value changed under the same reference (apply
// found and updated it). A reference plan can read is compared by its
// salted hash and shown as (sensitive, changed).
func TestPlan_ComparesSecretValuesItCanRead(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	h.apply(doc)
	if p := h.plan(doc); !p.Empty() || !p.Certain() {
		t.Fatalf("plan after apply: empty %v, certain %v\n%s", p.Empty(), p.Certain(), renderText(p))
	}
	t.Setenv("WEST_TOKEN", token2Value)
	p := h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].ID != "remote-west" || p.Changes[0].Action != plan.Update {
		t.Fatalf("plan after the value changed:\n%s", renderText(p))
	}
	want := []plan.FieldDiff{{Path: "secrets.service_token", Before: plan.Sensitive, After: plan.Sensitive, Sensitive: true, Note: "value changed at env:WEST_TOKEN"}}
	if d := cmp.Diff(want, p.Changes[0].Fields); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
	if !strings.Contains(renderText(p), "secrets.service_token = (sensitive, changed)") {
		t.Errorf("text plan:\n%s", renderText(p))
	}
	// The plan is what apply does.
	res := h.apply(doc)
	if !samePlan(res.Plan, p) {
		t.Errorf("apply did another plan:\n%s\nplanned:\n%s", renderText(res.Plan), renderText(p))
	}
	h.mustBeConverged(doc)
}

// TestPlan_NamesSecretsItCannotRead: where a reference cannot be read (CI
// without production secrets), the plan lists it as not compared and never
// says "No changes".
func TestPlan_NamesSecretsItCannotRead(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	h.apply(doc)
	t.Setenv("WEST_TOKEN", "")
	p := h.plan(doc)
	if !p.Empty() {
		t.Fatalf("plan has changes:\n%s", renderText(p))
	}
	want := []plan.UnverifiedSecret{{Cluster: "main", Kind: "output", ID: "remote-west", Path: "secrets.service_token", Ref: "env:WEST_TOKEN", Reason: "environment variable WEST_TOKEN is empty"}}
	if d := cmp.Diff(want, p.Unverified); d != "" {
		t.Errorf("unverified (-want +got):\n%s", d)
	}
	if txt := renderText(p); strings.Contains(txt, "No changes.") || !strings.Contains(txt, `output "remote-west" secrets.service_token (env:WEST_TOKEN)`) {
		t.Errorf("text plan:\n%s", txt)
	}
}

// TestApply_SavedPlanWithUncomparedSecret: a saved plan made where a
// reference could not be read applies when the value did not change, and
// is refused as stale when it did — apply never makes a change the saved
// plan did not show.
func TestApply_SavedPlanWithUncomparedSecret(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	h.apply(doc)
	t.Setenv("WEST_TOKEN", "")
	saved := h.plan(doc)
	if saved.Certain() {
		t.Fatal("the plan compared a secret it could not read")
	}
	t.Setenv("WEST_TOKEN", token2Value)
	n := len(h.f.writes())
	_, err := h.r.Apply(context.Background(), doc, saved, ApplyOptions{})
	if !errors.Is(err, ErrStalePlan) || !strings.Contains(err.Error(), "output remote-west secrets.service_token (env:WEST_TOKEN)") {
		t.Fatalf("err = %v, want ErrStalePlan naming the uncompared secret", err)
	}
	if w := h.f.writes()[n:]; len(w) != 0 {
		t.Errorf("refused apply wrote: %v", w)
	}
	t.Setenv("WEST_TOKEN", tokenValue)
	if _, err := h.r.Apply(context.Background(), doc, saved, ApplyOptions{}); err != nil {
		t.Fatalf("unchanged value: %v", err)
	}
}
