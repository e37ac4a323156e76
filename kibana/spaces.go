package kibana

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Space is the Kibana space the client's Fleet calls go to ("" for the
// default space).
func (c *Client) Space() string { return c.space }

// CheckSpace makes sure the client's space exists: Kibana does not check the
// /s/<space> prefix of an API call (the spaces plugin's onPostAuth
// interceptor only checks /app routes), so a misspelt space would silently
// read and write an empty Fleet. It asks the Spaces API
// (GET /api/spaces/space/{id}, which answers a bare 404 for a missing space).
func (c *Client) CheckSpace(ctx context.Context) error {
	if c.space == "" {
		return nil
	}
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/spaces/space/" + url.PathEscape(c.space), noSpace: true}, nil)
	if IsNotFound(err) {
		return fmt.Errorf("kibana space %q does not exist (create it in Kibana, or fix clusters.main.kibana.space): %w", c.space, err)
	}
	if err != nil {
		return fmt.Errorf("kibana space %q: %w", c.space, err)
	}
	return nil
}

// SpaceAwarenessStatus reads Fleet's use_space_awareness_migration_status
// from GET /api/fleet/settings: "success" once Fleet is space-aware, "" when
// the settings object has none (a deployment upgraded to 9.1+ that never ran
// the migration, or Kibana before 9.1), "pending" or "error" while or after
// a migration that did not finish (elastic/kibana fleet
// server/services/spaces/helpers.ts isSpaceAwarenessEnabled,
// enable_space_awareness.ts).
func (c *Client) SpaceAwarenessStatus(ctx context.Context) (string, error) {
	var resp struct {
		Item struct {
			Status string `json:"use_space_awareness_migration_status"`
		} `json:"item"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/fleet/settings"}, &resp); err != nil {
		return "", fmt.Errorf("read fleet settings: %w", err)
	}
	return resp.Item.Status, nil
}

// SpaceExists says whether Kibana space id exists (GET
// /api/spaces/space/{id}: the space, or a bare 404). Any other answer is an
// error — a 403 "Unauthorized to get <id> space" when the credentials hold
// no Kibana privilege at that space (the spaces client authorizes the read).
func (c *Client) SpaceExists(ctx context.Context, id string) (bool, error) {
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/spaces/space/" + url.PathEscape(id), noSpace: true}, nil)
	switch {
	case err == nil:
		return true, nil
	case IsNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("kibana space %q: %w", id, err)
}
