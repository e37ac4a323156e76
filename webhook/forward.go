package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fleetform/fleetform/secret"
)

// Forwarding: a standby replica that received a verified webhook hands it to
// the lease holder at /webhook/forwarded. The request carries the event and
// a signature, never the webhook secret: the key is derived from the secret
// (HMAC-SHA256 of a fixed label), the signature covers a timestamp and the
// body, and the leader verifies it with the same derivation. Whoever can
// redirect the forward (by writing the lease document's address) learns
// neither the secret nor a token that would let them sign anything.

// Forwarded is the receiver's name (mounted at /webhook/forwarded).
const Forwarded Provider = "forwarded"

// ForwardHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256>".
const ForwardHeader = "X-Fleetform-Forward-Signature"

// ForwardMaxSkew is how far a forward's timestamp may be from the leader's
// clock. A replay inside it can only cause one more turn.
const ForwardMaxSkew = 5 * time.Minute

func forwardKey(s secret.Value) []byte {
	m := hmac.New(sha256.New, []byte(s.Reveal()))
	m.Write([]byte("fleetform webhook forwarding v1"))
	return m.Sum(nil)
}

func forwardMAC(s secret.Value, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, forwardKey(s))
	m.Write([]byte(ts))
	m.Write([]byte{'\n'})
	m.Write(body)
	return m.Sum(nil)
}

// NewForwardRequest builds the POST that hands ev to the leader at base
// (its advertised URL), signed with a key derived from s.
func NewForwardRequest(base string, s secret.Value, ev Event, now time.Time) (*http.Request, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(base, "/")+"/webhook/"+string(Forwarded), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(ForwardHeader, "t="+ts+",v1="+hex.EncodeToString(forwardMAC(s, ts, body)))
	return req, nil
}

// ErrBadForward is a forward whose signature or timestamp does not verify.
var ErrBadForward = errors.New("forwarded webhook: bad signature")

// ParseForwarded verifies a forwarded webhook and returns its event.
func ParseForwarded(s secret.Value, h http.Header, body []byte, now time.Time) (Event, error) {
	var ts, sig string
	for _, part := range strings.Split(h.Get(ForwardHeader), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	got, err := hex.DecodeString(sig)
	if ts == "" || err != nil || !hmac.Equal(got, forwardMAC(s, ts, body)) {
		return Event{}, ErrBadForward
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return Event{}, ErrBadForward
	}
	if d := now.Sub(time.Unix(sec, 0)); d > ForwardMaxSkew || d < -ForwardMaxSkew {
		return Event{}, fmt.Errorf("%w: timestamp %s is %s away from this replica's clock", ErrBadForward, ts, d.Round(time.Second))
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return Event{}, fmt.Errorf("forwarded webhook: %w", err)
	}
	return ev, nil
}

// ForwardedHandler receives forwards from standby replicas (see
// NewForwardRequest) and calls trigger with the event.
func ForwardedHandler(s secret.Value, log *slog.Logger, trigger func(Event)) (http.Handler, error) {
	if s.IsZero() {
		return nil, errors.New("webhook: a secret is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			reply(w, http.StatusMethodNotAllowed, "POST only")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, DefaultMaxBodyBytes))
		if err != nil {
			reply(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		ev, err := ParseForwarded(s, r.Header, body, time.Now())
		if err != nil {
			log.Warn("forwarded webhook rejected", "remote", r.RemoteAddr, "err", err)
			reply(w, http.StatusUnauthorized, "bad signature")
			return
		}
		trigger(ev)
		reply(w, http.StatusAccepted, "reconcile triggered")
	}), nil
}
