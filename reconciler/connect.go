package reconciler

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/state"
)

// DefaultStateIndex is the index on the main cluster that records ownership.
const DefaultStateIndex = state.DefaultIndex

// ConnectOptions tune Connect.
type ConnectOptions struct {
	Instance    string // fleetform instance name in the state index; default "default"
	StateIndex  string // default DefaultStateIndex
	Prune       bool
	Concurrency int
	Minter      Minter
	Logger      *slog.Logger
	// WrapTransport, when set, wraps the HTTP transport of every client
	// (the daemon fences writes with the lease through it).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// Connect builds a Reconciler for doc's main cluster: a Kibana client for
// Fleet and the state index (through Elasticsearch) for ownership, with
// credentials resolved from doc's references.
func Connect(ctx context.Context, doc *schema.Document, opts ConnectOptions) (*Reconciler, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	kb, err := kibana.NewFromEndpoint(ctx, doc.Clusters.Main.Kibana, KibanaOptions(opts.WrapTransport, kibana.WithLogger(log.With("component", "kibana")))...)
	if err != nil {
		return nil, fmt.Errorf("connect main kibana: %w", err)
	}
	if err := kb.CheckSpace(ctx); err != nil {
		return nil, fmt.Errorf("connect main kibana: %w", err)
	}
	es, err := elastic.NewFromEndpoint(ctx, doc.Clusters.Main.Elasticsearch, ElasticOptions(opts.WrapTransport, elastic.WithLogger(log.With("component", "elasticsearch")))...)
	if err != nil {
		return nil, fmt.Errorf("connect main elasticsearch: %w", err)
	}
	return New(Config{
		Fleet:       kb,
		Inventory:   StateInventory(state.NewStore(es, opts.StateIndex, InstanceFor(doc, opts.Instance))),
		Hasher:      StateHasher{},
		Minter:      opts.Minter,
		License:     es,
		Space:       kb.Space(),
		Prune:       opts.Prune,
		Concurrency: opts.Concurrency,
	}, log)
}

// KibanaOptions appends the transport wrapper, when set, to opts.
func KibanaOptions(wrap func(http.RoundTripper) http.RoundTripper, opts ...kibana.Option) []kibana.Option {
	if wrap != nil {
		opts = append(opts, kibana.WithTransportWrapper(wrap))
	}
	return opts
}

// ElasticOptions appends the transport wrapper, when set, to opts.
func ElasticOptions(wrap func(http.RoundTripper) http.RoundTripper, opts ...elastic.Option) []elastic.Option {
	if wrap != nil {
		opts = append(opts, elastic.WithTransportWrapper(wrap))
	}
	return opts
}

// StateHasher hashes with state.HashSecret (salted PBKDF2).
type StateHasher struct{}

// Hash implements Hasher.
func (StateHasher) Hash(v secret.Value) string { return state.HashSecret(v) }

// Verify implements Hasher.
func (StateHasher) Verify(v secret.Value, hash string) bool { return state.VerifySecret(v, hash) }

// StateInventory adapts a state.Store to Inventory.
func StateInventory(s *state.Store) Inventory { return storeInventory{s} }

type storeInventory struct{ s *state.Store }

// extraAdopted marks an agent policy managed in adopt form.
const extraAdopted = "adopted"

func (i storeInventory) Load(ctx context.Context) ([]Record, error) {
	entries, err := i.s.LoadAll(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(entries))
	for _, e := range entries {
		rec := Record{Cluster: e.Cluster, Kind: e.Kind, ID: e.ID, DesiredHash: e.DesiredHash,
			Adopted: e.Extra[extraAdopted] == "true", Revision: e.Revision, AppliedAt: e.AppliedAt}
		if e.Instance != i.s.Instance() {
			rec.Owner = e.Instance
		}
		if len(e.Secrets) > 0 {
			rec.Secrets = make(map[string]SecretRecord, len(e.Secrets))
			for p, s := range e.Secrets {
				rec.Secrets[p] = SecretRecord{Hash: s.Hash, FleetSecretID: s.FleetSecretID, RefDescribe: s.RefDescribe}
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

func (i storeInventory) Put(ctx context.Context, r Record) error {
	e := state.Entry{Kind: r.Kind, ID: r.ID, Cluster: r.Cluster, DesiredHash: r.DesiredHash, Revision: r.Revision, AppliedAt: r.AppliedAt}
	if r.Adopted {
		e.Extra = map[string]string{extraAdopted: "true"}
	}
	if len(r.Secrets) > 0 {
		e.Secrets = make(map[string]state.SecretRecord, len(r.Secrets))
		for p, s := range r.Secrets {
			e.Secrets[p] = state.SecretRecord{Hash: s.Hash, FleetSecretID: s.FleetSecretID, RefDescribe: s.RefDescribe}
		}
	}
	return i.s.Put(ctx, e)
}

func (i storeInventory) Delete(ctx context.Context, cluster, kind, id string) error {
	return i.s.Delete(ctx, state.Key{Cluster: cluster, Kind: kind, ID: id})
}

// InstanceFor is the instance name a repository records ownership under. A
// repository that manages a Kibana space (clusters.main.kibana.space) and
// did not choose an instance gets one per space, "default@SPACE": two
// repositories managing two spaces of one cluster then never read each
// other's records as their own (one instance per repository is the state
// index's rule, and spaces make it easy to break by accident).
func InstanceFor(doc *schema.Document, instance string) string {
	if space := doc.Clusters.Main.Kibana.Space; (instance == "" || instance == "default") && space != "" && space != "default" {
		return "default@" + space
	}
	return instance
}
