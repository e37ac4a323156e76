package kibana

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"

	"github.com/fleetform/fleetform/secret"
)

// Output is an output as Kibana returned it: every stored attribute, with
// secrets as {"id": …} references. Kibana returns kibana_api_key and a plain
// service_token in clear text (fleet-api.md trap 5), so every print path of
// an Output (fmt verbs, slog) redacts them; encoding/json does not, since
// the map is data the reconciler compares.
type Output map[string]any

// ID returns the output's id (the one the client chose on create).
func (o Output) ID() string { s, _ := o["id"].(string); return s }

// Type returns elasticsearch, remote_elasticsearch, logstash or kafka.
func (o Output) Type() string { s, _ := o["type"].(string); return s }

// Name returns the output's display name.
func (o Output) Name() string { s, _ := o["name"].(string); return s }

// IsPreconfigured reports whether the output comes from kibana.yml.
func (o Output) IsPreconfigured() bool { b, _ := o["is_preconfigured"].(bool); return b }

// IsDefault reports whether the output is the default data output.
func (o Output) IsDefault() bool { b, _ := o["is_default"].(bool); return b }

// IsDefaultMonitoring reports whether the output is the default monitoring output.
func (o Output) IsDefaultMonitoring() bool { b, _ := o["is_default_monitoring"].(bool); return b }

// SecretID returns the Fleet secret id stored at a secret path such as
// "service_token" or "ssl.key" under "secrets", or "" when there is none.
func (o Output) SecretID(path ...string) string {
	var cur any = o["secrets"]
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	ref, ok := cur.(map[string]any)
	if !ok {
		return ""
	}
	id, _ := ref["id"].(string)
	return id
}

type itemsResponse[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

type itemResponse[T any] struct {
	Item T `json:"item"`
}

// ListOutputs returns every output in one call (Kibana has no paging here and
// answers up to 10,000 items, sorted with the default first).
func (c *Client) ListOutputs(ctx context.Context) ([]Output, error) {
	var resp itemsResponse[Output]
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/fleet/outputs"}, &resp); err != nil {
		return nil, err
	}
	if resp.Total > len(resp.Items) {
		return nil, fmt.Errorf("GET /api/fleet/outputs: got %d of %d outputs; Kibana lists at most 10000", len(resp.Items), resp.Total)
	}
	return resp.Items, nil
}

// GetOutput returns one output; a missing one is an *APIError with IsNotFound.
func (c *Client) GetOutput(ctx context.Context, id string) (Output, error) {
	var resp itemResponse[Output]
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/fleet/outputs/" + url.PathEscape(id)}, &resp)
	return resp.Item, err
}

// CreateOutput posts a new output and returns it as stored. It is not
// retried once it may have reached Kibana (see the package comment): after
// an error, list the outputs to see whether it exists before posting again.
func (c *Client) CreateOutput(ctx context.Context, body map[string]any) (Output, error) {
	var resp itemResponse[Output]
	err := c.do(ctx, request{method: http.MethodPost, path: "/api/fleet/outputs", body: body}, &resp)
	return resp.Item, err
}

// UpdateOutput sends a partial update. Mind Kibana's PUT rules: an omitted
// secret path deletes the secret (send {"id": …} to keep it), repeating
// type remote_elasticsearch nulls plain credentials, never send id or
// is_preconfigured (fleet-api.md §2.8, traps 3, 4, 8).
func (c *Client) UpdateOutput(ctx context.Context, id string, body map[string]any) (Output, error) {
	var resp itemResponse[Output]
	err := c.do(ctx, request{method: http.MethodPut, path: "/api/fleet/outputs/" + url.PathEscape(id), body: body}, &resp)
	return resp.Item, err
}

// DeleteOutput deletes an output (and, in Kibana, its secrets).
func (c *Client) DeleteOutput(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/api/fleet/outputs/" + url.PathEscape(id)}, nil)
}

// OutputHealth is the last health report Fleet Server wrote for an output.
type OutputHealth struct {
	State     string `json:"state"` // HEALTHY, DEGRADED, UNKNOWN, …
	Message   string `json:"message"`
	Timestamp string `json:"timestamp"`
}

// OutputHealth returns GET /api/fleet/outputs/{id}/health. State is UNKNOWN
// when no report is newer than the output's last update.
func (c *Client) OutputHealth(ctx context.Context, id string) (OutputHealth, error) {
	var h OutputHealth
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/fleet/outputs/" + url.PathEscape(id) + "/health"}, &h)
	return h, err
}

// plainCredentials are the output fields Kibana may return in clear text:
// a plain service_token and kibana_api_key (remote ES), a kafka password,
// and ssl.key. Secret references under "secrets" ({"id": …}) are safe.
var plainCredentials = []string{"service_token", "kibana_api_key", "password"}

// Redacted returns a copy of o whose plain-text credentials read
// secret.Redacted. Null and empty values stay as they are, so the copy
// still shows whether a credential is set.
func (o Output) Redacted() Output {
	out := maps.Clone(o)
	for _, k := range plainCredentials {
		if v, ok := out[k].(string); ok && v != "" {
			out[k] = secret.Redacted
		}
	}
	if ssl, ok := out["ssl"].(map[string]any); ok {
		if v, ok := ssl["key"].(string); ok && v != "" {
			ssl = maps.Clone(ssl)
			ssl["key"] = secret.Redacted
			out["ssl"] = ssl
		}
	}
	return out
}

// String prints the output as JSON with plain-text credentials redacted.
func (o Output) String() string {
	b, err := json.Marshal(map[string]any(o.Redacted()))
	if err != nil {
		return "kibana.Output(" + o.ID() + ")"
	}
	return string(b)
}

// GoString is String: %#v must not print a credential either.
func (o Output) GoString() string { return o.String() }

// Format makes every fmt verb print the redacted form.
func (o Output) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, o.String()) }

// LogValue logs the redacted form.
func (o Output) LogValue() slog.Value { return slog.StringValue(o.String()) }
