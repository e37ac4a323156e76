package kibana

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/kibana/tlstrust"
	"github.com/fleetform/fleetform/schema"
)

func TestNewFromEndpoint(t *testing.T) {
	var gotAuthz []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuthz = append(gotAuthz, r.Header.Get("Authorization"))
		writeJSON(w, 200, map[string]any{"items": []any{}, "total": 0})
	}))
	t.Cleanup(srv.Close)
	sum := sha256.Sum256(srv.Certificate().Raw)
	fp := hex.EncodeToString(sum[:])
	colonFP := strings.ToUpper(strings.Join(splitPairs(fp), ":"))
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(testAPIKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FLEETFORM_TEST_PW", testPassword)
	wrong := strings.Repeat("ab", 32)

	tests := []struct {
		name      string
		ep        schema.Endpoint
		wantErr   string // substring; "" = success
		wantAuthz string
	}{
		{"fingerprint, API key from file", schema.Endpoint{URL: srv.URL, CAFingerprint: fp, Auth: schema.Auth{APIKey: &schema.SecretRef{File: keyFile}}},
			"", "ApiKey " + testAPIKey},
		{"fingerprint with colons, basic from env", schema.Endpoint{URL: srv.URL, CAFingerprint: colonFP,
			Auth: schema.Auth{Basic: &schema.BasicAuth{Username: "fleetform", Password: schema.SecretRef{Env: "FLEETFORM_TEST_PW"}}}},
			"", "Basic ZmxlZXRmb3JtOlMzQ1JFVC1QQVNTV09SRC1kby1ub3QtbGVhaw=="},
		{"CA file", schema.Endpoint{URL: srv.URL, CAFile: caFile}, "", ""},
		{"wrong fingerprint", schema.Endpoint{URL: srv.URL, CAFingerprint: wrong}, "matches the configured CA fingerprint", ""},
		{"no trust anchor", schema.Endpoint{URL: srv.URL}, "certificate", ""},
		{"bad fingerprint", schema.Endpoint{URL: srv.URL, CAFingerprint: "abc"}, "64 hex digits", ""},
		{"missing CA file", schema.Endpoint{URL: srv.URL, CAFile: filepath.Join(dir, "none.pem")}, "CA file", ""},
		{"unset env", schema.Endpoint{URL: srv.URL, Auth: schema.Auth{APIKey: &schema.SecretRef{Env: "FLEETFORM_TEST_UNSET"}}}, "FLEETFORM_TEST_UNSET is not set", ""},
		{"generate is not readable", schema.Endpoint{URL: srv.URL, Auth: schema.Auth{APIKey: &schema.SecretRef{Generate: true}}}, "generate", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotAuthz = nil
			s := &sleeps{}
			c, err := NewFromEndpoint(context.Background(), tt.ep, WithRetryPolicy(testPolicy(s)))
			if err == nil {
				_, err = c.ListOutputs(context.Background())
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(gotAuthz) != 1 || gotAuthz[0] != tt.wantAuthz {
					t.Errorf("authorization = %q, want %q", gotAuthz, tt.wantAuthz)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if len(s.waits) != 0 {
				t.Errorf("a trust or configuration failure was retried: %v", s.waits)
			}
			for _, secretText := range []string{testAPIKey, testPassword} {
				if strings.Contains(err.Error(), secretText) {
					t.Errorf("error leaks a secret: %v", err)
				}
			}
			if tt.name == "wrong fingerprint" && !errors.Is(err, tlstrust.ErrUntrusted) {
				t.Errorf("err = %v, want tlstrust.ErrUntrusted in the chain", err)
			}
		})
	}
}

func splitPairs(s string) []string {
	var out []string
	for i := 0; i+2 <= len(s); i += 2 {
		out = append(out, s[i:i+2])
	}
	return out
}
