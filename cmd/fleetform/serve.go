package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/fleetform/fleetform/daemon"
	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/lease"
	"github.com/fleetform/fleetform/notify"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/source"
	"github.com/fleetform/fleetform/webhook"
)

// ReconcilerOptions is what serve knows that the plan/apply engine needs.
type ReconcilerOptions struct {
	Logger   *slog.Logger
	Instance string // fleetform instance name in the state index
	Prune    bool
	// Fence, when set, wraps the transport of every client that writes to
	// the clusters: with --lease it refuses writes once the lease is lost.
	Fence func(http.RoundTripper) http.RoundTripper
	// LockWait bounds the wait for the apply lock another writer holds.
	LockWait time.Duration
}

// newReconciler builds the daemon's Reconciler. The plan/apply engine sets
// it (in its own file of this package) with an adapter over
// reconciler.Reconciler; serve refuses to start while it is nil rather than
// pretend to reconcile.
var newReconciler func(ctx context.Context, opts ReconcilerOptions) (daemon.Reconciler, error)

// serveConfig is everything "fleetform serve" is configured with.
type serveConfig struct {
	Repo, Branch, Tag, Commit, Path string
	GitUsername                     string
	GitPasswordEnv, GitPasswordFile string
	SSHKey, SSHKnownHosts           string
	SSHKeyPassphraseEnv             string
	Dir                             string
	GitMaxRepoBytes                 int64

	Listen            string
	WebhookSecretFile string
	LogFormat         string
	LogLevel          slog.Level
	Instance          string
	Prune             bool

	LockTimeout time.Duration

	Lease        bool
	LeaseTTL     time.Duration
	LeaseHolder  string
	AdvertiseURL string
	// ForwardAllowHTTP lets a standby forward webhooks to a leader that
	// advertises a plain http:// address.
	ForwardAllowHTTP bool

	Loop daemon.Config
	// Notifier builds the notifier of the notification flags (serve_notify.go).
	Notifier func(repoURL string) (notify.Notifier, error)
}

func (c *serveConfig) bindFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Repo, "repo", "", "Git repository `URL` to follow (https://…, ssh://…, git@host:path, git://…, or a local path)")
	fs.StringVar(&c.Branch, "branch", "", "branch to follow (default: the remote's default branch)")
	fs.StringVar(&c.Tag, "tag", "", "tag to follow instead of a branch")
	fs.StringVar(&c.Commit, "commit", "", "pin a full commit SHA instead of following a branch")
	fs.StringVar(&c.Path, "path", "", "sub-`path` of the repository holding the desired-state YAML")
	fs.StringVar(&c.GitUsername, "git-username", "", "HTTPS username (with a token as password: any non-empty name, e.g. x-access-token or oauth2)")
	fs.StringVar(&c.GitPasswordEnv, "git-password-env", "", "environment `variable` holding the HTTPS password or token")
	fs.StringVar(&c.GitPasswordFile, "git-password-file", "", "`file` holding the HTTPS password or token")
	fs.StringVar(&c.SSHKey, "ssh-key", "", "SSH private key `file`")
	fs.StringVar(&c.SSHKnownHosts, "ssh-known-hosts", "", "known_hosts `file` verifying the SSH server (required with --ssh-key)")
	fs.StringVar(&c.SSHKeyPassphraseEnv, "ssh-key-passphrase-env", "", "environment `variable` holding the SSH key passphrase")
	fs.Int64Var(&c.GitMaxRepoBytes, "git-max-repo-bytes", source.DefaultMaxRepoBytes, "bound of the Git objects kept in memory between fetches (`bytes`); a tip that needs more is an error")
	fs.StringVar(&c.Dir, "dir", "", "follow a local `directory` instead of Git (watched for changes)")
	fs.StringVar(&c.Listen, "listen", ":8080", "`address` of the HTTP API (status, metrics, webhooks)")
	fs.StringVar(&c.WebhookSecretFile, "webhook-secret-file", "", "`file` holding the webhook secret; enables /webhook/{github,gitlab,generic} and guards POST /reconcile")
	fs.StringVar(&c.LogFormat, "log-format", "json", "log format: json or text")
	fs.TextVar(&c.LogLevel, "log-level", slog.LevelInfo, "log `level`: debug, info, warn, error")
	fs.StringVar(&c.Instance, "instance", "default", "fleetform instance `name` (state index owner and lease id)")
	fs.BoolVar(&c.Prune, "prune", false, "delete owned objects that are no longer declared")
	fs.DurationVar(&c.LockTimeout, "lock-timeout", time.Minute, "how long a turn waits for the apply lock another writer (fleetform apply) holds before it fails; the next turn tries again")
	fs.BoolVar(&c.Lease, "lease", false, "elect one applier among replicas with a lease in the main cluster's Elasticsearch")
	fs.DurationVar(&c.LeaseTTL, "lease-ttl", 15*time.Second, "how long a lease outlives its last renewal")
	fs.StringVar(&c.LeaseHolder, "lease-holder", "", "this replica's identity in the lease (default: the host name)")
	fs.StringVar(&c.AdvertiseURL, "advertise-url", "", "`URL` other replicas use to forward webhooks to this one while it leads (e.g. http://$(POD_IP):8080; default: the --listen address when it names a host)")
	fs.BoolVar(&c.ForwardAllowHTTP, "forward-allow-http", false, "let a standby forward webhooks (signed, without the secret) to a leader advertising a plain http:// address")
	c.Loop.BindFlags(fs)
	c.Notifier = bindNotifyFlags(fs)
}

// validate reports every mistake in c without changing it.
func (c *serveConfig) validate() error {
	var errs []error
	switch {
	case c.Repo == "" && c.Dir == "":
		errs = append(errs, errors.New("one of --repo and --dir is required"))
	case c.Repo != "" && c.Dir != "":
		errs = append(errs, errors.New("--repo and --dir exclude each other"))
	case c.Dir != "" && (c.Branch != "" || c.Tag != "" || c.Commit != "" || c.Path != ""):
		errs = append(errs, errors.New("--branch, --tag, --commit and --path apply to --repo only"))
	}
	if c.GitPasswordEnv != "" && c.GitPasswordFile != "" {
		errs = append(errs, errors.New("--git-password-env and --git-password-file exclude each other"))
	}
	if c.GitMaxRepoBytes < 0 {
		errs = append(errs, fmt.Errorf("--git-max-repo-bytes %d: must not be negative", c.GitMaxRepoBytes))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, fmt.Errorf("--log-format %q: want json or text", c.LogFormat))
	}
	if err := c.Loop.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c *serveConfig) gitConfig() source.GitConfig {
	g := source.GitConfig{URL: c.Repo, Branch: c.Branch, Tag: c.Tag, Commit: c.Commit, Path: c.Path,
		Username: c.GitUsername, SSHKeyFile: c.SSHKey, SSHKnownHostsFile: c.SSHKnownHosts, MaxRepoBytes: c.GitMaxRepoBytes}
	switch {
	case c.GitPasswordEnv != "":
		g.Password = &schema.SecretRef{Env: c.GitPasswordEnv}
	case c.GitPasswordFile != "":
		g.Password = &schema.SecretRef{File: c.GitPasswordFile}
	}
	if c.SSHKeyPassphraseEnv != "" {
		g.SSHKeyPassphrase = &schema.SecretRef{Env: c.SSHKeyPassphraseEnv}
	}
	return g
}

// setupServe binds "fleetform serve": the GitOps daemon. Its flags are Go
// flags (serveConfig.bindFlags, daemon.Config.BindFlags), added to the
// command's flag set as they are.
func setupServe(fs *pflag.FlagSet) runFunc {
	var cfg serveConfig
	gfs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.bindFlags(gfs)
	fs.AddGoFlagSet(gfs)
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return runServe(ctx, cfg, args, stderr)
	}
}

func runServe(ctx context.Context, cfg serveConfig, rest []string, stderr io.Writer) error {
	if len(rest) > 0 {
		return fmt.Errorf("unexpected arguments %q", rest)
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	log := newLogger(cfg.LogFormat, cfg.LogLevel, stderr)
	return serve(ctx, cfg, log, newReconciler, nil)
}

// serve runs the daemon until ctx ends, reconciling with what mkReconciler
// builds. ready, when not nil, receives the
// listener's address once the API is up (tests use it).
func serve(ctx context.Context, cfg serveConfig, log *slog.Logger,
	mkReconciler func(context.Context, ReconcilerOptions) (daemon.Reconciler, error), ready func(addr string)) error {
	if mkReconciler == nil {
		return errors.New("this build has no reconciler wired into serve")
	}
	var src source.Source
	if cfg.Dir != "" {
		src = source.NewDir(cfg.Dir, source.WithDirLogger(log.With("component", "source")))
	} else {
		g, err := source.NewGit(cfg.gitConfig())
		if err != nil {
			return err
		}
		src = g
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	advertise := cfg.AdvertiseURL
	if host, _, _ := net.SplitHostPort(cfg.Listen); advertise == "" && host != "" && !net.ParseIP(host).IsUnspecified() {
		advertise = "http://" + ln.Addr().String() // a fixed interface: reachable as is
	}

	var (
		opts []daemon.Option
		ls   *lease.Lease
		loop *daemon.Loop
	)
	opts = append(opts, daemon.WithLogger(log))
	nopts, err := notifierOptions(cfg) // serve_notify.go
	if err != nil {
		return err
	}
	opts = append(opts, nopts...)
	if cfg.Lease {
		holder := cfg.LeaseHolder
		if holder == "" {
			if holder, err = os.Hostname(); err != nil {
				return fmt.Errorf("lease holder: %w", err)
			}
		}
		ls, err = lease.New(&docStore{doc: func() *schema.Document { d, _ := loop.Document(); return d }}, lease.Config{
			Name: cfg.Instance, Holder: holder, Address: advertise, TTL: cfg.LeaseTTL,
			Logger:   log,
			OnChange: func(leader bool) { loopTrigger(&loop, leader) },
		})
		if err != nil {
			return err
		}
		opts = append(opts, daemon.WithLeader(ls))
	}
	ropts := ReconcilerOptions{Logger: log.With("component", "reconciler"), Instance: cfg.Instance, Prune: cfg.Prune, LockWait: cfg.LockTimeout}
	if ls != nil {
		ropts.Fence = func(rt http.RoundTripper) http.RoundTripper { return lease.Fence(rt, ls) }
	}
	rec, err := mkReconciler(ctx, ropts)
	if err != nil {
		return fmt.Errorf("reconciler: %w", err)
	}
	if loop, err = daemon.New(cfg.Loop, src, rec, opts...); err != nil {
		return err
	}

	var (
		token secret.Value
		fwd   *forwarder
	)
	// Forwards end with the daemon: they run under fwdCtx, which ends
	// before serve returns, and serve waits for them.
	fwdCtx, stopForwards := context.WithCancel(ctx)
	defer stopForwards()
	hooks := map[string]http.Handler{}
	if cfg.WebhookSecretFile != "" {
		b, err := os.ReadFile(cfg.WebhookSecretFile)
		if err != nil {
			return fmt.Errorf("webhook secret: %w", err)
		}
		if token = secret.New(strings.TrimSpace(string(b))); token.IsZero() {
			return fmt.Errorf("webhook secret: %s is empty", cfg.WebhookSecretFile)
		}
		ref := ""
		if g, ok := src.(*source.Git); ok {
			// Without --branch/--tag: the remote's default branch, so pushes
			// to other branches do not trigger turns.
			// Bounded: a remote that accepts the connection and never answers
			// must not keep the API (and its probes) from coming up.
			tctx, cancel := context.WithTimeout(ctx, trackedRefTimeout)
			ref, err = g.TrackedRef(tctx)
			cancel()
			if err != nil {
				log.Warn("cannot tell which branch the repository's HEAD follows; webhooks accept pushes to any branch", "err", err)
			}
		}
		fwd = &forwarder{ctx: fwdCtx, secret: token, allowHTTP: cfg.ForwardAllowHTTP, log: log, client: &http.Client{Timeout: 5 * time.Second}}
		if ls != nil {
			fwd.lease = ls
		}
		for _, p := range []webhook.Provider{webhook.GitHub, webhook.GitLab, webhook.Generic} {
			h, err := webhook.Handler(p, webhook.Config{Secret: token, Ref: ref, Logger: log}, func(ev webhook.Event) {
				if ev.After != "" && ev.After == loop.AppliedRevision() {
					return // already applied here: a redelivery or a burst
				}
				if !fwd.forward(ev) {
					loop.TriggerPush(ev.After)
				}
			})
			if err != nil {
				return err
			}
			hooks[string(p)] = h
		}
		h, err := webhook.ForwardedHandler(token, log, func(ev webhook.Event) {
			if ev.After == "" || ev.After != loop.AppliedRevision() {
				loop.TriggerPush(ev.After)
			}
		})
		if err != nil {
			return err
		}
		hooks[string(webhook.Forwarded)] = h
	} else {
		log.Warn("no --webhook-secret-file: webhooks are disabled and POST /reconcile is open")
	}

	srv := daemon.NewServer(cfg.Listen, loop.Handler(daemon.HandlerOptions{Token: token, Webhooks: hooks}))
	log.Info("serving", "addr", ln.Addr().String(), "source", fmt.Sprint(src), "drift", string(cfg.Loop.Drift), "interval", cfg.Loop.Interval)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopLease := func() {}
	var wg sync.WaitGroup
	serveErr := make(chan error, 1)
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
			cancel()
		}
	})
	if ls != nil {
		// The lease outlives the loop: it is released only after the turn in
		// flight has finished, so a standby never applies next to it.
		leaseCtx, releaseLease := context.WithCancel(context.WithoutCancel(ctx))
		defer releaseLease()
		wg.Go(func() { _ = ls.Run(leaseCtx) })
		stopLease = releaseLease
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Info("SIGHUP: reconcile requested")
				loop.Trigger("signal")
			}
		}
	})
	if ready != nil {
		ready(ln.Addr().String())
	}

	_ = loop.Run(ctx) // returns after the turn in flight finished
	stopLease()
	shutdown, stop := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer stop()
	err = srv.Shutdown(shutdown)
	cancel()
	stopForwards()
	if fwd != nil {
		fwd.wait()
	}
	wg.Wait()
	select {
	case e := <-serveErr:
		return fmt.Errorf("http server: %w", e)
	default:
	}
	if err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// trackedRefTimeout bounds the start-up look-up of the branch webhooks follow.
var trackedRefTimeout = 15 * time.Second

// loopTrigger pokes the loop when this replica becomes leader. The lease
// may call it before the loop exists; the first turn then runs anyway.
func loopTrigger(l **daemon.Loop, leader bool) {
	if leader && *l != nil {
		(*l).Trigger("leader")
	}
}

func newLogger(format string, level slog.Level, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// docStore is the lease's Store over the main cluster's Elasticsearch as
// declared by the newest valid revision; until there is one, it fails and
// the replica stays standby.
type docStore struct {
	doc func() *schema.Document

	mu     sync.Mutex
	key    string
	client *elastic.Client
}

func (s *docStore) store(ctx context.Context) (lease.Store, error) {
	doc := s.doc()
	if doc == nil {
		return nil, errors.New("no valid revision yet: the main cluster is not known")
	}
	ep := doc.Clusters.Main.Elasticsearch
	key := fmt.Sprintf("%s|%+v|%s|%s", ep.URL, ep.Auth, ep.CAFile, ep.CAFingerprint)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil || s.key != key {
		c, err := elastic.NewFromEndpoint(ctx, ep)
		if err != nil {
			return nil, err
		}
		s.client, s.key = c, key
	}
	return lease.ElasticStore{Client: s.client}, nil
}

func (s *docStore) Get(ctx context.Context, index, id string) (lease.Doc, bool, error) {
	st, err := s.store(ctx)
	if err != nil {
		return lease.Doc{}, false, err
	}
	return st.Get(ctx, index, id)
}

func (s *docStore) Put(ctx context.Context, index, id string, src json.RawMessage, v *lease.Version) (lease.Version, error) {
	st, err := s.store(ctx)
	if err != nil {
		return lease.Version{}, err
	}
	return st.Put(ctx, index, id, src, v)
}
