package webhook_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/webhook"
)

// FuzzParseForwarded: the forward endpoint sees attacker-controlled headers
// and bodies. Properties: the parser never panics; it accepts a forward
// only when a replica holding the shared secret made it (a second secret
// never accepts what the first does) and only with a timestamp within
// ForwardMaxSkew of the receiver's clock.
func FuzzParseForwarded(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	req, err := webhook.NewForwardRequest("http://leader", key, webhook.Event{Provider: webhook.GitHub, Kind: "push", Ref: "refs/heads/main"}, now)
	if err != nil {
		f.Fatal(err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		f.Fatal(err)
	}
	sig := req.Header.Get(webhook.ForwardHeader)
	f.Add(sig, body, int64(0))
	f.Add(sig, body, int64(301))
	f.Add(" v1="+strings.SplitN(sig, "v1=", 2)[1]+", t=1800000000", body, int64(-299))
	f.Add("t=1800000000,v1=00", body, int64(0))
	f.Add("t=,v1=", []byte(`{}`), int64(0))
	f.Add("v1=zz,t=x", []byte(`null`), int64(-1))
	other := secret.New("another-replica-secret")
	f.Fuzz(func(t *testing.T, header string, body []byte, skew int64) {
		h := http.Header{}
		h.Set(webhook.ForwardHeader, header)
		at := now.Add(time.Duration(skew) * time.Second)
		if _, err := webhook.ParseForwarded(key, h, body, at); err != nil {
			return
		}
		if _, err := webhook.ParseForwarded(other, h, body, at); err == nil {
			t.Fatalf("a forward accepted with two different secrets: %q", header)
		}
		var ts string
		for _, part := range strings.Split(h.Get(webhook.ForwardHeader), ",") {
			if k, v, _ := strings.Cut(strings.TrimSpace(part), "="); k == "t" {
				ts = v
			}
		}
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			t.Fatalf("accepted a forward without a numeric timestamp: %q", header)
		}
		if d := at.Sub(time.Unix(sec, 0)); d > webhook.ForwardMaxSkew || d < -webhook.ForwardMaxSkew {
			t.Fatalf("accepted a forward %s away from the receiver's clock", d)
		}
	})
}
