package webhook_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/webhook"
)

var key = secret.New("webhook-shared-secret")

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type recorder struct {
	mu     sync.Mutex
	events []webhook.Event
}

func (r *recorder) trigger(ev webhook.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func TestReceivers(t *testing.T) {
	ghPush := mustRead(t, "testdata/github-push.json")
	glPush := mustRead(t, "testdata/gitlab-push.json")
	devPush := bytes.Replace(ghPush, []byte(`"refs/heads/main"`), []byte(`"refs/heads/dev"`), 1)
	big := append(bytes.Repeat([]byte(" "), 2048), ghPush...)
	sig := func(b []byte) string { return webhook.SignatureHeader(key, b) }
	wrong := webhook.SignatureHeader(secret.New("other"), ghPush)

	tests := []struct {
		name       string
		provider   webhook.Provider
		method     string
		headers    map[string]string
		body       []byte
		wantStatus int
		wantEvents []webhook.Event
	}{
		{"github push to tracked branch", webhook.GitHub, "POST", map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "d1", "X-Hub-Signature-256": sig(ghPush)}, ghPush,
			http.StatusAccepted, []webhook.Event{{Provider: "github", Kind: "push", Ref: "refs/heads/main", After: "6dcb09b5b57875f334f61aebed695e2e4193db5e", Repo: "acme/fleet-config", Delivery: "d1"}}},
		{"github push to another branch", webhook.GitHub, "POST", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sig(devPush)}, devPush, http.StatusOK, nil},
		{"github ping", webhook.GitHub, "POST", map[string]string{"X-GitHub-Event": "ping", "X-Hub-Signature-256": sig([]byte(`{"zen":"x"}`))}, []byte(`{"zen":"x"}`), http.StatusOK, nil},
		{"github wrong signature", webhook.GitHub, "POST", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": wrong}, ghPush, http.StatusUnauthorized, nil},
		{"github missing signature", webhook.GitHub, "POST", map[string]string{"X-GitHub-Event": "push"}, ghPush, http.StatusUnauthorized, nil},
		{"github sha1 signature only", webhook.GitHub, "POST", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature": "sha1=00"}, ghPush, http.StatusUnauthorized, nil},
		{"github too large", webhook.GitHub, "POST", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sig(big)}, big, http.StatusRequestEntityTooLarge, nil},
		{"github GET", webhook.GitHub, "GET", nil, nil, http.StatusMethodNotAllowed, nil},
		{"github signed garbage", webhook.GitHub, "POST", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sig([]byte("{"))}, []byte("{"), http.StatusBadRequest, nil},
		{"gitlab push", webhook.GitLab, "POST", map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": key.Reveal()}, glPush,
			http.StatusAccepted, []webhook.Event{{Provider: "gitlab", Kind: "push", Ref: "refs/heads/main", After: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", Repo: "acme/fleet-config"}}},
		{"gitlab wrong token", webhook.GitLab, "POST", map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "webhook-shared-secreT"}, glPush, http.StatusUnauthorized, nil},
		{"gitlab merge request", webhook.GitLab, "POST", map[string]string{"X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Token": key.Reveal()}, []byte(`{"object_kind":"merge_request"}`), http.StatusOK, nil},
		{"generic empty body", webhook.Generic, "POST", map[string]string{"X-Signature-256": sig(nil)}, nil, http.StatusAccepted, []webhook.Event{{Provider: "generic", Kind: "push"}}},
		{"generic other ref", webhook.Generic, "POST", map[string]string{"X-Signature-256": sig([]byte(`{"ref":"refs/heads/x"}`))}, []byte(`{"ref":"refs/heads/x"}`), http.StatusOK, nil},
		{"generic unsigned", webhook.Generic, "POST", nil, nil, http.StatusUnauthorized, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			h, err := webhook.Handler(tt.provider, webhook.Config{Secret: key, Ref: "refs/heads/main", MaxBodyBytes: 1024}, rec.trigger)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(tt.method, "/webhook/"+string(tt.provider), bytes.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", w.Code, tt.wantStatus, w.Body)
			}
			if d := cmp.Diff(tt.wantEvents, rec.events); d != "" {
				t.Errorf("triggered events (-want +got):\n%s", d)
			}
			if strings.Contains(w.Body.String(), key.Reveal()) {
				t.Errorf("response leaks the secret: %s", w.Body)
			}
		})
	}
}

func TestHandlerNeedsASecret(t *testing.T) {
	if _, err := webhook.Handler(webhook.GitHub, webhook.Config{}, func(webhook.Event) {}); err == nil {
		t.Fatal("Handler without a secret succeeded")
	}
	if _, err := webhook.Handler("bitbucket", webhook.Config{Secret: key}, func(webhook.Event) {}); err == nil {
		t.Fatal("Handler for an unknown provider succeeded")
	}
}

// mustNotRead fails the test if the handler reads the body.
type mustNotRead struct{ t *testing.T }

func (m mustNotRead) Read([]byte) (int, error) {
	m.t.Error("the body of an unsigned request was read")
	return 0, io.EOF
}

func TestUnsignedRequestsAreRefusedBeforeTheBodyIsRead(t *testing.T) {
	for _, p := range []webhook.Provider{webhook.GitHub, webhook.GitLab, webhook.Generic} {
		t.Run(string(p), func(t *testing.T) {
			var rec recorder
			h, err := webhook.Handler(p, webhook.Config{Secret: key}, rec.trigger)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("POST", "/webhook/"+string(p), mustNotRead{t})
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-Gitlab-Event", "Push Hook")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusUnauthorized || len(rec.events) != 0 {
				t.Errorf("status %d, events %v; want 401 and none", w.Code, rec.events)
			}
		})
	}
}

func TestEqualToken(t *testing.T) {
	for _, tt := range []struct {
		got  string
		want bool
	}{{key.Reveal(), true}, {"", false}, {"webhook-shared-secreT", false}, {key.Reveal() + "x", false}, {"w", false}} {
		if ok := webhook.EqualToken(tt.got, key); ok != tt.want {
			t.Errorf("EqualToken(%q) = %v, want %v", tt.got, ok, tt.want)
		}
	}
}
