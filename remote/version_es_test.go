package remote

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
)

// tokenOnlyBody is one remote_elasticsearch output to west with no sync:
// fleetform's only object on west is the service token (TOKEN is the
// output's service token field).
const tokenOnlyBody = `
outputs:
  - id: remote-west
    name: remote-west
    type: remote_elasticsearch
    remote: west
    hosts: ["{{west.es}}"]
TOKEN
`

// TestVersion_RemoteESTooOldForGeneratedToken: a generated service token is
// a token of elastic/fleet-server-remote, which Elasticsearch has from 8.12.0
// (elastic/elasticsearch#100950; ServiceTokenESSince). fleetform reads the
// remote's Elasticsearch version (GET /) and refuses such an output to an
// older one in the plan, before anything is written on either cluster,
// instead of failing at the mint in the middle of apply (Elasticsearch
// answers 400 "service account [elastic/fleet-server-remote] does not
// exist"). A declared token is tried as it is: one of elastic/fleet-server,
// which every version has and which holds manage_own_api_key (what Fleet
// Server does with the token: mint the agents' API keys on the remote),
// works below 8.12; one of elastic/fleet-server-remote cannot authenticate
// there, and the refusal says why.
func TestVersion_RemoteESTooOldForGeneratedToken(t *testing.T) {
	tests := []struct {
		name, westVersion, token string
		setup                    func(t *testing.T, env *simEnv) // sets FF_ES_VERSION_TEST_TOKEN
		blocked                  string                          // the blocked preflight check, "" for none
		reason                   []string
	}{
		{
			name: "generated secret, west 8.11.9", westVersion: "8.11.9",
			token:   "    secrets:\n      service_token: {generate: true}",
			blocked: CheckESVersion,
			reason: []string{"remote west runs Elasticsearch 8.11.9", "secrets.service_token: {generate: true}",
				"elastic/fleet-server-remote service account", "from 8.12.0 on"},
		},
		{
			name: "generated plain, west 8.11.0", westVersion: "8.11.0",
			token:   "    service_token: {generate: true}",
			blocked: CheckESVersion,
			reason:  []string{"remote west runs Elasticsearch 8.11.0", "; service_token: {generate: true}", "from 8.12.0 on"},
		},
		{
			name: "generated secret, west 8.12.0", westVersion: "8.12.0",
			token: "    secrets:\n      service_token: {generate: true}",
		},
		{
			name: "declared elastic/fleet-server token, west 8.11.9", westVersion: "8.11.9",
			token: "    secrets:\n      service_token: {env: FF_ES_VERSION_TEST_TOKEN}",
			setup: func(t *testing.T, env *simEnv) {
				tok, err := env.es("west").CreateServiceToken(t.Context(), "elastic", "fleet-server", "declared")
				if err != nil {
					t.Fatal(err)
				}
				t.Setenv("FF_ES_VERSION_TEST_TOKEN", tok.Value.Reveal())
			},
		},
		{
			name: "declared elastic/fleet-server-remote token, west 8.11.9", westVersion: "8.11.9",
			token: "    secrets:\n      service_token: {env: FF_ES_VERSION_TEST_TOKEN}",
			setup: func(t *testing.T, env *simEnv) {
				// What a token minted on an 8.12 cluster looks like.
				t.Setenv("FF_ES_VERSION_TEST_TOKEN", "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyLXJlbW90ZS9kZWNsYXJlZDowMTIzNDU2Nzg5YWJjZGVm")
			},
			blocked: CheckServiceToken,
			reason: []string{"the service token does not authenticate", "(401)",
				"Elasticsearch 8.11.9 has no elastic/fleet-server-remote service account (it came in 8.12.0)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"},
				{Name: "west", License: "enterprise", Version: tt.westVersion}}, strings.Replace(tokenOnlyBody, "TOKEN", tt.token, 1))
			if tt.setup != nil {
				tt.setup(t, env)
			}
			tc := env.connect(t, ConnectOptions{HealthTimeout: -1})
			env.sim.ClearRequests()
			p := mustPlan(t, tc, env.doc)
			if n := countRequests(env.sim.Requests(), "west", "es", http.MethodGet, "/"); n != 1 {
				t.Errorf("the plan read west's Elasticsearch version %d times, want once", n)
			}
			if tt.blocked == "" {
				if s := p.Summary(); s.Blocked != 0 {
					t.Fatalf("blocked:\n%s", planText(p))
				}
				mustApply(t, tc, env.doc)
				checkOutputTokenWorks(t, env)
				if p2 := mustPlan(t, tc, env.doc); !p2.Empty() {
					t.Errorf("second plan not empty:\n%s", planText(p2))
				}
				return
			}
			ch, ok := findChange(p, "west", KindPreflight, "remote-west/"+tt.blocked)
			if !ok || ch.Action != plan.Blocked {
				t.Fatalf("want blocked west preflight remote-west/%s; plan:\n%s", tt.blocked, planText(p))
			}
			for _, want := range tt.reason {
				if !strings.Contains(ch.Reason, want) {
					t.Errorf("reason %q lacks %q", ch.Reason, want)
				}
			}
			env.sim.ClearRequests()
			if _, err := tc.Apply(t.Context(), env.doc, nil, applyOpts()); !errors.Is(err, ErrPreflight) {
				t.Fatalf("apply error = %v, want ErrPreflight", err)
			}
			if w := writes(env.sim.Requests()); len(w) != 0 {
				t.Errorf("apply wrote despite the version problem: %v", w)
			}
			if toks, err := env.es("west").ServiceTokens(t.Context()); err != nil || len(toks) != 0 {
				t.Errorf("west tokens after the refused apply = %v, %v", toks, err)
			}
			if _, err := env.kibana(t, "main").GetOutput(t.Context(), "remote-west"); err == nil {
				t.Errorf("the output exists on main after the refused apply")
			}
		})
	}
}

// TestVersion_RotateRefusedBelowRemoteESGate: rotating a generated service
// token on an Elasticsearch without elastic/fleet-server-remote is refused
// before the rotation journal is written.
func TestVersion_RotateRefusedBelowRemoteESGate(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"},
		{Name: "west", License: "enterprise", Version: "8.11.9"}},
		strings.Replace(tokenOnlyBody, "TOKEN", "    secrets:\n      service_token: {generate: true}", 1))
	tc := env.connect(t, ConnectOptions{HealthTimeout: -1})
	env.sim.ClearRequests()
	_, err := tc.Engine.Rotate(t.Context(), env.doc, "remote-west")
	if !errors.Is(err, ErrPreflight) || !strings.Contains(err.Error(), "remote west runs Elasticsearch 8.11.9") {
		t.Fatalf("rotate: %v, want ErrPreflight naming west's Elasticsearch version", err)
	}
	if w := writes(env.sim.Requests()); len(w) != 0 {
		t.Errorf("the refused rotation wrote %v", w)
	}
}

// TestVersion_RemoteESVersionReadOncePerRemote: two outputs with service
// tokens to one remote, one GET / of it per plan; an output without one
// reads no version.
func TestVersion_RemoteESVersionReadOncePerRemote(t *testing.T) {
	body := strings.Replace(tokenOnlyBody, "TOKEN", "    secrets:\n      service_token: {generate: true}", 1) + `
  - id: remote-west-2
    name: remote-west-2
    type: remote_elasticsearch
    remote: west
    hosts: ["{{west.es}}"]
    secrets:
      service_token: {generate: true}
`
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, body)
	tc := env.connect(t, ConnectOptions{})
	env.sim.ClearRequests()
	mustPlan(t, tc, env.doc)
	if n := countRequests(env.sim.Requests(), "west", "es", http.MethodGet, "/"); n != 1 {
		t.Errorf("GET / on west: %d requests in one plan, want 1", n)
	}
	// The same engine, without service tokens: needsESVersion is false.
	var ts []target
	for _, o := range env.doc.Outputs {
		o.Secrets = nil
		ts = append(ts, target{out: o, cluster: &Cluster{Name: "west"}})
	}
	if needsESVersion(ts, "west") {
		t.Error("needsESVersion without any service token")
	}
}

func countRequests(rs []fleetsim.Request, cluster, listener, method, path string) int {
	n := 0
	for _, r := range rs {
		if r.Cluster == cluster && r.Listener == listener && r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}
