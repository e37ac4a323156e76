package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/fleetform/fleetform/daemon"
	"github.com/fleetform/fleetform/notify"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// notifyFlags are serve's notification flags (issue 11 #7): a commit status
// on GitHub or GitLab, and a signed JSON event POSTed to a URL, on each
// revision applied, failed or blocked.
type notifyFlags struct {
	commitStatus    string
	tokenFile       string
	tokenEnv        string
	repo            string
	apiURL          string
	notifyURL       string
	notifySecret    string
	notifyAllowHTTP bool
}

// bindNotifyFlags registers the notification flags on fs and returns the
// function that builds the notifier they describe once the flags are
// parsed: nil (and no error) when none is configured. repoURL is serve's
// --repo ("" with --dir); --commit-status-repo defaults to the owner/name
// it names.
func bindNotifyFlags(fs *flag.FlagSet) func(repoURL string) (notify.Notifier, error) {
	var f notifyFlags
	fs.StringVar(&f.commitStatus, "commit-status", "", "`provider` (github or gitlab) on which to set a commit status for each revision applied, failed or blocked")
	fs.StringVar(&f.tokenFile, "commit-status-token-file", "", "`file` holding the token for --commit-status (GitHub: repo:status scope or \"Commit statuses\" write permission; GitLab: api scope); read for every status, so it may rotate")
	fs.StringVar(&f.tokenEnv, "commit-status-token-env", "", "environment `variable` holding the token for --commit-status")
	fs.StringVar(&f.repo, "commit-status-repo", "", "`repository` the statuses are set on: GitHub owner/name, GitLab group/name or project id (default: derived from --repo)")
	fs.StringVar(&f.apiURL, "commit-status-url", "", "API base `URL` for GitHub Enterprise (https://HOST/api/v3) or self-hosted GitLab (https://HOST) (default: github.com's or gitlab.com's)")
	fs.StringVar(&f.notifyURL, "notify-url", "", "POST a JSON event, signed with HMAC-SHA256 in the X-Fleetform-Signature header, to this `URL` on each applied, failed or blocked revision")
	fs.StringVar(&f.notifySecret, "notify-secret-file", "", "`file` holding the key that signs --notify-url events (required with --notify-url)")
	fs.BoolVar(&f.notifyAllowHTTP, "notify-allow-http", false, "allow a plain http:// --notify-url that is not a loopback address")
	return f.build
}

// build checks the flags together and builds the notifier.
func (f *notifyFlags) build(repoURL string) (notify.Notifier, error) {
	var errs []error
	var m notify.Multi
	cs, err := f.commitStatusNotifier(repoURL)
	if err != nil {
		errs = append(errs, err)
	} else if cs != nil {
		m = append(m, cs)
	}
	switch {
	case f.notifyURL == "" && (f.notifySecret != "" || f.notifyAllowHTTP):
		errs = append(errs, errors.New("--notify-secret-file and --notify-allow-http need --notify-url"))
	case f.notifyURL != "" && f.notifySecret == "":
		errs = append(errs, errors.New("--notify-url needs --notify-secret-file: events are signed"))
	case f.notifyURL != "":
		key, err := schema.SecretRef{File: f.notifySecret}.Resolve(context.Background())
		if err != nil {
			errs = append(errs, fmt.Errorf("--notify-secret-file: %w", err))
			break
		}
		w, err := notify.NewWebhook(f.notifyURL, key, f.notifyAllowHTTP)
		if err != nil {
			errs = append(errs, err)
			break
		}
		m = append(m, w)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	switch len(m) {
	case 0:
		return nil, nil
	case 1:
		return m[0], nil
	}
	return m, nil
}

// commitStatusNotifier is the --commit-status notifier, nil without the flag.
func (f *notifyFlags) commitStatusNotifier(repoURL string) (notify.Notifier, error) {
	if f.commitStatus == "" {
		if f.tokenFile != "" || f.tokenEnv != "" || f.repo != "" || f.apiURL != "" {
			return nil, errors.New("--commit-status-token-file, --commit-status-token-env, --commit-status-repo and --commit-status-url need --commit-status github|gitlab")
		}
		return nil, nil
	}
	var ref schema.SecretRef
	switch {
	case f.tokenFile != "" && f.tokenEnv != "":
		return nil, errors.New("--commit-status-token-file and --commit-status-token-env exclude each other")
	case f.tokenFile != "":
		ref.File = f.tokenFile
	case f.tokenEnv != "":
		ref.Env = f.tokenEnv
	default:
		return nil, fmt.Errorf("--commit-status %s needs a token: --commit-status-token-file or --commit-status-token-env", f.commitStatus)
	}
	// Fail at start-up on a token that cannot be read, not at the first event.
	if _, err := ref.Resolve(context.Background()); err != nil {
		return nil, fmt.Errorf("--commit-status token: %w", err)
	}
	repo := f.repo
	if repo == "" {
		if repo = notify.RepoFromURL(repoURL); repo == "" {
			if repoURL == "" {
				return nil, errors.New("--commit-status needs --repo (a --dir revision is not a commit) or --commit-status-repo")
			}
			return nil, fmt.Errorf("--commit-status: cannot tell the repository from --repo %s; set --commit-status-repo", notify.Redact(repoURL))
		}
	}
	switch f.commitStatus {
	case "github":
		if strings.Count(repo, "/") != 1 {
			return nil, fmt.Errorf("--commit-status github: repository %q is not owner/name", repo)
		}
		return &tokenNotifier{ref: ref, name: "github commit status", mk: func(tok secret.Value) notify.Notifier {
			return &notify.GitHub{BaseURL: f.apiURL, Repo: repo, Token: tok}
		}}, nil
	case "gitlab":
		return &tokenNotifier{ref: ref, name: "gitlab commit status", mk: func(tok secret.Value) notify.Notifier {
			return &notify.GitLab{BaseURL: f.apiURL, Project: repo, Token: tok}
		}}, nil
	}
	return nil, fmt.Errorf("--commit-status %q: want github or gitlab", f.commitStatus)
}

// tokenNotifier reads its token for every event (a token file may be
// rotated under a running daemon, as GitHub App tokens are) and sends with
// the notifier mk builds around it.
type tokenNotifier struct {
	ref  schema.SecretRef
	name string
	mk   func(token secret.Value) notify.Notifier
}

// Name implements notify.Notifier.
func (n *tokenNotifier) Name() string { return n.name }

// Notify implements notify.Notifier.
func (n *tokenNotifier) Notify(ctx context.Context, e notify.Event) error {
	tok, err := n.ref.Resolve(ctx)
	if err != nil {
		return fmt.Errorf("%s: token: %w", n.name, err)
	}
	return n.mk(tok).Notify(ctx, e)
}

// stamped adds the instance name and the status page's address to every
// event.
type stamped struct {
	notify.Notifier
	instance, url string
}

// Notify implements notify.Notifier.
func (s stamped) Notify(ctx context.Context, e notify.Event) error {
	e.Instance, e.URL = s.instance, s.url
	return s.Notifier.Notify(ctx, e)
}

// notifierOptions is serve's daemon.WithNotifier, or nothing without
// notification flags. Events name the instance and link to the status page
// when --advertise-url gives its address.
func notifierOptions(cfg serveConfig) ([]daemon.Option, error) {
	if cfg.Notifier == nil {
		return nil, nil
	}
	n, err := cfg.Notifier(cfg.Repo)
	if err != nil || n == nil {
		return nil, err
	}
	url := ""
	if cfg.AdvertiseURL != "" {
		url = strings.TrimSuffix(cfg.AdvertiseURL, "/") + "/"
	}
	ns, ok := n.(notify.Multi)
	if !ok {
		ns = notify.Multi{n}
	}
	var each notify.Multi // one per destination: each is logged and counted on its own
	for _, n := range ns {
		each = append(each, stamped{n, cfg.Instance, url})
	}
	return []daemon.Option{daemon.WithNotifier(each)}, nil
}
