package reconciler

import (
	"context"
	"strings"
	"testing"
)

// TestPlan_BrokenInventoryRecordIsAnError is issue 10 item 13 where it
// concerns the reconciler: a state record that names no object (no kind or
// no id) used to be keyed "main//…" and ignored, so the object it meant was
// read as not owned. Plan and apply now fail, naming the record, and apply
// writes nothing.
func TestPlan_BrokenInventoryRecordIsAnError(t *testing.T) {
	for name, rec := range map[string]Record{
		"no kind": {Cluster: "main", ID: "remote-west"},
		"no id":   {Cluster: "main", Kind: "output"},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			doc := fullDoc()
			h.apply(doc)
			h.inv.records["broken"] = rec
			n := len(h.f.writes())
			if _, err := h.r.Plan(context.Background(), doc, "rev"); err == nil || !strings.Contains(err.Error(), "broken record") {
				t.Errorf("plan: err = %v, want a broken-record error", err)
			}
			if _, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{Prune: true}); err == nil || !strings.Contains(err.Error(), "names no object") {
				t.Errorf("apply: err = %v, want a broken-record error", err)
			}
			if w := h.f.writes()[n:]; len(w) != 0 {
				t.Errorf("apply wrote: %v", w)
			}
		})
	}
}
