package daemon

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the daemon's Prometheus series, on a registry of their own so
// that two loops in one test process never collide.
type metrics struct {
	registry          *prometheus.Registry
	reconcileDuration prometheus.Histogram
	reconciles        *prometheus.CounterVec
	changesApplied    *prometheus.CounterVec
	changesPlanned    *prometheus.GaugeVec
	drift             prometheus.Counter
	revision          *prometheus.GaugeVec
	fetchDuration     prometheus.Histogram
	fetchErrors       prometheus.Counter
	invalidRevision   prometheus.Gauge
	lastSuccess       prometheus.Gauge
	suspended         prometheus.Gauge
	leader            prometheus.Gauge
	triggers          *prometheus.CounterVec
	notifications     *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		reconcileDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "fleetform_reconcile_duration_seconds",
			Help:    "Duration of a reconcile turn: head check, fetch, load, observe, plan and apply.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fleetform_reconciles_total",
			Help: "Reconcile turns by result (success, error, skipped).",
		}, []string{"result"}),
		changesApplied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fleetform_changes_applied_total",
			Help: "Changes applied to Fleet by object kind and action.",
		}, []string{"kind", "action"}),
		changesPlanned: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "fleetform_changes_pending",
			Help: "Changes of the last plan not applied, by object kind and action: 0 after a successful apply; non-zero while reporting only, suspended, or for blocked and failed changes.",
		}, []string{"kind", "action"}),
		drift: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fleetform_drift_detected_total",
			Help: "Reconcile turns that found changes made outside Git: a non-empty plan for the revision Fleet already matched (a new revision's changes are not drift).",
		}),
		revision: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "fleetform_last_applied_revision_info",
			Help: "The revision last applied successfully (value is always 1).",
		}, []string{"revision"}),
		fetchDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "fleetform_git_fetch_duration_seconds",
			Help:    "Duration of fetching a new revision from the source.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		fetchErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fleetform_git_fetch_errors_total",
			Help: "Failed head checks and fetches of the source.",
		}),
		invalidRevision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fleetform_invalid_revision",
			Help: "1 while the newest revision fails validation and the last good one is kept.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fleetform_last_success_timestamp_seconds",
			Help: "Unix time of the last successful reconcile.",
		}),
		suspended: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fleetform_suspended",
			Help: "1 while applying is suspended (drift is still reported).",
		}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fleetform_leader",
			Help: "1 while this replica may apply: it holds the lease, or it runs alone (no --lease).",
		}),
		triggers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fleetform_triggers_total",
			Help: "Pokes of the reconcile loop by source (webhook, interval, fsnotify, signal, api, leader); a burst counts each poke.",
		}, []string{"trigger"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fleetform_notifications_total",
			Help: "Notifications (commit statuses, webhook events) by destination and result (sent, failed after retries, dropped when the queue was full).",
		}, []string{"notifier", "result"}),
	}
	m.registry.MustRegister(m.reconcileDuration, m.reconciles, m.changesApplied, m.changesPlanned, m.drift, m.revision,
		m.fetchDuration, m.fetchErrors, m.invalidRevision, m.lastSuccess, m.suspended, m.leader, m.triggers, m.notifications,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range []string{"success", "error", "skipped"} {
		m.reconciles.WithLabelValues(r)
	}
	return m
}
