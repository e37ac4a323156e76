// Package tlstrust builds the TLS client configuration for an endpoint that
// names its trust anchor as a CA file (PEM) or as the SHA-256 fingerprint of
// a certificate in the server's chain — the two forms Elastic's own tools
// print when a cluster starts with security auto-configured.
package tlstrust

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// ErrUntrusted is wrapped by every trust failure of a fingerprint check, so
// callers (and the retry policy) recognise it as permanent.
var ErrUntrusted = errors.New("server certificate not trusted")

// trustError is a permanent TLS trust failure.
type trustError struct{ msg string }

func (e *trustError) Error() string   { return e.msg }
func (e *trustError) Unwrap() error   { return ErrUntrusted }
func (e *trustError) Permanent() bool { return true }

// Config returns a *tls.Config trusting the system roots plus the
// certificates in caFile (when set), or — when fingerprint is set — any
// chain that contains a certificate with that SHA-256 fingerprint (hex, with
// or without colons, any case); with both set, either one suffices. The
// hostname is always verified against the trusted chain. With neither set
// it returns nil: the default TLS settings.
func Config(caFile, fingerprint string) (*tls.Config, error) {
	if caFile == "" && fingerprint == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate found", caFile)
		}
		cfg.RootCAs = pool
	}
	if fingerprint != "" {
		want, err := ParseFingerprint(fingerprint)
		if err != nil {
			return nil, err
		}
		roots := cfg.RootCAs
		// Verification happens in VerifyConnection, against the pinned
		// certificate (or the CA file) — never "skip verification" alone.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyPinned(cs, want, roots)
		}
	}
	return cfg, nil
}

// ParseFingerprint decodes a SHA-256 fingerprint written as hex, optionally
// with colons.
func ParseFingerprint(s string) ([]byte, error) {
	clean := strings.ReplaceAll(strings.TrimSpace(s), ":", "")
	b, err := hex.DecodeString(clean)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("CA fingerprint: want a SHA-256 hex digest (64 hex digits), got %d characters", len(clean))
	}
	return b, nil
}

func verifyPinned(cs tls.ConnectionState, want []byte, extraRoots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return &trustError{msg: "server presented no certificate"}
	}
	var pinned *x509.Certificate
	for _, c := range cs.PeerCertificates {
		sum := sha256.Sum256(c.Raw)
		if bytes.Equal(sum[:], want) {
			pinned = c
			break
		}
	}
	if pinned == nil {
		if extraRoots != nil {
			if err := verifyChain(cs, extraRoots); err == nil {
				return nil
			}
		}
		return &trustError{msg: "no certificate in the server's chain matches the configured CA fingerprint"}
	}
	roots := x509.NewCertPool()
	roots.AddCert(pinned)
	if err := verifyChain(cs, roots); err != nil {
		return &trustError{msg: "certificate chain does not verify against the pinned certificate: " + err.Error()}
	}
	return nil
}

func verifyChain(cs tls.ConnectionState, roots *x509.CertPool) error {
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, DNSName: cs.ServerName,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}

// Transport returns an *http.Transport with sane timeouts and the given TLS
// configuration (nil: defaults).
func Transport(cfg *tls.Config) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	t.ResponseHeaderTimeout = 2 * time.Minute
	t.MaxIdleConnsPerHost = 8
	return t
}
