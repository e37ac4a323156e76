package notify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetform/fleetform/secret"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

type captured struct {
	method, path string
	header       http.Header
	body         []byte
}

// fakeServer records requests and answers with the statuses given, then 201.
func fakeServer(t *testing.T, statuses ...int) (*httptest.Server, func() []captured) {
	t.Helper()
	var mu sync.Mutex
	var got []captured
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, captured{r.Method, r.URL.EscapedPath(), r.Header.Clone(), b})
		n := len(got)
		mu.Unlock()
		if n <= len(statuses) {
			w.WriteHeader(statuses[n-1])
			io.WriteString(w, `{"message":"nope"}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []captured { mu.Lock(); defer mu.Unlock(); return append([]captured(nil), got...) }
}

var fast = retryPolicy{attempts: 3, base: time.Millisecond}

func TestGitHub_CommitStatus(t *testing.T) {
	for _, tc := range []struct {
		result Result
		state  string
	}{{Applied, "success"}, {Failed, "error"}, {Blocked, "failure"}, {Pending, "pending"}} {
		t.Run(string(tc.result), func(t *testing.T) {
			srv, got := fakeServer(t)
			g := &GitHub{BaseURL: srv.URL, Repo: "acme/fleet-config", Token: secret.New("ghp_token"), retry: fast}
			err := g.Notify(t.Context(), Event{Revision: sha, Result: tc.result, Changes: Counts{Create: 1, Update: 2}, URL: "https://ff.example/status"})
			if err != nil {
				t.Fatal(err)
			}
			reqs := got()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			r := reqs[0]
			if r.method != "POST" || r.path != "/repos/acme/fleet-config/statuses/"+sha {
				t.Errorf("request %s %s", r.method, r.path)
			}
			if r.header.Get("Authorization") != "Bearer ghp_token" || r.header.Get("Accept") != "application/vnd.github+json" {
				t.Errorf("headers %v", r.header)
			}
			var body map[string]string
			json.Unmarshal(r.body, &body)
			if body["state"] != tc.state || body["context"] != "fleetform" || body["target_url"] != "https://ff.example/status" {
				t.Errorf("body %s", r.body)
			}
			if n := len([]rune(body["description"])); n == 0 || n > 140 {
				t.Errorf("description of %d runes: %q", n, body["description"])
			}
		})
	}
}

func TestGitLab_CommitStatus(t *testing.T) {
	srv, got := fakeServer(t)
	g := &GitLab{BaseURL: srv.URL, Project: "infra/fleet", Token: secret.New("glpat-x"), retry: fast}
	if err := g.Notify(t.Context(), Event{Revision: sha, Result: Failed, Message: "kibana main: 401"}); err != nil {
		t.Fatal(err)
	}
	r := got()[0]
	if r.path != "/api/v4/projects/infra%2Ffleet/statuses/"+sha || r.header.Get("PRIVATE-TOKEN") != "glpat-x" {
		t.Errorf("request %s %v", r.path, r.header)
	}
	var body map[string]string
	json.Unmarshal(r.body, &body)
	if body["state"] != "failed" || body["name"] != "fleetform" || !strings.Contains(body["description"], "kibana main: 401") {
		t.Errorf("body %s", r.body)
	}
}

func TestCommitStatus_SkipsNonCommitRevisions(t *testing.T) {
	srv, got := fakeServer(t)
	g := &GitHub{BaseURL: srv.URL, Repo: "a/b", Token: secret.New("t"), retry: fast}
	if err := g.Notify(t.Context(), Event{Revision: "dir:5f3a", Result: Applied}); err != nil {
		t.Fatal(err)
	}
	if n := len(got()); n != 0 {
		t.Errorf("a directory revision got %d commit status requests", n)
	}
}

func TestRetries(t *testing.T) {
	t.Run("5xx and 429 are retried", func(t *testing.T) {
		srv, got := fakeServer(t, 503, 429)
		g := &GitHub{BaseURL: srv.URL, Repo: "a/b", Token: secret.New("t"), retry: fast}
		if err := g.Notify(t.Context(), Event{Revision: sha, Result: Applied}); err != nil {
			t.Fatal(err)
		}
		if n := len(got()); n != 3 {
			t.Errorf("%d attempts, want 3", n)
		}
	})
	t.Run("4xx is final and the error names no token", func(t *testing.T) {
		srv, got := fakeServer(t, 401, 401, 401)
		g := &GitHub{BaseURL: srv.URL, Repo: "a/b", Token: secret.New("ghp_secret_value"), retry: fast}
		err := g.Notify(t.Context(), Event{Revision: sha, Result: Applied})
		if err == nil || !strings.Contains(err.Error(), "github commit status answered 401") || strings.Contains(err.Error(), "ghp_secret_value") {
			t.Errorf("err = %v", err)
		}
		if n := len(got()); n != 1 {
			t.Errorf("%d attempts for a 401, want 1", n)
		}
	})
	t.Run("gives up after its attempts", func(t *testing.T) {
		srv, got := fakeServer(t, 500, 500, 500, 500)
		g := &GitHub{BaseURL: srv.URL, Repo: "a/b", Token: secret.New("t"), retry: fast}
		if err := g.Notify(t.Context(), Event{Revision: sha, Result: Applied}); err == nil {
			t.Error("no error after every attempt failed")
		}
		if n := len(got()); n != 3 {
			t.Errorf("%d attempts, want 3", n)
		}
	})
}

func TestWebhook_SignedEvent(t *testing.T) {
	srv, got := fakeServer(t)
	key := secret.New("hook-signing-key")
	now := time.Unix(1_800_000_000, 0)
	w, err := NewWebhook(srv.URL+"/hook", key, false)
	if err != nil {
		t.Fatal(err)
	}
	w.Now, w.retry = func() time.Time { return now }, fast
	e := Event{Revision: sha, Result: Applied, Trigger: "webhook", Changes: Counts{Update: 1}, Time: now, Instance: "prod"}
	if err := w.Notify(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	r := got()[0]
	if err := Verify(key, r.header.Get(SignatureHeader), r.body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	if err := Verify(secret.New("other"), r.header.Get(SignatureHeader), r.body, now, 5*time.Minute); err == nil {
		t.Error("a signature verified under the wrong key")
	}
	if err := Verify(key, r.header.Get(SignatureHeader), r.body, now.Add(time.Hour), 5*time.Minute); err == nil {
		t.Error("an hour-old signature verified")
	}
	tampered := strings.Replace(string(r.body), `"update":1`, `"update":9`, 1)
	if err := Verify(key, r.header.Get(SignatureHeader), []byte(tampered), now, 5*time.Minute); err == nil {
		t.Error("a tampered body verified")
	}
	var back map[string]any
	if err := json.Unmarshal(r.body, &back); err != nil {
		t.Fatal(err)
	}
	if back["format_version"] != "1" || back["revision"] != sha || back["result"] != "applied" || back["trigger"] != "webhook" {
		t.Errorf("event JSON: %s", r.body)
	}
	if strings.Contains(string(r.body), "hook-signing-key") {
		t.Error("the signing key is in the body")
	}
}

func TestNewWebhook_Refusals(t *testing.T) {
	key := secret.New("k")
	for _, tc := range []struct {
		url       string
		key       secret.Value
		allowHTTP bool
		want      string
	}{
		{"http://hooks.example/x?token=abc", key, false, "uses plain http"},
		{"ftp://hooks.example/x", key, false, "scheme must be https or http"},
		{"hooks.example/x", key, false, "not an absolute URL"},
		{"https://hooks.example/x", secret.Value{}, false, "needs a signing secret"},
	} {
		_, err := NewWebhook(tc.url, tc.key, tc.allowHTTP)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "token=abc") {
			t.Errorf("%s: the error repeats the query: %v", tc.url, err)
		}
	}
	for _, ok := range []struct {
		url   string
		allow bool
	}{{"https://hooks.example/x", false}, {"http://127.0.0.1:9/x", false}, {"http://hooks.example/x", true}} {
		if _, err := NewWebhook(ok.url, key, ok.allow); err != nil {
			t.Errorf("%s: %v", ok.url, err)
		}
	}
}

func TestRepoFromURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/acme/fleet-config.git":      "acme/fleet-config",
		"https://github.com/acme/fleet-config":          "acme/fleet-config",
		"git@github.com:acme/fleet-config.git":          "acme/fleet-config",
		"ssh://git@gitlab.example/infra/fleet/conf.git": "infra/fleet/conf",
		"https://github.com/":                           "",
		"/srv/git/fleet":                                "",
	} {
		if got := RepoFromURL(in); got != want {
			t.Errorf("RepoFromURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMulti_JoinsErrors(t *testing.T) {
	ok, _ := fakeServer(t)
	bad, _ := fakeServer(t, 403)
	m := Multi{
		&GitHub{BaseURL: ok.URL, Repo: "a/b", Token: secret.New("t"), retry: fast},
		&GitLab{BaseURL: bad.URL, Project: "1", Token: secret.New("t"), retry: fast},
	}
	err := m.Notify(t.Context(), Event{Revision: sha, Result: Applied})
	if err == nil || err.Error() != `gitlab commit status answered 403: {"message":"nope"}` {
		t.Errorf("err = %v", err)
	}
}

func TestSummary(t *testing.T) {
	for _, tc := range []struct {
		e    Event
		want string
	}{
		{Event{Result: Applied}, "Fleet matches this revision (no changes)"},
		{Event{Result: Applied, Changes: Counts{Create: 1, Update: 2}}, "applied: 1 created, 2 updated, 0 deleted"},
		{Event{Result: Failed, Message: "invalid revision: outputs.yaml:4:5: unknown key"}, "failed: invalid revision: outputs.yaml:4:5: unknown key"},
		{Event{Result: Blocked, Changes: Counts{Blocked: 2}, Message: "output o3: type cannot change"}, "2 changes blocked: output o3: type cannot change"},
		{Event{Result: Pending, Changes: Counts{Update: 3}, Message: "not applied: suspended"}, "0 to create, 3 to update, 0 to delete: not applied: suspended"},
		{Event{Result: Pending}, "fleetform is reconciling this revision"},
		{Event{Result: Failed, Message: strings.Repeat("é", 200)}, "failed: " + strings.Repeat("é", 131) + "…"},
	} {
		if got := summary(tc.e, 140); got != tc.want {
			t.Errorf("summary(%+v) = %q, want %q", tc.e, got, tc.want)
		}
	}
}
