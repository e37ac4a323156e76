package notify

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/fleetform/fleetform/secret"
)

// GitHub sets a commit status through GitHub's REST API
// (POST /repos/{owner}/{repo}/statuses/{sha}; states error, failure,
// pending, success; description at most 140 characters).
type GitHub struct {
	BaseURL string // default https://api.github.com (GitHub Enterprise: https://HOST/api/v3)
	Repo    string // owner/name
	Token   secret.Value
	Context string // the status's name on the commit; default "fleetform"
	Client  *http.Client
	retry   retryPolicy
}

// Name implements Notifier.
func (g *GitHub) Name() string { return "github commit status" }

// Notify implements Notifier.
func (g *GitHub) Notify(ctx context.Context, e Event) error {
	if !isCommit(e.Revision) {
		return nil // a directory source has no commit to annotate
	}
	state := map[Result]string{Pending: "pending", Applied: "success", Failed: "error", Blocked: "failure"}[e.Result]
	body := map[string]any{"state": state, "context": cmp.Or(g.Context, "fleetform"), "description": summary(e, 140)}
	if e.URL != "" {
		body["target_url"] = e.URL
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	owner, name, ok := strings.Cut(g.Repo, "/")
	if !ok || owner == "" || name == "" {
		return fmt.Errorf("github repository %q is not owner/name", g.Repo)
	}
	u := strings.TrimSuffix(cmp.Or(g.BaseURL, "https://api.github.com"), "/") +
		"/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + "/statuses/" + e.Revision
	return post(ctx, g.Client, cmp.Or(g.retry, defaultRetry), g.Name(), func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/vnd.github+json")
		req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+g.Token.Reveal())
		return req, nil
	})
}

// GitLab sets a commit status through GitLab's REST API
// (POST /api/v4/projects/:id/statuses/:sha; states pending, running,
// success, failed, canceled).
type GitLab struct {
	BaseURL string // default https://gitlab.com
	Project string // numeric id or group/name path
	Token   secret.Value
	Context string // the status's name; default "fleetform"
	Client  *http.Client
	retry   retryPolicy
}

// Name implements Notifier.
func (g *GitLab) Name() string { return "gitlab commit status" }

// Notify implements Notifier.
func (g *GitLab) Notify(ctx context.Context, e Event) error {
	if !isCommit(e.Revision) {
		return nil
	}
	state := map[Result]string{Pending: "running", Applied: "success", Failed: "failed", Blocked: "failed"}[e.Result]
	body := map[string]any{"state": state, "name": cmp.Or(g.Context, "fleetform"), "description": summary(e, 255)}
	if e.URL != "" {
		body["target_url"] = e.URL
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	if g.Project == "" {
		return fmt.Errorf("gitlab project is not set")
	}
	u := strings.TrimSuffix(cmp.Or(g.BaseURL, "https://gitlab.com"), "/") +
		"/api/v4/projects/" + url.PathEscape(g.Project) + "/statuses/" + e.Revision
	return post(ctx, g.Client, cmp.Or(g.retry, defaultRetry), g.Name(), func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("PRIVATE-TOKEN", g.Token.Reveal())
		return req, nil
	})
}

var commitRE = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// isCommit reports whether rev is a full Git object id (SHA-1 or SHA-256).
func isCommit(rev string) bool { return commitRE.MatchString(rev) }

// RepoFromURL derives "owner/name" (GitHub) or "group/…/name" (GitLab) from
// a Git remote URL: https://host/owner/name(.git), ssh://git@host/owner/name,
// or git@host:owner/name.git. It returns "" when the URL has no such path.
func RepoFromURL(raw string) string {
	var path string
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		path = u.Path
	} else if _, after, ok := strings.Cut(raw, ":"); ok && !strings.Contains(raw, "://") {
		path = after // scp-like git@host:owner/name.git
	}
	path = strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	if !strings.Contains(path, "/") {
		return ""
	}
	return path
}
