package notify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/fleetform/fleetform/secret"
)

// SignatureHeader carries the HMAC-SHA256 of "<timestamp>.<body>" under the
// shared secret, as "t=<unix seconds>,sha256=<hex>". Receivers recompute it
// and refuse timestamps older than a few minutes (replays).
const SignatureHeader = "X-Fleetform-Signature"

// Webhook POSTs each event as JSON to a URL.
type Webhook struct {
	URL    string
	Secret secret.Value // signs the body; empty: unsigned (refused by NewWebhook unless AllowUnsigned)
	Client *http.Client
	Now    func() time.Time
	retry  retryPolicy
}

// NewWebhook checks the URL: https, or http only to a loopback address or
// when allowHTTP is set (the body tells what changed in Fleet).
func NewWebhook(rawURL string, key secret.Value, allowHTTP bool) (*Webhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("--notify-url %q is not an absolute URL", Redact(rawURL))
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowHTTP && !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("--notify-url %s uses plain http; use https, or allow it with --notify-allow-http", Redact(rawURL))
		}
	default:
		return nil, fmt.Errorf("--notify-url %s: scheme must be https or http", Redact(rawURL))
	}
	if key.IsZero() {
		return nil, fmt.Errorf("--notify-url needs a signing secret (--notify-secret-file)")
	}
	return &Webhook{URL: rawURL, Secret: key}, nil
}

// Name implements Notifier.
func (w *Webhook) Name() string { return "notify webhook" }

// Notify implements Notifier.
func (w *Webhook) Notify(ctx context.Context, e Event) error {
	e.FormatVersion = FormatVersion
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	now := w.Now
	if now == nil {
		now = time.Now
	}
	return post(ctx, w.Client, cmp.Or(w.retry, defaultRetry), w.Name(), func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, w.URL, bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("notify webhook: %s", Redact(w.URL))
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "fleetform")
		req.Header.Set(SignatureHeader, Sign(w.Secret, now(), body))
		return req, nil
	})
}

// Sign computes the SignatureHeader value for body at time t.
func Sign(key secret.Value, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key.Reveal()))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a SignatureHeader value against body, refusing signatures
// older than maxAge. Receivers written in Go can use it as it is.
func Verify(key secret.Value, header string, body []byte, now time.Time, maxAge time.Duration) error {
	var ts int64
	var sum string
	for _, part := range bytes.Split([]byte(header), []byte(",")) {
		k, v, _ := bytes.Cut(part, []byte("="))
		switch string(k) {
		case "t":
			ts, _ = strconv.ParseInt(string(v), 10, 64)
		case "sha256":
			sum = string(v)
		}
	}
	if ts == 0 || sum == "" {
		return fmt.Errorf("malformed %s", SignatureHeader)
	}
	if age := now.Sub(time.Unix(ts, 0)); age > maxAge || age < -maxAge {
		return fmt.Errorf("%s is %s old", SignatureHeader, age.Round(time.Second))
	}
	want := Sign(key, time.Unix(ts, 0), body)
	if !hmac.Equal([]byte(want), []byte(header)) {
		return fmt.Errorf("%s does not match the body", SignatureHeader)
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "::1" || len(host) > 4 && host[:4] == "127."
}

// Redact drops a URL's query and user info, which may hold tokens.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
