// Package state is fleetform's ownership inventory: one document per
// managed object in an index on the main cluster (default
// "fleetform-state"), recording what fleetform owns, the hash of the desired
// state it last applied, and — per secret path — a salted hash of the secret
// value and the Fleet secret id Kibana gave it. The hash lets the
// reconciler see that a secret reference now resolves to a different value
// without ever storing or reading the value; the id lets it send the secret
// back as {"id": …} unchanged and notice when someone replaced it.
//
// The store never writes a secret value: Entry has no field that could hold
// one, and the tests check every byte written.
package state

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/secret"
)

// DefaultIndex is the index the inventory lives in.
const DefaultIndex = "fleetform-state"

// DefaultInstance names the fleetform instance when none is configured.
const DefaultInstance = "default"

// Key identifies one managed object within an instance.
type Key struct {
	Cluster string // "main" or a remote's name
	Kind    string // output, agent_policy, package, service_token, api_key, …
	ID      string
}

// String returns cluster/kind/id.
func (k Key) String() string { return k.Cluster + "/" + k.Kind + "/" + k.ID }

// Entry is the record of one managed object.
type Entry struct {
	Kind     string
	ID       string
	Instance string // set by the Store
	Cluster  string
	// DesiredHash is a digest of the desired state last applied (the
	// reconciler's choice of canonical form).
	DesiredHash string
	// Secrets maps a secret path ("secrets.service_token") to its record.
	Secrets map[string]SecretRecord
	// Revision is the source revision (Git commit) last applied.
	Revision  string
	AppliedAt time.Time
	// Extra holds small kind-specific facts (e.g. the name of a minted
	// service token, the API key id); never a secret value.
	Extra map[string]string
}

// Key returns the entry's key.
func (e Entry) Key() Key { return Key{Cluster: e.Cluster, Kind: e.Kind, ID: e.ID} }

// SecretRecord describes one secret without holding it.
type SecretRecord struct {
	// Hash is "saltHex:pbkdf2Hex" from HashSecret.
	Hash string
	// FleetSecretID is the id Kibana stored the secret under (.fleet-secrets), if any.
	FleetSecretID string
	// RefDescribe is where the value came from ("env:NAME", "file:/path", "generate").
	RefDescribe string
}

// doc is the stored form of an Entry.
type doc struct {
	Kind        string                  `json:"kind"`
	ID          string                  `json:"id"`
	Cluster     string                  `json:"cluster"`
	Instance    string                  `json:"instance"`
	DesiredHash string                  `json:"desired_hash,omitempty"`
	Secrets     map[string]secretRecDoc `json:"secrets,omitempty"`
	Revision    string                  `json:"revision,omitempty"`
	AppliedAt   time.Time               `json:"applied_at"`
	Extra       map[string]string       `json:"extra,omitempty"`
}

type secretRecDoc struct {
	Hash          string `json:"hash,omitempty"`
	FleetSecretID string `json:"fleet_secret_id,omitempty"`
	Ref           string `json:"ref,omitempty"`
}

func toDoc(e Entry) doc {
	d := doc{Kind: e.Kind, ID: e.ID, Cluster: e.Cluster, Instance: e.Instance, DesiredHash: e.DesiredHash,
		Revision: e.Revision, AppliedAt: e.AppliedAt.UTC(), Extra: e.Extra}
	if len(e.Secrets) > 0 {
		d.Secrets = make(map[string]secretRecDoc, len(e.Secrets))
		for p, s := range e.Secrets {
			d.Secrets[p] = secretRecDoc{Hash: s.Hash, FleetSecretID: s.FleetSecretID, Ref: s.RefDescribe}
		}
	}
	return d
}

func fromDoc(d doc) Entry {
	e := Entry{Kind: d.Kind, ID: d.ID, Cluster: d.Cluster, Instance: d.Instance, DesiredHash: d.DesiredHash,
		Revision: d.Revision, AppliedAt: d.AppliedAt, Extra: d.Extra}
	if len(d.Secrets) > 0 {
		e.Secrets = make(map[string]SecretRecord, len(d.Secrets))
		for p, s := range d.Secrets {
			e.Secrets[p] = SecretRecord{Hash: s.Hash, FleetSecretID: s.FleetSecretID, RefDescribe: s.Ref}
		}
	}
	return e
}

// Store reads and writes one instance's entries.
type Store struct {
	es       *elastic.Client
	index    string
	instance string
	ensured  atomic.Bool // the index exists with its mapping (checked once per Store)
}

// NewStore returns a store over es; empty index and instance take the defaults.
func NewStore(es *elastic.Client, index, instance string) *Store {
	if index == "" {
		index = DefaultIndex
	}
	if instance == "" {
		instance = DefaultInstance
	}
	return &Store{es: es, index: index, instance: instance}
}

// Index returns the index name.
func (s *Store) Index() string { return s.index }

// Instance returns the instance name.
func (s *Store) Instance() string { return s.instance }

// scanPage is the page size of Load and LoadAll: Elasticsearch's default
// index.max_result_window, the largest page a search may return, so an
// inventory of a few thousand records is one page.
const scanPage = 10000

// mapping keeps the inventory's fields keyword-typed and secrets unindexed.
var mapping = map[string]any{
	"settings": map[string]any{"index": map[string]any{"number_of_shards": 1, "auto_expand_replicas": "0-1", "hidden": true}},
	"mappings": map[string]any{
		"dynamic": false,
		"properties": map[string]any{
			"kind": map[string]any{"type": "keyword"}, "id": map[string]any{"type": "keyword"},
			"cluster": map[string]any{"type": "keyword"}, "instance": map[string]any{"type": "keyword"},
			"desired_hash": map[string]any{"type": "keyword"}, "revision": map[string]any{"type": "keyword"},
			"applied_at": map[string]any{"type": "date"},
			"secrets":    map[string]any{"type": "object", "enabled": false},
			"extra":      map[string]any{"type": "object", "enabled": false},
		},
	},
}

// docID is instance/cluster/kind/id.
func (s *Store) docID(k Key) string {
	return s.instance + "/" + k.Cluster + "/" + k.Kind + "/" + k.ID
}

// Load returns every entry of this instance. A missing index is an empty
// inventory. It reads every document of the index (shared by every
// instance) and keeps this instance's, so it does not depend on how the
// index happens to be mapped.
func (s *Store) Load(ctx context.Context) (map[Key]Entry, error) {
	all, err := s.LoadAll(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[Key]Entry, len(all))
	for _, e := range all {
		if e.Instance == s.instance {
			out[e.Key()] = e
		}
	}
	return out, nil
}

// LoadAll returns the entries of every instance in the index (Entry.Instance
// says whose), so a reconciler can see an object another fleetform instance
// owns. It pages through a point in time (elastic.ScanAs): a single
// search would stop at 10,000 documents, and its hits.total, capped at
// 10,000 too, could not even tell that it had.
func (s *Store) LoadAll(ctx context.Context) ([]Entry, error) {
	var out []Entry
	var errs []error
	// Each page is decoded once, straight into docs (elastic.ScanAs).
	err := elastic.ScanAs(ctx, s.es, s.index, nil, scanPage, func(h elastic.Hit[doc]) error {
		if h.Err != nil {
			errs = append(errs, fmt.Errorf("state doc %s: %w", h.ID, h.Err))
			return nil
		}
		out = append(out, fromDoc(h.Source))
		return nil
	})
	if err != nil {
		if elastic.ErrorType(err) == "index_not_found_exception" {
			return nil, nil
		}
		return nil, fmt.Errorf("load state: %w", err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("load state: %w", errors.Join(errs...))
	}
	return out, nil
}

// Put writes e (its Instance set to the store's) and waits until a search
// sees it. The index is created with its mapping on first use.
func (s *Store) Put(ctx context.Context, e Entry) error {
	if e.Kind == "" || e.ID == "" || e.Cluster == "" {
		return fmt.Errorf("state put: kind, id and cluster are required (got %q)", e.Key())
	}
	e.Instance = s.instance
	if e.AppliedAt.IsZero() {
		e.AppliedAt = time.Now()
	}
	if err := s.ensureIndex(ctx); err != nil {
		return err
	}
	_, err := s.es.IndexDoc(ctx, s.index, s.docID(e.Key()), toDoc(e), elastic.IndexOptions{Refresh: "wait_for"})
	if err != nil {
		return fmt.Errorf("state put %s: %w", e.Key(), err)
	}
	return nil
}

// Delete removes the entry for k; a missing entry is not an error.
func (s *Store) Delete(ctx context.Context, k Key) error {
	if _, err := s.es.DeleteDoc(ctx, s.index, s.docID(k), elastic.IndexOptions{Refresh: "wait_for"}); err != nil {
		return fmt.Errorf("state delete %s: %w", k, err)
	}
	return nil
}

func (s *Store) ensureIndex(ctx context.Context) error {
	if s.ensured.Load() {
		return nil
	}
	ok, err := s.es.IndexExists(ctx, s.index)
	if err != nil {
		return fmt.Errorf("state index %s: %w", s.index, err)
	}
	if !ok {
		err = s.es.CreateIndex(ctx, s.index, mapping)
		if err != nil && elastic.ErrorType(err) != "resource_already_exists_exception" {
			return fmt.Errorf("state index %s: %w", s.index, err)
		}
	}
	s.ensured.Store(true)
	return nil
}

// Secret hashing: PBKDF2-HMAC-SHA256, 100,000 iterations, 16-byte random
// salt, 32-byte key, written "saltHex:keyHex".
const (
	hashIterations = 100_000
	saltBytes      = 16
	keyBytes       = 32
)

// HashSecret returns a salted hash of v, "saltHex:pbkdf2Hex". It is
// deliberately slow to compute, so the stored hash does not let anyone try
// guesses cheaply.
func HashSecret(v secret.Value) string {
	salt := make([]byte, saltBytes)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hashWithSalt(v, salt)
}

func hashWithSalt(v secret.Value, salt []byte) string {
	key, err := pbkdf2.Key(sha256.New, v.Reveal(), salt, hashIterations, keyBytes)
	if err != nil { // only for FIPS-mode parameter limits, which these meet
		panic("state: pbkdf2: " + err.Error())
	}
	return hex.EncodeToString(salt) + ":" + hex.EncodeToString(key)
}

// VerifySecret reports whether v is the value hash was made from. A
// malformed hash never verifies.
func VerifySecret(v secret.Value, hash string) bool {
	saltHex, keyHex, ok := strings.Cut(hash, ":")
	if !ok {
		return false
	}
	salt, err1 := hex.DecodeString(saltHex)
	want, err2 := hex.DecodeString(keyHex)
	if err1 != nil || err2 != nil || len(salt) == 0 || len(want) != keyBytes {
		return false
	}
	got := hashWithSalt(v, salt)
	_, gotKey, _ := strings.Cut(got, ":")
	gk, _ := hex.DecodeString(gotKey)
	return subtle.ConstantTimeCompare(gk, want) == 1
}
