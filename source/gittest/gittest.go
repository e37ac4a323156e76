// Package gittest builds real Git repositories for tests and serves them on
// loopback with the git binary: `git http-backend` behind net/http/cgi with
// Basic auth, and `git daemon --inetd` on a TCP listener. Nothing leaves the
// machine.
package gittest

import (
	"bytes"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Available skips t when the git binary is missing.
func Available(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not installed")
	}
}

// Repo is a bare repository (what servers serve) and a working clone that
// commits and pushes to it with the real git binary.
type Repo struct {
	t    testing.TB
	Root string // directory holding Bare; the servers' base path
	Bare string // <Root>/fleet.git
	Work string
	home string
	mu   sync.Mutex
	reqs atomic.Int64
	sent atomic.Int64
}

// HTTPBytes is how many response bytes ServeHTTP's servers have sent.
func (r *Repo) HTTPBytes() int64 { return r.sent.Load() }

// countingWriter counts the body bytes written through it.
type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n.Add(int64(n))
	return n, err
}

// HTTPRequests is how many requests ServeHTTP's servers have answered.
func (r *Repo) HTTPRequests() int64 { return r.reqs.Load() }

// NewRepo creates an empty bare repository whose default branch is main and
// a working clone of it.
func NewRepo(t testing.TB) *Repo {
	t.Helper()
	Available(t)
	dir := t.TempDir()
	r := &Repo{t: t, Root: filepath.Join(dir, "srv"), Work: filepath.Join(dir, "work"), home: filepath.Join(dir, "home")}
	r.Bare = filepath.Join(r.Root, "fleet.git")
	for _, d := range []string{r.Root, r.home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.Git(r.Root, "init", "--quiet", "--bare", "--initial-branch=main", r.Bare)
	r.Git(r.Bare, "config", "http.receivepack", "true")
	r.Git(dir, "init", "--quiet", "--initial-branch=main", r.Work)
	r.Git(r.Work, "remote", "add", "origin", r.Bare)
	return r
}

// Env is the environment every git command runs with: an empty HOME and no
// system config, so the developer's settings never leak into a test.
func (r *Repo) Env() []string {
	return append(os.Environ(),
		"HOME="+r.home, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=fleetform-test", "GIT_AUTHOR_EMAIL=test@fleetform.invalid",
		"GIT_COMMITTER_NAME=fleetform-test", "GIT_COMMITTER_EMAIL=test@fleetform.invalid",
	)
}

// Git runs git in dir and returns its trimmed stdout; it fails t on error.
func (r *Repo) Git(dir string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = r.Env()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// FastImport feeds stream to `git fast-import` in the working clone (for
// long histories made fast), then pushes branch.
func (r *Repo) FastImport(branch, stream string) {
	r.t.Helper()
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = r.Work
	cmd.Env = r.Env()
	cmd.Stdin = strings.NewReader(stream)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		r.t.Fatalf("git fast-import: %v\n%s", err, errb.String())
	}
	r.Git(r.Work, "push", "--quiet", "--force", "origin", branch+":refs/heads/"+branch)
	r.Git(r.Work, "checkout", "--quiet", "--force", branch)
}

// Commit writes files (path → content; empty content deletes the file) in
// the working clone, commits them on branch, pushes with `git push`, and
// returns the new commit SHA.
func (r *Repo) Commit(branch, msg string, files map[string]string) string {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Git(r.Work, "symbolic-ref", "--short", "HEAD") != branch {
		r.checkout(branch)
	}
	for name, content := range files {
		p := filepath.Join(r.Work, filepath.FromSlash(name))
		if content == "" {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				r.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.Git(r.Work, "add", "--all")
	r.Git(r.Work, "commit", "--quiet", "--allow-empty", "-m", msg)
	r.Git(r.Work, "push", "--quiet", "origin", "HEAD:refs/heads/"+branch)
	return r.Git(r.Work, "rev-parse", "HEAD")
}

func (r *Repo) checkout(branch string) {
	cmd := exec.Command("git", "rev-parse", "--verify", "--quiet", "refs/heads/"+branch)
	cmd.Dir, cmd.Env = r.Work, r.Env()
	if cmd.Run() == nil {
		r.Git(r.Work, "checkout", "--quiet", branch)
		return
	}
	r.Git(r.Work, "checkout", "--quiet", "-b", branch)
}

// Tag creates an annotated tag at the working clone's HEAD and pushes it.
func (r *Repo) Tag(name string) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Git(r.Work, "tag", "-a", "-m", "release "+name, name)
	r.Git(r.Work, "push", "--quiet", "origin", "refs/tags/"+name)
}

// ServeHTTP serves Root with `git http-backend` (smart HTTP) behind Basic
// auth on an httptest server and returns the repository URL
// (http://127.0.0.1:port/fleet.git). Requests with other credentials get 401.
func (r *Repo) ServeHTTP(user, password string) string {
	r.t.Helper()
	execPath := r.Git(r.Root, "--exec-path")
	backend := &cgi.Handler{
		Path: filepath.Join(execPath, "git-http-backend"),
		Env:  append(r.Env(), "GIT_PROJECT_ROOT="+r.Root, "GIT_HTTP_EXPORT_ALL=1"),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.reqs.Add(1)
		u, p, ok := req.BasicAuth()
		if !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		req.Header.Set("Remote-User", u)
		backend.ServeHTTP(countingWriter{w, &r.sent}, req)
	}))
	r.t.Cleanup(srv.Close)
	return srv.URL + "/fleet.git"
}

// ServeDaemon serves Root with the git protocol: each accepted loopback
// connection runs `git daemon --inetd`. It returns git://127.0.0.1:port/fleet.git.
func (r *Repo) ServeDaemon() string {
	r.t.Helper()
	addr := r.serveConns(func(conn net.Conn) {
		defer conn.Close()
		cmd := exec.Command("git", "daemon", "--inetd", "--export-all", "--base-path="+r.Root, r.Root)
		cmd.Env = r.Env()
		cmd.Stdin, cmd.Stdout = conn, conn
		_ = cmd.Run() // the client hanging up ends it
	})
	return "git://" + addr + "/fleet.git"
}

// serveConns accepts loopback connections until the test ends, handling
// each on its own goroutine, and returns the listener's host:port. Cleanup
// closes the listener and waits for every handler.
func (r *Repo) serveConns(handle func(net.Conn)) string {
	r.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.t.Fatal(err)
	}
	var wg sync.WaitGroup
	r.t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				handle(conn)
			}()
		}
	}()
	return ln.Addr().String()
}
