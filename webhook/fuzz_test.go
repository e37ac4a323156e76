package webhook_test

import (
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/webhook"
)

// The parsers see attacker-controlled headers and bodies. Properties: they
// never panic; they accept only a correct signature or token; every event
// they return for a push carries the provider.

func FuzzParseGitHub(f *testing.F) {
	push := mustRead(f, "testdata/github-push.json")
	f.Add("push", webhook.SignatureHeader(key, push), push)
	f.Add("ping", webhook.SignatureHeader(key, []byte(`{}`)), []byte(`{}`))
	f.Add("push", "sha256=zz", []byte(`{"ref":1}`))
	f.Add("push", webhook.SignatureHeader(key, []byte(`{"ref":""}`)), []byte(`{"ref":""}`))
	f.Fuzz(func(t *testing.T, event, sig string, body []byte) {
		h := http.Header{}
		h.Set("X-GitHub-Event", event)
		h.Set("X-Hub-Signature-256", sig)
		ev, err := webhook.ParseGitHub(key, h, body)
		if errors.Is(err, webhook.ErrUnauthorized) {
			return
		}
		checkSigned(t, key, sig, body)
		if err == nil && ev.Provider != webhook.GitHub {
			t.Fatalf("provider = %q", ev.Provider)
		}
		if err == nil && ev.Kind == "push" && ev.Ref == "" {
			t.Fatal("push event without ref")
		}
	})
}

func FuzzParseGitLab(f *testing.F) {
	push := mustRead(f, "testdata/gitlab-push.json")
	f.Add("Push Hook", key.Reveal(), push)
	f.Add("Tag Push Hook", key.Reveal(), []byte(`{"object_kind":"tag_push","ref":"refs/tags/v1"}`))
	f.Add("Push Hook", "nope", push)
	f.Add("Note Hook", key.Reveal(), []byte(`null`))
	f.Fuzz(func(t *testing.T, event, token string, body []byte) {
		h := http.Header{}
		h.Set("X-Gitlab-Event", event)
		h.Set("X-Gitlab-Token", token)
		ev, err := webhook.ParseGitLab(key, h, body)
		if errors.Is(err, webhook.ErrUnauthorized) {
			return
		}
		if h.Get("X-Gitlab-Token") != key.Reveal() {
			t.Fatalf("accepted token %q", token)
		}
		if err == nil && ev.Kind == "push" && ev.Ref == "" {
			t.Fatal("push event without ref")
		}
	})
}

func FuzzParseGeneric(f *testing.F) {
	f.Add(webhook.SignatureHeader(key, nil), []byte(nil))
	f.Add(webhook.SignatureHeader(key, []byte(`{"ref":"refs/heads/main"}`)), []byte(`{"ref":"refs/heads/main"}`))
	f.Add("sha256=", []byte(`[]`))
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		h := http.Header{}
		h.Set("X-Signature-256", sig)
		ev, err := webhook.ParseGeneric(key, h, body)
		if errors.Is(err, webhook.ErrUnauthorized) {
			return
		}
		checkSigned(t, key, sig, body)
		if err == nil && ev.Kind != "push" {
			t.Fatalf("kind = %q", ev.Kind)
		}
	})
}

// checkSigned fails t unless sig (as the header would carry it) is the
// HMAC of body: a parser that got past authentication must have seen one.
func checkSigned(t *testing.T, key secret.Value, sig string, body []byte) {
	t.Helper()
	h := http.Header{}
	h.Set("X", sig)
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(h.Get("X")), "sha256=")
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil || !hmac.Equal(got, webhook.Sign(key, body)) {
		t.Fatalf("accepted signature %q for body %q", sig, body)
	}
}
