package remote

import (
	"context"
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

// crashTransport stands for a fleetform process that dies right after its
// limit-th write request reached a cluster: that request is served, its
// answer is lost, the apply's context is cancelled and every later request
// fails. Reads (GET, HEAD, searches) do not count.
type crashTransport struct {
	rt     http.RoundTripper
	cancel context.CancelFunc

	mu      sync.Mutex
	limit   int
	writes  int
	crashed bool
	last    string // the write after which the process died
}

var errCrashed = errors.New("fleetform crashed (test)")

func (c *crashTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.crashed {
		c.mu.Unlock()
		return nil, errCrashed
	}
	write := r.Method != http.MethodGet && r.Method != http.MethodHead && !strings.HasSuffix(r.URL.Path, "/_search")
	dies := false
	if write {
		c.writes++
		if c.limit > 0 && c.writes >= c.limit {
			c.crashed, dies = true, true
			c.last = r.Method + " " + r.URL.Host + r.URL.Path
		}
	}
	c.mu.Unlock()
	resp, err := c.rt.RoundTrip(r)
	if !dies {
		return resp, err
	}
	if resp != nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	c.cancel()
	return nil, errCrashed
}

// remoteSnapshot is what exists on a remote, for comparing before and after.
type remoteSnapshot struct {
	settings  []string // persistent setting keys
	indices   []string // fleet-synced-integrations-ccr-*
	tokens    []string
	keys      []string
	outputs   []string
	followers []string
}

func (env *simEnv) snapshot(t *testing.T, cluster string) remoteSnapshot {
	t.Helper()
	ctx := t.Context()
	es := env.es(cluster)
	var s remoteSnapshot
	cs, err := es.GetClusterSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k := range cs.Persistent {
		s.settings = append(s.settings, k)
	}
	slices.Sort(s.settings)
	if s.indices, err = es.GetIndices(ctx, FollowerPrefix+"*"); err != nil {
		t.Fatal(err)
	}
	slices.Sort(s.indices)
	if s.tokens, err = es.ServiceTokens(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := apiKeys(ctx, es.Client, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		s.keys = append(s.keys, k.Name)
	}
	outs, err := env.kibana(t, cluster).ListOutputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		s.outputs = append(s.outputs, o.ID())
	}
	slices.Sort(s.outputs)
	fs, err := es.Followers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name := range fs {
		s.followers = append(s.followers, name)
	}
	slices.Sort(s.followers)
	return s
}

// owned lists fleetform's record of what it created on cluster: owned
// objects as kind/id, and the credential a journal says the output holds.
func ownedOn(t *testing.T, tc *TwoCluster, cluster string) []string {
	t.Helper()
	es, err := tc.Engine.cfg.Ledger.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.Cluster != cluster {
			continue
		}
		switch e.Kind {
		case LedgerOwned:
			if isPending(e) {
				out = append(out, e.ID+" (pending)")
				continue
			}
			out = append(out, e.ID)
		case LedgerJournalToken:
			out = append(out, KindServiceToken+"/"+decodeJournal(e.Data).Current)
		case LedgerJournalAPIKey:
			out = append(out, KindAPIKey+"/"+decodeJournal(e.Data).Current)
		}
	}
	slices.Sort(out)
	return out
}

// TestTwoCluster_CrashAtAnyWrite kills a two-cluster apply after each of
// its writes in turn (the write lands, its answer is lost), then applies
// again: the plan must then be empty, fleetform must own every object it
// created on the remote, and apply --prune after the output left the
// document must remove exactly those objects and leave the rest.
func TestTwoCluster_CrashAtAnyWrite(t *testing.T) {
	noOutputs := "packages:\n  - {name: nginx, version: 2.0.0}\n"
	finished := false
	for n := 1; !finished && n <= 200; n++ {
		ok := t.Run(fmt.Sprintf("crash-after-write-%d", n), func(t *testing.T) {
			env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
			// West's default output points elsewhere, so fleetform creates
			// the elasticsearch output the sync needs there too.
			if _, err := env.kibana(t, "west").UpdateOutput(t.Context(), "fleet-default-output", map[string]any{"hosts": []string{"https://west-ingest.example:9200"}}); err != nil {
				t.Fatal(err)
			}
			before := env.snapshot(t, "west")

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			crash := &crashTransport{rt: http.DefaultTransport, cancel: cancel, limit: n}
			tc, err := connect(ctx, env.doc, ConnectOptions{HealthTimeout: -1}, crash)
			if err != nil {
				t.Fatal(err)
			}
			_, applyErr := tc.Apply(ctx, env.doc, nil, applyOpts())
			crash.mu.Lock()
			crashed, last := crash.crashed, crash.last
			crash.mu.Unlock()
			if !crashed {
				if applyErr != nil {
					t.Fatalf("apply without a crash: %v", applyErr)
				}
				finished = true // n is past the last write: every crash point was covered
				return
			}
			t.Logf("crashed after write %d: %s", n, last)

			tc = env.connect(t, ConnectOptions{HealthTimeout: -1})
			if _, err := tc.Apply(t.Context(), env.doc, nil, applyOpts()); err != nil {
				t.Fatalf("apply after a crash after %s: %v", last, err)
			}
			if p := mustPlan(t, tc, env.doc); !p.Empty() {
				t.Fatalf("plan after a crash after %s and a re-apply is not empty:\n%s", last, planText(p))
			}
			after := env.snapshot(t, "west")
			// One token and one API key (of whichever generation the
			// crash led to), all journalled, and every other object owned.
			if len(after.tokens) != 1 || len(after.keys) != 1 {
				t.Fatalf("after a crash after %s west holds tokens %v and API keys %v, want one of each", last, after.tokens, after.keys)
			}
			wantOwned := []string{
				KindAPIKey + "/" + after.keys[0],
				KindFollower + "/" + FollowerIndexName("remote-west"),
				KindOutput + "/fleetform-sync-remote-west",
				KindRemoteCluster + "/main",
				KindServiceToken + "/" + after.tokens[0],
			}
			slices.Sort(wantOwned)
			if got := ownedOn(t, tc, "west"); !slices.Equal(got, wantOwned) {
				t.Errorf("after a crash after %s, fleetform owns %v on west, want %v", last, got, wantOwned)
			}

			env.load(t, noOutputs)
			tc = env.connect(t, ConnectOptions{HealthTimeout: -1, Prune: true})
			if _, err := tc.Apply(t.Context(), env.doc, nil, reconciler.ApplyOptions{Revision: "test", Prune: true}); err != nil {
				t.Fatalf("apply --prune: %v", err)
			}
			if p := mustPlan(t, tc, env.doc); !p.Empty() {
				t.Fatalf("plan after apply --prune is not empty:\n%s", planText(p))
			}
			if got := env.snapshot(t, "west"); !equalSnapshots(got, before) {
				t.Errorf("after apply --prune west holds\n%+v\nwant what it held before fleetform\n%+v", got, before)
			}
			if got := ownedOn(t, tc, "west"); len(got) != 0 {
				t.Errorf("state still records %v on west after prune", got)
			}
		})
		if !ok {
			return
		}
	}
	if !finished {
		t.Fatal("the apply never finished without a crash")
	}
}

func equalSnapshots(a, b remoteSnapshot) bool {
	return slices.Equal(a.settings, b.settings) && slices.Equal(a.indices, b.indices) && slices.Equal(a.tokens, b.tokens) &&
		slices.Equal(a.keys, b.keys) && slices.Equal(a.outputs, b.outputs) && slices.Equal(a.followers, b.followers)
}
