package source_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/source"
	"github.com/fleetform/fleetform/source/gittest"
)

const outputsYAML = "outputs:\n  - id: o1\n    name: o1\n    type: elasticsearch\n    hosts: [https://es:9200]\n"

func readAll(t *testing.T, snap source.Snapshot) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := fs.WalkDir(snap.FS, snap.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(snap.FS, p)
		got[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatalf("walk snapshot: %v", err)
	}
	return got
}

func newGit(t *testing.T, cfg source.GitConfig) *source.Git {
	t.Helper()
	g, err := source.NewGit(cfg)
	if err != nil {
		t.Fatalf("NewGit: %v", err)
	}
	return g
}

func TestGitHTTPBasicAuthHeadAndFetchSubPath(t *testing.T) {
	repo := gittest.NewRepo(t)
	first := repo.Commit("main", "first", map[string]string{
		"fleet/outputs.yaml":   outputsYAML,
		"fleet/policies/p.yml": "agent_policies: []\n",
		"fleet/README.md":      "not a document",
		"other/ignored.yaml":   "outside the sub-path\n",
	})
	url := repo.ServeHTTP("bot", "s3cret-token")
	t.Setenv("FLEETFORM_TEST_GIT_PW", "s3cret-token")
	g := newGit(t, source.GitConfig{URL: url, Branch: "main", Path: "fleet/", Username: "bot",
		Password: &schema.SecretRef{Env: "FLEETFORM_TEST_GIT_PW"}})
	ctx := context.Background()

	head, err := g.Head(ctx)
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	if head != first {
		t.Fatalf("Head = %s, want %s", head, first)
	}
	snap, err := g.Fetch(ctx, head)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if snap.Revision != first || snap.Root != "fleet" {
		t.Errorf("snapshot = {%s %s}, want {%s fleet}", snap.Revision, snap.Root, first)
	}
	want := map[string]string{"fleet/outputs.yaml": outputsYAML, "fleet/policies/p.yml": "agent_policies: []\n"}
	if d := cmp.Diff(want, readAll(t, snap)); d != "" {
		t.Errorf("snapshot files (-want +got):\n%s", d)
	}

	second := repo.Commit("main", "second", map[string]string{"fleet/policies/p.yml": ""})
	if head, err = g.Head(ctx); err != nil || head != second {
		t.Fatalf("Head after push = %s, %v; want %s", head, err, second)
	}
	next, err := g.Fetch(ctx, head)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if d := cmp.Diff(map[string]string{"fleet/outputs.yaml": outputsYAML}, readAll(t, next)); d != "" {
		t.Errorf("second snapshot (-want +got):\n%s", d)
	}
	// The first snapshot is immutable: still has the deleted file.
	if d := cmp.Diff(want, readAll(t, snap)); d != "" {
		t.Errorf("first snapshot changed (-want +got):\n%s", d)
	}
}

func TestGitErrorsAreClassifiedAndRedacted(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.Commit("main", "first", map[string]string{"outputs.yaml": outputsYAML})
	url := repo.ServeHTTP("bot", "right-password")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/fleet.git"
	ln.Close()
	t.Setenv("FLEETFORM_TEST_WRONG_PW", "wrong-password-value")
	t.Setenv("FLEETFORM_TEST_RIGHT_PW", "right-password")

	tests := []struct {
		name string
		cfg  source.GitConfig
		want error
	}{
		{"wrong password", source.GitConfig{URL: url, Username: "bot", Password: &schema.SecretRef{Env: "FLEETFORM_TEST_WRONG_PW"}}, source.ErrAuth},
		{"no credentials", source.GitConfig{URL: url}, source.ErrAuth},
		{"password in URL", source.GitConfig{URL: strings.Replace(url, "http://", "http://bot:wrong-password-value@", 1)}, source.ErrAuth},
		{"unreachable", source.GitConfig{URL: closed}, source.ErrUnreachable},
		{"unknown branch", source.GitConfig{URL: url, Branch: "nope", Username: "bot", Password: &schema.SecretRef{Env: "FLEETFORM_TEST_RIGHT_PW"}}, source.ErrNotFound},
		{"unknown sub-path", source.GitConfig{URL: url, Path: "nope", Username: "bot", Password: &schema.SecretRef{Env: "FLEETFORM_TEST_RIGHT_PW"}}, source.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGit(t, tt.cfg)
			rev, err := g.Head(context.Background())
			if err == nil {
				var snap source.Snapshot
				snap, err = g.Fetch(context.Background(), rev)
				if err == nil {
					t.Fatalf("Fetch succeeded with revision %s; want %v", snap.Revision, tt.want)
				}
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v; want errors.Is %v", err, tt.want)
			}
			t.Logf("error: %v", err)
			if strings.Contains(err.Error(), "wrong-password-value") || strings.Contains(err.Error(), "right-password") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestGitDaemonTagsPinnedCommitsAndDefaultBranch(t *testing.T) {
	repo := gittest.NewRepo(t)
	v1 := repo.Commit("main", "v1", map[string]string{"outputs.yaml": "# v1\n"})
	repo.Tag("v1.0.0")
	v2 := repo.Commit("main", "v2", map[string]string{"outputs.yaml": "# v2\n"})
	dev := repo.Commit("dev", "dev", map[string]string{"outputs.yaml": "# dev\n"})
	url := repo.ServeDaemon()
	ctx := context.Background()

	tests := []struct {
		name     string
		cfg      source.GitConfig
		wantRev  string
		wantBody string
	}{
		{"default branch", source.GitConfig{URL: url}, v2, "# v2\n"},
		{"branch", source.GitConfig{URL: url, Branch: "dev"}, dev, "# dev\n"},
		{"annotated tag", source.GitConfig{URL: url, Tag: "v1.0.0"}, v1, "# v1\n"},
		{"pinned commit behind the tip", source.GitConfig{URL: url, Commit: v1}, v1, "# v1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGit(t, tt.cfg)
			head, err := g.Head(ctx)
			if err != nil || head != tt.wantRev {
				t.Fatalf("Head = %s, %v; want %s", head, err, tt.wantRev)
			}
			snap, err := g.Fetch(ctx, head)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if snap.Revision != tt.wantRev {
				t.Errorf("Revision = %s, want %s", snap.Revision, tt.wantRev)
			}
			if d := cmp.Diff(map[string]string{"outputs.yaml": tt.wantBody}, readAll(t, snap)); d != "" {
				t.Errorf("files (-want +got):\n%s", d)
			}
		})
	}
}

func TestGitTrackedRef_DefaultBranchIsWhereHEADPoints(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.Commit("main", "v1", map[string]string{"outputs.yaml": "# v1\n"})
	repo.Tag("v1.0.0")
	repo.Commit("dev", "dev", map[string]string{"outputs.yaml": "# dev\n"})
	url := repo.ServeDaemon()
	tests := []struct {
		name string
		cfg  source.GitConfig
		want string
	}{
		{"default branch", source.GitConfig{URL: url}, "refs/heads/main"},
		{"branch", source.GitConfig{URL: url, Branch: "dev"}, "refs/heads/dev"},
		{"tag", source.GitConfig{URL: url, Tag: "v1.0.0"}, "refs/tags/v1.0.0"},
	}
	for _, tt := range tests {
		got, err := newGit(t, tt.cfg).TrackedRef(context.Background())
		if err != nil || got != tt.want {
			t.Errorf("%s: TrackedRef = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestGitFetchOfAMovedBranchReportsTheNewTip(t *testing.T) {
	repo := gittest.NewRepo(t)
	old := repo.Commit("main", "old", map[string]string{"a.yaml": "# old\n"})
	url := repo.ServeDaemon()
	g := newGit(t, source.GitConfig{URL: url, Branch: "main"})
	tip := repo.Commit("main", "new", map[string]string{"a.yaml": "# new\n"})
	snap, err := g.Fetch(context.Background(), old)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	// The shallow clone only holds the tip; the snapshot must say which one it is.
	if snap.Revision != tip && snap.Revision != old {
		t.Fatalf("Revision = %s, want %s or %s", snap.Revision, old, tip)
	}
	body := readAll(t, snap)["a.yaml"]
	if (snap.Revision == tip) != (body == "# new\n") {
		t.Errorf("Revision %s does not match content %q", snap.Revision, body)
	}
}

func TestGitConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  source.GitConfig
		want string
	}{
		{"no url", source.GitConfig{}, "repository URL is required"},
		{"branch and tag", source.GitConfig{URL: "x", Branch: "a", Tag: "b"}, "at most one of branch, tag and commit"},
		{"short commit", source.GitConfig{URL: "x", Commit: "abc123"}, "not a full 40-hex SHA"},
		{"ssh without known_hosts", source.GitConfig{URL: "x", SSHKeyFile: "k"}, "needs a known_hosts file"},
		{"ok", source.GitConfig{URL: "x", Branch: "main", Path: "a/b"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestGitSSHKeyAndKnownHosts(t *testing.T) {
	repo := gittest.NewRepo(t)
	want := repo.Commit("main", "v1", map[string]string{"fleet/outputs.yaml": outputsYAML})
	srv := repo.ServeSSH()
	ctx := context.Background()

	g := newGit(t, source.GitConfig{URL: srv.URL, Branch: "main", Path: "fleet", SSHKeyFile: srv.ClientKeyFile, SSHKnownHostsFile: srv.KnownHostsFile})
	head, err := g.Head(ctx)
	if err != nil || head != want {
		t.Fatalf("Head = %s, %v; want %s", head, err, want)
	}
	snap, err := g.Fetch(ctx, head)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if d := cmp.Diff(map[string]string{"fleet/outputs.yaml": outputsYAML}, readAll(t, snap)); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}

	t.Run("key not accepted", func(t *testing.T) {
		g := newGit(t, source.GitConfig{URL: srv.URL, SSHKeyFile: srv.OtherKeyFile, SSHKnownHostsFile: srv.KnownHostsFile})
		if _, err := g.Head(ctx); !errors.Is(err, source.ErrAuth) {
			t.Fatalf("err = %v, want ErrAuth", err)
		}
	})
	t.Run("unknown host key", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "known_hosts")
		line := "[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
		if err := os.WriteFile(other, []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
		g := newGit(t, source.GitConfig{URL: srv.URL, SSHKeyFile: srv.ClientKeyFile, SSHKnownHostsFile: other})
		_, err := g.Head(ctx)
		if !errors.Is(err, source.ErrAuth) || !strings.Contains(err.Error(), "knownhosts: key is unknown") {
			t.Fatalf("err = %v, want ErrAuth: knownhosts: key is unknown", err)
		}
	})
}

func TestGitURLThatDoesNotParseIsRejectedWithoutEchoingIt(t *testing.T) {
	for _, raw := range []string{
		"https://bot:s3#cr3t-pw@git.example/fleet.git",   // '#' starts a fragment: the host becomes "bot:s3"
		"https://bot:s3%zzcr3t-pw@git.example/fleet.git", // not a percent escape
		"https://bot:s3/cr3t-pw@git.example/fleet.git",   // '/' ends the authority
	} {
		_, err := source.NewGit(source.GitConfig{URL: raw})
		if err == nil {
			t.Errorf("NewGit(%q) succeeded; want an error (the URL does not parse, and messages would quote the password)", raw)
			continue
		}
		if strings.Contains(err.Error(), "cr3t") || strings.Contains(err.Error(), "s3") {
			t.Errorf("NewGit error leaks the password: %v", err)
		}
	}
	if _, err := source.NewGit(source.GitConfig{URL: "https://bot:s3%23cr3t@git.example/fleet.git"}); err != nil {
		t.Errorf("a percent-encoded password is valid: %v", err)
	}
}

func TestGitSymlinkInTheSubPathIsAnErrorNotItsTargetPath(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.Commit("main", "first", map[string]string{"fleet/outputs.yaml": outputsYAML, "secrets/pkgs.yaml": "packages: []\n"})
	if err := os.Symlink("../secrets/pkgs.yaml", filepath.Join(repo.Work, "fleet", "pkgs.yaml")); err != nil {
		t.Fatal(err)
	}
	repo.Git(repo.Work, "add", "--all")
	repo.Git(repo.Work, "commit", "--quiet", "-m", "link out of the sub-path")
	repo.Git(repo.Work, "push", "--quiet", "origin", "HEAD:refs/heads/main")
	g := newGit(t, source.GitConfig{URL: repo.ServeHTTP("bot", "pw"), Branch: "main", Path: "fleet", Username: "bot",
		Password: &schema.SecretRef{Env: "FLEETFORM_TEST_GIT_PW"}})
	t.Setenv("FLEETFORM_TEST_GIT_PW", "pw")
	snap, err := g.Fetch(context.Background(), "")
	if err == nil {
		t.Fatalf("Fetch succeeded with files %q; want an error naming the link", readAll(t, snap))
	}
	if !strings.Contains(err.Error(), "fleet/pkgs.yaml is a symbolic link") {
		t.Errorf("error = %v; want it to name fleet/pkgs.yaml as a link", err)
	}
}
