// Package kibana is fleetform's typed client for Kibana's Fleet API.
//
// Every request carries Kibana's conventions (kbn-xsrf on writes, the
// elastic-api-version header of the public Fleet routes, JSON bodies, Basic
// or ApiKey authorization) and goes through the retry policy of package
// kibana/retry: 429, 502, 503, 504 and connection errors are retried with
// jittered exponential backoff, other 4xx never are, and a POST that may
// already have reached Kibana (any 5xx or a connection lost after sending)
// is not sent again unless the caller marked the context with
// retry.SafeToRepeat. For POST create of an output this
// means the reconciler lists outputs again after a failed create and posts
// only if the output is still absent (a duplicate POST is a 409 that comes
// after Kibana's side effects, fleet-api.md trap 7).
//
// Observation uses list calls, paged, never one GET per object. Errors
// name the request (`PUT /api/fleet/outputs/x: 400 Bad Request: <message>`),
// are *APIError when Kibana answered, and never contain a request body or a
// query string.
package kibana

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fleetform/fleetform/kibana/retry"
	"github.com/fleetform/fleetform/kibana/tlstrust"
	"github.com/fleetform/fleetform/secret"
)

// APIVersion is the elastic-api-version header value of Fleet's public routes.
const APIVersion = "2023-10-31"

// maxResponseBytes bounds a response body read into memory.
const maxResponseBytes = 256 << 20

// Auth holds Kibana credentials: an API key (the base64 "encoded" id:key
// form Kibana and Elasticsearch print) or a username and password. Set one.
type Auth struct {
	APIKey   secret.Value
	Username string
	Password secret.Value
}

func (a Auth) header() (string, error) {
	switch {
	case !a.APIKey.IsZero() && a.Username != "":
		return "", errors.New("auth: set either an API key or a username and password, not both")
	case !a.APIKey.IsZero():
		return "ApiKey " + a.APIKey.Reveal(), nil
	case a.Username != "":
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password.Reveal())), nil
	}
	return "", nil
}

// Client talks to one Kibana. It is safe for concurrent use.
type Client struct {
	base   *url.URL // scheme, host and optional base path; no query, no userinfo
	space  string
	authz  string // the Authorization header value; never logged
	hc     *http.Client
	policy retry.Policy
	log    *slog.Logger
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (for its transport and TLS settings).
// Its Timeout, if any, bounds each try; use context deadlines for whole calls.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithTransportWrapper wraps the transport set so far (pass it after
// WithHTTPClient): the daemon fences writes with it (see lease.Fence).
func WithTransportWrapper(wrap func(http.RoundTripper) http.RoundTripper) Option {
	return func(c *Client) {
		hc := *c.hc
		if hc.Transport == nil {
			hc.Transport = tlstrust.Transport(nil)
		}
		hc.Transport = wrap(hc.Transport)
		c.hc = &hc
	}
}

// WithRetry sets the number of tries (including the first) and the first
// backoff; the backoff doubles per try up to 10s or 40×base, whichever is larger.
func WithRetry(attempts int, base time.Duration) Option {
	return func(c *Client) {
		c.policy.Attempts, c.policy.Base = attempts, base
		c.policy.Max = max(10*time.Second, 40*base)
	}
}

// WithRetryPolicy replaces the whole retry policy (tests inject Sleep and Rand).
func WithRetryPolicy(p retry.Policy) Option { return func(c *Client) { c.policy = p } }

// WithLogger sets the logger for request events (method, path, status,
// attempt, duration — never headers or bodies).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithSpace scopes every call to a Kibana space: /s/<space>/api/fleet/...
// The empty string and "default" mean the default space (no prefix).
func WithSpace(space string) Option {
	return func(c *Client) {
		if space == "default" {
			space = ""
		}
		c.space = space
	}
}

// New returns a client for the Kibana at baseURL (e.g. https://kb.example:5601,
// or with Kibana's server.basePath appended).
func New(baseURL string, auth Auth, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("kibana url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("kibana url %q: want http(s)://host[:port][/basepath]", redactURL(u))
	}
	if u.User != nil {
		return nil, fmt.Errorf("kibana url %s: credentials belong in auth, not in the URL", redactURL(u))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("kibana url %s: must not have a query or fragment", redactURL(u))
	}
	authz, err := auth.header()
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:   u,
		authz:  authz,
		hc:     &http.Client{Transport: tlstrust.Transport(nil)},
		policy: retry.Default(),
		log:    slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(c)
	}
	c.hc = wrapTransport(c.hc)
	return c, nil
}

// URL returns the base URL the client talks to.
func (c *Client) URL() string { return c.base.String() }

// request is one API call.
type request struct {
	method string
	path   string // below /api/fleet or absolute /api/...; no query
	query  url.Values
	body   any // JSON-encoded; nil for none
	// safe marks a POST that may be repeated (a read, or idempotent by nature).
	safe bool
	// deleteLike marks a POST that deletes: a 404 on a later try means an
	// earlier try did the work (as for every DELETE).
	deleteLike bool
	// doneOnRetry recognises, on a later try, the error that means an
	// earlier try whose answer was lost did the work.
	doneOnRetry func(*APIError) bool
	// noSpace sends the path without the space prefix (Kibana core routes
	// such as /api/status).
	noSpace bool
}

// do sends r, retrying per the policy, and decodes a 2xx JSON answer into
// out (when non-nil).
func (c *Client) do(ctx context.Context, r request, out any) error {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			// json errors name types, not values; still, keep the body out.
			return fmt.Errorf("%s %s: encode request body: %w", r.method, r.path, err)
		}
	}
	fullPath := c.pathFor(r.path)
	if r.noSpace {
		fullPath = r.path
	}
	rawURL := c.base.String() + fullPath
	if q := r.query.Encode(); q != "" {
		rawURL += "?" + q
	}
	idempotent := retry.Idempotent(r.method) || r.safe || retry.IsSafeToRepeat(ctx)

	var respBody []byte
	err := c.policy.Do(ctx, func(ctx context.Context, n int) (retry.Attempt, error) {
		start := time.Now()
		status, hdr, body, err := c.send(ctx, r.method, rawURL, payload)
		log := c.log.With("method", r.method, "path", fullPath, "attempt", n, "duration", time.Since(start))
		if err != nil {
			retryable := retry.Classify(0, err, idempotent)
			log.Debug("kibana request failed", "retry", retryable, "err", err)
			return retry.Attempt{Retry: retryable}, &TransportError{Method: r.method, Path: fullPath, Err: err}
		}
		log.Debug("kibana request", "status", status)
		if status >= 200 && status < 300 {
			respBody = body
			return retry.Attempt{}, nil
		}
		apiErr := parseAPIError(r.method, fullPath, status, body)
		if n > 1 && ((r.method == http.MethodDelete || r.deleteLike) && status == http.StatusNotFound ||
			r.doneOnRetry != nil && r.doneOnRetry(apiErr)) {
			// An earlier try's answer was lost on the way back, but it did its work.
			log.Info("kibana request already done by an earlier try", "status", status)
			respBody = nil
			return retry.Attempt{}, nil
		}
		retryable := retry.Classify(status, nil, idempotent)
		if retryable {
			log.Info("kibana request will be retried", "status", status)
		}
		return retry.Attempt{Retry: retryable, RetryAfter: retry.ParseRetryAfter(hdr.Get("Retry-After"), time.Now())}, apiErr
	})
	if err != nil {
		return err
	}
	if out == nil || len(respBody) == 0 {
		return nil
	}
	decode := json.Unmarshal
	if d, ok := out.(bodyDecoder); ok {
		decode = func(b []byte, _ any) error { return d(b) }
	}
	if err := decode(respBody, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", r.method, fullPath, err)
	}
	return nil
}

// bodyDecoder, as do's out, decodes the answer's bytes itself (a list page
// read in one pass: decodeIntegrationPolicyPage).
type bodyDecoder func([]byte) error

func (c *Client) pathFor(p string) string {
	if c.space != "" {
		return "/s/" + url.PathEscape(c.space) + p
	}
	return p
}

func (c *Client) send(ctx context.Context, method, rawURL string, payload []byte) (int, http.Header, []byte, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return 0, nil, nil, stripURL(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Elastic-Api-Version", APIVersion)
	req.Header.Set("User-Agent", "fleetform")
	if method != http.MethodGet && method != http.MethodHead {
		req.Header.Set("Kbn-Xsrf", "fleetform")
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.authz != "" {
		req.Header.Set("Authorization", c.authz)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, stripURL(err)
	}
	defer resp.Body.Close()
	// Sized from Content-Length when given: a list page is megabytes, which
	// io.ReadAll would reach by doubling (three times the bytes allocated).
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && n <= maxResponseBytes {
		buf.Grow(int(n) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxResponseBytes)); err != nil {
		return 0, nil, nil, stripURL(err)
	}
	return resp.StatusCode, resp.Header, buf.Bytes(), nil
}

// stripURL drops the URL (and so any query string) that net/http puts into
// its errors; the caller names method and path itself.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.Fragment = ""
	return c.String()
}

// TransportError is a request that got no HTTP answer (connection refused,
// reset, TLS failure, timeout).
type TransportError struct {
	Method, Path string
	Err          error
}

func (e *TransportError) Error() string { return e.Method + " " + e.Path + ": " + e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }
