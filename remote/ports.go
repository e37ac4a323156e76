package remote

import (
	"context"
	"time"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/secret"
)

// ES is what fleetform calls on a remote cluster's Elasticsearch (and, for
// License, on the main cluster's). *ESClient implements it.
type ES interface {
	License(ctx context.Context) (string, error)
	// ServiceTokens lists the token names of elastic/fleet-server-remote.
	ServiceTokens(ctx context.Context) ([]string, error)
	CreateServiceToken(ctx context.Context, name string) (secret.Value, error)
	// DeleteServiceToken deletes a token; an absent token is not an error.
	DeleteServiceToken(ctx context.Context, name string) error
	// Authenticate calls _security/_authenticate with the given
	// Authorization header value ("Bearer <token>", "ApiKey <encoded>")
	// and returns the HTTP status; err is a transport failure.
	Authenticate(ctx context.Context, authorization secret.Value) (int, error)
	// APIKeys lists the valid (not invalidated) API keys whose name starts with prefix.
	APIKeys(ctx context.Context, prefix string) ([]APIKey, error)
	CreateAPIKey(ctx context.Context, name string, roleDescriptors, metadata map[string]any) (id string, encoded secret.Value, err error)
	// InvalidateAPIKey invalidates a key by id; an absent key is not an error.
	InvalidateAPIKey(ctx context.Context, id string) error
	// PersistentSettings returns the persistent cluster settings, flat.
	PersistentSettings(ctx context.Context) (map[string]any, error)
	PutPersistentSettings(ctx context.Context, settings map[string]any) error
	// Followers describes every index matching fleet-synced-integrations-ccr-*.
	Followers(ctx context.Context) (map[string]FollowerObserved, error)
	// Follow creates a follower with wait_for_active_shards=1.
	Follow(ctx context.Context, index, remoteCluster, leaderIndex string) error
	ResumeFollow(ctx context.Context, index string) error
	PauseFollow(ctx context.Context, index string) error
	// DeleteIndex deletes an index; an absent index is not an error.
	DeleteIndex(ctx context.Context, index string) error
}

// APIKey is an API key as Elasticsearch lists it (never its value).
type APIKey struct {
	ID       string
	Name     string
	Creation time.Time
}

// Kibana is what fleetform calls on a remote cluster's Kibana;
// *kibana.Client implements it.
type Kibana interface {
	ListOutputs(ctx context.Context) ([]kibana.Output, error)
	CreateOutput(ctx context.Context, body map[string]any) (kibana.Output, error)
	UpdateOutput(ctx context.Context, id string, body map[string]any) (kibana.Output, error)
	ListPackages(ctx context.Context) ([]kibana.Package, error)
	ListPackagePolicies(ctx context.Context) ([]kibana.PackagePolicy, error)
	InstallPackage(ctx context.Context, name, version string, force bool) error
	UninstallPackage(ctx context.Context, name, version string, force bool) error
	RemoteSyncedStatus(ctx context.Context) (kibana.SyncStatus, error)
}

// MainFleet is what the remote engine calls on the main cluster's Kibana;
// *kibana.Client implements it.
type MainFleet interface {
	GetOutput(ctx context.Context, id string) (kibana.Output, error)
	UpdateOutput(ctx context.Context, id string, body map[string]any) (kibana.Output, error)
	ListInstalledPackages(ctx context.Context) ([]kibana.InstalledPackage, error)
	OutputHealth(ctx context.Context, id string) (kibana.OutputHealth, error)
	RemoteStatus(ctx context.Context, outputID string) (kibana.SyncStatus, error)
}

// Hasher hashes secret values for the state index and verifies a value
// against a stored hash (state.HashSecret / state.VerifySecret).
type Hasher interface {
	Hash(v secret.Value) string
	Verify(v secret.Value, hash string) bool
}

// Ledger is where the remote engine keeps what it must remember between
// runs, in the main cluster's state index: rotation journals, packages seen
// installed on main, direct-sync failures and the remote objects it owns.
// Entries never hold a secret value.
type Ledger interface {
	Load(ctx context.Context) ([]Entry, error)
	Put(ctx context.Context, e Entry) error
	Delete(ctx context.Context, cluster, kind, id string) error
}

// Entry is one ledger record.
type Entry struct {
	Cluster   string
	Kind      string
	ID        string
	Data      map[string]string
	AppliedAt time.Time
}

// Ledger kinds.
const (
	LedgerJournalToken  = "journal_service_token" // ID: output id; Data: the Journal
	LedgerJournalAPIKey = "journal_api_key"       // ID: output id
	LedgerSeenPackage   = "seen_package"          // Cluster main; ID: package; Data version
	LedgerSyncFailure   = "sync_failure"          // Cluster remote; ID: package; Data: attempts
	LedgerOwned         = "owned"                 // Cluster remote; ID: "<kind>/<id>" of an object fleetform created
)

var _ ES = (*ESClient)(nil)
