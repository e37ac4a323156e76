package kibana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/fleetform/fleetform/secret"
)

// CreateServiceToken asks Kibana to mint an Elasticsearch service token
// (POST /api/fleet/service_tokens): for elastic/fleet-server-remote when
// remote is true (the token a remote_elasticsearch output needs, created on
// the remote cluster's Kibana), else for elastic/fleet-server. The value is
// returned only as a secret.Value. The call is not retried once it may have
// reached Kibana, since each try mints a new token.
func (c *Client) CreateServiceToken(ctx context.Context, remote bool) (name string, value secret.Value, err error) {
	var body map[string]any
	if remote {
		body = map[string]any{"remote": true}
	} else {
		body = map[string]any{}
	}
	var resp struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/api/fleet/service_tokens", body: body}, &resp); err != nil {
		return "", secret.Value{}, err
	}
	if resp.Value == "" {
		return "", secret.Value{}, errors.New("POST /api/fleet/service_tokens: answer has no token value")
	}
	return resp.Name, secret.New(resp.Value), nil
}

// Setup runs Fleet setup (POST /api/fleet/setup): idempotent, so retried.
func (c *Client) Setup(ctx context.Context) error {
	var resp struct {
		IsInitialized  bool `json:"isInitialized"`
		NonFatalErrors []struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		} `json:"nonFatalErrors"`
	}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/api/fleet/setup", safe: true}, &resp); err != nil {
		return err
	}
	var errs []error
	for _, e := range resp.NonFatalErrors {
		errs = append(errs, fmt.Errorf("fleet setup: %s: %s", e.Name, e.Message))
	}
	return errors.Join(errs...)
}

// SyncWarning is a warning of the synced-integrations status APIs.
type SyncWarning struct {
	Title   string `json:"title"`
	Message string `json:"message"`
}

// IntegrationSync is the sync state of one integration on a remote cluster.
// SyncStatus is completed, synchronizing, failed or warning (lower case).
type IntegrationSync struct {
	PackageName    string `json:"package_name"`
	PackageVersion string `json:"package_version"`
	SyncStatus     string `json:"sync_status"`
	InstallStatus  struct {
		Main   string `json:"main,omitempty"`
		Remote string `json:"remote,omitempty"`
	} `json:"install_status"`
	UpdatedAt string       `json:"updated_at,omitempty"`
	Error     string       `json:"error,omitempty"`
	Warning   *SyncWarning `json:"warning,omitempty"`
}

// CustomAssetSync is the sync state of one custom asset (component template
// or ingest pipeline), keyed "<type>:<name>" in SyncStatus.CustomAssets.
type CustomAssetSync struct {
	Type           string `json:"type"`
	Name           string `json:"name"`
	PackageName    string `json:"package_name"`
	PackageVersion string `json:"package_version"`
	SyncStatus     string `json:"sync_status"`
	IsDeleted      bool   `json:"is_deleted,omitempty"`
	Error          string `json:"error,omitempty"`
}

// SyncStatus is the answer of both synced-integrations status APIs. Error
// carries failures Kibana reports with a 200 ("Follower index not found", …).
//
// When Kibana cannot list the custom assets it answers
// `"custom_assets": {"error": "<message>"}` instead of the asset map; that
// message lands in CustomAssetsError and CustomAssets stays empty.
type SyncStatus struct {
	Integrations      []IntegrationSync          `json:"integrations"`
	CustomAssets      map[string]CustomAssetSync `json:"custom_assets,omitempty"`
	CustomAssetsError string                     `json:"custom_assets_error,omitempty"`
	Error             string                     `json:"error,omitempty"`
	Warning           *SyncWarning               `json:"warning,omitempty"`
}

// UnmarshalJSON decodes both shapes Kibana uses for custom_assets.
func (s *SyncStatus) UnmarshalJSON(b []byte) error {
	type plain SyncStatus
	var raw struct {
		plain
		CustomAssets map[string]json.RawMessage `json:"custom_assets,omitempty"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*s = SyncStatus(raw.plain)
	s.CustomAssets = nil
	for key, v := range raw.CustomAssets {
		var msg string
		if key == "error" && json.Unmarshal(v, &msg) == nil {
			s.CustomAssetsError = msg
			continue
		}
		var a CustomAssetSync
		if err := json.Unmarshal(v, &a); err != nil {
			return fmt.Errorf("custom_assets[%q]: %w", key, err)
		}
		if s.CustomAssets == nil {
			s.CustomAssets = map[string]CustomAssetSync{}
		}
		s.CustomAssets[key] = a
	}
	return nil
}

// RemoteSyncedStatus asks a remote cluster's Kibana how far it has synced
// the main cluster's integrations
// (GET /api/fleet/remote_synced_integrations/status; call it on the remote).
func (c *Client) RemoteSyncedStatus(ctx context.Context) (SyncStatus, error) {
	var s SyncStatus
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/fleet/remote_synced_integrations/status"}, &s)
	return s, err
}

// RemoteStatus asks the main cluster's Kibana for the sync state of the
// remote behind a remote_elasticsearch output
// (GET /api/fleet/remote_synced_integrations/{outputID}/remote_status).
// Kibana answers 400 or 404 for an output that is not set up for sync.
func (c *Client) RemoteStatus(ctx context.Context, outputID string) (SyncStatus, error) {
	var s SyncStatus
	err := c.do(ctx, request{method: http.MethodGet,
		path: "/api/fleet/remote_synced_integrations/" + url.PathEscape(outputID) + "/remote_status"}, &s)
	return s, err
}
