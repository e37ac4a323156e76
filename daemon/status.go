package daemon

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/webhook"
)

// Roles of a replica.
const (
	RoleSingle  = "single"  // no lease configured
	RoleLeader  = "leader"  // holds the lease, applies
	RoleStandby = "standby" // another replica holds the lease
)

// Status is what /status reports.
type Status struct {
	Source          string           `json:"source"`
	Role            string           `json:"role"`
	Holder          string           `json:"lease_holder,omitempty"`
	Ready           bool             `json:"ready"`
	Suspended       bool             `json:"suspended"`
	SuspendReason   string           `json:"suspend_reason,omitempty"` // what fleetform suspend wrote in the suspend file
	Drift           string           `json:"drift_mode"`
	Interval        string           `json:"interval"`
	Head            string           `json:"head,omitempty"`             // newest revision seen at the source
	Revision        string           `json:"revision,omitempty"`         // newest valid revision, the one reconciled
	AppliedRevision string           `json:"applied_revision,omitempty"` // last revision applied without error
	Invalid         *InvalidRevision `json:"invalid_revision,omitempty"`
	Turns           int              `json:"turns"`
	LastTrigger     string           `json:"last_trigger,omitempty"`
	LastAttempt     time.Time        `json:"last_attempt,omitzero"`
	LastSuccess     time.Time        `json:"last_success,omitzero"`
	LastDuration    string           `json:"last_duration,omitempty"`
	LastError       string           `json:"last_error,omitempty"`
	// Last is the last turn's plan; LastChange the newest plan that was not
	// empty (what changed last, and whether it was applied), kept after
	// later turns find nothing to do.
	Last       *Summary      `json:"last_plan,omitempty"`
	LastChange *Summary      `json:"last_change,omitempty"`
	Outputs    []OutputState `json:"outputs,omitempty"`
	// History holds the last HistorySize turns, newest first.
	History []Turn `json:"history"`
}

// InvalidRevision is a revision that failed to load, and why.
type InvalidRevision struct {
	Revision string `json:"revision"`
	Error    string `json:"error"`
}

// Summary is the last reconcile's plan summary.
type Summary struct {
	Revision string    `json:"revision"`
	Time     time.Time `json:"time"`
	Trigger  string    `json:"trigger"`
	Result   string    `json:"result"`  // ResultApplied, ResultInSync, …
	Applied  bool      `json:"applied"` // false: report only
	// Drift: the plan was for the revision Fleet already matched, so its
	// changes were made outside Git.
	Drift          bool          `json:"drift"`
	Planned        []ChangeCount `json:"planned"`
	AppliedChanges []ChangeCount `json:"applied_changes"`
	// Plan is the plan with its field-level diff, in the plan's JSON form
	// (as `fleetform plan --format json` writes it, without the summary).
	Plan *plan.Plan `json:"plan,omitempty"`
}

// Status returns a copy of the current status.
func (l *Loop) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.status
	if l.leader != nil && !l.leader.IsLeader() {
		s.Role, s.Holder = RoleStandby, l.leader.Holder()
	}
	s.Suspended = l.suspended()
	if s.Suspended {
		s.SuspendReason = suspendReason(l.cfg.SuspendFile)
	}
	s.History = slices.Clone(s.History) // addHistory updates entries in place
	if s.History == nil {
		s.History = []Turn{}
	}
	return s
}

// ready reports /readyz: a replica is ready after its first successful
// reconcile; a standby replica is ready while it can serve status.
func (l *Loop) ready() bool {
	s := l.Status()
	return s.Ready || s.Role == RoleStandby
}

// HandlerOptions configures Handler.
type HandlerOptions struct {
	// Token guards POST /reconcile ("Authorization: Bearer <token>"). When
	// zero, POST /reconcile is open: it can only cause a turn the timer
	// would have caused anyway.
	Token secret.Value
	// Webhooks are mounted at /webhook/<name>.
	Webhooks map[string]http.Handler
}

// Handler returns the daemon's HTTP API: /healthz, /readyz, /status (JSON),
// / (HTML status page), /metrics, POST /reconcile and the webhooks. It holds
// no debug endpoints.
func (l *Loop) Handler(opts HandlerOptions) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		plain(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !l.ready() {
			plain(w, http.StatusServiceUnavailable, "not ready: no successful reconcile yet")
			return
		}
		plain(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(l.Status())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		_ = statusPage.Execute(w, newPage(l.Status()))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(l.m.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("POST /reconcile", func(w http.ResponseWriter, r *http.Request) {
		if !opts.Token.IsZero() {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || !webhook.EqualToken(got, opts.Token) {
				plain(w, http.StatusUnauthorized, "invalid token")
				return
			}
		}
		l.Trigger("api")
		plain(w, http.StatusAccepted, "reconcile triggered")
	})
	for name, h := range opts.Webhooks {
		mux.Handle("/webhook/"+name, h)
	}
	return mux
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}

// NewServer returns an http.Server for h with the timeouts a daemon exposed
// to webhooks needs.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
