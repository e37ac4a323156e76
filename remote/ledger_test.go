package remote

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/fleetsim"
)

// TestTwoCluster_BrokenSyncFailureRecordIsAnError: a direct-sync failure
// record in the state index that does not decode is an error naming the
// entry, not "no failures" (which would skip the install backoff).
func TestTwoCluster_BrokenSyncFailureRecordIsAnError(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "basic"}, {Name: "west", License: "basic"}},
		fmt.Sprintf(directBody, true))
	tc := env.connect(t, ConnectOptions{})
	broken := Entry{Cluster: "west", Kind: LedgerSyncFailure, ID: "nginx", AppliedAt: time.Now(),
		Data: map[string]string{"record": `{"attempts": "yesterday"`, "version": "2.0.0"}}
	if err := tc.Engine.cfg.Ledger.Put(t.Context(), broken); err != nil {
		t.Fatal(err)
	}
	_, err := tc.Plan(t.Context(), env.doc, "test")
	if err == nil || !strings.Contains(err.Error(), "sync_failure") || !strings.Contains(err.Error(), "nginx") {
		t.Fatalf("plan with a broken sync-failure record = %v, want an error naming the entry", err)
	}
	if _, err := tc.Apply(t.Context(), env.doc, nil, applyOpts()); err == nil {
		t.Fatal("apply with a broken sync-failure record succeeded")
	}
	if v := env.installedOn(t, "west")["nginx"]; v != "" {
		t.Errorf("nginx installed on west (%s) although the backoff record could not be read", v)
	}
}

func TestRecordSync_BrokenRecord(t *testing.T) {
	l := NewMemLedger()
	ctx := t.Context()
	if err := l.Put(ctx, Entry{Cluster: "west", Kind: LedgerSyncFailure, ID: "nginx", Data: map[string]string{"record": "{"}}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if err := recordSync(ctx, l, "west", "nginx", "2.0.0", at, fmt.Errorf("install failed"), true); err == nil || !strings.Contains(err.Error(), "sync_failure") {
		t.Errorf("recordSync over a broken record = %v, want an error naming it", err)
	}
	if err := recordBlocked(ctx, l, "west", "nginx", "2.0.0", nil); err == nil {
		t.Error("recordBlocked over a broken record succeeded")
	}
}

// TestTwoCluster_BrokenJournalIsAnError: a rotation journal whose
// generation does not parse is an error naming the entry (read as 0, it
// would reuse the name of a credential in use).
func TestTwoCluster_BrokenJournalIsAnError(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	tc := env.connect(t, ConnectOptions{HealthTimeout: -1})
	mustApply(t, tc, env.doc)
	broken := Entry{Cluster: "west", Kind: LedgerJournalToken, ID: "remote-west", AppliedAt: time.Now(),
		Data: map[string]string{"generation": "one", "current": "fleetform-remote-west-1"}}
	if err := tc.Engine.cfg.Ledger.Put(t.Context(), broken); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Plan(t.Context(), env.doc, "test"); err == nil || !strings.Contains(err.Error(), "journal_service_token/remote-west") {
		t.Fatalf("plan with a broken journal = %v, want an error naming the entry", err)
	}
	if _, err := tc.Engine.Rotate(t.Context(), env.doc, "remote-west"); err == nil {
		t.Fatal("rotate with a broken journal succeeded")
	}
}
