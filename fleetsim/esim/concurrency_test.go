package esim

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestConcurrency_ConditionalWrites_ExactlyOneWinnerPerSeqNo is the rule a
// leader lease relies on: of N writers racing with the same if_seq_no, one wins.
func TestConcurrency_ConditionalWrites_ExactlyOneWinnerPerSeqNo(t *testing.T) {
	n := New(Config{})
	d, err := n.IndexDoc("lease", "leader", json.RawMessage(`{"holder":"none"}`))
	if err != nil {
		t.Fatal(err)
	}
	const writers = 16
	var wg sync.WaitGroup
	wins := make(chan string, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seq, term := d.SeqNo, d.PrimaryTerm
			_, _, err := n.IndexDocWith("lease", "leader", json.RawMessage(fmt.Sprintf(`{"holder":"w%d"}`, i)), WriteOptions{IfSeqNo: &seq, IfPrimaryTerm: &term})
			var esErr *Error
			switch {
			case err == nil:
				wins <- fmt.Sprint(i)
			case errors.As(err, &esErr) && esErr.Status == 409:
			default:
				t.Errorf("writer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	close(wins)
	if len(wins) != 1 {
		t.Errorf("%d writers won, want exactly 1", len(wins))
	}
}

// TestConcurrency_MutualFollowers_NoDeadlock has two nodes following each
// other while both are written and read concurrently (run with -race).
func TestConcurrency_MutualFollowers_NoDeadlock(t *testing.T) {
	res := &resolver{}
	a := newCluster(t, res, Config{ClusterName: "a", License: "enterprise"})
	b := newCluster(t, res, Config{ClusterName: "b", License: "enterprise"})
	for _, p := range []struct{ from, to *testCluster }{{a, b}, {b, a}} {
		p.from.must(t, 200, "PUT", "/_cluster/settings", map[string]any{"persistent": map[string]any{"cluster.remote.peer.seeds": p.to.Address()}})
		p.to.must(t, 200, "PUT", "/leader", nil)
	}
	for _, n := range []*testCluster{a, b} {
		n.must(t, 200, "PUT", "/follower/_ccr/follow", map[string]any{"remote_cluster": "peer", "leader_index": "leader"})
	}
	var wg sync.WaitGroup
	for i := range 50 {
		for _, n := range []*Node{a.Node, b.Node} {
			wg.Add(2)
			go func() {
				defer wg.Done()
				if _, err := n.IndexDoc("leader", fmt.Sprint(i), json.RawMessage(`{"i":1}`)); err != nil {
					t.Error(err)
				}
			}()
			go func() {
				defer wg.Done()
				n.Tick()
				_, _ = n.SearchDocs("follower", false)
			}()
		}
	}
	wg.Wait()
	for _, n := range []*Node{a.Node, b.Node} {
		docs, err := n.SearchDocs("follower", false)
		if err != nil || len(docs) != 50 {
			t.Errorf("%s follower has %d docs (%v), want 50", n.Name(), len(docs), err)
		}
	}
}
