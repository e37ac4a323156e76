package remote

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// MemLedger is a Ledger in memory, for tests and dry runs.
type MemLedger struct {
	mu      sync.Mutex
	entries map[[3]string]Entry
}

// NewMemLedger returns an empty MemLedger.
func NewMemLedger() *MemLedger { return &MemLedger{entries: map[[3]string]Entry{}} }

func (m *MemLedger) Load(ctx context.Context) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Entry, 0, len(m.entries))
	for _, e := range m.entries {
		out = append(out, cloneEntry(e))
	}
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (m *MemLedger) Put(ctx context.Context, e Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[[3]string{e.Cluster, e.Kind, e.ID}] = cloneEntry(e)
	return nil
}

func (m *MemLedger) Delete(ctx context.Context, cluster, kind, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, [3]string{cluster, kind, id})
	return nil
}

func cloneEntry(e Entry) Entry {
	d := make(map[string]string, len(e.Data))
	for k, v := range e.Data {
		d[k] = v
	}
	e.Data = d
	return e
}

// ledgerView indexes loaded entries.
type ledgerView map[[3]string]Entry

func newLedgerView(es []Entry) ledgerView {
	v := make(ledgerView, len(es))
	for _, e := range es {
		v[[3]string{e.Cluster, e.Kind, e.ID}] = e
	}
	return v
}

func (v ledgerView) get(cluster, kind, id string) (Entry, bool) {
	e, ok := v[[3]string{cluster, kind, id}]
	return e, ok
}

func (v ledgerView) journal(cluster, kind, id string) Journal {
	e, ok := v.get(cluster, kind, id)
	if !ok {
		return Journal{}
	}
	return decodeJournal(e.Data)
}

// seen returns the packages fleetform saw installed on main.
func (v ledgerView) seen(mainCluster string) map[string]string {
	out := map[string]string{}
	for k, e := range v {
		if k[0] == mainCluster && k[1] == LedgerSeenPackage {
			out[e.ID] = e.Data["version"]
		}
	}
	return out
}

// remoteClusters are the clusters with objects or credentials fleetform
// created (owned entries, rotation journals), sorted.
func (v ledgerView) remoteClusters() []string {
	var out []string
	for k := range v {
		if (k[1] == LedgerOwned || k[1] == LedgerJournalToken || k[1] == LedgerJournalAPIKey) && !slices.Contains(out, k[0]) {
			out = append(out, k[0])
		}
	}
	slices.Sort(out)
	return out
}

func encodeJournal(j Journal) map[string]string {
	d := map[string]string{"generation": strconv.Itoa(j.Generation)}
	set := func(k, val string) {
		if val != "" {
			d[k] = val
		}
	}
	set("phase", string(j.Phase))
	set("current", j.Current)
	set("previous", j.Previous)
	set("next", j.Next)
	set("marker", j.Marker)
	if !j.StartedAt.IsZero() {
		d["started_at"] = j.StartedAt.UTC().Format(time.RFC3339Nano)
	}
	return d
}

func decodeJournal(d map[string]string) Journal {
	j, _ := parseJournal(d) // observe checked every journal
	return j
}

// parseJournal reads a rotation journal; a field that does not parse is an
// error (read as zero, a generation would reuse a credential's name).
func parseJournal(d map[string]string) (Journal, error) {
	var errs []error
	gen, err := strconv.Atoi(cmp.Or(d["generation"], "0"))
	if err != nil {
		errs = append(errs, fmt.Errorf("generation: %w", err))
	}
	j := Journal{Phase: RotationPhase(d["phase"]), Generation: gen, Current: d["current"], Previous: d["previous"],
		Next: d["next"], Marker: d["marker"]}
	switch j.Phase {
	case PhaseIdle, PhaseMinting, PhaseSwapping, PhaseSwapped, PhaseRevoking:
	default:
		errs = append(errs, fmt.Errorf("unknown phase %q", j.Phase))
	}
	if s := d["started_at"]; s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			errs = append(errs, fmt.Errorf("started_at: %w", err))
		}
		j.StartedAt = t
	}
	return j, errors.Join(errs...)
}

// ledgerJournal stores one credential's Journal as a ledger entry.
type ledgerJournal struct {
	ledger        Ledger
	cluster, kind string
	id            string
	now           func() time.Time
}

func (l *ledgerJournal) LoadJournal(ctx context.Context) (Journal, error) {
	es, err := l.ledger.Load(ctx)
	if err != nil {
		return Journal{}, err
	}
	e, ok := newLedgerView(es).get(l.cluster, l.kind, l.id)
	if !ok {
		return Journal{}, nil
	}
	j, err := parseJournal(e.Data)
	if err != nil {
		return Journal{}, fmt.Errorf("state entry %s/%s/%s: broken rotation journal (fix or delete the entry): %w", e.Cluster, e.Kind, e.ID, err)
	}
	return j, nil
}

func (l *ledgerJournal) SaveJournal(ctx context.Context, j Journal) error {
	return l.ledger.Put(ctx, Entry{Cluster: l.cluster, Kind: l.kind, ID: l.id, Data: encodeJournal(j), AppliedAt: l.now()})
}

// failureRecord is fleetform's record of failed direct-sync operations of
// one package on one remote.
type failureRecord struct {
	Attempts  []time.Time `json:"attempts"` // failed installs, newest first
	Install   *Failure    `json:"install,omitempty"`
	Uninstall *Failure    `json:"uninstall,omitempty"`
}

// decodeFailure reads a sync-failure entry; an absent record is no
// failures. A record that does not decode is an error naming the entry:
// read as "no failures" it would drop the install backoff.
func decodeFailure(e Entry) (failureRecord, error) {
	var f failureRecord
	raw := e.Data["record"]
	if raw == "" {
		return f, nil
	}
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		return failureRecord{}, fmt.Errorf("state entry %s/%s/%s: broken record (fix or delete the entry): %w", e.Cluster, e.Kind, e.ID, err)
	}
	return f, nil
}

// check decodes every sync-failure record and rotation journal of v: a
// broken one is an error naming its entry, never read as empty.
func (v ledgerView) check() error {
	var errs []error
	for k, e := range v {
		switch k[1] {
		case LedgerSyncFailure:
			if _, err := decodeFailure(e); err != nil {
				errs = append(errs, err)
			}
		case LedgerJournalToken, LedgerJournalAPIKey:
			if _, err := parseJournal(e.Data); err != nil {
				errs = append(errs, fmt.Errorf("state entry %s/%s/%s: broken rotation journal (fix or delete the entry): %w", e.Cluster, e.Kind, e.ID, err))
			}
		}
	}
	return errors.Join(errs...)
}

func encodeFailure(f failureRecord) (map[string]string, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encode failure record: %w", err)
	}
	return map[string]string{"record": string(b)}, nil
}
