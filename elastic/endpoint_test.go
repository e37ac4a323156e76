package elastic

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/kibana/retry"
	"github.com/fleetform/fleetform/schema"
)

func TestNewFromEndpoint(t *testing.T) {
	var authz string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authz = r.Header.Get("Authorization")
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		writeJSON(w, 200, map[string]any{"license": map[string]any{"type": "platinum", "status": "active"}})
	}))
	t.Cleanup(srv.Close)
	sum := sha256.Sum256(srv.Certificate().Raw)
	t.Setenv("FLEETFORM_TEST_ES_KEY", testAPIKey)
	s := &sleeps{}
	policy := WithRetryPolicy(retry.Policy{Attempts: 3, Base: time.Millisecond, Max: time.Second, Sleep: s.sleep})

	c, err := NewFromEndpoint(context.Background(), schema.Endpoint{URL: srv.URL, CAFingerprint: hex.EncodeToString(sum[:]),
		Auth: schema.Auth{APIKey: &schema.SecretRef{Env: "FLEETFORM_TEST_ES_KEY"}}}, policy)
	if err != nil {
		t.Fatal(err)
	}
	lic, err := c.License(context.Background())
	if err != nil || lic.Type != "platinum" || authz != "ApiKey "+testAPIKey {
		t.Fatalf("License = %+v, %v (authorization %q)", lic, err, authz)
	}

	untrusted, err := NewFromEndpoint(context.Background(), schema.Endpoint{URL: srv.URL, CAFingerprint: strings.Repeat("0", 64)}, policy)
	if err != nil {
		t.Fatal(err)
	}
	_, err = untrusted.License(context.Background())
	if err == nil || !strings.Contains(err.Error(), "fingerprint") || len(s.waits) != 0 {
		t.Errorf("wrong fingerprint: err = %v, waits = %v; want a trust error that is not retried", err, s.waits)
	}
}
