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
