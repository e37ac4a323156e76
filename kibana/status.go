package kibana

import (
	"context"
	"fmt"
	"net/http"
)

// KibanaVersion reads the Kibana version from GET /api/status: its
// version.number (src/core/packages/status/server-internal/src/routes/status.ts
// answers {name, uuid, version: {number, build_hash, build_number,
// build_snapshot, ...}, status, metrics} to an authenticated caller; an
// anonymous one gets only the overall level, without version).
func (c *Client) KibanaVersion(ctx context.Context) (string, error) {
	var resp struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/status", noSpace: true}, &resp); err != nil {
		return "", err
	}
	if resp.Version.Number == "" {
		return "", fmt.Errorf("GET /api/status: no version.number in the answer (an anonymous, redacted status?)")
	}
	return resp.Version.Number, nil
}
