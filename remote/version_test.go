package remote

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
)

// TestVersion_RemoteKibanaTooOldForCCRSync: the remote's Kibana runs the
// integration sync task only from 9.1 (server/tasks/sync_integrations/,
// server/routes/remote_synced_integrations/index.ts "since: '9.1.0'").
// fleetform reads the remote's version (GET /api/status) and blocks a
// ccr-synced output to an older remote before anything is written, naming
// the version it needs; direct sync has no such limit.
func TestVersion_RemoteKibanaTooOldForCCRSync(t *testing.T) {
	tests := []struct {
		name, westVersion, body string
		wantBlocked             bool
	}{
		{name: "ccr to 8.15", westVersion: "8.15.0", body: ccrBody, wantBlocked: true},
		{name: "ccr to 9.1", westVersion: "9.1.0", body: ccrBody},
		{name: "direct to 8.15", westVersion: "8.15.0", body: fmt.Sprintf(directBody, true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"},
				{Name: "west", License: "enterprise", Version: tt.westVersion}}, tt.body)
			tc := env.connect(t, ConnectOptions{})
			p := mustPlan(t, tc, env.doc)
			ch, found := findChange(p, "west", "preflight", "remote-west/"+CheckVersion)
			if found != tt.wantBlocked {
				t.Fatalf("version problem found = %v, want %v; plan:\n%s", found, tt.wantBlocked, planText(p))
			}
			if !tt.wantBlocked {
				return
			}
			if ch.Action != plan.Blocked || !strings.Contains(ch.Reason, "Kibana 8.15.0") || !strings.Contains(ch.Reason, "needs Kibana 9.1.0") {
				t.Errorf("change = %s %q", ch.Action, ch.Reason)
			}
			env.sim.ClearRequests()
			if _, err := tc.Apply(t.Context(), env.doc, nil, applyOpts()); !errors.Is(err, ErrPreflight) {
				t.Fatalf("apply error = %v, want ErrPreflight", err)
			}
			if w := writes(env.sim.Requests()); len(w) != 0 {
				t.Errorf("apply wrote despite the version problem: %v", w)
			}
		})
	}
}
