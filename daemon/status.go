package daemon

import (
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

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
	Last            *Summary         `json:"last_plan,omitempty"`
	Outputs         []OutputState    `json:"outputs,omitempty"`
}

// InvalidRevision is a revision that failed to load, and why.
type InvalidRevision struct {
	Revision string `json:"revision"`
	Error    string `json:"error"`
}

// Summary is the last reconcile's plan summary.
type Summary struct {
	Revision       string        `json:"revision"`
	Applied        bool          `json:"applied"` // false: report only
	Drift          bool          `json:"drift"`
	Planned        []ChangeCount `json:"planned"`
	AppliedChanges []ChangeCount `json:"applied_changes"`
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
		_ = statusPage.Execute(w, l.Status())
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

//go:embed status.html
var statusHTML string

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"short": short,
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return time.Since(t).Round(time.Second).String() + " ago"
	},
}).Parse(statusHTML))
