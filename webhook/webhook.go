// Package webhook receives push notifications from Git hosts and turns them
// into a poke of the reconcile loop. Handlers authenticate every request in
// constant time (GitHub's X-Hub-Signature-256 HMAC, GitLab's X-Gitlab-Token,
// or a generic HMAC), cap the body, accept only pushes to the tracked
// reference, answer 202 at once and never wait for the reconcile.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/fleetform/fleetform/secret"
)

// Provider names a webhook dialect; it is also the last path element of the
// receiver (/webhook/github …).
type Provider string

const (
	GitHub  Provider = "github"
	GitLab  Provider = "gitlab"
	Generic Provider = "generic"
)

// DefaultMaxBodyBytes caps a webhook body. GitHub caps payloads at 25 MB but
// pushes to a configuration repository are a few kilobytes.
const DefaultMaxBodyBytes = 1 << 20

// Event is a verified, parsed notification.
type Event struct {
	Provider Provider `json:"provider"`
	Kind     string   `json:"kind"`               // "push", "ping" or the provider's name for something else
	Ref      string   `json:"ref,omitempty"`      // refs/heads/main; empty for the generic receiver without a body
	After    string   `json:"after,omitempty"`    // the pushed commit, when the provider says
	Repo     string   `json:"repo,omitempty"`     // repository full name, for logs
	Delivery string   `json:"delivery,omitempty"` // provider's delivery id, for logs
}

// Config configures a receiver.
type Config struct {
	// Secret is the shared secret: the HMAC key for GitHub and generic,
	// the token GitLab sends verbatim. Required.
	Secret secret.Value
	// Ref is the tracked reference ("refs/heads/main"). Pushes to other
	// references are acknowledged with 200 and ignored. Empty accepts every
	// push (the loop's head check decides whether anything changed).
	Ref string
	// MaxBodyBytes caps the request body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	Logger       *slog.Logger
}

// Errors returned by the parsers; the handler maps them to status codes.
var (
	ErrUnauthorized = errors.New("webhook: missing or invalid signature")
	ErrMalformed    = errors.New("webhook: malformed payload")
)

// Handler returns the receiver for p. trigger is called (and must not
// block) for every accepted push; the request is answered 202 right after.
func Handler(p Provider, cfg Config, trigger func(Event)) (http.Handler, error) {
	if cfg.Secret.IsZero() {
		return nil, errors.New("webhook: a secret is required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var (
		parse     func(secret.Value, http.Header, []byte) (Event, error)
		authField string // the header carrying the signature or token
	)
	switch p {
	case GitHub:
		parse, authField = ParseGitHub, "X-Hub-Signature-256"
	case GitLab:
		parse, authField = ParseGitLab, "X-Gitlab-Token"
	case Generic:
		parse, authField = ParseGeneric, "X-Signature-256"
	default:
		return nil, fmt.Errorf("webhook: unknown provider %q", p)
	}
	log := cfg.Logger.With("component", "webhook", "provider", string(p))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			reply(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		if r.Header.Get(authField) == "" {
			// Unsigned: refuse before reading (up to MaxBodyBytes of) the body.
			log.Warn("webhook rejected", "reason", "no "+authField, "remote", r.RemoteAddr)
			reply(w, http.StatusUnauthorized, "invalid signature")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, cfg.MaxBodyBytes))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				log.Warn("webhook rejected", "reason", "body too large", "limit", cfg.MaxBodyBytes)
				reply(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", cfg.MaxBodyBytes))
				return
			}
			reply(w, http.StatusBadRequest, "cannot read body")
			return
		}
		ev, err := parse(cfg.Secret, r.Header, body)
		switch {
		case errors.Is(err, ErrUnauthorized):
			log.Warn("webhook rejected", "reason", "signature", "remote", r.RemoteAddr)
			reply(w, http.StatusUnauthorized, "invalid signature")
			return
		case err != nil:
			log.Warn("webhook rejected", "reason", "payload", "err", err)
			reply(w, http.StatusBadRequest, err.Error())
			return
		}
		if ok, why := accept(ev, cfg.Ref); !ok {
			log.Debug("webhook ignored", "kind", ev.Kind, "ref", ev.Ref, "reason", why)
			reply(w, http.StatusOK, "ignored: "+why)
			return
		}
		log.Info("webhook accepted", "ref", ev.Ref, "after", ev.After, "repo", ev.Repo, "delivery", ev.Delivery)
		trigger(ev)
		reply(w, http.StatusAccepted, "reconcile triggered")
	}), nil
}

// accept decides whether a verified event should trigger a reconcile.
func accept(ev Event, ref string) (bool, string) {
	if ev.Kind != "push" {
		return false, ev.Kind + " event"
	}
	if ref != "" && ev.Ref != "" && ev.Ref != ref {
		return false, "push to " + ev.Ref + ", tracking " + ref
	}
	return true, ""
}

func reply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// validHMAC checks a "sha256=<hex>" signature of body in constant time.
func validHMAC(key secret.Value, header string, body []byte) bool {
	sig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, Sign(key, body))
}

// EqualToken compares a presented token with the secret in constant time,
// also with respect to their lengths (a plain constant-time compare returns
// at once when the lengths differ, and so tells the secret's length).
func EqualToken(got string, want secret.Value) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want.Reveal()))
	return hmac.Equal(g[:], w[:])
}

// Sign returns HMAC-SHA256(key, body): what GitHub puts, hex-encoded after
// "sha256=", in X-Hub-Signature-256. Tests and the generic sender use it.
func Sign(key secret.Value, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(key.Reveal()))
	m.Write(body)
	return m.Sum(nil)
}

// SignatureHeader formats Sign as a header value ("sha256=<hex>").
func SignatureHeader(key secret.Value, body []byte) string {
	return "sha256=" + hex.EncodeToString(Sign(key, body))
}

// ParseGitHub verifies X-Hub-Signature-256 and parses a GitHub delivery
// (X-GitHub-Event: push, ping, …).
func ParseGitHub(key secret.Value, h http.Header, body []byte) (Event, error) {
	if !validHMAC(key, h.Get("X-Hub-Signature-256"), body) {
		return Event{}, ErrUnauthorized
	}
	ev := Event{Provider: GitHub, Kind: h.Get("X-GitHub-Event"), Delivery: h.Get("X-GitHub-Delivery")}
	if ev.Kind == "" {
		return Event{}, fmt.Errorf("%w: no X-GitHub-Event header", ErrMalformed)
	}
	if ev.Kind != "push" {
		return ev, nil
	}
	var p struct {
		Ref        string `json:"ref"`
		After      string `json:"after"`
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
	}
	if err := decode(h, body, &p); err != nil {
		return Event{}, err
	}
	if p.Ref == "" {
		return Event{}, fmt.Errorf("%w: push without ref", ErrMalformed)
	}
	ev.Ref, ev.After, ev.Repo = p.Ref, p.After, p.Repository.FullName
	return ev, nil
}

// ParseGitLab checks X-Gitlab-Token in constant time and parses a GitLab
// delivery ("Push Hook" and "Tag Push Hook" are pushes).
func ParseGitLab(key secret.Value, h http.Header, body []byte) (Event, error) {
	if tok := h.Get("X-Gitlab-Token"); tok == "" || !EqualToken(tok, key) {
		return Event{}, ErrUnauthorized
	}
	ev := Event{Provider: GitLab, Kind: h.Get("X-Gitlab-Event"), Delivery: h.Get("X-Gitlab-Event-UUID")}
	switch ev.Kind {
	case "":
		return Event{}, fmt.Errorf("%w: no X-Gitlab-Event header", ErrMalformed)
	case "Push Hook", "Tag Push Hook", "System Hook":
	default:
		return ev, nil
	}
	var p struct {
		ObjectKind string `json:"object_kind"`
		Ref        string `json:"ref"`
		After      string `json:"after"`
		Project    struct {
			PathWithNamespace string `json:"path_with_namespace"`
		} `json:"project"`
	}
	if err := decode(h, body, &p); err != nil {
		return Event{}, err
	}
	if p.ObjectKind != "push" && p.ObjectKind != "tag_push" {
		ev.Kind = p.ObjectKind
		return ev, nil
	}
	if p.Ref == "" {
		return Event{}, fmt.Errorf("%w: push without ref", ErrMalformed)
	}
	ev.Kind, ev.Ref, ev.After, ev.Repo = "push", p.Ref, p.After, p.Project.PathWithNamespace
	return ev, nil
}

// ParseGeneric verifies X-Signature-256 ("sha256=<hex>" HMAC of the body,
// as GitHub computes it) and parses an optional JSON body {"ref", "after"}.
// An empty body is a push of the tracked reference.
func ParseGeneric(key secret.Value, h http.Header, body []byte) (Event, error) {
	if !validHMAC(key, h.Get("X-Signature-256"), body) {
		return Event{}, ErrUnauthorized
	}
	ev := Event{Provider: Generic, Kind: "push"}
	if len(strings.TrimSpace(string(body))) == 0 {
		return ev, nil
	}
	var p struct {
		Ref   string `json:"ref"`
		After string `json:"after"`
	}
	if err := decode(h, body, &p); err != nil {
		return Event{}, err
	}
	ev.Ref, ev.After = p.Ref, p.After
	return ev, nil
}

// decode reads a JSON body; GitHub can also send it form-encoded as payload=….
func decode(h http.Header, body []byte, v any) error {
	if strings.HasPrefix(h.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return fmt.Errorf("%w: form-encoded payloads are not supported; set the webhook content type to application/json", ErrMalformed)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}
