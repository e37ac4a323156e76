package remote

import (
	"context"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/secret"
)

// ES is what fleetform calls on a remote cluster's Elasticsearch: the
// subset of *elastic.Client the engine uses, so tests can substitute it.
// The helpers in es.go turn its answers into the engine's observations.
type ES interface {
	Info(ctx context.Context) (elastic.Info, error) // GET /: version.number (version.go)
	License(ctx context.Context) (elastic.License, error)
	ListServiceTokens(ctx context.Context, ns, svc string) (elastic.ServiceCredentials, error)
	CreateServiceToken(ctx context.Context, ns, svc, name string) (elastic.ServiceToken, error)
	DeleteServiceToken(ctx context.Context, ns, svc, name string) (found bool, err error)
	AuthenticateAs(ctx context.Context, authorization secret.Value) (elastic.Principal, error)
	GetAPIKeys(ctx context.Context, name string, owner bool) ([]elastic.APIKey, error)
	CreateAPIKey(ctx context.Context, name string, roleDescriptors map[string]elastic.RoleDescriptor, metadata map[string]any) (id string, encoded secret.Value, err error)
	InvalidateAPIKey(ctx context.Context, ids ...string) ([]string, error)
	GetClusterSettings(ctx context.Context) (elastic.ClusterSettings, error)
	PutClusterSettings(ctx context.Context, persistent, transient map[string]any) error
	GetIndices(ctx context.Context, pattern string) ([]string, error)
	CCRInfo(ctx context.Context, index string) ([]elastic.FollowerInfo, error)
	CCRStats(ctx context.Context, index string) ([]elastic.FollowerStats, error)
	CCRFollow(ctx context.Context, index, remote, leader, waitForActiveShards string) (elastic.FollowResult, error)
	CCRPause(ctx context.Context, index string) error
	CCRResume(ctx context.Context, index string) error
	DeleteIndex(ctx context.Context, index string) error
}

// Kibana is what fleetform calls on a remote cluster's Kibana;
// *kibana.Client implements it.
type Kibana interface {
	ListOutputs(ctx context.Context) ([]kibana.Output, error)
	CreateOutput(ctx context.Context, body map[string]any) (kibana.Output, error)
	UpdateOutput(ctx context.Context, id string, body map[string]any) (kibana.Output, error)
	DeleteOutput(ctx context.Context, id string) error
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
	ListAgentPolicies(ctx context.Context, opts kibana.ListOptions) ([]kibana.AgentPolicy, error)
	ListPackagePolicies(ctx context.Context) ([]kibana.PackagePolicy, error)
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

var _ ES = (*elastic.Client)(nil)
