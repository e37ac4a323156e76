// Package simhttp is the HTTP middleware of the simulator: it records every
// request (cluster, listener, method, path, query, status, time — never
// bodies or headers, so no secret can end up in the log) and injects faults
// (an error status with the listener's own error-body style, a delay, a
// connection reset before the request is served, or a lost answer: the
// request is served, then the connection is reset) on requests that match a
// method and path pattern.
//
// A Recorder is goroutine-safe and shared by every listener of a simulator,
// so one log shows the order of requests across clusters.
package simhttp

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Request is one recorded request.
type Request struct {
	Cluster  string    `json:"cluster"`
	Listener string    `json:"listener"` // "kibana" or "es"
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	Query    string    `json:"query,omitempty"`
	Status   int       `json:"status"` // 0 when the connection was reset
	Time     time.Time `json:"time"`
	// Fault names the injected fault ("status", "delay", "reset", "lost"), "" for none.
	Fault string `json:"fault,omitempty"`
}

// Fault describes requests to disturb and how.
//
// PathPattern is a glob where "*" matches within one path segment and "**"
// across segments ("/api/fleet/outputs/*", "/**/_ccr/**"); a pattern that
// starts with "~" is a regular expression matched against the whole path
// ("~^/api/fleet/(outputs|agent_policies)"). An empty pattern or Method
// matches everything. Listener ("kibana"/"es") and Cluster restrict further.
//
// Exactly one effect applies: Reset (hijack and close the connection before
// the request is served), else Lose (serve the request — the cluster carries
// the write out — then close the connection before the answer leaves: the
// "lost answer" of a crash or a broken network after the server acted; with
// Status, the error answer takes the place of the lost one, as a gateway
// that timed out after the cluster acted answers 504), else Status (an error response; the body comes from the listener's
// BodyBuilder), else only Delay. Delay also precedes Reset, Lose and Status.
// Rate is the probability in (0,1] that a matching request is hit (0 means
// 1); Count limits how many requests are hit (0 means unlimited); Skip lets
// that many matching requests through untouched before the fault starts
// hitting (with Count 1, it hits exactly the (Skip+1)-th matching request).
// Seed, when not 0, gives the fault its own random source for Rate, so the
// same requests in the same order meet the same faults whatever else is
// installed (without it, the Recorder's source decides).
//
// Pick (the simulator's requests to itself) reports a Lose fault like any
// other; a caller that cannot lose an answer treats it as no fault.
type Fault struct {
	Method      string        `json:"method,omitempty"`
	PathPattern string        `json:"path,omitempty"`
	Listener    string        `json:"listener,omitempty"`
	Cluster     string        `json:"cluster,omitempty"`
	Status      int           `json:"status,omitempty"`
	Delay       time.Duration `json:"-"`
	Reset       bool          `json:"reset,omitempty"`
	Lose        bool          `json:"lose,omitempty"`
	Skip        int           `json:"skip,omitempty"`
	Seed        uint64        `json:"seed,omitempty"`
	Rate        float64       `json:"rate,omitempty"`
	Count       int           `json:"count,omitempty"`
}

// MarshalJSON writes Delay as a Go duration string ("250ms").
func (f Fault) MarshalJSON() ([]byte, error) {
	type plain Fault
	out := struct {
		plain
		Delay string `json:"delay,omitempty"`
	}{plain: plain(f)}
	if f.Delay > 0 {
		out.Delay = f.Delay.String()
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads Delay as a duration string ("250ms") or nanoseconds.
func (f *Fault) UnmarshalJSON(b []byte) error {
	type plain Fault
	var in struct {
		plain
		Delay json.RawMessage `json:"delay,omitempty"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("fault: %w", err)
	}
	*f = Fault(in.plain)
	if len(in.Delay) > 0 {
		var s string
		if err := json.Unmarshal(in.Delay, &s); err == nil {
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("fault: delay: %w", err)
			}
			f.Delay = d
		} else {
			var ns int64
			if err := json.Unmarshal(in.Delay, &ns); err != nil {
				return fmt.Errorf("fault: delay must be a duration string or nanoseconds")
			}
			f.Delay = time.Duration(ns)
		}
	}
	return nil
}

// Validate reports what is wrong with a fault.
func (f Fault) Validate() error {
	var errs []error
	if f.Status == 0 && !f.Reset && !f.Lose && f.Delay <= 0 {
		errs = append(errs, errors.New("fault has no effect: set status, delay, reset or lose"))
	}
	if f.Reset && f.Lose {
		errs = append(errs, errors.New("reset and lose exclude each other: reset drops the request, lose serves it and drops the answer"))
	}
	if f.Skip < 0 {
		errs = append(errs, fmt.Errorf("skip %d is negative", f.Skip))
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		errs = append(errs, fmt.Errorf("status %d is not an HTTP status", f.Status))
	}
	if f.Rate < 0 || f.Rate > 1 {
		errs = append(errs, fmt.Errorf("rate %v is outside [0,1]", f.Rate))
	}
	if f.Count < 0 {
		errs = append(errs, fmt.Errorf("count %d is negative", f.Count))
	}
	if f.Delay < 0 {
		errs = append(errs, fmt.Errorf("delay %v is negative", f.Delay))
	}
	if _, err := compilePattern(f.PathPattern); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// compilePattern turns a Fault path pattern into a regular expression.
func compilePattern(p string) (*regexp.Regexp, error) {
	if p == "" {
		return nil, nil
	}
	if re, ok := strings.CutPrefix(p, "~"); ok {
		r, err := regexp.Compile(re)
		if err != nil {
			return nil, fmt.Errorf("path pattern %q: %w", p, err)
		}
		return r, nil
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch {
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case p[i] == '*':
			b.WriteString("[^/]*")
		case p[i] == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// activeFault is an installed fault with its remaining budget.
type activeFault struct {
	Fault
	re      *regexp.Regexp
	hits    int
	skipped int
	rnd     *rand.Rand // nil: the Recorder's
}

func (f *activeFault) matches(cluster, listener, method, path string) bool {
	switch {
	case f.Method != "" && !strings.EqualFold(f.Method, method),
		f.Listener != "" && f.Listener != listener,
		f.Cluster != "" && f.Cluster != cluster,
		f.re != nil && !f.re.MatchString(path),
		f.Count > 0 && f.hits >= f.Count:
		return false
	}
	return true
}

// BodyBuilder renders the error body of an injected status in the style of
// the listener (Kibana's {statusCode,error,message} or ES's error envelope).
type BodyBuilder func(status int, method, path string) (contentType string, body []byte)

// Options configure a Recorder.
type Options struct {
	Now   func() time.Time // default time.Now
	Rand  *rand.Rand       // decides rate-limited faults; default a randomly seeded source
	Limit int              // keep at most this many requests (oldest dropped); default 100000
	// Sleep waits for an injected delay; default a timer that stops with the request context.
	Sleep func(r *http.Request, d time.Duration)
}

// Recorder records requests and holds the installed faults.
type Recorder struct {
	now   func() time.Time
	sleep func(*http.Request, time.Duration)
	limit int

	mu      sync.Mutex
	rnd     *rand.Rand
	reqs    []Request
	dropped int
	faults  []*activeFault
}

// NewRecorder returns an empty Recorder.
func NewRecorder(opts Options) *Recorder {
	r := &Recorder{now: opts.Now, rnd: opts.Rand, limit: opts.Limit, sleep: opts.Sleep}
	if r.now == nil {
		r.now = time.Now
	}
	if r.rnd == nil {
		r.rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if r.limit <= 0 {
		r.limit = 100000
	}
	if r.sleep == nil {
		r.sleep = func(req *http.Request, d time.Duration) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-req.Context().Done():
			}
		}
	}
	return r
}

// Requests returns the recorded requests in arrival order.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// Dropped is how many old requests were discarded because of the limit.
func (r *Recorder) Dropped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Clear forgets the recorded requests.
func (r *Recorder) Clear() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs, r.dropped = nil, 0
}

// AddFault installs a fault; it applies to requests that arrive afterwards.
func (r *Recorder) AddFault(f Fault) error {
	if err := f.Validate(); err != nil {
		return err
	}
	re, _ := compilePattern(f.PathPattern)
	r.mu.Lock()
	defer r.mu.Unlock()
	af := &activeFault{Fault: f, re: re}
	if f.Seed != 0 {
		af.rnd = rand.New(rand.NewPCG(f.Seed, f.Seed))
	}
	r.faults = append(r.faults, af)
	return nil
}

// ClearFaults removes every fault.
func (r *Recorder) ClearFaults() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = nil
}

// FaultState is an installed fault and how many requests it has hit.
type FaultState struct {
	Fault
	Hits int `json:"hits"`
}

// Faults lists the installed faults with their hit counts.
func (r *Recorder) Faults() []FaultState {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]FaultState, 0, len(r.faults))
	for _, f := range r.faults {
		out = append(out, FaultState{Fault: f.Fault, Hits: f.hits})
	}
	return out
}

// pick returns the first installed fault that hits this request, charging its budget.
func (r *Recorder) pick(cluster, listener, method, path string) (Fault, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.faults {
		if !f.matches(cluster, listener, method, path) {
			continue
		}
		if f.skipped < f.Skip {
			f.skipped++
			continue
		}
		if f.Rate > 0 && f.Rate < 1 && cmp.Or(f.rnd, r.rnd).Float64() >= f.Rate {
			continue
		}
		f.hits++
		return f.Fault, true
	}
	return Fault{}, false
}

func (r *Recorder) record(req Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) >= r.limit {
		n := len(r.reqs) - r.limit + 1
		r.reqs = append(r.reqs[:0], r.reqs[n:]...)
		r.dropped += n
	}
	r.reqs = append(r.reqs, req)
}

// Middleware wraps next: it records each request under cluster and listener
// and applies matching faults, rendering injected statuses with body.
// Requests whose path starts with one of skip (e.g. "/_sim/") are neither
// recorded nor faulted.
func (r *Recorder) Middleware(cluster, listener string, body BodyBuilder, next http.Handler, skip ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		for _, s := range skip {
			if strings.HasPrefix(req.URL.Path, s) {
				next.ServeHTTP(w, req)
				return
			}
		}
		entry := Request{Cluster: cluster, Listener: listener, Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Time: r.now()}
		f, hit := r.pick(cluster, listener, req.Method, req.URL.Path)
		if hit && f.Delay > 0 {
			entry.Fault = "delay"
			r.sleep(req, f.Delay)
		}
		switch {
		case hit && f.Reset:
			entry.Fault = "reset"
			r.record(entry)
			reset(w)
			return
		case hit && f.Lose:
			// The handler runs to the end against a buffer; its answer is
			// recorded (status, fault "lost") and thrown away with the
			// connection.
			buf := &discardWriter{header: http.Header{}}
			next.ServeHTTP(buf, req)
			entry.Fault, entry.Status = "lost", cmp.Or(buf.status, http.StatusOK)
			if f.Status == 0 {
				r.record(entry)
				reset(w)
				return
			}
			entry.Status = f.Status
			r.record(entry)
			writeFault(w, req, body, f.Status)
			return
		case hit && f.Status != 0:
			entry.Fault, entry.Status = "status", f.Status
			r.record(entry)
			writeFault(w, req, body, f.Status)
			return
		}
		// The entry is recorded when the answer starts, before the client
		// can have it: a caller counting requests once its calls returned
		// sees every one, even while a handler goes on after answering.
		sw := &statusWriter{ResponseWriter: w, started: func(status int) {
			entry.Status = status
			r.record(entry)
		}}
		next.ServeHTTP(sw, req)
		if sw.status == 0 { // nothing written: net/http answers 200
			sw.start(http.StatusOK)
		}
	})
}

// writeFault answers an injected status with the listener's error body.
func writeFault(w http.ResponseWriter, req *http.Request, body BodyBuilder, status int) {
	ct, b := "application/json", []byte(nil)
	if body != nil {
		ct, b = body(status, req.Method, req.URL.Path)
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	if req.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// reset closes the client connection without a response. Where the writer
// cannot be hijacked (HTTP/2), the handler panics with http.ErrAbortHandler,
// which makes the server abort the stream.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST instead of FIN, like a crashed peer
	}
	_ = conn.Close()
}

// discardWriter is the response writer of a request whose answer is lost:
// it keeps the status and drops the body.
type discardWriter struct {
	header http.Header
	status int
}

func (d *discardWriter) Header() http.Header { return d.header }

func (d *discardWriter) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}

func (d *discardWriter) Write(b []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	return len(b), nil
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status  int
	started func(status int) // called once, with the status, before it is sent
}

// start notes the answer's status the first time it is known.
func (s *statusWriter) start(code int) {
	if s.status != 0 {
		return
	}
	s.status = code
	if s.started != nil {
		s.started(code)
	}
}

func (s *statusWriter) WriteHeader(code int) {
	s.start(code)
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.start(http.StatusOK)
	return s.ResponseWriter.Write(b)
}

// Flush passes through to the wrapped writer when it can flush.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack passes through to the wrapped writer.
func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("simhttp: response writer cannot hijack")
	}
	return hj.Hijack()
}

// Unwrap lets http.ResponseController reach the wrapped writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
