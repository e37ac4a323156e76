package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetform/fleetform/daemon"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/source/gittest"
	"github.com/fleetform/fleetform/webhook"
)

const serveClustersYAML = `clusters:
  main:
    kibana: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_KB_PW}}}}
    elasticsearch: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_ES_PW}}}}
`

func serveOutputYAML(id string) string {
	return fmt.Sprintf("outputs:\n  - id: %s\n    name: %s\n    type: elasticsearch\n    hosts: [https://%s.example:9200]\n", id, id, id)
}

// recordingReconciler records the revisions it is asked to reconcile and
// announces each on a channel.
type recordingReconciler struct {
	mu   sync.Mutex
	revs []string
	seen chan string
}

func newRecording() *recordingReconciler { return &recordingReconciler{seen: make(chan string, 1024)} }

func (r *recordingReconciler) Reconcile(ctx context.Context, doc *schema.Document, rev string, apply bool) (daemon.Outcome, error) {
	r.mu.Lock()
	r.revs = append(r.revs, rev)
	r.mu.Unlock()
	r.seen <- rev
	return daemon.Outcome{Planned: []daemon.ChangeCount{{Kind: "output", Action: "update", Count: len(doc.Outputs)}},
		Applied: []daemon.ChangeCount{{Kind: "output", Action: "update", Count: len(doc.Outputs)}}, Drift: true}, nil
}

// waitFor reads revisions until want arrives; anything else must be an
// earlier revision being reconciled again.
func waitFor(t testing.TB, seen <-chan string, want string, allowed ...string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case got := <-seen:
			if got == want {
				return
			}
			ok := false
			for _, a := range allowed {
				ok = ok || a == got
			}
			if !ok {
				t.Fatalf("reconciled %s while waiting for %s", got, want)
			}
		case <-timeout:
			t.Fatalf("revision %s not reconciled within 30s", want)
		}
	}
}

type daemonUnderTest struct {
	base   string
	secret secret.Value
	stop   func()
	logs   *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the daemon's concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startServe(t testing.TB, cfg serveConfig, rec daemon.Reconciler) *daemonUnderTest {
	t.Helper()
	dir := t.TempDir()
	key := secret.New("push-hook-secret")
	cfg.WebhookSecretFile = filepath.Join(dir, "webhook-secret")
	if err := os.WriteFile(cfg.WebhookSecretFile, []byte(key.Reveal()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	if cfg.Loop.Interval == 0 {
		cfg.Loop = daemon.DefaultConfig()
		cfg.Loop.Interval = time.Hour // only pokes trigger turns
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	mk := func(context.Context, ReconcilerOptions) (daemon.Reconciler, error) { return rec, nil }
	logs := &syncBuffer{}
	go func() {
		done <- serve(ctx, cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), mk, func(a string) { addr <- a })
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	d := &daemonUnderTest{base: base, secret: key, logs: logs}
	d.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	t.Cleanup(d.stop)
	return d
}

func (d *daemonUnderTest) githubPush(t testing.TB, ref, after string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"ref": ref, "after": after, "repository": map[string]string{"full_name": "acme/fleet"}})
	req, _ := http.NewRequest("POST", d.base+"/webhook/github", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", webhook.SignatureHeader(d.secret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (d *daemonUnderTest) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(d.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (d *daemonUnderTest) status(t testing.TB) daemon.Status {
	t.Helper()
	_, body := d.get(t, "/status")
	var st daemon.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("/status: %v\n%s", err, body)
	}
	return st
}

// A real `git push` to a bare repository served by git http-backend (Basic
// auth), then a GitHub webhook: the daemon reconciles exactly the pushed
// revision; an invalid push keeps the last good one; pushes to other
// branches and bad signatures do nothing. No --branch is given: the daemon
// follows the repository's default branch and webhooks filter on it.
func TestServeGitPushWebhookReconciles(t *testing.T) {
	repo := gittest.NewRepo(t)
	clusters := fmt.Sprintf(serveClustersYAML, "http://127.0.0.1:5601", "http://127.0.0.1:9200")
	v1 := repo.Commit("main", "v1", map[string]string{"fleet/clusters.yaml": clusters, "fleet/outputs.yaml": serveOutputYAML("o1")})
	url := repo.ServeHTTP("fleetform", "git-http-password")
	t.Setenv("FLEETFORM_TEST_GIT_PW", "git-http-password")
	rec := newRecording()
	d := startServe(t, serveConfig{Repo: url, Path: "fleet", GitUsername: "fleetform", GitPasswordEnv: "FLEETFORM_TEST_GIT_PW", LogFormat: "json"}, rec)

	if code, _ := d.get(t, "/readyz"); code != 503 && len(rec.seen) == 0 {
		t.Errorf("/readyz before the first reconcile = %d, want 503", code)
	}
	waitFor(t, rec.seen, v1)
	waitUntil(t, "/readyz 200 after the first reconcile", func() bool { code, _ := d.get(t, "/readyz"); return code == 200 })

	v2 := repo.Commit("main", "route o2", map[string]string{"fleet/outputs.yaml": serveOutputYAML("o2")})
	if code := d.githubPush(t, "refs/heads/main", v2); code != http.StatusAccepted {
		t.Fatalf("webhook = %d, want 202", code)
	}
	waitFor(t, rec.seen, v2, v1)

	// A push to another branch is acknowledged and ignored.
	repo.Commit("dev", "dev work", map[string]string{"fleet/outputs.yaml": serveOutputYAML("dev")})
	if code := d.githubPush(t, "refs/heads/dev", "x"); code != http.StatusOK {
		t.Errorf("webhook for dev = %d, want 200", code)
	}
	// A forged webhook is refused.
	req, _ := http.NewRequest("POST", d.base+"/webhook/github", strings.NewReader(`{"ref":"refs/heads/main"}`))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged webhook = %d, want 401", resp.StatusCode)
	}

	v3 := repo.Commit("main", "typo", map[string]string{"fleet/outputs.yaml": "outputs:\n  - id: o3\n    nmae: o3\n"})
	if code := d.githubPush(t, "refs/heads/main", v3); code != http.StatusAccepted {
		t.Fatalf("webhook = %d, want 202", code)
	}
	waitFor(t, rec.seen, v2) // the last good revision, again
	// Reconcile has returned; wait for the turn to be recorded.
	var st daemon.Status
	waitUntil(t, "third turn recorded", func() bool { st = d.status(t); return st.Turns >= 3 })
	if st.Invalid == nil || st.Invalid.Revision != v3 || st.Revision != v2 || st.AppliedRevision != v2 || st.Head != v3 {
		t.Errorf("status after an invalid push = %+v", st)
	}
	if !strings.Contains(st.LastError, "fleet/outputs.yaml:3:5") {
		t.Errorf("last_error should locate the problem: %q", st.LastError)
	}
	_, metrics := d.get(t, "/metrics")
	for _, want := range []string{
		`fleetform_last_applied_revision_info{revision="` + v2 + `"} 1`,
		`fleetform_invalid_revision 1`,
		`fleetform_triggers_total{trigger="webhook"} 2`,
		`fleetform_changes_applied_total{action="update",kind="output"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics missing %s", want)
		}
	}
	_, status := d.get(t, "/status")
	_, page := d.get(t, "/")
	d.stop()
	for _, leak := range []string{"git-http-password", d.secret.Reveal()} {
		for what, text := range map[string]string{"logs": d.logs.String(), "/status": status, "/": page, "/metrics": metrics} {
			if strings.Contains(text, leak) {
				t.Errorf("%s contains a secret value", what)
			}
		}
	}
	if !strings.Contains(d.logs.String(), `"msg":"webhook accepted"`) {
		t.Error("logs do not record the accepted webhook (is the capture working?)")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, r := range rec.revs {
		if r != v1 && r != v2 {
			t.Errorf("reconciled unexpected revision %s", r)
		}
	}
}

func TestServeWrongGitCredentialsIsAClearError(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.Commit("main", "v1", map[string]string{"outputs.yaml": serveOutputYAML("o1")})
	url := repo.ServeHTTP("fleetform", "right")
	t.Setenv("FLEETFORM_TEST_GIT_PW", "wrong-password")
	rec := newRecording()
	d := startServe(t, serveConfig{Repo: url, GitUsername: "fleetform", GitPasswordEnv: "FLEETFORM_TEST_GIT_PW", LogFormat: "json"}, rec)
	deadline := time.Now().Add(30 * time.Second)
	var st daemon.Status
	for st = d.status(t); st.Turns == 0 && time.Now().Before(deadline); st = d.status(t) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(st.LastError, "source authentication failed") || strings.Contains(st.LastError, "wrong-password") {
		t.Errorf("last_error = %q, want a redacted authentication error", st.LastError)
	}
	if code, _ := d.get(t, "/readyz"); code != 503 {
		t.Errorf("/readyz = %d, want 503", code)
	}
	if len(rec.seen) != 0 {
		t.Error("reconciled without a revision")
	}
}

func TestServeFlagValidation(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "one of --repo and --dir is required"},
		{[]string{"--repo", "x", "--dir", "y"}, "--repo and --dir exclude each other"},
		{[]string{"--dir", "y", "--branch", "main"}, "apply to --repo only"},
		{[]string{"--dir", "y", "--drift", "maybe"}, `drift mode "maybe"`},
		{[]string{"--dir", "y", "--interval", "0s"}, "interval 0s: must be positive"},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, append([]string{"serve"}, tt.args...)...)
		if code != 1 || !strings.Contains(stderr, tt.want) {
			t.Errorf("serve %v: exit %d, stderr %q; want %q", tt.args, code, stderr, tt.want)
		}
	}
}

func TestRenderKibanaYML(t *testing.T) {
	stdout, stderr, code := runCLI(t, "render", "kibana-yml", "-c", "../../kibanayml/testdata/remote-and-defaults")
	if code != 0 || !strings.HasPrefix(stdout, "# Generated by fleetform render kibana-yml") || !strings.Contains(stdout, "xpack.fleet.outputs:") {
		t.Fatalf("render: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, _, code := runCLI(t, "render", "-c", "."); code != 1 {
		t.Errorf("render without a format: exit %d, want 1", code)
	}
}
