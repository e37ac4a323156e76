// Package elastic is fleetform's Elasticsearch access, over the official
// go-elasticsearch/v8 esapi request types sent through elastic-transport-go
// (not the root client package, which links every typed API): documents with
// optimistic concurrency, search, indices, service-account tokens, API
// keys, cluster settings, remote-cluster info and cross-cluster replication.
//
// Calls go through the same retry policy as the Kibana client (package
// kibana/retry): 429, 502, 503, 504 and connection errors are retried with
// jittered backoff, other 4xx never are, and a request that is not safe to
// repeat (a POST that creates something, a conditional or create-only write)
// is not sent again once it may have reached the cluster. The library's own
// retries are disabled. An answer with an error status is an *Error holding
// Elasticsearch's envelope {"error": {"type", "reason"}, "status"}.
package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/fleetform/fleetform/kibana/retry"
	"github.com/fleetform/fleetform/kibana/tlstrust"
	"github.com/fleetform/fleetform/secret"
)

const maxResponseBytes = 256 << 20

// Auth holds Elasticsearch credentials: an API key (the base64 "encoded"
// id:key form) or a username and password. Set one.
type Auth struct {
	APIKey   secret.Value
	Username string
	Password secret.Value
}

// Client talks to one Elasticsearch cluster. It is safe for concurrent use.
type Client struct {
	url    string
	es     *transport
	policy retry.Policy
	log    *slog.Logger
}

// Option configures a Client.
type Option func(*options)

type options struct {
	transport http.RoundTripper
	policy    retry.Policy
	log       *slog.Logger
}

// WithTransport sets the HTTP transport (TLS settings live there).
func WithTransport(rt http.RoundTripper) Option { return func(o *options) { o.transport = rt } }

// WithTransportWrapper wraps the transport set so far (pass it after
// WithTransport): the daemon fences writes with it (see lease.Fence).
func WithTransportWrapper(wrap func(http.RoundTripper) http.RoundTripper) Option {
	return func(o *options) {
		if o.transport == nil {
			o.transport = tlstrust.Transport(nil)
		}
		o.transport = wrap(o.transport)
	}
}

// WithHTTPClient uses hc's transport.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) {
		if hc.Transport != nil {
			o.transport = hc.Transport
		}
	}
}

// WithRetry sets the number of tries (including the first) and the first
// backoff; the backoff doubles per try up to 10s or 40×base, whichever is larger.
func WithRetry(attempts int, base time.Duration) Option {
	return func(o *options) {
		o.policy.Attempts, o.policy.Base = attempts, base
		o.policy.Max = max(10*time.Second, 40*base)
	}
}

// WithRetryPolicy replaces the whole retry policy (tests inject Sleep and Rand).
func WithRetryPolicy(p retry.Policy) Option { return func(o *options) { o.policy = p } }

// WithLogger sets the logger for request events (never headers or bodies).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// New returns a client for the Elasticsearch at rawURL.
func New(rawURL string, auth Auth, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(rawURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("elasticsearch url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("elasticsearch url %q: want http(s)://host[:port]", u.Redacted())
	}
	if u.User != nil {
		return nil, fmt.Errorf("elasticsearch url %s: credentials belong in auth, not in the URL", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("elasticsearch url %s: must not have a query or fragment", u.Redacted())
	}
	if !auth.APIKey.IsZero() && auth.Username != "" {
		return nil, errors.New("auth: set either an API key or a username and password, not both")
	}
	o := options{policy: retry.Default(), log: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	if o.transport == nil {
		o.transport = tlstrust.Transport(nil)
	}
	es, err := newTransport(u, auth, o.transport)
	if err != nil {
		return nil, err
	}
	return &Client{url: u.String(), es: es, policy: o.policy, log: o.log}, nil
}

// URL returns the cluster URL the client talks to.
func (c *Client) URL() string { return c.url }

// call is one API request, named for errors and logs.
type call struct {
	method, path string // path without query string
	// unsafe marks a request that must not be repeated once it may have
	// reached the cluster (create-only or conditional writes, minting POSTs).
	unsafe bool
	// safePost marks a POST that only reads (search) or is otherwise harmless to repeat.
	safePost bool
	// send performs one try; it builds a fresh body every time.
	send func(ctx context.Context) (*esapi.Response, error)
}

func (c *Client) idempotent(ctx context.Context, k call) bool {
	if k.unsafe {
		return retry.IsSafeToRepeat(ctx)
	}
	return retry.Idempotent(k.method) || k.safePost || retry.IsSafeToRepeat(ctx)
}

// readBody reads an answer's body into a buffer sized from its
// Content-Length when given: a state-index search page is megabytes, which
// io.ReadAll would reach by doubling (about twice the bytes allocated).
func readBody(res *esapi.Response) ([]byte, error) {
	var buf bytes.Buffer
	if n, err := strconv.ParseInt(res.Header.Get("Content-Length"), 10, 64); err == nil && n > 0 && n <= maxResponseBytes {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(res.Body, maxResponseBytes))
	return buf.Bytes(), err
}

// do runs k with retries and returns the status and body of the final 2xx
// or 404 answer (404 is returned, not an error, when allow404 is set).
func (c *Client) do(ctx context.Context, k call, allow404 bool) (int, []byte, error) {
	idem := c.idempotent(ctx, k)
	var status int
	var body []byte
	err := c.policy.Do(ctx, func(ctx context.Context, n int) (retry.Attempt, error) {
		start := time.Now()
		res, err := k.send(ctx)
		log := c.log.With("method", k.method, "path", k.path, "attempt", n, "duration", time.Since(start))
		if err != nil {
			err = stripURL(err)
			r := retry.Classify(0, err, idem)
			log.Debug("elasticsearch request failed", "retry", r, "err", err)
			return retry.Attempt{Retry: r}, &TransportError{Method: k.method, Path: k.path, Err: err}
		}
		defer res.Body.Close()
		b, err := readBody(res)
		if err != nil {
			r := retry.Classify(0, err, idem)
			return retry.Attempt{Retry: r}, &TransportError{Method: k.method, Path: k.path, Err: stripURL(err)}
		}
		log.Debug("elasticsearch request", "status", res.StatusCode)
		if res.StatusCode < 300 || allow404 && res.StatusCode == http.StatusNotFound {
			status, body = res.StatusCode, b
			return retry.Attempt{}, nil
		}
		e := parseError(k.method, k.path, res.StatusCode, b)
		r := retry.Classify(res.StatusCode, nil, idem)
		if r {
			log.Info("elasticsearch request will be retried", "status", res.StatusCode)
		}
		return retry.Attempt{Retry: r, RetryAfter: retry.ParseRetryAfter(res.Header.Get("Retry-After"), time.Now())}, e
	})
	return status, body, err
}

// doJSON runs k and decodes a 2xx answer into out (when non-nil).
func (c *Client) doJSON(ctx context.Context, k call, out any) error {
	_, b, err := c.do(ctx, k, false)
	if err != nil {
		return err
	}
	return decode(k, b, out)
}

func decode(k call, b []byte, out any) error {
	if out == nil || len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", k.method, k.path, err)
	}
	return nil
}

// jsonBody encodes v for a request body; call it inside send so every try
// gets a fresh reader.
func jsonBody(v any) (io.Reader, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return bytes.NewReader(raw), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode request body: %w", err)
	}
	return bytes.NewReader(b), nil
}

// stripURL drops the URL (and its query string) net/http puts into errors.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// TransportError is a request that got no HTTP answer.
type TransportError struct {
	Method, Path string
	Err          error
}

func (e *TransportError) Error() string { return e.Method + " " + e.Path + ": " + e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

func ptr[T any](v T) *T { return &v }

func pathEscape(s string) string { return url.PathEscape(s) }
