package importer

import (
	"strings"
	"testing"

	"github.com/fleetform/fleetform/kibana"
)

// Kibana answers "?" in space_ids for each space the caller cannot read
// (the security plugin's saved_objects_security_extension.ts
// getRedactedSpaces; space_awareness/agent_policies.ts "should return only
// spaces user can access"). Import cannot know those spaces, and declaring
// the readable ones alone would move the policy out of the others, so it
// leaves space_ids out and says why; a fully readable list is kept.
func TestExportPolicy_SpaceIDs(t *testing.T) {
	for _, c := range []struct {
		name     string
		ids      []any
		want     bool // space_ids written
		comments bool
	}{
		{"readable", []any{"default", "team-a"}, true, false},
		{"every space", []any{"*"}, true, false},
		{"default only is Kibana's default", []any{"default"}, false, false},
		{"an unreadable space", []any{"default", "?"}, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := exportPolicy(kibana.AgentPolicy{ID: "p", Raw: map[string]any{"id": "p", "name": "P", "namespace": "default", "space_ids": c.ids}})
			written := false
			for _, f := range e.fields {
				if f.key == "space_ids" {
					written = true
				}
			}
			if written != c.want {
				t.Errorf("space_ids written: %v, want %v (fields %v)", written, c.want, e.fields)
			}
			if got := strings.Contains(e.comment, "space_ids left out"); got != c.comments {
				t.Errorf("comment %q", e.comment)
			}
		})
	}
}
