package remote

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/state"
)

// ConnectOptions tune Connect.
type ConnectOptions struct {
	Instance       string // fleetform instance in the state index; default "default"
	StateIndex     string // default state.DefaultIndex
	Prune          bool
	Concurrency    int
	ForceUninstall bool
	HealthTimeout  time.Duration // rotate: how long to wait for a healthy output; 0 = 2m, negative = do not wait
	Logger         *slog.Logger
	Now            func() time.Time // clock for backoff and journals; default time.Now
	// WrapTransport, when set, wraps the HTTP transport of every client
	// (the daemon fences writes with the lease through it).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// Connect builds the two-cluster reconciler for doc: clients for the main
// cluster and every remote from the document's endpoints, the state index
// on the main cluster for ownership, rotation journals and packages seen,
// and the reconciler with this Engine as its Minter.
func Connect(ctx context.Context, doc *schema.Document, opts ConnectOptions) (*TwoCluster, error) {
	return connect(ctx, doc, opts, nil)
}

// connect is Connect; a non-nil rt replaces every client's transport
// (tests use it to interrupt an apply after any request, over plain http).
func connect(ctx context.Context, doc *schema.Document, opts ConnectOptions, rt http.RoundTripper) (*TwoCluster, error) {
	var kbOpts []kibana.Option
	var esOpts []elastic.Option
	if rt != nil {
		kbOpts = append(kbOpts, kibana.WithHTTPClient(&http.Client{Transport: rt}))
		esOpts = append(esOpts, elastic.WithTransport(rt))
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mainKB, err := kibana.NewFromEndpoint(ctx, doc.Clusters.Main.Kibana, reconciler.KibanaOptions(opts.WrapTransport, append(slices.Clone(kbOpts), kibana.WithLogger(log.With("component", "kibana")))...)...)
	if err != nil {
		return nil, fmt.Errorf("connect main kibana: %w", err)
	}
	if err := mainKB.CheckSpace(ctx); err != nil {
		return nil, fmt.Errorf("connect main kibana: %w", err)
	}
	mainES, err := elastic.NewFromEndpoint(ctx, doc.Clusters.Main.Elasticsearch, reconciler.ElasticOptions(opts.WrapTransport, append(slices.Clone(esOpts), elastic.WithLogger(log.With("component", "elasticsearch")))...)...)
	if err != nil {
		return nil, fmt.Errorf("connect main elasticsearch: %w", err)
	}
	store := state.NewStore(mainES, opts.StateIndex, reconciler.InstanceFor(doc, opts.Instance))
	remotes := map[string]*Cluster{}
	for _, r := range doc.Clusters.Remotes {
		c := &Cluster{Name: r.Name}
		if c.ES, err = elastic.NewFromEndpoint(ctx, r.Elasticsearch,
			reconciler.ElasticOptions(opts.WrapTransport, append(slices.Clone(esOpts), elastic.WithLogger(log.With("component", "elasticsearch", "cluster", r.Name)))...)...); err != nil {
			return nil, fmt.Errorf("connect remote %s elasticsearch: %w", r.Name, err)
		}
		if r.Kibana != nil {
			kb, err := kibana.NewFromEndpoint(ctx, *r.Kibana, reconciler.KibanaOptions(opts.WrapTransport, append(slices.Clone(kbOpts), kibana.WithLogger(log.With("component", "kibana", "cluster", r.Name)))...)...)
			if err != nil {
				return nil, fmt.Errorf("connect remote %s kibana: %w", r.Name, err)
			}
			c.Kibana = kb
		}
		remotes[r.Name] = c
	}
	inv := mainInventory{reconciler.StateInventory(store)}
	eng, err := New(Config{
		MainFleet: mainKB, MainES: mainES, Remotes: remotes,
		Ledger: StateLedger(store), Hasher: reconciler.StateHasher{}, Inventory: inv,
		ForceUninstall: opts.ForceUninstall, HealthTimeout: opts.HealthTimeout, Now: opts.Now, Prune: opts.Prune,
	}, log.With("component", "remote"))
	if err != nil {
		return nil, err
	}
	rec, err := reconciler.New(reconciler.Config{
		Fleet: mainKB, Inventory: inv, Hasher: reconciler.StateHasher{}, Minter: eng, License: mainES,
		Prune: opts.Prune, Concurrency: opts.Concurrency, Space: mainKB.Space(),
	}, log)
	if err != nil {
		return nil, err
	}
	return eng.Bind(rec), nil
}

// ledgerKinds are the state-index kinds the Engine owns.
var ledgerKinds = []string{LedgerJournalToken, LedgerJournalAPIKey, LedgerSeenPackage, LedgerSyncFailure, LedgerOwned}

// StateLedger adapts a state.Store to Ledger: entries of the Engine's kinds,
// with Data kept in the entry's Extra.
func StateLedger(s *state.Store) Ledger { return storeLedger{s} }

type storeLedger struct{ s *state.Store }

func (l storeLedger) Load(ctx context.Context) ([]Entry, error) {
	all, err := l.s.Load(ctx)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, e := range all {
		if slices.Contains(ledgerKinds, e.Kind) {
			out = append(out, Entry{Cluster: e.Cluster, Kind: e.Kind, ID: e.ID, Data: e.Extra, AppliedAt: e.AppliedAt})
		}
	}
	return out, nil
}

func (l storeLedger) Put(ctx context.Context, e Entry) error {
	return l.s.Put(ctx, state.Entry{Cluster: e.Cluster, Kind: e.Kind, ID: e.ID, Extra: e.Data, AppliedAt: e.AppliedAt})
}

func (l storeLedger) Delete(ctx context.Context, cluster, kind, id string) error {
	return l.s.Delete(ctx, state.Key{Cluster: cluster, Kind: kind, ID: id})
}

// mainInventory is the reconciler's view of the state index: its own
// records, without the Engine's ledger entries. The Engine writes those as
// it applies the remote changes (the intent to create a remote object,
// rotation journals), and they must not move the fingerprint a saved plan
// is checked by: the remote side of a saved plan is checked change by
// change (reconciler.ClusterPlan, sameContributed).
type mainInventory struct{ reconciler.Inventory }

func (i mainInventory) Load(ctx context.Context) ([]reconciler.Record, error) {
	recs, err := i.Inventory.Load(ctx)
	return slices.DeleteFunc(recs, func(r reconciler.Record) bool { return slices.Contains(ledgerKinds, r.Kind) }), err
}
