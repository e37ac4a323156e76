package remote

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/reconciler"
)

// loseTransport loses the answer of the n-th write request: the request
// is served (the cluster carried the write out), the connection then
// breaks before fleetform reads the answer. Unlike crashTransport the
// process lives on: the client may retry (idempotent writes and named
// token creates are retried; see elastic/client.go) and the apply goes on
// with its other steps. Reads (GET, HEAD, searches) do not count.
//
// fleetsim's own Reset fault cannot stand for this: it closes the
// connection before the handler runs (fleetsim/simhttp/simhttp.go,
// Middleware), so the write never happens.
type loseTransport struct {
	rt http.RoundTripper

	mu     sync.Mutex
	n      int
	writes int
	lost   string // the write whose answer was lost
}

var errLost = errors.New("connection reset after the write (test)")

func (l *loseTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	write := r.Method != http.MethodGet && r.Method != http.MethodHead && !strings.HasSuffix(r.URL.Path, "/_search") && !strings.HasSuffix(r.URL.Path, "/_pit")
	lose := false
	l.mu.Lock()
	if write {
		l.writes++
		if l.writes == l.n {
			lose = true
			l.lost = r.Method + " " + r.URL.Host + r.URL.Path
		}
	}
	l.mu.Unlock()
	resp, err := l.rt.RoundTrip(r)
	if !lose || err != nil {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil, errLost
}

// TestTwoCluster_LostResponseAtAnyWrite loses the answer of each write of
// a first two-cluster apply in turn — the link's settings, the remote's
// own elasticsearch output, the minted service token and API key, the
// follower, the directly synced package, and the main cluster's writes
// around them — and then applies again: the second apply converges, the
// plan after it is empty, nothing exists twice on the remote (one token,
// one API key, one output, one follower) and fleetform owns every object
// it created there.
func TestTwoCluster_LostResponseAtAnyWrite(t *testing.T) {
	for _, tt := range []struct {
		name     string
		body     string
		license  string
		follower bool
	}{
		{name: "ccr", body: ccrBody, license: "enterprise", follower: true},
		{name: "direct", body: fmt.Sprintf(directBody, true), license: "basic"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			finished := false
			for n := 1; !finished && n <= 200; n++ {
				ok := t.Run(fmt.Sprintf("lose-write-%d", n), func(t *testing.T) {
					env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: tt.license}, {Name: "west", License: tt.license}}, tt.body)
					ctx := t.Context()
					// West's default output points elsewhere, so fleetform
					// creates the elasticsearch output the sync needs there.
					if _, err := env.kibana(t, "west").UpdateOutput(ctx, "fleet-default-output", map[string]any{"hosts": []string{"https://west-ingest.example:9200"}}); err != nil {
						t.Fatal(err)
					}
					lose := &loseTransport{rt: http.DefaultTransport, n: n}
					tc, err := connect(ctx, env.doc, ConnectOptions{HealthTimeout: -1}, lose)
					if err != nil {
						t.Fatal(err)
					}
					_, applyErr := tc.Apply(ctx, env.doc, nil, applyOpts())
					lose.mu.Lock()
					lost := lose.lost
					lose.mu.Unlock()
					if lost == "" {
						if applyErr != nil {
							t.Fatalf("apply without a lost answer: %v", applyErr)
						}
						finished = true
						return
					}
					t.Logf("lost the answer of write %d: %s (apply: %v)", n, lost, applyErr)

					tc = env.connect(t, ConnectOptions{HealthTimeout: -1})
					if _, err := tc.Apply(ctx, env.doc, nil, applyOpts()); err != nil {
						t.Fatalf("re-apply after the answer of %s was lost: %v", lost, err)
					}
					if p := mustPlan(t, tc, env.doc); !p.Empty() {
						t.Fatalf("plan after the answer of %s was lost and a re-apply is not empty:\n%s", lost, planText(p))
					}
					after := env.snapshot(t, "west")
					if len(after.tokens) != 1 || len(after.keys) != 1 {
						t.Fatalf("after the answer of %s was lost, west holds tokens %v and API keys %v, want one of each", lost, after.tokens, after.keys)
					}
					wantOutputs := 0
					wantOwned := []string{
						KindAPIKey + "/" + after.keys[0],
						KindServiceToken + "/" + after.tokens[0],
					}
					if tt.follower {
						wantOutputs = 1
						wantOwned = append(wantOwned, KindFollower+"/"+FollowerIndexName("remote-west"), KindRemoteCluster+"/main", KindOutput+"/fleetform-sync-remote-west")
						if len(after.followers) != 1 {
							t.Errorf("after the answer of %s was lost, west follows %v, want one follower", lost, after.followers)
						}
					} else if v := env.installedOn(t, "west")["nginx"]; v != "2.0.0" {
						t.Errorf("after the answer of %s was lost, nginx on west = %q, want 2.0.0", lost, v)
					}
					if n := strings.Count(strings.Join(after.outputs, " "), "fleetform-sync-"); n != wantOutputs {
						t.Errorf("after the answer of %s was lost, west holds outputs %v, want %d fleetform-sync output", lost, after.outputs, wantOutputs)
					}
					slices.Sort(wantOwned)
					got := slices.DeleteFunc(ownedOn(t, tc, "west"), func(s string) bool { return strings.HasPrefix(s, KindPackage+"/") })
					if !slices.Equal(got, wantOwned) {
						t.Errorf("after the answer of %s was lost, fleetform owns %v on west, want %v", lost, got, wantOwned)
					}
					outs, err := env.kibana(t, "main").ListOutputs(ctx)
					if err != nil {
						t.Fatal(err)
					}
					var ids []string
					for _, o := range outs {
						ids = append(ids, o.ID())
					}
					if strings.Count(strings.Join(ids, " "), "remote-west") != 1 {
						t.Errorf("after the answer of %s was lost, main holds outputs %v, want remote-west once", lost, ids)
					}
				})
				if !ok {
					return
				}
			}
			if !finished {
				t.Fatal("the apply never finished without a lost answer")
			}
		})
	}
}

// TestTwoCluster_LostResponseAtAnyPruneWrite loses the answer of each
// write of apply --prune in turn (the main output's delete, the
// follower's pause and delete, the credentials' revokes, the remote
// output's delete, the link's removal, the state entries' deletes), then
// applies --prune again: it converges, the plan is empty, west holds
// exactly what backup-west needs, and no state entry of the pruned
// output survives.
func TestTwoCluster_LostResponseAtAnyPruneWrite(t *testing.T) {
	finished := false
	for n := 1; !finished && n <= 200; n++ {
		ok := t.Run(fmt.Sprintf("lose-write-%d", n), func(t *testing.T) {
			env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, pruneBody)
			ctx := t.Context()
			if _, err := env.kibana(t, "west").UpdateOutput(ctx, "fleet-default-output", map[string]any{"hosts": []string{"https://west-ingest.example:9200"}}); err != nil {
				t.Fatal(err)
			}
			mustApply(t, env.connect(t, ConnectOptions{}), env.doc)
			env.load(t, withoutOutput)

			lose := &loseTransport{rt: http.DefaultTransport, n: n}
			tc, err := connect(ctx, env.doc, ConnectOptions{HealthTimeout: -1, Prune: true}, lose)
			if err != nil {
				t.Fatal(err)
			}
			prune := reconciler.ApplyOptions{Revision: "test", Prune: true}
			_, applyErr := tc.Apply(ctx, env.doc, nil, prune)
			lose.mu.Lock()
			lost := lose.lost
			lose.mu.Unlock()
			if lost == "" {
				if applyErr != nil {
					t.Fatalf("apply --prune without a lost answer: %v", applyErr)
				}
				finished = true
				return
			}
			t.Logf("lost the answer of write %d: %s (apply: %v)", n, lost, applyErr)

			tc = env.connect(t, ConnectOptions{HealthTimeout: -1, Prune: true})
			if _, err := tc.Apply(ctx, env.doc, nil, prune); err != nil {
				t.Fatalf("re-apply --prune after the answer of %s was lost: %v", lost, err)
			}
			if p := mustPlan(t, tc, env.doc); !p.Empty() || len(p.Warnings) != 0 {
				t.Fatalf("plan after the answer of %s was lost and a re-apply is not empty:\n%s\nwarnings: %q", lost, planText(p), p.Warnings)
			}
			after := env.snapshot(t, "west")
			if !slices.Equal(after.tokens, []string{"fleetform-backup-west-1"}) || len(after.keys) != 0 || len(after.followers) != 0 ||
				len(after.settings) != 0 || slices.Contains(after.outputs, "fleetform-sync-remote-west") {
				t.Errorf("after the answer of %s was lost, west holds %+v, want only backup-west's token", lost, after)
			}
			if got := ownedOn(t, tc, "west"); !slices.Equal(got, []string{KindServiceToken + "/fleetform-backup-west-1"}) {
				t.Errorf("after the answer of %s was lost, fleetform owns %v on west", lost, got)
			}
			checkOutputHealthyToken(t, env, "backup-west")
		})
		if !ok {
			return
		}
	}
	if !finished {
		t.Fatal("apply --prune never finished without a lost answer")
	}
}
