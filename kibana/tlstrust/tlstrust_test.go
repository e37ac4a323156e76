package tlstrust

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFingerprint(t *testing.T) {
	hexFP := strings.Repeat("0a", 32)
	tests := []struct {
		in      string
		wantErr bool
	}{
		{hexFP, false},
		{strings.ToUpper(hexFP), false},
		{strings.TrimSuffix(strings.Repeat("0A:", 32), ":"), false},
		{" " + hexFP + "\n", false},
		{hexFP[:62], true},
		{hexFP + "00", true},
		{strings.Repeat("zz", 32), true},
		{"", true},
	}
	for _, tt := range tests {
		b, err := ParseFingerprint(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseFingerprint(%q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
		}
		if err == nil && hex.EncodeToString(b) != hexFP {
			t.Errorf("ParseFingerprint(%q) = %x", tt.in, b)
		}
	}
	if cfg, err := Config("", ""); cfg != nil || err != nil {
		t.Errorf("Config with nothing = %v, %v; want the defaults (nil)", cfg, err)
	}
}

// pki is a CA and a leaf it signed for 127.0.0.1 / localhost.
type pki struct {
	ca, leaf *x509.Certificate
	leafKey  *ecdsa.PrivateKey
}

func newPKI(t *testing.T) pki {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	return pki{ca: ca, leaf: leaf, leafKey: leafKey}
}

func fingerprint(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return hex.EncodeToString(s[:])
}

func TestConfig_AgainstATLSServer(t *testing.T) {
	p := newPKI(t)
	other := newPKI(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{p.leaf.Raw, p.ca.Raw}, PrivateKey: p.leafKey}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	_ = os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.ca.Raw}), 0o600)
	otherCA := filepath.Join(dir, "other.pem")
	_ = os.WriteFile(otherCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.ca.Raw}), 0o600)

	tests := []struct {
		name        string
		caFile, fp  string
		serverName  string
		wantErr     bool
		wantPinFail bool
	}{
		{"CA fingerprint", "", fingerprint(p.ca), "", false, false},
		{"leaf fingerprint", "", fingerprint(p.leaf), "", false, false},
		{"CA file", caFile, "", "", false, false},
		{"wrong CA file", otherCA, "", "", true, false},
		{"other CA's fingerprint", "", fingerprint(other.ca), "", true, true},
		{"pinned CA but wrong host name", "", fingerprint(p.ca), "kibana.example", true, true},
		{"CA file and a non-matching fingerprint: the file still vouches", caFile, fingerprint(other.ca), "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Config(tt.caFile, tt.fp)
			if err != nil {
				t.Fatal(err)
			}
			if tt.serverName != "" {
				cfg.ServerName = tt.serverName
			}
			c := &http.Client{Transport: Transport(cfg)}
			resp, err := c.Get(srv.URL)
			if err == nil {
				resp.Body.Close()
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantPinFail {
				var perm interface{ Permanent() bool }
				if !errors.Is(err, ErrUntrusted) || !errors.As(err, &perm) || !perm.Permanent() {
					t.Errorf("err = %v, want a permanent ErrUntrusted", err)
				}
			}
		})
	}
}
