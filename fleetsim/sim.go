// Package fleetsim simulates named Elastic clusters — each a Kibana (the Fleet
// API) and an Elasticsearch node sharing one state — faithfully enough that
// fleetform's tests can trust it. Its behaviour follows
// shared/reference/fleet-api.md: Kibana's request lifecycle (auth, kbn-xsrf,
// elastic-api-version, config-schema validation messages), outputs, agent and
// package policies, EPM packages, service tokens and the synced-integrations
// task — integrations and *@custom component templates and ingest pipelines —
// with both status APIs. Elasticsearch itself is fleetsim/esim.
//
// In Go tests use StartTest; the fleetsim command serves the same handlers on
// fixed addresses. Every listener also answers the control API under /_sim/.
package fleetsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetform/fleetform/fleetsim/esim"
	"github.com/fleetform/fleetform/fleetsim/simhttp"
)

// DefaultSyncInterval is Kibana's fleet:sync-integrations-task interval.
const DefaultSyncInterval = 5 * time.Minute

// DefaultVersion is the stack version of a cluster that names none.
const DefaultVersion = "9.3.0"

// Options configure a Sim.
type Options struct {
	SyncInterval time.Duration    // sync-integrations task period; 0 means DefaultSyncInterval
	Now          func() time.Time // clock; nil means time.Now
	Logger       *slog.Logger     // nil means discard
	DataDir      string           // when set, state is loaded from and saved to DataDir/state.json
}

// ClusterConfig describes one simulated cluster.
type ClusterConfig struct {
	Name       string
	License    string // basic | platinum | enterprise (default enterprise)
	Version    string // stack version (default DefaultVersion)
	KibanaAddr string // listen address for Start, e.g. 127.0.0.1:5601 (":0" style allowed)
	ESAddr     string
	// SecretStorage decides whether output secrets go to .fleet-secrets:
	// "on", "off", or "auto" (default): Kibana's rule — stored once every
	// Fleet Server is >= 8.12.0 (a sticky latch); with no Fleet Server at all,
	// stacks >= 9.3 store secrets and older ones keep them in plain text
	// (fleet-api.md §2.7: the behaviour changed between versions).
	SecretStorage string
	// SpaceAwareness is "on" (the default) or "off": a 9.1+ deployment
	// upgraded from an earlier stack whose Fleet never ran the space
	// awareness migration (spaces_migration.go). It survives /_sim/reset.
	SpaceAwareness string
}

// Sim is a set of simulated clusters.
type Sim struct {
	opts Options
	log  *slog.Logger

	mu       sync.RWMutex
	clusters map[string]*Cluster
	order    []string
	seed     *SeedFile
	restored map[string]bool

	rec   *simhttp.Recorder
	dirty atomic.Bool

	persisted map[string]clusterSnapshot

	runMu   sync.Mutex
	servers []*http.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// Cluster is one simulated Kibana + Elasticsearch pair.
type Cluster struct {
	sim        *Sim
	cfg        ClusterConfig
	node       *esim.Node
	routeTable []*route
	// outputSchemas are the output body schemas of the cluster's version.
	outputSchemas outputSchemas

	urlMu     sync.RWMutex
	kibanaURL string
	esURL     string

	mu sync.Mutex // guards st and installDelays
	st *kstate
	// installDelays is how long an EPM install of a package takes
	// (epm_install.go); it survives /_sim/reset.
	installDelays map[string]time.Duration
}

// New returns an empty simulator.
func New(opts Options) *Sim {
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = DefaultSyncInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sim{opts: opts, log: opts.Logger, clusters: map[string]*Cluster{}, restored: map[string]bool{}}
	s.rec = simhttp.NewRecorder(simhttp.Options{Now: opts.Now})
	if opts.DataDir != "" {
		if p, err := loadPersisted(opts.DataDir); err != nil {
			s.log.Warn("ignoring unreadable data directory", "dir", opts.DataDir, "err", err)
		} else {
			s.persisted = p
		}
	}
	return s
}

// AddCluster adds a cluster with its default state: superuser elastic/changeme
// and the default output fleet-default-output pointing at its own ES.
func (s *Sim) AddCluster(cfg ClusterConfig) (*Cluster, error) {
	if cfg.Name == "" {
		return nil, errors.New("fleetsim: cluster name is required")
	}
	if cfg.License == "" {
		cfg.License = "enterprise"
	}
	switch cfg.License {
	case "basic", "platinum", "enterprise", "trial", "gold":
	default:
		return nil, fmt.Errorf("fleetsim: cluster %s: unknown license %q", cfg.Name, cfg.License)
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	switch cfg.SecretStorage {
	case "":
		cfg.SecretStorage = "auto"
	case "auto", "on", "off":
	default:
		return nil, fmt.Errorf("fleetsim: cluster %s: secret storage must be auto, on or off, not %q", cfg.Name, cfg.SecretStorage)
	}
	if err := checkSpaceAwareness(cfg); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.clusters[cfg.Name]; dup {
		return nil, fmt.Errorf("fleetsim: cluster %s already exists", cfg.Name)
	}
	c := &Cluster{sim: s, cfg: cfg}
	c.outputSchemas = outputSchemasFor(cfg.Version)
	c.routeTable = c.routes()
	c.node = esim.New(esim.Config{ClusterName: cfg.Name, Version: cfg.Version, License: cfg.License, Now: s.opts.Now})
	c.node.SetResolver(s)
	if cfg.ESAddr != "" {
		c.node.SetAddress(cfg.ESAddr)
		c.esURL = "http://" + cfg.ESAddr
	}
	if cfg.KibanaAddr != "" {
		c.kibanaURL = "http://" + cfg.KibanaAddr
	}
	c.resetState()
	if snap, ok := s.persisted[cfg.Name]; ok {
		if err := c.restore(snap); err != nil {
			return nil, fmt.Errorf("fleetsim: cluster %s: restore from %s: %w", cfg.Name, s.opts.DataDir, err)
		}
		s.restored[cfg.Name] = true
	}
	s.clusters[cfg.Name] = c
	s.order = append(s.order, cfg.Name)
	return c, nil
}

// resetState puts the cluster back to its initial state.
func (c *Cluster) resetState() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st = newKState()
	c.st.SpaceMigration = initialSpaceMigration(c.cfg)
	now := c.now()
	def := &output{
		SOID: outputIDToUUID(defaultOutputID),
		Attrs: map[string]any{
			"output_id":             defaultOutputID,
			"name":                  "default",
			"type":                  "elasticsearch",
			"is_default":            true,
			"is_default_monitoring": true,
			"hosts":                 []any{normalizeHost(c.ESURL())},
		},
	}
	if c.hasPresets() {
		def.Attrs["preset"] = "balanced"
	}
	c.st.putOutput(def, now)
}

// Cluster returns the named cluster or nil.
func (s *Sim) Cluster(name string) *Cluster {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.clusters[name]
}

// Clusters returns every cluster in the order they were added.
func (s *Sim) Clusters() []*Cluster {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Cluster, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, s.clusters[n])
	}
	return out
}

// NodeByAddress implements esim.Resolver: it links remote-cluster seeds and
// proxy addresses to the simulated cluster listening there.
func (s *Sim) NodeByAddress(hostport string) *esim.Node {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, c := range s.clusters {
		u, err := url.Parse(c.ESURL())
		if err != nil {
			continue
		}
		if u.Host == hostport || (c.cfg.ESAddr != "" && c.cfg.ESAddr == hostport) {
			return c.node
		}
	}
	return nil
}

// Name is the cluster's name.
func (c *Cluster) Name() string { return c.cfg.Name }

// Config returns the cluster's configuration.
func (c *Cluster) Config() ClusterConfig { return c.cfg }

// ES returns the cluster's Elasticsearch node.
func (c *Cluster) ES() *esim.Node { return c.node }

// KibanaHandler serves the Kibana API (and /_sim/).
func (c *Cluster) KibanaHandler() http.Handler {
	return c.sim.wrap(c.cfg.Name, "kibana", http.HandlerFunc(c.serveKibana))
}

// ESHandler serves the Elasticsearch API (and /_sim/).
func (c *Cluster) ESHandler() http.Handler {
	inner := c.node.Handler()
	return c.sim.wrap(c.cfg.Name, "es", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			c.sim.markDirty()
		}
		inner.ServeHTTP(w, r)
	}))
}

// KibanaURL is the base URL of the cluster's Kibana listener ("" before it listens).
func (c *Cluster) KibanaURL() string {
	c.urlMu.RLock()
	defer c.urlMu.RUnlock()
	return c.kibanaURL
}

// ESURL is the base URL of the cluster's Elasticsearch listener.
func (c *Cluster) ESURL() string {
	c.urlMu.RLock()
	defer c.urlMu.RUnlock()
	if c.esURL == "" {
		return "http://localhost:9200"
	}
	return c.esURL
}

// setURLs records where the listeners ended up and points the default output
// at the ES listener when it still has its placeholder hosts.
func (c *Cluster) setURLs(kibanaURL, esURL string) {
	c.urlMu.Lock()
	old := c.esURL
	c.kibanaURL, c.esURL = kibanaURL, esURL
	c.urlMu.Unlock()
	if u, err := url.Parse(esURL); err == nil {
		c.node.SetAddress(u.Host)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if o := c.st.outputByID(defaultOutputID); o != nil {
		oldHost := normalizeHost(cmpOr(old, "http://localhost:9200"))
		if hs, _ := o.Attrs["hosts"].([]any); len(hs) == 1 && hs[0] == oldHost {
			o.Attrs["hosts"] = []any{normalizeHost(esURL)}
			o.cache = nil
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (c *Cluster) now() time.Time { return c.sim.opts.Now().UTC() }

// Listener describes one serving listener; fleetsim prints one per line.
type Listener struct {
	Cluster  string `json:"cluster"`
	Listener string `json:"listener"` // kibana | es
	URL      string `json:"url"`
}

// Start listens on every cluster's configured addresses, serves until
// Shutdown, and runs the sync task every SyncInterval. Addresses may use port
// 0; the returned listeners carry the real URLs.
func (s *Sim) Start(ctx context.Context) ([]Listener, error) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	var out []Listener
	var lns []net.Listener
	fail := func(err error) ([]Listener, error) {
		for _, l := range lns {
			_ = l.Close()
		}
		return nil, err
	}
	type pending struct {
		c        *Cluster
		kb, es   net.Listener
		kbH, esH http.Handler
	}
	var ps []pending
	for _, c := range s.Clusters() {
		if c.cfg.KibanaAddr == "" || c.cfg.ESAddr == "" {
			return fail(fmt.Errorf("fleetsim: cluster %s: kibana and es addresses are required", c.cfg.Name))
		}
		kb, err := net.Listen("tcp", c.cfg.KibanaAddr)
		if err != nil {
			return fail(fmt.Errorf("fleetsim: cluster %s kibana: %w", c.cfg.Name, err))
		}
		lns = append(lns, kb)
		es, err := net.Listen("tcp", c.cfg.ESAddr)
		if err != nil {
			return fail(fmt.Errorf("fleetsim: cluster %s es: %w", c.cfg.Name, err))
		}
		lns = append(lns, es)
		ps = append(ps, pending{c: c, kb: kb, es: es, kbH: c.KibanaHandler(), esH: c.ESHandler()})
	}
	for _, p := range ps {
		kbURL, esURL := "http://"+p.kb.Addr().String(), "http://"+p.es.Addr().String()
		p.c.setURLs(kbURL, esURL)
		for _, l := range []struct {
			name string
			ln   net.Listener
			h    http.Handler
			url  string
		}{{"kibana", p.kb, p.kbH, kbURL}, {"es", p.es, p.esH, esURL}} {
			srv := &http.Server{Handler: l.h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 1 << 20}
			s.servers = append(s.servers, srv)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				if err := srv.Serve(l.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					s.log.Error("listener stopped", "cluster", p.c.cfg.Name, "listener", l.name, "err", err)
				}
			}()
			out = append(out, Listener{Cluster: p.c.cfg.Name, Listener: l.name, URL: l.url})
		}
	}
	s.startBackground(ctx)
	return out, nil
}

// startBackground runs the sync task loop and, with a DataDir, the flusher.
func (s *Sim) startBackground(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.opts.SyncInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := s.RunSyncOnce(ctx); err != nil {
					s.log.Warn("sync integrations task failed", "err", err)
				}
			}
		}
	}()
	if s.opts.DataDir != "" {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			t := time.NewTicker(500 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if s.dirty.Swap(false) {
						if err := s.Save(); err != nil {
							s.log.Error("saving state failed", "dir", s.opts.DataDir, "err", err)
						}
					}
				}
			}
		}()
	}
}

// Shutdown stops the listeners gracefully, stops the background task and
// saves the state when a DataDir is set.
func (s *Sim) Shutdown(ctx context.Context) error {
	s.runMu.Lock()
	servers := s.servers
	s.servers = nil
	cancel := s.cancel
	s.runMu.Unlock()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if cancel != nil {
		cancel()
	}
	s.wg.Wait()
	if s.opts.DataDir != "" {
		if err := s.Save(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// StartTest starts every cluster on httptest servers and stops them when the
// test ends. Without clusters it starts one enterprise cluster named "main".
func StartTest(t testing.TB, opts Options, clusters ...ClusterConfig) *Sim {
	t.Helper()
	if len(clusters) == 0 {
		clusters = []ClusterConfig{{Name: "main", License: "enterprise"}}
	}
	s := New(opts)
	for _, cfg := range clusters {
		cfg.KibanaAddr, cfg.ESAddr = "", ""
		c, err := s.AddCluster(cfg)
		if err != nil {
			t.Fatalf("fleetsim: %v", err)
		}
		kb := httptest.NewServer(c.KibanaHandler())
		es := httptest.NewServer(c.ESHandler())
		t.Cleanup(kb.Close)
		t.Cleanup(es.Close)
		c.setURLs(kb.URL, es.URL)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.startBackground(ctx)
	t.Cleanup(func() {
		cancel()
		s.wg.Wait()
	})
	return s
}

func (s *Sim) markDirty() { s.dirty.Store(true) }

// Reset puts every cluster back to its initial state and re-applies the seed.
func (s *Sim) Reset() error {
	var errs []error
	for _, c := range s.Clusters() {
		c.node.Reset()
		c.resetState()
	}
	s.mu.Lock()
	seed := s.seed
	s.restored = map[string]bool{}
	s.mu.Unlock()
	if seed != nil {
		if err := s.Seed(seed); err != nil {
			errs = append(errs, err)
		}
	}
	s.ClearFaults()
	s.ClearRequests()
	return errors.Join(errs...)
}

// clusterSnapshot is the persisted state of one cluster.
type clusterSnapshot struct {
	Kibana json.RawMessage `json:"kibana"`
	ES     json.RawMessage `json:"es"`
}

// State returns every cluster's state as JSON (GET /_sim/state).
func (s *Sim) State() (json.RawMessage, error) {
	out := map[string]clusterSnapshot{}
	for _, c := range s.Clusters() {
		snap, err := c.snapshot()
		if err != nil {
			return nil, err
		}
		out[c.cfg.Name] = snap
	}
	return json.Marshal(map[string]any{"clusters": out})
}

func (c *Cluster) snapshot() (clusterSnapshot, error) {
	c.mu.Lock()
	kb, err := json.Marshal(c.st)
	c.mu.Unlock()
	if err != nil {
		return clusterSnapshot{}, err
	}
	return clusterSnapshot{Kibana: kb, ES: c.node.Snapshot()}, nil
}

func (c *Cluster) restore(snap clusterSnapshot) error {
	st := newKState()
	if err := json.Unmarshal(snap.Kibana, st); err != nil {
		return err
	}
	if err := c.node.Restore(snap.ES); err != nil {
		return err
	}
	c.mu.Lock()
	c.st = st
	c.mu.Unlock()
	return nil
}

// Save writes the state to DataDir/state.json atomically.
func (s *Sim) Save() error {
	if s.opts.DataDir == "" {
		return errors.New("fleetsim: no data directory")
	}
	st, err := s.State()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.opts.DataDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.opts.DataDir, "state-*.json")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(st); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(s.opts.DataDir, "state.json"))
}

func loadPersisted(dir string) (map[string]clusterSnapshot, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc struct {
		Clusters map[string]clusterSnapshot `json:"clusters"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "state.json"), err)
	}
	return doc.Clusters, nil
}

// stackVersion is a stack version: major.minor.patch, optionally -prerelease.
var stackVersion = regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)

// ParseClusterFlag parses the --cluster flag value
// "NAME,kibana=HOST:PORT,es=HOST:PORT[,license=L][,version=V][,secrets=auto|on|off][,space-awareness=on|off]".
// The version decides the Kibana fields and routes served (versions.go).
func ParseClusterFlag(v string) (ClusterConfig, error) {
	parts := strings.Split(v, ",")
	cfg := ClusterConfig{Name: strings.TrimSpace(parts[0])}
	if cfg.Name == "" || strings.Contains(cfg.Name, "=") {
		return cfg, fmt.Errorf("cluster %q: the first element must be the cluster name", v)
	}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			return cfg, fmt.Errorf("cluster %s: %q is not key=value", cfg.Name, p)
		}
		switch k {
		case "kibana":
			cfg.KibanaAddr = val
		case "es":
			cfg.ESAddr = val
		case "license":
			cfg.License = val
		case "version":
			if !stackVersion.MatchString(val) {
				return cfg, fmt.Errorf("cluster %s: version %q is not a stack version like 8.15.0", cfg.Name, val)
			}
			cfg.Version = val
		case "secrets":
			cfg.SecretStorage = val
		case "space-awareness":
			cfg.SpaceAwareness = val
		default:
			return cfg, fmt.Errorf("cluster %s: unknown key %q (want kibana, es, license, version, secrets, space-awareness)", cfg.Name, k)
		}
	}
	if cfg.KibanaAddr == "" || cfg.ESAddr == "" {
		return cfg, fmt.Errorf("cluster %s: kibana= and es= addresses are required", cfg.Name)
	}
	return cfg, nil
}
