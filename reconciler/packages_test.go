package reconciler

import (
	"testing"

	"github.com/fleetform/fleetform/schema"
)

// TestInstallTS_PinnedBelowLatestInstallsWithForce follows Kibana's
// services/epm/packages/install.ts: installing a version below the
// registry's latest without force is refused with 400 "<name>-<version> is
// out-of-date and cannot be installed or updated". A pinned version below
// the latest is installed with force, and the plan says so.
func TestInstallTS_PinnedBelowLatestInstallsWithForce(t *testing.T) {
	tests := []struct {
		name      string
		installed string // "" for not installed
		pin       string
		wantForce bool
		wantNote  string
	}{
		{name: "fresh install below latest", pin: "2.0.0", wantForce: true, wantNote: "pinned below latest 2.1.0: installed with force"},
		{name: "upgrade still below latest", installed: "1.25.1", pin: "2.0.0", wantForce: true, wantNote: "pinned below latest 2.1.0: installed with force"},
		{name: "fresh install of the latest", pin: "2.1.0"},
		{name: "upgrade to the latest", installed: "2.0.0", pin: "2.1.0"},
		{name: "downgrade", installed: "2.1.0", pin: "2.0.0", wantForce: true, wantNote: "downgrade (installed with force)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if tt.installed != "" {
				h.f.packages["nginx"] = tt.installed
			}
			doc := &schema.Document{Packages: []schema.Package{{Name: "nginx", Version: tt.pin}}}
			p := h.plan(doc)
			if len(p.Changes) != 1 || len(p.Changes[0].Fields) != 1 {
				t.Fatalf("plan:\n%s", renderText(p))
			}
			if got := p.Changes[0].Fields[0].Note; got != tt.wantNote {
				t.Errorf("note = %q, want %q", got, tt.wantNote)
			}
			h.apply(doc)
			if h.f.packages["nginx"] != tt.pin {
				t.Fatalf("nginx installed at %q, want %q", h.f.packages["nginx"], tt.pin)
			}
			if got := h.f.lastBody("POST", "/api/fleet/epm/packages/nginx/"+tt.pin)["force"]; got != tt.wantForce {
				t.Errorf("install body force = %v, want %v", got, tt.wantForce)
			}
			h.mustBeConverged(doc)
		})
	}
}
