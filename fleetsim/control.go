package fleetsim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/fleetform/fleetform/fleetsim/simhttp"
)

// Request is one entry of the request log, in arrival order.
type Request struct {
	Cluster  string    `json:"cluster"`
	Listener string    `json:"listener"` // kibana | es
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	Query    string    `json:"query,omitempty"`
	Status   int       `json:"status"`
	Time     time.Time `json:"time"`
}

// Requests returns the request log (control-API calls are not logged).
func (s *Sim) Requests() []Request {
	entries := s.rec.Requests()
	out := make([]Request, len(entries))
	for i, e := range entries {
		out[i] = Request{Cluster: e.Cluster, Listener: e.Listener, Method: e.Method, Path: e.Path, Query: e.Query, Status: e.Status, Time: e.Time}
	}
	return out
}

// ClearRequests empties the request log.
func (s *Sim) ClearRequests() { s.rec.ClearRequests() }

// AddFault injects a fault on matching requests.
func (s *Sim) AddFault(f simhttp.Fault) { s.rec.AddFault(f) }

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() { s.rec.ClearFaults() }

// wrap adds the control API and the recording/fault middleware to a listener.
func (s *Sim) wrap(cluster, listener string, h http.Handler) http.Handler {
	inner := s.rec.Middleware(cluster, listener, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_sim/") {
			s.serveControl(w, r)
			return
		}
		inner.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func controlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": msg})
}

// serveControl is the /_sim/ control API.
func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request) {
	switch r.Method + " " + strings.TrimSuffix(r.URL.Path, "/") {
	case "GET /_sim/requests":
		writeJSON(w, http.StatusOK, s.Requests())
	case "DELETE /_sim/requests":
		s.ClearRequests()
		writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
	case "POST /_sim/faults":
		var f simhttp.Fault
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			controlError(w, http.StatusBadRequest, "invalid fault: "+err.Error())
			return
		}
		s.AddFault(f)
		writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
	case "DELETE /_sim/faults":
		s.ClearFaults()
		writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
	case "GET /_sim/state":
		st, err := s.State()
		if err != nil {
			controlError(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(st)
	case "POST /_sim/reset":
		if err := s.Reset(); err != nil {
			controlError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
	case "POST /_sim/sync":
		if err := s.RunSyncOnce(r.Context()); err != nil {
			controlError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
	default:
		controlError(w, http.StatusNotFound, "unknown control endpoint "+r.Method+" "+r.URL.Path)
	}
}
