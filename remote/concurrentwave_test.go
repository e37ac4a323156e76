package remote

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/simhttp"
)

// waveBody declares two outputs on west whose credentials are minted and
// finished in the same waves, and three packages fleetform installs on
// west itself (sync_via: direct): steps of one cluster and kind that the
// executor runs concurrently.
const waveBody = `
outputs:
  - id: remote-west
    name: remote-west
    type: remote_elasticsearch
    remote: west
    hosts: ["{{west.es}}"]
    secrets:
      service_token: {generate: true}
    sync_integrations: true
    sync_via: direct
    kibana_url: "{{west.kibana}}"
    kibana_api_key: {generate: true}
  - id: backup-west
    name: backup-west
    type: remote_elasticsearch
    remote: west
    hosts: ["{{west.es}}"]
    secrets:
      service_token: {generate: true}
packages:
  - {name: nginx, version: 2.0.0}
  - {name: system, version: 1.64.1}
  - {name: apache, version: 1.24.0}
`

// TestTwoCluster_ConcurrentWaveKeepsEveryRecord: remote steps of one
// cluster and kind run concurrently (two outputs' credentials, three
// direct package installs), slowed so they overlap. Every record each of
// them writes must be there afterwards (the credentials are minted while
// the main outputs are created, in one wave): a token journal per output, the
// API key's journal, the packages seen on main — and, when every install
// on west fails, a sync-failure record per package. Run it under -race
// and -count=20.
func TestTwoCluster_ConcurrentWaveKeepsEveryRecord(t *testing.T) {
	for _, failInstalls := range []bool{false, true} {
		name := "installs succeed"
		if failInstalls {
			name = "installs fail"
		}
		t.Run(name, func(t *testing.T) {
			env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "basic"}, {Name: "west", License: "basic"}}, waveBody)
			ctx := t.Context()
			tc := env.connect(t, ConnectOptions{})
			p := mustPlan(t, tc, env.doc)
			for _, k := range []string{"west/" + KindServiceToken, "west/" + KindPackage} {
				if n := countChanges(p, k[:4], k[5:]); n < 2 {
					t.Fatalf("setup: %d %s changes, want two or more in one wave:\n%s", n, k, planText(p))
				}
			}
			// Slow every write on west so the steps of a wave overlap (the
			// first fault that matches a request applies).
			delay := 30 * time.Millisecond
			var faults []simhttp.Fault
			if failInstalls {
				faults = append(faults, simhttp.Fault{Cluster: "west", Method: "POST", PathPattern: "/api/fleet/epm/packages/*/*", Status: 400, Delay: delay})
			}
			// The main outputs' creates, which mint the credentials.
			// Longer: each output mints its credentials on west first.
			mainDelay := 10 * delay
			faults = append(faults, simhttp.Fault{Cluster: "main", Method: "POST", PathPattern: "/api/fleet/outputs", Delay: mainDelay})
			for _, m := range []string{"POST", "PUT", "DELETE"} {
				faults = append(faults, simhttp.Fault{Cluster: "west", Method: m, Delay: delay})
			}
			for _, f := range faults {
				if err := env.sim.AddFault(f); err != nil {
					t.Fatal(err)
				}
			}
			_, err := tc.Apply(ctx, env.doc, nil, applyOpts())
			if (err != nil) != failInstalls {
				t.Fatalf("apply: %v (installs failing: %v)", err, failInstalls)
			}
			// The steps did overlap: two of the slowed writes of a kind
			// started less than the delay apart.
			for _, w := range []struct {
				cluster, prefix string
				delay           time.Duration
			}{{"west", "/api/fleet/epm/packages/", delay}, {"main", "/api/fleet/outputs", mainDelay}} {
				cluster, prefix, delay := w.cluster, w.prefix, w.delay
				var starts []time.Time
				for _, r := range env.sim.Requests() {
					if r.Cluster == cluster && r.Method == "POST" && strings.HasPrefix(r.Path, prefix) {
						starts = append(starts, r.Time)
					}
				}
				overlap := false
				for i := range starts {
					for j := i + 1; j < len(starts); j++ {
						if d := starts[j].Sub(starts[i]).Abs(); d < delay {
							overlap = true
						}
					}
				}
				if !overlap {
					t.Errorf("no two writes under %s overlapped (started %v): the wave ran one step at a time", prefix, starts)
				}
			}
			lv := loadLedger(t, tc)
			for _, want := range [][3]string{
				{"west", LedgerJournalToken, "remote-west"},
				{"west", LedgerJournalToken, "backup-west"},
				{"west", LedgerJournalAPIKey, "remote-west"},
			} {
				if _, ok := lv.get(want[0], want[1], want[2]); !ok {
					t.Errorf("record %v is missing", want)
				}
			}
			for _, pkg := range []string{"nginx", "system", "apache"} {
				if _, ok := lv.get("main", LedgerSeenPackage, pkg); !ok && !failInstalls {
					t.Errorf("record seen_package %s is missing", pkg)
				}
				if _, ok := lv.get("west", LedgerSyncFailure, pkg); ok != failInstalls {
					t.Errorf("sync_failure record of %s present = %v, want %v", pkg, ok, failInstalls)
				}
			}
			tokens, err := env.es("west").ServiceTokens(ctx)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(tokens)
			if !slices.Equal(tokens, []string{"fleetform-backup-west-1", "fleetform-remote-west-1"}) {
				t.Errorf("west tokens = %v", tokens)
			}
			checkOutputHealthyToken(t, env, "remote-west")
			checkOutputHealthyToken(t, env, "backup-west")
			if failInstalls {
				return
			}
			if p := mustPlan(t, env.connect(t, ConnectOptions{}), env.doc); !p.Empty() {
				t.Fatalf("plan after apply is not empty:\n%s", planText(p))
			}
			for _, pkg := range []string{"nginx", "system", "apache"} {
				if _, ok := env.installedOn(t, "west")[pkg]; !ok {
					t.Errorf("%s is not installed on west", pkg)
				}
			}
		})
	}
}
