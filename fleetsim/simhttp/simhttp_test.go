package simhttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// kibanaBody renders Kibana-style error bodies, as fleetsim passes one.
func kibanaBody(status int, method, path string) (string, []byte) {
	return "application/json", []byte(fmt.Sprintf(`{"statusCode":%d,"error":%q,"message":"injected"}`, status, http.StatusText(status)))
}

type fixture struct {
	rec   *Recorder
	srv   *httptest.Server
	slept []time.Duration
	mu    sync.Mutex
}

func newFixture(t *testing.T, seed uint64) *fixture {
	t.Helper()
	f := &fixture{}
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.rec = NewRecorder(Options{
		Now:  func() time.Time { return clock },
		Rand: rand.New(rand.NewPCG(seed, seed)),
		Sleep: func(_ *http.Request, d time.Duration) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.slept = append(f.slept, d)
		},
	})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/missing"):
			http.Error(w, "nope", http.StatusNotFound)
		default:
			_, _ = io.WriteString(w, "ok")
		}
	})
	mux := http.NewServeMux()
	mux.Handle("/", f.rec.Middleware("main", "kibana", kibanaBody, app, "/_sim/"))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t *testing.T, method, path string) (int, string, error) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(`{"secret":"do-not-log"}`))
	req.Header.Set("Authorization", "ApiKey c2VjcmV0")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestRecorder_RecordsMethodPathQueryStatusButNoBodiesOrHeaders(t *testing.T) {
	f := newFixture(t, 1)
	f.do(t, "GET", "/api/fleet/outputs?perPage=20")
	f.do(t, "DELETE", "/api/fleet/outputs/missing")
	f.do(t, "GET", "/_sim/requests")
	got := f.rec.Requests()
	want := []Request{
		{Cluster: "main", Listener: "kibana", Method: "GET", Path: "/api/fleet/outputs", Query: "perPage=20", Status: 200, Time: got[0].Time},
		{Cluster: "main", Listener: "kibana", Method: "DELETE", Path: "/api/fleet/outputs/missing", Status: 404, Time: got[0].Time},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d requests (the /_sim/ one must be skipped): %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	raw, _ := json.Marshal(got)
	if strings.Contains(string(raw), "do-not-log") || strings.Contains(string(raw), "c2VjcmV0") {
		t.Errorf("the log holds a body or header: %s", raw)
	}
	f.rec.Clear()
	if len(f.rec.Requests()) != 0 {
		t.Errorf("Clear left requests")
	}
}

func TestRecorder_Limit_DropsOldest(t *testing.T) {
	rec := NewRecorder(Options{Limit: 2})
	h := rec.Middleware("c", "es", nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, p := range []string{"/a", "/b", "/c"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	got := rec.Requests()
	if len(got) != 2 || got[0].Path != "/b" || got[1].Path != "/c" || rec.Dropped() != 1 {
		t.Errorf("got %+v, dropped %d", got, rec.Dropped())
	}
}

func TestFault_Status_UsesListenerBodyAndCount(t *testing.T) {
	f := newFixture(t, 1)
	if err := f.rec.AddFault(Fault{Method: "PUT", PathPattern: "/api/fleet/outputs/*", Status: 503, Count: 2}); err != nil {
		t.Fatal(err)
	}
	var statuses []int
	for range 3 {
		st, body, err := f.do(t, "PUT", "/api/fleet/outputs/o1")
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, st)
		if st == 503 && body != `{"statusCode":503,"error":"Service Unavailable","message":"injected"}` {
			t.Errorf("body %s", body)
		}
	}
	if fmt.Sprint(statuses) != "[503 503 200]" {
		t.Errorf("statuses %v, want two faults then success", statuses)
	}
	if st, _, _ := f.do(t, "GET", "/api/fleet/outputs/o1"); st != 200 {
		t.Errorf("method filter ignored: %d", st)
	}
	reqs := f.rec.Requests()
	if reqs[0].Fault != "status" || reqs[0].Status != 503 || reqs[2].Fault != "" {
		t.Errorf("log: %+v", reqs)
	}
	if fs := f.rec.Faults(); len(fs) != 1 || fs[0].Hits != 2 {
		t.Errorf("Faults() = %+v", fs)
	}
}

func TestFault_Reset_ClosesConnectionWithoutResponse(t *testing.T) {
	f := newFixture(t, 1)
	if err := f.rec.AddFault(Fault{PathPattern: "/**", Reset: true, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.do(t, "POST", "/api/fleet/outputs")
	if err == nil {
		t.Fatal("request succeeded through a reset")
	}
	var netErr interface{ Timeout() bool }
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Errorf("reset surfaced as a timeout: %v", err)
	}
	if st, _, err := f.do(t, "POST", "/api/fleet/outputs"); err != nil || st != 200 {
		t.Errorf("after the reset budget: %d %v", st, err)
	}
	if r := f.rec.Requests()[0]; r.Fault != "reset" || r.Status != 0 {
		t.Errorf("log: %+v", r)
	}
}

// A lost answer: the handler runs (the write is carried out), then the
// connection closes before the client reads an answer; the log shows the
// handler's status with fault "lost".
func TestFault_Lose_ServesThenClosesConnection(t *testing.T) {
	f := newFixture(t, 1)
	var served atomic.Int32
	f.srv.Config.Handler = f.rec.Middleware("main", "kibana", kibanaBody, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"item":{}}`)
	}))
	if err := f.rec.AddFault(Fault{Method: "POST", PathPattern: "/api/fleet/outputs", Lose: true, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.do(t, "POST", "/api/fleet/outputs"); err == nil {
		t.Fatal("the client got an answer through a lost answer")
	}
	if n := served.Load(); n != 1 {
		t.Fatalf("handler ran %d times, want 1 (the write carried out)", n)
	}
	if st, _, err := f.do(t, "POST", "/api/fleet/outputs"); err != nil || st != http.StatusCreated {
		t.Errorf("after the budget: %d %v", st, err)
	}
	if r := f.rec.Requests()[0]; r.Fault != "lost" || r.Status != http.StatusCreated {
		t.Errorf("log: %+v", r)
	}
}

// Lose with a status: the handler runs, the injected error answers in
// place of its answer (a gateway timing out after the cluster acted).
func TestFault_LoseWithStatus_ServesThenAnswersTheError(t *testing.T) {
	f := newFixture(t, 1)
	var served atomic.Int32
	f.srv.Config.Handler = f.rec.Middleware("main", "kibana", kibanaBody, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		_, _ = io.WriteString(w, `{"item":{}}`)
	}))
	if err := f.rec.AddFault(Fault{Method: "PUT", Lose: true, Status: 504, Count: 1}); err != nil {
		t.Fatal(err)
	}
	st, body, err := f.do(t, "PUT", "/api/fleet/outputs/a")
	if err != nil || st != 504 || !strings.Contains(body, "injected") || served.Load() != 1 {
		t.Fatalf("got %d %q %v, served %d; want the injected 504 after the handler ran once", st, body, err, served.Load())
	}
	if r := f.rec.Requests()[0]; r.Fault != "lost" || r.Status != 504 {
		t.Errorf("log: %+v", r)
	}
}

// Skip with Count 1 hits exactly the (Skip+1)-th matching request.
func TestFault_Skip_HitsExactlyTheNthMatch(t *testing.T) {
	f := newFixture(t, 1)
	if err := f.rec.AddFault(Fault{Method: "PUT", PathPattern: "/api/fleet/outputs/*", Status: 503, Skip: 2, Count: 1}); err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, m := range []string{"PUT", "GET", "PUT", "PUT", "PUT"} {
		st, _, err := f.do(t, m, "/api/fleet/outputs/a")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, st)
	}
	if want := []int{200, 200, 200, 503, 200}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

// A seeded fault hits the same requests whatever the Recorder's source and
// the other faults draw.
func TestFault_Seed_OwnSource(t *testing.T) {
	pattern := func(recSeed uint64, other bool) string {
		f := newFixture(t, recSeed)
		if other {
			if err := f.rec.AddFault(Fault{PathPattern: "/other", Status: 500, Rate: 0.5}); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.rec.AddFault(Fault{PathPattern: "/x", Status: 503, Rate: 0.3, Seed: 7}); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for range 40 {
			if other {
				_, _, _ = f.do(t, "GET", "/other")
			}
			st, _, err := f.do(t, "GET", "/x")
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(map[bool]string{true: "x", false: "."}[st == 503])
		}
		return b.String()
	}
	a, b := pattern(1, false), pattern(99, true)
	if a != b || !strings.Contains(a, "x") || !strings.Contains(a, ".") {
		t.Errorf("seeded fault patterns differ or are trivial:\n%s\n%s", a, b)
	}
}

func TestFault_Delay_SleepsThenServes(t *testing.T) {
	f := newFixture(t, 1)
	if err := f.rec.AddFault(Fault{PathPattern: "~^/api/fleet/(outputs|agent_policies)$", Delay: 250 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	f.do(t, "GET", "/api/fleet/agent_policies")
	f.do(t, "GET", "/api/fleet/outputs/x")
	if len(f.slept) != 1 || f.slept[0] != 250*time.Millisecond {
		t.Errorf("slept %v", f.slept)
	}
	if r := f.rec.Requests(); r[0].Fault != "delay" || r[0].Status != 200 || r[1].Fault != "" {
		t.Errorf("log: %+v", r)
	}
}

func TestFault_Rate_DeterministicWithSeededRand(t *testing.T) {
	run := func(seed uint64) string {
		f := newFixture(t, seed)
		if err := f.rec.AddFault(Fault{Status: 429, Rate: 0.3}); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for range 200 {
			st, _, _ := f.do(t, "GET", "/x")
			if st == 429 {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	a, b := run(42), run(42)
	if a != b {
		t.Errorf("same seed, different fault pattern")
	}
	hits := strings.Count(a, "x")
	if hits < 30 || hits > 90 {
		t.Errorf("rate 0.3 hit %d of 200", hits)
	}
}

func TestFault_ListenerAndClusterFilters(t *testing.T) {
	rec := NewRecorder(Options{})
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	es := rec.Middleware("main", "es", nil, ok)
	kb := rec.Middleware("west", "kibana", nil, ok)
	if err := rec.AddFault(Fault{Listener: "es", Status: 500}); err != nil {
		t.Fatal(err)
	}
	if err := rec.AddFault(Fault{Cluster: "west", Status: 502}); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	es.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	w2 := httptest.NewRecorder()
	kb.ServeHTTP(w2, httptest.NewRequest("GET", "/", nil))
	if w.Code != 500 || w2.Code != 502 {
		t.Errorf("es %d, kibana %d", w.Code, w2.Code)
	}
	rec.ClearFaults()
	w3 := httptest.NewRecorder()
	es.ServeHTTP(w3, httptest.NewRequest("GET", "/", nil))
	if w3.Code != 200 {
		t.Errorf("after ClearFaults: %d", w3.Code)
	}
}

func TestFault_GlobPatterns(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/api/fleet/outputs/*", "/api/fleet/outputs/o1", true},
		{"/api/fleet/outputs/*", "/api/fleet/outputs/o1/health", false},
		{"/api/fleet/**", "/api/fleet/outputs/o1/health", true},
		{"/*/_ccr/follow", "/fleet-synced-integrations-ccr-x/_ccr/follow", true},
		{"/api/fleet/outputs", "/api/fleet/outputs/", false},
		{"~outputs", "/api/fleet/outputs/x", true},
		{"", "/anything", true},
	}
	for _, tt := range tests {
		re, err := compilePattern(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := re == nil || re.MatchString(tt.path); got != tt.want {
			t.Errorf("%q vs %q = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestFault_ValidateAndJSON(t *testing.T) {
	bad := []Fault{{}, {Status: 42}, {Status: 500, Rate: 2}, {Status: 500, Count: -1}, {Reset: true, PathPattern: "~("},
		{Reset: true, Lose: true}, {Lose: true, Skip: -1}}
	for _, f := range bad {
		if err := f.Validate(); err == nil {
			t.Errorf("%+v validated", f)
		}
	}
	var f Fault
	if err := json.Unmarshal([]byte(`{"method":"GET","path":"/x","delay":"1.5s","count":3}`), &f); err != nil {
		t.Fatal(err)
	}
	if f.Delay != 1500*time.Millisecond || f.Method != "GET" || f.PathPattern != "/x" || f.Count != 3 {
		t.Errorf("decoded %+v", f)
	}
	if err := json.Unmarshal([]byte(`{"stauts":500}`), &f); err == nil {
		t.Errorf("unknown key accepted")
	}
	out, _ := json.Marshal(Fault{Status: 503, Delay: time.Second})
	if string(out) != `{"status":503,"delay":"1s"}` {
		t.Errorf("encoded %s", out)
	}
}

func TestRecorder_ConcurrentUse(t *testing.T) {
	rec := NewRecorder(Options{})
	if err := rec.AddFault(Fault{Status: 503, Rate: 0.5}); err != nil {
		t.Fatal(err)
	}
	h := rec.Middleware("c", "es", nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
				_ = rec.Requests()
			}
		}()
	}
	wg.Wait()
	if n := len(rec.Requests()); n != 400 {
		t.Errorf("recorded %d, want 400", n)
	}
}

// TestRecorder_RecordsBeforeTheBody: a client that has read a whole
// response (a Content-Length needs no end of stream) finds its request in
// the log, though the handler has not returned yet.
func TestRecorder_RecordsBeforeTheBody(t *testing.T) {
	rec := NewRecorder(Options{})
	release := make(chan struct{})
	srv := httptest.NewServer(rec.Middleware("c", "kibana", nil, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "2")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("{}"))
		w.(http.Flusher).Flush()
		<-release // the handler returns only after the test has looked
	})))
	defer srv.Close()
	defer close(release)
	resp, err := http.Get(srv.URL + "/api/x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := rec.Requests(); len(got) != 1 || got[0].Path != "/api/x" || got[0].Status != http.StatusCreated {
		t.Errorf("requests after the response was read: %+v, want GET /api/x 201", got)
	}
}
