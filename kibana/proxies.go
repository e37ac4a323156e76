package kibana

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

// Proxy is a Fleet proxy as Kibana returned it. certificate_key may hold a
// private key in clear text, so every print path redacts it.
type Proxy map[string]any

// ID returns the proxy's id.
func (p Proxy) ID() string { return settingStr(p, "id") }

// Name returns the proxy's name.
func (p Proxy) Name() string { return settingStr(p, "name") }

// URL returns the proxy's URL.
func (p Proxy) URL() string { return settingStr(p, "url") }

// IsPreconfigured reports whether it comes from kibana.yml.
func (p Proxy) IsPreconfigured() bool { b, _ := p["is_preconfigured"].(bool); return b }

// String prints the proxy with certificate_key redacted.
func (p Proxy) String() string { return redactedJSON(p, [][]string{{"certificate_key"}}) }

// GoString is String.
func (p Proxy) GoString() string { return p.String() }

// Format makes every fmt verb print the redacted form.
func (p Proxy) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }

// LogValue logs the redacted form.
func (p Proxy) LogValue() slog.Value { return slog.StringValue(p.String()) }

// proxiesCRUD calls the /api/fleet/proxies routes.
var proxiesCRUD = settingsCRUD[Proxy]{path: "/api/fleet/proxies"}

// ListProxies returns every proxy in one call.
func (c *Client) ListProxies(ctx context.Context) ([]Proxy, error) {
	return proxiesCRUD.list(ctx, c)
}

// GetProxy returns one proxy.
func (c *Client) GetProxy(ctx context.Context, id string) (Proxy, error) {
	return proxiesCRUD.get(ctx, c, id)
}

// CreateProxy creates a proxy (name and url are required). Not retried
// once it may have reached Kibana.
func (c *Client) CreateProxy(ctx context.Context, body map[string]any) (Proxy, error) {
	return proxiesCRUD.create(ctx, c, body)
}

// UpdateProxy sends an update. Kibana sets proxy_headers,
// certificate_authorities, certificate and certificate_key to null when the
// body omits them, so send every one that is managed.
func (c *Client) UpdateProxy(ctx context.Context, id string, body map[string]any) (Proxy, error) {
	return proxiesCRUD.update(ctx, c, id, body)
}

// DeleteProxy deletes a proxy; outputs, Fleet Server hosts and download
// sources using it lose their proxy_id. Kibana refuses a preconfigured proxy
// or one a preconfigured host or output uses (403).
func (c *Client) DeleteProxy(ctx context.Context, id string) error {
	return proxiesCRUD.delete(ctx, c, id)
}
