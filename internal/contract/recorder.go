package contract

import (
	"bytes"
	"io"
	"net/http"
	"sync"

	"github.com/fleetform/fleetform/kibana"
)

// Request is one request as fleetform sent it.
type Request struct {
	Host     string // host:port the request went to
	Method   string
	Path     string // as sent, with any /s/<space> prefix
	RawQuery string
	Header   http.Header
	Body     []byte
	// Older: sent to a Kibana older than the extract (KibanaVersion).
	Older bool
}

// Recorder keeps the requests of the transports it wraps.
type Recorder struct {
	mu   sync.Mutex
	reqs []Request
}

// Requests returns the recorded requests in the order they were sent.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// roundTripper records each request into the installed recorders, then
// sends it on next.
type roundTripper struct {
	next http.RoundTripper
}

func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	rec := Request{Host: req.URL.Host, Method: req.Method, Path: req.URL.Path, RawQuery: req.URL.RawQuery,
		Header: req.Header.Clone(), Body: body, Older: older(req.URL.Host)}
	activeMu.Lock()
	recs := append([]*Recorder(nil), active...)
	activeMu.Unlock()
	for _, r := range recs {
		r.add(rec)
	}
	return t.next.RoundTrip(req)
}

var (
	activeMu sync.Mutex
	active   []*Recorder
)

// Install records the requests of every kibana.Client built from now on
// into a new Recorder, until the returned function is called. Recorders
// nest: each sees the requests sent while it is installed.
func Install() (*Recorder, func()) {
	rec := &Recorder{}
	activeMu.Lock()
	active = append(active, rec)
	if len(active) == 1 {
		kibana.SetTransportWrapper(func(next http.RoundTripper) http.RoundTripper { return roundTripper{next: next} })
	}
	activeMu.Unlock()
	return rec, func() {
		activeMu.Lock()
		defer activeMu.Unlock()
		for i, r := range active {
			if r == rec {
				active = append(active[:i], active[i+1:]...)
				break
			}
		}
		if len(active) == 0 {
			kibana.SetTransportWrapper(nil)
		}
	}
}

func (r *Recorder) add(req Request) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
}
