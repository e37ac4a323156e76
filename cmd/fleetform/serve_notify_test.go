package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/notify"
	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/source/gittest"
)

// hit is one request a fake GitHub, GitLab or webhook receiver got.
type hit struct {
	path   string
	header http.Header
	body   []byte
}

// fakeReceiver records the requests it gets and answers 201.
type fakeReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	hits []hit
}

func newReceiver(t *testing.T) *fakeReceiver {
	t.Helper()
	r := &fakeReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.hits = append(r.hits, hit{req.URL.EscapedPath(), req.Header.Clone(), b})
		r.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *fakeReceiver) got() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

func parseServeFlags(t *testing.T, args ...string) serveConfig {
	t.Helper()
	var cfg serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.bindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func writeSecretFile(t *testing.T, name, value string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Issue 11 #7, end to end: serve follows a Git repository, applies to
// fleetsim, and on each revision applied or invalid sets a commit status
// on a fake GitHub or GitLab (path, token header, state) and POSTs a
// signed event to a fake receiver (HMAC verified). Idle turns send nothing.
func TestServeNotifiesCommitStatusAndWebhook(t *testing.T) {
	for _, provider := range []string{"github", "gitlab"} {
		t.Run(provider, func(t *testing.T) {
			sim := fleetsim.StartTest(t, fleetsim.Options{})
			t.Setenv("FLEETFORM_TEST_KB_PW", "changeme")
			t.Setenv("FLEETFORM_TEST_ES_PW", "changeme")
			t.Setenv("FLEETFORM_TEST_GIT_PW", "git-http-password")
			t.Setenv("FLEETFORM_TEST_STATUS_TOKEN", "glpat-status-token")
			repo := gittest.NewRepo(t)
			clusters := fmt.Sprintf(serveClustersYAML, sim.Cluster("main").KibanaURL(), sim.Cluster("main").ESURL())
			v1 := repo.Commit("main", "v1", map[string]string{"fleet/clusters.yaml": clusters, "fleet/outputs.yaml": serveOutputYAML("o1")})
			url := repo.ServeHTTP("fleetform", "git-http-password")

			forge, hook := newReceiver(t), newReceiver(t)
			key := "event-signing-key"
			args := []string{"--repo", url, "--path", "fleet", "--git-username", "fleetform", "--git-password-env", "FLEETFORM_TEST_GIT_PW",
				"--interval", "1h", "--instance", "edge", "--advertise-url", "https://fleetform.example/",
				"--commit-status", provider, "--commit-status-url", forge.URL,
				"--notify-url", hook.URL + "/events", "--notify-secret-file", writeSecretFile(t, "notify-key", key)}
			if provider == "github" {
				args = append(args, "--commit-status-repo", "acme/fleet-config", "--commit-status-token-file", writeSecretFile(t, "gh-token", "ghp_status_token"))
			} else {
				args = append(args, "--commit-status-repo", "infra/fleet", "--commit-status-token-env", "FLEETFORM_TEST_STATUS_TOKEN")
			}
			cfg := parseServeFlags(t, args...)
			cfg.LogFormat = "json"
			rec := newEngineReconciler(ReconcilerOptions{Instance: "edge", LockWait: time.Minute})
			d := startServe(t, cfg, rec)

			checkStatus := func(i int, rev, wantState, wantDesc string) {
				t.Helper()
				waitUntil(t, fmt.Sprintf("commit status %d", i+1), func() bool { return len(forge.got()) > i })
				h := forge.got()[i]
				var body map[string]string
				if err := json.Unmarshal(h.body, &body); err != nil {
					t.Fatalf("status body: %v", err)
				}
				switch provider {
				case "github":
					if h.path != "/repos/acme/fleet-config/statuses/"+rev || h.header.Get("Authorization") != "Bearer ghp_status_token" {
						t.Errorf("github request %s %v", h.path, h.header)
					}
					if body["context"] != "fleetform" {
						t.Errorf("context %q", body["context"])
					}
				case "gitlab":
					if h.path != "/api/v4/projects/infra%2Ffleet/statuses/"+rev || h.header.Get("PRIVATE-TOKEN") != "glpat-status-token" {
						t.Errorf("gitlab request %s %v", h.path, h.header)
					}
					if body["name"] != "fleetform" {
						t.Errorf("name %q", body["name"])
					}
				}
				if body["state"] != wantState || !strings.Contains(body["description"], wantDesc) || body["target_url"] != "https://fleetform.example/" {
					t.Errorf("status %d: %s, want state %s and a description with %q", i+1, h.body, wantState, wantDesc)
				}
			}
			checkEvent := func(i int, rev string, want notify.Result, trigger string) notify.Event {
				t.Helper()
				waitUntil(t, fmt.Sprintf("event %d", i+1), func() bool { return len(hook.got()) > i })
				h := hook.got()[i]
				if h.path != "/events" || h.header.Get("Content-Type") != "application/json" {
					t.Errorf("event request %s %v", h.path, h.header)
				}
				if err := notify.Verify(secret.New(key), h.header.Get(notify.SignatureHeader), h.body, time.Now(), time.Minute); err != nil {
					t.Errorf("event %d: signature: %v", i+1, err)
				}
				var e notify.Event
				if err := json.Unmarshal(h.body, &e); err != nil {
					t.Fatal(err)
				}
				if e.FormatVersion != "1" || e.Revision != rev || e.Result != want || e.Trigger != trigger || e.Instance != "edge" || e.URL != "https://fleetform.example/" {
					t.Errorf("event %d: %s, want %s %s by %s", i+1, h.body, rev, want, trigger)
				}
				return e
			}
			successState, failState := "success", "error"
			if provider == "gitlab" {
				failState = "failed"
			}

			// v1 is applied at start-up.
			checkStatus(0, v1, successState, "applied: 1 created, 0 updated, 0 deleted")
			if e := checkEvent(0, v1, notify.Applied, "startup"); e.Changes.Create != 1 {
				t.Errorf("event changes %+v, want 1 create", e.Changes)
			}

			// An invalid push gets a failed status; the last good revision stays.
			v2 := repo.Commit("main", "v2", map[string]string{"fleet/outputs.yaml": "outputs:\n  - id: o1\n    name: o1\n    type: elasticsearch\n    hostz: [https://x.example:9200]\n"})
			d.githubPush(t, "refs/heads/main", v2)
			checkStatus(1, v2, failState, "invalid revision")
			checkEvent(1, v2, notify.Failed, "webhook")

			// A fix is applied: one update.
			v3 := repo.Commit("main", "v3", map[string]string{"fleet/outputs.yaml": strings.Replace(serveOutputYAML("o1"), "https://o1.example:9200", "https://o1-new.example:9200", 1)})
			d.githubPush(t, "refs/heads/main", v3)
			checkStatus(2, v3, successState, "applied: 0 created, 1 updated, 0 deleted")
			checkEvent(2, v3, notify.Applied, "webhook")

			// An idle turn sends nothing; a change made in Kibana is drift,
			// corrected without a new notification (v3's result is unchanged).
			turn := func(n int) {
				t.Helper()
				req, _ := http.NewRequest("POST", d.base+"/reconcile", nil)
				req.Header.Set("Authorization", "Bearer "+d.secret.Reveal())
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					t.Fatalf("POST /reconcile = %d", resp.StatusCode)
				}
				waitUntil(t, "the api turn", func() bool { return d.status(t).Turns >= n })
			}
			turn(4)
			if _, m := d.get(t, "/metrics"); !strings.Contains(m, "fleetform_drift_detected_total 0") ||
				!strings.Contains(m, `fleetform_changes_pending{action="update",kind="output"} 0`) || !strings.Contains(m, "fleetform_leader 1") {
				t.Errorf("metrics after v3: drift, pending or leader wrong:\n%s", grepLines(m, "fleetform_drift", "fleetform_changes_pending", "fleetform_leader "))
			}
			outside, _ := http.NewRequest("PUT", sim.Cluster("main").KibanaURL()+"/api/fleet/outputs/o1",
				strings.NewReader(`{"name":"o1","type":"elasticsearch","hosts":["https://changed-in-kibana.example:9200"]}`))
			outside.SetBasicAuth("elastic", "changeme")
			outside.Header.Set("kbn-xsrf", "true")
			outside.Header.Set("Content-Type", "application/json")
			if resp, err := http.DefaultClient.Do(outside); err != nil || resp.StatusCode != 200 {
				t.Fatalf("change in Kibana: %v %v", resp, err)
			}
			turn(5)
			if _, m := d.get(t, "/metrics"); !strings.Contains(m, "fleetform_drift_detected_total 1") ||
				!strings.Contains(m, `fleetform_changes_pending{action="update",kind="output"} 0`) {
				t.Errorf("metrics after a change in Kibana:\n%s", grepLines(m, "fleetform_drift", "fleetform_changes_pending"))
			}
			st := d.status(t)
			d.stop() // delivery of anything queued ends with serve
			if n, m := len(forge.got()), len(hook.got()); n != 3 || m != 3 {
				t.Errorf("%d statuses and %d events, want 3 of each: an idle turn notifies nothing", n, m)
			}

			// /status shows the diff of v3's change and the history.
			if st.LastChange == nil || st.LastChange.Revision != v3 || st.LastChange.Plan == nil || !st.LastChange.Drift {
				t.Fatalf("last change %+v, want the drift corrected on v3", st.LastChange)
			}
			var fields []string
			for _, c := range st.LastChange.Plan.Changes {
				for _, f := range c.Fields {
					fields = append(fields, fmt.Sprintf("%s %s.%s %v -> %v", c.Action, c.ID, f.Path, f.Before, f.After))
				}
			}
			if got := strings.Join(fields, "; "); !strings.Contains(got, "update o1.hosts [https://changed-in-kibana.example:9200] -> [https://o1-new.example:9200]") {
				t.Errorf("last change fields: %s", got)
			}
			var results []string
			for _, h := range st.History {
				results = append(results, h.Trigger+":"+h.Result)
			}
			if got := strings.Join(results, " "); got != "api:applied api:in-sync webhook:applied webhook:failed startup:applied" || !st.History[0].Drift {
				t.Errorf("history %s", got)
			}
		})
	}
}

// The notification flags are checked together at start-up; each mistake
// gets one message naming the flag.
func TestNotifyFlags(t *testing.T) {
	tok := writeSecretFile(t, "token", "ghp_x")
	key := writeSecretFile(t, "key", "k")
	empty := writeSecretFile(t, "empty", "")
	tests := []struct {
		args    []string
		repo    string
		want    string // error substring; "" for success
		targets string // the notifiers' names
	}{
		{args: nil, repo: "https://github.com/acme/fleet.git", targets: ""},
		{args: []string{"--commit-status", "github", "--commit-status-token-file", tok}, repo: "git@github.com:acme/fleet.git", targets: "github commit status"},
		{args: []string{"--commit-status", "gitlab", "--commit-status-token-file", tok}, repo: "https://gitlab.example/infra/fleet.git", targets: "gitlab commit status"},
		{args: []string{"--commit-status", "github", "--commit-status-token-file", tok, "--notify-url", "https://hooks.example/x", "--notify-secret-file", key},
			repo: "https://github.com/acme/fleet", targets: "github commit status, notify webhook"},
		{args: []string{"--commit-status", "bitbucket", "--commit-status-token-file", tok}, repo: "https://github.com/acme/fleet", want: `--commit-status "bitbucket": want github or gitlab`},
		{args: []string{"--commit-status", "github"}, repo: "https://github.com/acme/fleet", want: "--commit-status github needs a token"},
		{args: []string{"--commit-status", "github", "--commit-status-token-file", tok, "--commit-status-token-env", "X"}, want: "exclude each other"},
		{args: []string{"--commit-status", "github", "--commit-status-token-env", "FLEETFORM_TEST_UNSET_TOKEN"}, repo: "https://github.com/acme/fleet", want: "environment variable FLEETFORM_TEST_UNSET_TOKEN is not set"},
		{args: []string{"--commit-status", "github", "--commit-status-token-file", empty}, repo: "https://github.com/acme/fleet", want: "file is empty"},
		{args: []string{"--commit-status", "github", "--commit-status-token-file", tok}, repo: "", want: "--commit-status needs --repo"},
		{args: []string{"--commit-status", "github", "--commit-status-token-file", tok}, repo: "https://user:s3cret@git.example/fleet.git", want: "cannot tell the repository from --repo https://git.example/fleet.git"},
		{args: []string{"--commit-status", "github", "--commit-status-token-file", tok, "--commit-status-repo", "infra/fleet/conf"}, want: `"infra/fleet/conf" is not owner/name`},
		{args: []string{"--commit-status-token-file", tok}, want: "need --commit-status github|gitlab"},
		{args: []string{"--notify-url", "https://hooks.example/x"}, want: "--notify-url needs --notify-secret-file"},
		{args: []string{"--notify-secret-file", key}, want: "need --notify-url"},
		{args: []string{"--notify-url", "http://hooks.example/x", "--notify-secret-file", key}, want: "uses plain http"},
		{args: []string{"--notify-url", "http://hooks.example/x", "--notify-secret-file", key, "--notify-allow-http"}, targets: "notify webhook"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			cfg := parseServeFlags(t, tt.args...)
			n, err := cfg.Notifier(tt.repo)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "ghp_x") {
					t.Errorf("the error reveals a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			switch n := n.(type) {
			case nil:
			case notify.Multi:
				for _, x := range n {
					names = append(names, x.Name())
				}
			default:
				names = append(names, n.Name())
			}
			if got := strings.Join(names, ", "); got != tt.targets {
				t.Errorf("notifiers %q, want %q", got, tt.targets)
			}
		})
	}
}

// --commit-status-repo defaults to the repository --repo names: a status
// for git@github.com:acme/fleet.git goes to /repos/acme/fleet/statuses/….
func TestCommitStatusRepoFromRepoURL(t *testing.T) {
	forge := newReceiver(t)
	tokenFile := writeSecretFile(t, "token", "ghp_y")
	cfg := parseServeFlags(t, "--commit-status", "github", "--commit-status-url", forge.URL,
		"--commit-status-token-file", tokenFile)
	n, err := cfg.Notifier("git@github.com:acme/fleet.git")
	if err != nil {
		t.Fatal(err)
	}
	rev := strings.Repeat("ab", 20)
	if err := n.Notify(t.Context(), notify.Event{Revision: rev, Result: notify.Applied}); err != nil {
		t.Fatal(err)
	}
	if h := forge.got(); len(h) != 1 || h[0].path != "/repos/acme/fleet/statuses/"+rev || h[0].header.Get("Authorization") != "Bearer ghp_y" {
		t.Errorf("requests %+v", h)
	}
	// A rotated token file is read for the next status.
	if err := os.WriteFile(tokenFile, []byte("ghp_rotated\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(t.Context(), notify.Event{Revision: rev, Result: notify.Failed}); err != nil {
		t.Fatal(err)
	}
	if h := forge.got(); len(h) != 2 || h[1].header.Get("Authorization") != "Bearer ghp_rotated" {
		t.Errorf("after rotation: %+v", h[len(h)-1].header)
	}
}

// grepLines keeps the lines of s that start with one of the prefixes.
func grepLines(s string, prefixes ...string) string {
	var out []string
	for line := range strings.Lines(s) {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) {
				out = append(out, strings.TrimSpace(line))
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
