// Package esim simulates one Elasticsearch cluster in memory, faithfully
// enough for fleetform's tests: the REST routes Fleet and fleetform call
// (info, licence, security with users, service tokens and API keys that
// really authenticate, cluster settings with remote clusters, cross-cluster
// replication between simulated nodes, indices and documents with optimistic
// concurrency, a small search, Fleet secrets) with Elasticsearch's own status
// codes and error envelopes.
//
// A Node is goroutine-safe. Its Go methods are what the Kibana simulator in
// package fleetsim builds on; Handler serves the same state over HTTP.
package esim

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"sync"
	"time"
)

// Licence types a Node accepts.
const (
	LicenseBasic      = "basic"
	LicensePlatinum   = "platinum"
	LicenseEnterprise = "enterprise"
	LicenseTrial      = "trial"
)

// DefaultVersion is the stack version a Node reports when Config.Version is empty.
const DefaultVersion = "9.1.0"

// Config describes a simulated cluster.
type Config struct {
	ClusterName string           // default "elasticsearch"
	Version     string           // version.number, default DefaultVersion
	License     string           // basic|platinum|enterprise|trial, default basic
	Now         func() time.Time // clock, default time.Now
	// Rand is the source of generated ids, UUIDs and secrets (default crypto/rand).
	// Tests pass a seeded reader for reproducible ids.
	Rand io.Reader
	// NodeName is the name GET / reports (default "<cluster>-node-0").
	NodeName string
}

// Resolver finds the simulated node listening on an address. Remote-cluster
// seeds and proxy addresses are resolved through it, so CCR and _remote/info
// see other simulated clusters.
type Resolver interface {
	NodeByAddress(hostport string) *Node
}

// ErrUnauthenticated is returned by Authenticate for missing or bad credentials.
var ErrUnauthenticated = errors.New("esim: unauthenticated")

// Node is one simulated Elasticsearch cluster.
type Node struct {
	cfg    Config
	now    func() time.Time
	randMu sync.Mutex // Config.Rand need not be goroutine-safe
	rand   io.Reader

	mu       sync.Mutex
	st       *state
	addr     string
	resolver Resolver
	pits     map[string]*pit // open points in time (pit.go); not part of a Snapshot

	recMu      sync.Mutex
	recordings []*Recording // recording.go
}

// state is everything a Snapshot holds.
type state struct {
	ClusterUUID   string                   `json:"cluster_uuid"`
	License       string                   `json:"license"`
	LicenseUID    string                   `json:"license_uid"`
	LicenseIssued time.Time                `json:"license_issued"`
	Users         map[string]*user         `json:"users"`
	ServiceTokens map[string]*serviceToken `json:"service_tokens"` // key: "ns/svc/name"
	APIKeys       map[string]*apiKey       `json:"api_keys"`
	Indices       map[string]*index        `json:"indices"`
	Persistent    map[string]any           `json:"persistent"` // flat key → string or []string
	Transient     map[string]any           `json:"transient"`
	Assets        *assetState              `json:"assets,omitempty"` // component templates, ingest pipelines (assets.go)
}

// New creates a node with the superuser elastic/changeme.
func New(cfg Config) *Node {
	if cfg.ClusterName == "" {
		cfg.ClusterName = "elasticsearch"
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	if cfg.NodeName == "" {
		cfg.NodeName = cfg.ClusterName + "-node-0"
	}
	cfg.License = strings.ToLower(cfg.License)
	if cfg.License == "" {
		cfg.License = LicenseBasic
	}
	n := &Node{cfg: cfg, now: cfg.Now, rand: cfg.Rand}
	if n.now == nil {
		n.now = time.Now
	}
	if n.rand == nil {
		n.rand = rand.Reader
	}
	n.st = n.freshState()
	return n
}

func (n *Node) freshState() *state {
	st := &state{
		ClusterUUID:   n.randomID(22),
		License:       n.cfg.License,
		LicenseUID:    n.uuid(),
		LicenseIssued: n.now().UTC().Truncate(time.Millisecond),
		Users:         map[string]*user{},
		ServiceTokens: map[string]*serviceToken{},
		APIKeys:       map[string]*apiKey{},
		Indices:       map[string]*index{},
		Persistent:    map[string]any{},
		Transient:     map[string]any{},
	}
	st.Users["elastic"] = n.newUser("elastic", "changeme", []string{"superuser"})
	return st
}

// Reset drops all state and starts over as New did (the superuser is back).
func (n *Node) Reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.st = n.freshState()
	n.pits = nil
}

// Name is the cluster name.
func (n *Node) Name() string { return n.cfg.ClusterName }

// Version is the stack version the node reports.
func (n *Node) Version() string { return n.cfg.Version }

// UUID is the cluster UUID.
func (n *Node) UUID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.st.ClusterUUID
}

// SetAddress records the host:port of the node's listener (what remote-cluster
// seeds of other nodes name).
func (n *Node) SetAddress(hostport string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.addr = hostport
}

// Address is the listener set by SetAddress.
func (n *Node) Address() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr
}

// SetResolver sets how remote-cluster addresses find other nodes.
func (n *Node) SetResolver(r Resolver) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.resolver = r
}

// License returns the licence type (basic, platinum, enterprise or trial).
func (n *Node) License() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.st.License
}

// SetLicense changes the licence type. Unknown values are stored lower-cased
// as given; callers validate.
func (n *Node) SetLicense(l string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.st.License = strings.ToLower(l)
}

// licenseAtLeast reports whether the current licence includes platinum features.
func platinumOrBetter(l string) bool {
	switch l {
	case LicensePlatinum, LicenseEnterprise, LicenseTrial:
		return true
	}
	return false
}

// randomID returns n characters of URL-safe base64 from the node's random source.
func (n *Node) randomID(chars int) string {
	b := make([]byte, (chars*6+7)/8)
	if err := n.readRandom(b); err != nil {
		panic("esim: random source failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)[:chars]
}

// uuid returns a random RFC 4122 version-4 UUID string.
func (n *Node) uuid() string {
	var b [16]byte
	if err := n.readRandom(b[:]); err != nil {
		panic("esim: random source failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}

func (n *Node) readRandom(b []byte) error {
	n.randMu.Lock()
	defer n.randMu.Unlock()
	_, err := io.ReadFull(n.rand, b)
	return err
}
