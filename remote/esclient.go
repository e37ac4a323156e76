package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/secret"
)

// ESClient implements ES over Elasticsearch's REST API. Errors with a
// status are *elastic.Error (errors.As), so callers classify them the same
// way as errors of package elastic.
type ESClient struct {
	url  string
	auth secret.Value // the Authorization header value
	hc   *http.Client
}

// NewESClient returns an ES for the cluster at baseURL. auth is the
// Authorization header value ("Basic …" or "ApiKey …"); hc may be nil.
func NewESClient(baseURL string, auth secret.Value, hc *http.Client) *ESClient {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &ESClient{url: strings.TrimRight(baseURL, "/"), auth: auth, hc: hc}
}

// URL is the cluster's base URL.
func (c *ESClient) URL() string { return c.url }

// AuthHeader builds the Authorization value of Elasticsearch credentials.
func AuthHeader(a elastic.Auth) secret.Value {
	if !a.APIKey.IsZero() {
		return secret.New("ApiKey " + a.APIKey.Reveal())
	}
	if a.Username != "" {
		raw := a.Username + ":" + a.Password.Reveal()
		return secret.New("Basic " + base64Std(raw))
	}
	return secret.Value{}
}

// do sends one request; out (if non-nil) receives the JSON answer. A status
// in allow is returned without error (and without decoding).
func (c *ESClient) do(ctx context.Context, method, path string, q url.Values, body any, out any, allow ...int) (int, error) {
	return c.doAs(ctx, c.auth, method, path, q, body, out, allow...)
}

func (c *ESClient) doAs(ctx context.Context, auth secret.Value, method, path string, q url.Values, body any, out any, allow ...int) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.url + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !auth.IsZero() {
		req.Header.Set("Authorization", auth.Reveal())
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry credentials; never print it
		}
		return 0, &elastic.TransportError{Method: method, Path: path, Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, &elastic.TransportError{Method: method, Path: path, Err: err}
	}
	if slices.Contains(allow, resp.StatusCode) {
		return resp.StatusCode, nil
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, esError(method, path, resp.StatusCode, b)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func esError(method, path string, status int, body []byte) *elastic.Error {
	e := &elastic.Error{Method: method, Path: path, Status: status}
	var env struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && len(env.Error) > 0 {
		var obj struct{ Type, Reason string }
		if json.Unmarshal(env.Error, &obj) == nil && obj.Type != "" {
			e.Type, e.Reason = obj.Type, obj.Reason
			return e
		}
		var s string
		if json.Unmarshal(env.Error, &s) == nil {
			e.Reason = s
			return e
		}
	}
	e.Reason = strings.TrimSpace(string(body))
	if len(e.Reason) > 200 {
		e.Reason = e.Reason[:200] + "…"
	}
	return e
}

const tokenPath = "/_security/service/" + ServiceNamespace + "/" + ServiceName + "/credential"

func (c *ESClient) License(ctx context.Context) (string, error) {
	var resp struct {
		License struct{ Type, Status string } `json:"license"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/_license", nil, nil, &resp); err != nil {
		return "", err
	}
	if resp.License.Status != "" && resp.License.Status != "active" {
		return "expired", nil
	}
	return resp.License.Type, nil
}

func (c *ESClient) ServiceTokens(ctx context.Context) ([]string, error) {
	var resp struct {
		Tokens map[string]any `json:"tokens"`
	}
	if _, err := c.do(ctx, http.MethodGet, tokenPath, nil, nil, &resp); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(resp.Tokens))
	for n := range resp.Tokens {
		// Listed as "elastic/fleet-server-remote/<name>" by some versions.
		names = append(names, n[strings.LastIndexByte(n, '/')+1:])
	}
	slices.Sort(names)
	return names, nil
}

func (c *ESClient) CreateServiceToken(ctx context.Context, name string) (secret.Value, error) {
	var resp struct {
		Token struct{ Name, Value string } `json:"token"`
	}
	if _, err := c.do(ctx, http.MethodPost, tokenPath+"/token/"+url.PathEscape(name), nil, nil, &resp); err != nil {
		return secret.Value{}, err
	}
	if resp.Token.Value == "" {
		return secret.Value{}, fmt.Errorf("create service token %s: empty answer", name)
	}
	return secret.New(resp.Token.Value), nil
}

func (c *ESClient) DeleteServiceToken(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, tokenPath+"/token/"+url.PathEscape(name), nil, nil, nil, http.StatusNotFound)
	return err
}

func (c *ESClient) Authenticate(ctx context.Context, authorization secret.Value) (int, error) {
	status, err := c.doAs(ctx, authorization, http.MethodGet, "/_security/_authenticate", nil, nil, nil,
		http.StatusUnauthorized, http.StatusForbidden)
	var ee *elastic.Error
	if errors.As(err, &ee) {
		return ee.Status, nil
	}
	return status, err
}

func (c *ESClient) APIKeys(ctx context.Context, prefix string) ([]APIKey, error) {
	var resp struct {
		APIKeys []struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			Creation    int64  `json:"creation"`
			Invalidated bool   `json:"invalidated"`
		} `json:"api_keys"`
	}
	q := url.Values{"name": {prefix + "*"}}
	if _, err := c.do(ctx, http.MethodGet, "/_security/api_key", q, nil, &resp); err != nil {
		return nil, err
	}
	var out []APIKey
	for _, k := range resp.APIKeys {
		if k.Invalidated || !strings.HasPrefix(k.Name, prefix) {
			continue
		}
		out = append(out, APIKey{ID: k.ID, Name: k.Name, Creation: time.UnixMilli(k.Creation).UTC()})
	}
	slices.SortFunc(out, func(a, b APIKey) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (c *ESClient) CreateAPIKey(ctx context.Context, name string, roleDescriptors, metadata map[string]any) (string, secret.Value, error) {
	var resp struct {
		ID      string `json:"id"`
		Encoded string `json:"encoded"`
	}
	body := map[string]any{"name": name, "role_descriptors": roleDescriptors, "metadata": metadata}
	if _, err := c.do(ctx, http.MethodPost, "/_security/api_key", nil, body, &resp); err != nil {
		return "", secret.Value{}, err
	}
	if resp.Encoded == "" {
		return "", secret.Value{}, fmt.Errorf("create API key %s: empty answer", name)
	}
	return resp.ID, secret.New(resp.Encoded), nil
}

func (c *ESClient) InvalidateAPIKey(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/_security/api_key", nil, map[string]any{"ids": []string{id}}, nil, http.StatusNotFound)
	return err
}

func (c *ESClient) PersistentSettings(ctx context.Context) (map[string]any, error) {
	var resp struct {
		Persistent map[string]any `json:"persistent"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/_cluster/settings", url.Values{"flat_settings": {"true"}}, nil, &resp); err != nil {
		return nil, err
	}
	if resp.Persistent == nil {
		resp.Persistent = map[string]any{}
	}
	return resp.Persistent, nil
}

func (c *ESClient) PutPersistentSettings(ctx context.Context, settings map[string]any) error {
	_, err := c.do(ctx, http.MethodPut, "/_cluster/settings", nil, map[string]any{"persistent": settings}, nil)
	return err
}

func (c *ESClient) Followers(ctx context.Context) (map[string]FollowerObserved, error) {
	var indices map[string]any
	q := url.Values{"expand_wildcards": {"all"}, "ignore_unavailable": {"true"}}
	if _, err := c.do(ctx, http.MethodGet, "/"+FollowerPrefix+"*", q, nil, &indices); err != nil {
		if elastic.IsNotFound(err) {
			return map[string]FollowerObserved{}, nil
		}
		return nil, err
	}
	out := make(map[string]FollowerObserved, len(indices))
	for name := range indices {
		f := FollowerObserved{Exists: true}
		var info struct {
			FollowerIndices []struct {
				RemoteCluster string `json:"remote_cluster"`
				LeaderIndex   string `json:"leader_index"`
				Status        string `json:"status"`
			} `json:"follower_indices"`
		}
		if _, err := c.do(ctx, http.MethodGet, "/"+url.PathEscape(name)+"/_ccr/info", nil, nil, &info); err != nil {
			return nil, fmt.Errorf("follower %s: %w", name, err)
		}
		if len(info.FollowerIndices) > 0 {
			fi := info.FollowerIndices[0]
			f.Follower, f.RemoteCluster, f.LeaderIndex, f.Status = true, fi.RemoteCluster, fi.LeaderIndex, fi.Status
		}
		if f.Follower && f.Status == "active" {
			var stats struct {
				Indices []struct {
					Shards []struct {
						FatalException *struct {
							Type   string `json:"type"`
							Reason string `json:"reason"`
						} `json:"fatal_exception"`
					} `json:"shards"`
				} `json:"indices"`
			}
			if _, err := c.do(ctx, http.MethodGet, "/"+url.PathEscape(name)+"/_ccr/stats", nil, nil, &stats, http.StatusNotFound); err != nil {
				return nil, fmt.Errorf("follower %s: %w", name, err)
			}
			for _, ix := range stats.Indices {
				for _, sh := range ix.Shards {
					if sh.FatalException != nil && f.FatalError == "" {
						f.FatalError = sh.FatalException.Reason
					}
				}
			}
		}
		out[name] = f
	}
	return out, nil
}

func (c *ESClient) Follow(ctx context.Context, index, remoteCluster, leaderIndex string) error {
	body := map[string]any{"remote_cluster": remoteCluster, "leader_index": leaderIndex}
	_, err := c.do(ctx, http.MethodPut, "/"+url.PathEscape(index)+"/_ccr/follow",
		url.Values{"wait_for_active_shards": {"1"}}, body, nil)
	return err
}

func (c *ESClient) ResumeFollow(ctx context.Context, index string) error {
	_, err := c.do(ctx, http.MethodPost, "/"+url.PathEscape(index)+"/_ccr/resume_follow", nil, map[string]any{}, nil)
	return err
}

func (c *ESClient) PauseFollow(ctx context.Context, index string) error {
	_, err := c.do(ctx, http.MethodPost, "/"+url.PathEscape(index)+"/_ccr/pause_follow", nil, nil, nil)
	return err
}

func (c *ESClient) DeleteIndex(ctx context.Context, index string) error {
	_, err := c.do(ctx, http.MethodDelete, "/"+url.PathEscape(index), nil, nil, nil, http.StatusNotFound)
	return err
}
