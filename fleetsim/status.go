package fleetsim

import (
	"net/http"
	"time"

	"github.com/google/uuid"
)

// serveStatus is GET /api/status. Its authentication is optional: without
// credentials Kibana answers the redacted status; bad credentials are a 401.
func (c *Cluster) serveStatus(w http.ResponseWriter, hr *http.Request) {
	if hr.Method != http.MethodGet {
		writeKibana(w, kerr(http.StatusNotFound, "Not Found"), false)
		return
	}
	if hr.Header.Get("Authorization") == "" {
		writeKibana(w, ok(map[string]any{"status": map[string]any{"overall": map[string]any{"level": "available"}}}), false)
		return
	}
	if _, err := c.node.Authenticate(hr.Header.Get("Authorization")); err != nil {
		writeKibana(w, kerr(http.StatusUnauthorized, "Unauthorized"), false)
		return
	}
	svc := func(summary string) map[string]any {
		return map[string]any{"level": "available", "summary": summary, "meta": map[string]any{}}
	}
	now := c.now()
	writeKibana(w, ok(map[string]any{
		"name": "fleetsim-" + c.cfg.Name,
		"uuid": uuid.NewSHA1(uuid.NameSpaceDNS, []byte("fleetsim-kibana-"+c.cfg.Name)).String(),
		"version": map[string]any{"number": c.cfg.Version, "build_hash": "fleetsim", "build_number": 1, "build_snapshot": false,
			"build_flavor": "traditional", "build_date": "2026-01-01T00:00:00.000Z"},
		"status": map[string]any{
			"overall": svc("All services and plugins are available"),
			"core":    map[string]any{"elasticsearch": svc("Elasticsearch is available"), "savedObjects": svc("SavedObjects service has completed migrations and is available")},
			"plugins": map[string]any{"fleet": svc("Fleet is available")},
		},
		"metrics": map[string]any{"last_updated": now.Format(time.RFC3339Nano), "collection_interval_in_millis": 5000,
			"elasticsearch_client": map[string]any{"totalActiveSockets": 0, "totalIdleSockets": 1, "totalQueuedRequests": 0}},
	}), false)
}
