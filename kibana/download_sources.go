package kibana

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

// DownloadSource is an agent binary download source as Kibana returned it;
// secrets (secrets.ssl.key, secrets.auth.password, secrets.auth.api_key) as
// {"id": …} references, plain credentials redacted on every print path.
type DownloadSource map[string]any

// ID returns the source's id.
func (d DownloadSource) ID() string { return settingStr(d, "id") }

// Name returns the source's name.
func (d DownloadSource) Name() string { return settingStr(d, "name") }

// IsDefault reports whether agent policies without download_source_id use it.
func (d DownloadSource) IsDefault() bool { b, _ := d["is_default"].(bool); return b }

var downloadSourcePlainSecrets = [][]string{{"ssl", "key"}, {"auth", "password"}, {"auth", "api_key"}}

// String prints the source with plain credentials redacted.
func (d DownloadSource) String() string { return redactedJSON(d, downloadSourcePlainSecrets) }

// GoString is String.
func (d DownloadSource) GoString() string { return d.String() }

// Format makes every fmt verb print the redacted form.
func (d DownloadSource) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, d.String()) }

// LogValue logs the redacted form.
func (d DownloadSource) LogValue() slog.Value { return slog.StringValue(d.String()) }

// downloadSourcesCRUD calls the /api/fleet/agent_download_sources routes.
var downloadSourcesCRUD = settingsCRUD[DownloadSource]{path: "/api/fleet/agent_download_sources"}

// ListDownloadSources returns every download source in one call, the
// default first.
func (c *Client) ListDownloadSources(ctx context.Context) ([]DownloadSource, error) {
	return downloadSourcesCRUD.list(ctx, c)
}

// GetDownloadSource returns one download source.
func (c *Client) GetDownloadSource(ctx context.Context, id string) (DownloadSource, error) {
	return downloadSourcesCRUD.get(ctx, c, id)
}

// CreateDownloadSource creates a source (name and host are required; names
// are unique). Not retried once it may have reached Kibana.
func (c *Client) CreateDownloadSource(ctx context.Context, body map[string]any) (DownloadSource, error) {
	return downloadSourcesCRUD.create(ctx, c, body)
}

// UpdateDownloadSource replaces a source (name and host are required on
// PUT too); an omitted secret path deletes the secret.
func (c *Client) UpdateDownloadSource(ctx context.Context, id string, body map[string]any) (DownloadSource, error) {
	return downloadSourcesCRUD.update(ctx, c, id, body)
}

// DeleteDownloadSource deletes a source; agent policies using it fall back
// to the default. Kibana refuses the default one (400).
func (c *Client) DeleteDownloadSource(ctx context.Context, id string) error {
	return downloadSourcesCRUD.delete(ctx, c, id)
}
