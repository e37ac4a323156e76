// Package notify tells the world outside fleetform what the daemon did with
// a Git revision, as Flux's notification-controller and Argo CD
// Notifications do: a commit status on GitHub or GitLab, and an
// HMAC-SHA256-signed JSON event POSTed to any URL.
//
// Rules it keeps:
//   - A notification never fails a reconcile: Send reports errors for the
//     caller to log, after a bounded number of retries (429 and 5xx only).
//   - Tokens and signing secrets are secret.Values: they are sent in headers
//     only and never appear in errors or logs. Errors name the service and
//     the status, not the URL's query or the token.
//   - Events are small and stable: the JSON field names are a contract
//     (format_version), like the plan's JSON.
package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// FormatVersion is the version of the event JSON.
const FormatVersion = "1"

// Result is what happened to a revision.
type Result string

// Results of a turn.
const (
	// Pending: the revision was seen and is being reconciled.
	Pending Result = "pending"
	// Applied: Fleet matches the revision (changes were applied, or none were needed).
	Applied Result = "applied"
	// Failed: the reconcile failed; Message says why.
	Failed Result = "failed"
	// Blocked: the plan holds changes fleetform must not make; Message says why.
	Blocked Result = "blocked"
)

// Event is one notification.
type Event struct {
	FormatVersion string    `json:"format_version"`
	Revision      string    `json:"revision"`          // the Git commit (or directory digest)
	Result        Result    `json:"result"`            //
	Message       string    `json:"message,omitempty"` // one line for people
	Trigger       string    `json:"trigger,omitempty"` // webhook, poll, drift, resume, start
	Changes       Counts    `json:"changes"`
	Time          time.Time `json:"time"`
	// Instance is the fleetform instance name (several may share a repo).
	Instance string `json:"instance,omitempty"`
	// URL links to the daemon's status page, when it has a public address.
	URL string `json:"url,omitempty"`
}

// Counts are the changes a turn applied (or planned, when not applying).
type Counts struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Delete  int `json:"delete"`
	Blocked int `json:"blocked"`
}

// Notifier sends events somewhere.
type Notifier interface {
	// Notify sends e; it returns an error after its retries are spent.
	Notify(ctx context.Context, e Event) error
	// Name names the destination in logs ("github commit status", …).
	Name() string
}

// Multi sends every event to each notifier and joins their errors (each
// names its service).
type Multi []Notifier

// Notify implements Notifier.
func (m Multi) Notify(ctx context.Context, e Event) error {
	var errs []error
	for _, n := range m {
		if err := n.Notify(ctx, e); err != nil {
			errs = append(errs, err) // each error names its service already
		}
	}
	return errors.Join(errs...)
}

// Name implements Notifier.
func (m Multi) Name() string { return "notifiers" }

// summary is the one-line description of an event, at most max runes.
func summary(e Event, max int) string {
	var s string
	c := e.Changes
	switch e.Result {
	case Pending:
		s = "fleetform is reconciling this revision"
		if c.Create+c.Update+c.Delete > 0 {
			s = fmt.Sprintf("%d to create, %d to update, %d to delete", c.Create, c.Update, c.Delete)
		}
	case Applied:
		if c.Create+c.Update+c.Delete == 0 {
			s = "Fleet matches this revision (no changes)"
		} else {
			s = fmt.Sprintf("applied: %d created, %d updated, %d deleted", c.Create, c.Update, c.Delete)
		}
	case Blocked:
		s = fmt.Sprintf("%d changes blocked", c.Blocked)
	case Failed:
		s = "failed"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

// retryPolicy bounds deliveries: attempts and the first backoff.
type retryPolicy struct {
	attempts int
	base     time.Duration
}

var defaultRetry = retryPolicy{attempts: 4, base: 500 * time.Millisecond}

// StatusError is a refused delivery.
type StatusError struct {
	Service string
	Status  int
	Body    string // the start of the response body
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("%s answered %d", e.Service, e.Status)
	}
	return fmt.Sprintf("%s answered %d: %s", e.Service, e.Status, e.Body)
}

// post sends one request built by mk (called once per attempt) and retries
// 429, 5xx and connection errors with exponential backoff.
func post(ctx context.Context, hc *http.Client, rp retryPolicy, service string, mk func() (*http.Request, error)) error {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	var last error
	for attempt := range rp.attempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(last, ctx.Err())
			case <-time.After(rp.base << (attempt - 1)):
			}
		}
		req, err := mk()
		if err != nil {
			return err
		}
		resp, err := hc.Do(req.WithContext(ctx))
		if err != nil {
			// Strip the URL: it may hold a query the operator considers private.
			var ue interface{ Unwrap() error }
			if errors.As(err, &ue) {
				err = ue.Unwrap()
			}
			last = fmt.Errorf("%s: %w", service, err)
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		if resp.StatusCode < 300 {
			return nil
		}
		last = &StatusError{Service: service, Status: resp.StatusCode, Body: string(bytes.TrimSpace(body))}
		if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
			return last
		}
	}
	return last
}
