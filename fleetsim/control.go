package fleetsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/fleetform/fleetform/fleetsim/esim"
	"github.com/fleetform/fleetform/fleetsim/simhttp"
)

// Request is one entry of the request log, in arrival order (the
// control API's own calls are not logged).
type Request = simhttp.Request

// Requests returns the request log.
func (s *Sim) Requests() []Request { return s.rec.Requests() }

// ClearRequests empties the request log.
func (s *Sim) ClearRequests() { s.rec.Clear() }

// AddFault injects a fault on matching requests; it fails on an invalid
// fault (bad pattern, rate or status).
func (s *Sim) AddFault(f simhttp.Fault) error { return s.rec.AddFault(f) }

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() { s.rec.ClearFaults() }

// kibanaFaultBody renders an injected status as Kibana would.
func kibanaFaultBody(status int, _, _ string) (string, []byte) {
	b, _ := json.Marshal(errorBody{StatusCode: status, Error: http.StatusText(status), Message: http.StatusText(status)})
	return "application/json; charset=utf-8", b
}

func esFaultBody(status int, method, path string) (string, []byte) {
	return "application/json", esim.FaultBody(status, method, path)
}

// wrap adds the control API and the recording/fault middleware to a listener.
func (s *Sim) wrap(cluster, listener string, h http.Handler) http.Handler {
	body := kibanaFaultBody
	if listener == "es" {
		body = esFaultBody
	}
	inner := s.rec.Middleware(cluster, listener, body, h, "/_sim/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_sim/") {
			s.serveControl(cluster, w, r)
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

// serveControl is the /_sim/ control API; cluster is the listener's.
func (s *Sim) serveControl(cluster string, w http.ResponseWriter, r *http.Request) {
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
		if err := s.AddFault(f); err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
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
	case "POST /_sim/install_delay":
		s.controlInstallDelay(cluster, w, r)
	case "DELETE /_sim/install_delay":
		for _, c := range s.Clusters() {
			c.clearInstallDelays()
		}
		writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
	default:
		controlError(w, http.StatusNotFound, "unknown control endpoint "+r.Method+" "+r.URL.Path)
	}
}

// controlInstallDelay is POST /_sim/install_delay {"package": "nginx",
// "delay": "90s", "cluster": "west"}: every later install of the package
// through the EPM install routes takes that long (epm_install.go
// SetInstallDelay); "0s" removes it. cluster defaults to the listener's.
func (s *Sim) controlInstallDelay(cluster string, w http.ResponseWriter, r *http.Request) {
	var body struct {
		Cluster string `json:"cluster"`
		Package string `json:"package"`
		Delay   string `json:"delay"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		controlError(w, http.StatusBadRequest, "invalid install delay: "+err.Error())
		return
	}
	d, err := time.ParseDuration(body.Delay)
	switch {
	case body.Package == "":
		controlError(w, http.StatusBadRequest, "invalid install delay: package is required")
		return
	case err != nil || d < 0:
		controlError(w, http.StatusBadRequest, fmt.Sprintf("invalid install delay: delay %q is not a duration such as \"90s\"", body.Delay))
		return
	}
	c := s.Cluster(cmpOr(body.Cluster, cluster))
	if c == nil {
		controlError(w, http.StatusNotFound, "unknown cluster "+body.Cluster)
		return
	}
	c.SetInstallDelay(body.Package, d)
	writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
}
