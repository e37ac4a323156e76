package esim

import (
	"net/http"
	"slices"
	"sync"
)

// RecordedRequest is one request as the node received it: the path still
// escaped (a document id "a/b" is "a%2Fb", as on the wire) and the raw
// query. Bodies and headers are never kept.
type RecordedRequest struct {
	Method, Path, Query string
	UserAgent           string
}

// Recording collects the requests a node receives from its start until
// Stop; contract tests check them against Elasticsearch's REST specs.
type Recording struct {
	n    *Node
	mu   sync.Mutex
	reqs []RecordedRequest
}

// Record starts a recording of every request the node serves.
func (n *Node) Record() *Recording {
	r := &Recording{n: n}
	n.recMu.Lock()
	n.recordings = append(n.recordings, r)
	n.recMu.Unlock()
	return r
}

// Stop ends the recording; Requests still returns what it holds.
func (r *Recording) Stop() {
	r.n.recMu.Lock()
	r.n.recordings = slices.DeleteFunc(r.n.recordings, func(x *Recording) bool { return x == r })
	r.n.recMu.Unlock()
}

// Requests returns the recorded requests in arrival order.
func (r *Recording) Requests() []RecordedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

func (n *Node) record(req *http.Request) {
	n.recMu.Lock()
	recs := slices.Clone(n.recordings)
	n.recMu.Unlock()
	if len(recs) == 0 {
		return
	}
	rr := RecordedRequest{Method: req.Method, Path: req.URL.EscapedPath(), Query: req.URL.RawQuery, UserAgent: req.UserAgent()}
	for _, r := range recs {
		r.mu.Lock()
		r.reqs = append(r.reqs, rr)
		r.mu.Unlock()
	}
}
