package kibana

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"

	"github.com/fleetform/fleetform/secret"
)

// FleetServerHost is a Fleet Server host as Kibana returned it: secrets
// (secrets.ssl.key, es_key, agent_key) as {"id": …} references; plain
// ssl keys, when Kibana stores them in clear text, are redacted on every
// print path.
type FleetServerHost map[string]any

// ID returns the host's id.
func (h FleetServerHost) ID() string { return settingStr(h, "id") }

// Name returns the host's name.
func (h FleetServerHost) Name() string { return settingStr(h, "name") }

// IsDefault reports whether agent policies without fleet_server_host_id use it.
func (h FleetServerHost) IsDefault() bool { b, _ := h["is_default"].(bool); return b }

// IsPreconfigured reports whether it comes from kibana.yml.
func (h FleetServerHost) IsPreconfigured() bool { b, _ := h["is_preconfigured"].(bool); return b }

// String prints the host with plain-text keys redacted.
func (h FleetServerHost) String() string {
	return redactedJSON(h, [][]string{{"ssl", "key"}, {"ssl", "es_key"}, {"ssl", "agent_key"}})
}

// GoString is String.
func (h FleetServerHost) GoString() string { return h.String() }

// Format makes every fmt verb print the redacted form.
func (h FleetServerHost) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, h.String()) }

// LogValue logs the redacted form.
func (h FleetServerHost) LogValue() slog.Value { return slog.StringValue(h.String()) }

func settingStr(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// redactedJSON marshals m with the string values at paths replaced.
func redactedJSON(m map[string]any, paths [][]string) string {
	out := redactPaths(m, paths)
	b, err := json.Marshal(out)
	if err != nil {
		return "(unprintable)"
	}
	return string(b)
}

func redactPaths(m map[string]any, paths [][]string) map[string]any {
	out := maps.Clone(m)
	for _, p := range paths {
		out = redactAt(out, p)
	}
	return out
}

func redactAt(m map[string]any, path []string) map[string]any {
	v, ok := m[path[0]]
	if !ok {
		return m
	}
	if len(path) == 1 {
		if s, ok := v.(string); ok && s != "" {
			m[path[0]] = secret.Redacted
		}
		return m
	}
	sub, ok := v.(map[string]any)
	if !ok {
		return m
	}
	m[path[0]] = redactAt(maps.Clone(sub), path[1:])
	return m
}

// fleetServerHostsCRUD calls the /api/fleet/fleet_server_hosts routes.
var fleetServerHostsCRUD = settingsCRUD[FleetServerHost]{path: "/api/fleet/fleet_server_hosts"}

// ListFleetServerHosts returns every Fleet Server host in one call (Kibana
// answers them all, up to 10,000).
func (c *Client) ListFleetServerHosts(ctx context.Context) ([]FleetServerHost, error) {
	return fleetServerHostsCRUD.list(ctx, c)
}

// GetFleetServerHost returns one host; a missing one is an *APIError with IsNotFound.
func (c *Client) GetFleetServerHost(ctx context.Context, id string) (FleetServerHost, error) {
	return fleetServerHostsCRUD.get(ctx, c, id)
}

// CreateFleetServerHost creates a host (name and host_urls are required).
// A new default unsets the old one and bumps every agent policy. Not
// retried once it may have reached Kibana.
func (c *Client) CreateFleetServerHost(ctx context.Context, body map[string]any) (FleetServerHost, error) {
	return fleetServerHostsCRUD.create(ctx, c, body)
}

// UpdateFleetServerHost sends a partial update. Mind Kibana's PUT rules: an
// omitted proxy_id becomes null, an omitted secret path deletes the secret
// (send {"id": …} to keep it).
func (c *Client) UpdateFleetServerHost(ctx context.Context, id string, body map[string]any) (FleetServerHost, error) {
	return fleetServerHostsCRUD.update(ctx, c, id, body)
}

// DeleteFleetServerHost deletes a host; agent policies using it fall back to
// the default. Kibana refuses the default and preconfigured ones (403).
func (c *Client) DeleteFleetServerHost(ctx context.Context, id string) error {
	return fleetServerHostsCRUD.delete(ctx, c, id)
}
