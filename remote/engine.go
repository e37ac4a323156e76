package remote

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// KindPreflight is the plan kind of a preflight problem (always blocked).
const KindPreflight = "preflight"

// Cluster is one remote cluster's clients.
type Cluster struct {
	Name   string
	ES     ES
	Kibana Kibana // nil when the document declares no kibana endpoint for the remote
}

// Config configures an Engine.
type Config struct {
	MainCluster string // the main cluster's name in plans; default "main"
	MainFleet   MainFleet
	MainES      interface {
		License(ctx context.Context) (elastic.License, error)
	}
	Remotes map[string]*Cluster // by clusters.remotes[].name
	Ledger  Ledger
	Hasher  Hasher
	// Inventory is the reconciler's ownership record; after fleetform swaps
	// a credential itself (rotation, drift) it updates the output's secret
	// record there. May be nil.
	Inventory reconciler.Inventory
	// Resolve reads env/file references for preflight probes. Default:
	// kibana.ResolveSecret.
	Resolve func(ctx context.Context, ref schema.SecretRef) (secret.Value, error)
	// ProbeKibana tries kibana_url with an API key. Default: a GET of the
	// remote sync status API, as the main Kibana does.
	ProbeKibana func(ctx context.Context, url string, key secret.Value) Probe
	// ForceUninstall (--force-uninstall): see SyncInput.ForceUninstall.
	ForceUninstall bool
	// Prune (--prune) deletes the remote-side objects fleetform created for
	// outputs that left the document. Off: the plan only warns about them.
	Prune bool
	// HealthTimeout bounds the wait for a rotated output to report healthy
	// (rotate only; apply never waits). Default 2m; negative: do not wait.
	HealthTimeout time.Duration
	HealthPoll    time.Duration // default 5s
	// InstallWait bounds how long a direct-sync install waits for an install
	// the remote's Kibana is running (kind_package.go); zero: kibana's defaults.
	InstallWait kibana.InstallWait
	Now         func() time.Time
}

// Engine plans and applies the remote side of every remote_elasticsearch
// output that names a remote: credentials, remote-cluster link, follower
// index, the remote's matching elasticsearch output and direct sync. It is
// the reconciler's Minter for generate: true secrets.
type Engine struct {
	cfg Config
	log *slog.Logger
}

// New returns an Engine. log may be nil.
func New(cfg Config, log *slog.Logger) (*Engine, error) {
	if cfg.MainFleet == nil || cfg.MainES == nil || cfg.Ledger == nil || cfg.Hasher == nil {
		return nil, errors.New("remote: MainFleet, MainES, Ledger and Hasher are required")
	}
	cfg.MainCluster = cmp.Or(cfg.MainCluster, "main")
	if cfg.Resolve == nil {
		cfg.Resolve = kibana.ResolveSecret
	}
	if cfg.ProbeKibana == nil {
		cfg.ProbeKibana = probeKibana
	}
	if cfg.HealthTimeout == 0 {
		cfg.HealthTimeout = 2 * time.Minute
	}
	if cfg.HealthPoll == 0 {
		cfg.HealthPoll = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{cfg: cfg, log: log}, nil
}

func probeKibana(ctx context.Context, url string, key secret.Value) Probe {
	c, err := kibana.New(url, kibana.Auth{APIKey: key}, kibana.WithRetry(1, time.Second))
	if err != nil {
		return Probe{URL: url, Err: err}
	}
	_, err = c.RemoteSyncedStatus(ctx)
	if err == nil {
		return Probe{URL: url, Status: 200}
	}
	if st := kibana.StatusCode(err); st != 0 {
		return Probe{URL: url, Status: st}
	}
	return Probe{URL: url, Err: err}
}

// target is one remote_elasticsearch output bound to its remote.
type target struct {
	out     schema.Output
	spec    schema.Remote
	cluster *Cluster
	obj     Objects
	// integrations are the packages whose data the document sends to this
	// output, with their integration policies (integrations_note.go).
	integrations map[string][]string
}

func (e *Engine) targets(doc *schema.Document) ([]target, []Problem) {
	specs := map[string]schema.Remote{}
	for _, r := range doc.Clusters.Remotes {
		specs[r.Name] = r
	}
	var ts []target
	var ps []Problem
	use := reconciler.RemoteIntegrationUse(doc)
	for _, o := range doc.Outputs {
		if o.Remote == "" {
			continue
		}
		spec, ok := specs[o.Remote]
		c := e.cfg.Remotes[o.Remote]
		if !ok || c == nil {
			ps = append(ps, Problem{Cluster: o.Remote, Output: o.ID, Check: "remote", Message: "remote " + o.Remote + " is not declared under clusters.remotes"})
			continue
		}
		obj, dps := Desired(o, spec)
		ps = append(ps, dps...)
		ts = append(ts, target{out: o, spec: spec, cluster: c, obj: obj, integrations: use[o.ID]})
	}
	return ts, ps
}

// remoteObs is one remote as observed.
type remoteObs struct {
	license   string
	tokens    []string
	keys      []elastic.APIKey
	settings  map[string]any
	followers map[string]FollowerObserved
	outputs   map[string]kibana.Output // nil without a Kibana
	packages  []kibana.Package
	policies  []kibana.PackagePolicy
	version   string // the remote's Kibana version; "" without a Kibana (version.go)
	// esVersion is the remote's Elasticsearch version (GET /), read only
	// when an output to it carries a service token (needsESVersion); "" otherwise.
	esVersion string
}

// world is everything the remote side of a plan reads.
type world struct {
	mainLicense   string
	mainInstalled []kibana.InstalledPackage
	remotes       map[string]*remoteObs
	ledger        ledgerView

	// The reconciler's records, read once per plan and only when a
	// preflight asks (mainRecords).
	recsOnce sync.Once
	recs     []reconciler.Record
	recsErr  error
}

// mainRecords returns the reconciler's records of the state index, read at
// most once for w.
func (e *Engine) mainRecords(ctx context.Context, w *world) ([]reconciler.Record, error) {
	if e.cfg.Inventory == nil {
		return nil, nil
	}
	w.recsOnce.Do(func() { w.recs, w.recsErr = e.cfg.Inventory.Load(ctx) })
	return w.recs, w.recsErr
}

func (e *Engine) observe(ctx context.Context, ts []target) (*world, error) {
	w := &world{remotes: map[string]*remoteObs{}}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, fmt.Errorf(format, args...))
	}
	// The ledger first: remotes where fleetform owns objects are observed
	// too, so that prune sees what an output that left the document left behind.
	es, err := e.cfg.Ledger.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("observe: load state: %w", err)
	}
	w.ledger = newLedgerView(es)
	if err := w.ledger.check(); err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	direct := map[string]bool{}
	for _, t := range ts {
		if t.obj.SyncVia == SyncViaDirect {
			direct[t.cluster.Name] = true
		}
		w.remotes[t.cluster.Name] = &remoteObs{}
	}
	for _, cluster := range w.ledger.remoteClusters() {
		if _, ok := w.remotes[cluster]; !ok && e.cfg.Remotes[cluster] != nil {
			w.remotes[cluster] = &remoteObs{}
		}
	}
	wg.Go(func() {
		l, err := e.cfg.MainES.License(ctx)
		if err != nil {
			fail("observe main: licence: %w", err)
		}
		w.mainLicense = reconciler.LicenseLevel(l)
	})
	if len(direct) > 0 {
		wg.Go(func() {
			var err error
			if w.mainInstalled, err = e.cfg.MainFleet.ListInstalledPackages(ctx); err != nil {
				fail("observe main: installed packages: %w", err)
			}
		})
	}
	for name, ro := range w.remotes {
		c := e.cfg.Remotes[name]
		wg.Go(func() {
			l, err := c.ES.License(ctx)
			if err != nil {
				fail("observe %s: licence: %w", name, err)
			}
			ro.license = reconciler.LicenseLevel(l)
			if ro.tokens, err = serviceTokens(ctx, c.ES); err != nil {
				fail("observe %s: service tokens: %w", name, err)
			}
			if ro.keys, err = apiKeys(ctx, c.ES, "fleetform-"); err != nil {
				fail("observe %s: API keys: %w", name, err)
			}
			cs, err := c.ES.GetClusterSettings(ctx)
			if err != nil {
				fail("observe %s: cluster settings: %w", name, err)
			}
			if ro.settings = cs.Persistent; ro.settings == nil {
				ro.settings = map[string]any{}
			}
			if ro.followers, err = followers(ctx, c.ES); err != nil {
				fail("observe %s: followers: %w", name, err)
			}
		})
		if needsESVersion(ts, name) {
			wg.Go(func() {
				info, err := c.ES.Info(ctx)
				if err != nil {
					fail("observe %s: elasticsearch version: %w", name, err)
				}
				ro.esVersion = info.Version.Number
			})
		}
		if c.Kibana == nil {
			continue
		}
		if vr, ok := c.Kibana.(reconciler.VersionReader); ok {
			wg.Go(func() {
				var err error
				if ro.version, err = vr.KibanaVersion(ctx); err != nil {
					fail("observe %s: kibana version: %w", name, err)
				}
			})
		}
		wg.Go(func() {
			outs, err := c.Kibana.ListOutputs(ctx)
			if err != nil {
				fail("observe %s: outputs: %w", name, err)
				return
			}
			ro.outputs = make(map[string]kibana.Output, len(outs))
			for _, o := range outs {
				ro.outputs[o.ID()] = o
			}
		})
		if direct[name] {
			wg.Go(func() {
				var err error
				if ro.packages, err = c.Kibana.ListPackages(ctx); err != nil {
					fail("observe %s: packages: %w", name, err)
				}
				if ro.policies, err = c.Kibana.ListPackagePolicies(ctx); err != nil {
					fail("observe %s: package policies: %w", name, err)
				}
			})
		} else if needsRemotePackages(ts, name) {
			wg.Go(func() {
				var err error
				if ro.packages, err = c.Kibana.ListPackages(ctx); err != nil {
					fail("observe %s: packages: %w", name, err)
				}
			})
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return w, nil
}

// How the executor runs a remote op (apply.go). Every remote change comes
// after the main cluster's in the plan's order, which is the apply order.
const (
	// phaseAsPlanned: independent of the main cluster's result, run as
	// planned (the link, the remote's elasticsearch output).
	phaseAsPlanned = iota
	// phaseAfterMain: computed afresh after the main cluster's changes
	// (credentials, follower — it needs the leader index —, direct sync,
	// prune, bookkeeping).
	phaseAfterMain
)

// phaseMinted marks the plan-only op of a credential the Minter mints
// during the main cluster's apply; Apply reports it through the op that
// finishes the rotation afterwards (see applyRun.runFresh).
const phaseMinted = -1

// op is one remote change and how to apply it.
type op struct {
	change plan.Change
	phase  int
	run    func(ctx context.Context) error
	// cred is the generated credential the op mints or rotates; zero for
	// other ops.
	cred credRef
	// rotation is what run did to the credential's rotation journal, for
	// ops that resume one; nil otherwise.
	rotation *RotationResult
}

// credRef names one generated credential of an output on a remote.
type credRef struct{ cluster, kind, output string }

// computed is the remote side of a plan.
type computed struct {
	problems []Problem
	ops      []op
	hidden   []op // bookkeeping that is not a change of Fleet (journals, seen packages)
	warnings []string
}

// compute derives the remote side from the document and the observation.
// mainPlan (may be nil) tells which generated secrets the main cluster's
// apply will mint through the Minter.
func (e *Engine) compute(ctx context.Context, doc *schema.Document, ts []target, w *world, mainPlan *plan.Plan, probe, prune bool) *computed {
	c := &computed{}
	// The reconciler blocks the per-policy outputs Kibana would refuse below
	// platinum (exempting what Kibana exempts); here they stop the whole
	// two-cluster apply before anything is written.
	var perPolicy []string
	if mainPlan != nil {
		for _, ch := range mainPlan.Changes {
			if reconciler.BlockedByPolicyOutputLicense(ch) {
				perPolicy = append(perPolicy, ch.ID)
			}
		}
	}
	c.problems = append(c.problems, PolicyOutputPreflight(w.mainLicense, perPolicy)...)
	keepOwnFollowers(ts, w)
	// Kibana on a remote syncs from one follower index only (declared
	// ones count as the plan creates them).
	declaredFollowers := map[string][]string{}
	for _, t := range ts {
		if t.obj.Follower != nil {
			declaredFollowers[t.cluster.Name] = append(declaredFollowers[t.cluster.Name], t.obj.Follower.Index)
		}
	}
	for _, t := range ts {
		ro := w.remotes[t.cluster.Name]
		c.problems = append(c.problems, e.preflight(ctx, t, ro, w, probe, declaredFollowers[t.cluster.Name])...)
		c.problems = append(c.problems, versionProblems(t, ro.version)...)
		c.problems = append(c.problems, esVersionProblems(t, ro.esVersion)...)
		for _, k := range remoteKinds {
			k.plan(e, c, t, ro, w, mainPlan)
		}
		c.warnings = append(c.warnings, integrationsNote(t, ro)...)
	}
	packagesAfterOutputs(c)
	e.computeSeen(c, w)
	e.computeConfirm(c, w)
	e.computePrune(c, ts, w, prune)
	sortProblems(c.problems)
	return c
}

// preflight checks one output; declared are the follower indices the
// declared outputs on its remote have (its own among them).
func (e *Engine) preflight(ctx context.Context, t target, ro *remoteObs, w *world, probe bool, declared []string) []Problem {
	in := PreflightInput{
		Output: t.out.ID, Remote: t.cluster.Name,
		SyncIntegrations: t.out.SyncIntegrations != nil && *t.out.SyncIntegrations,
		SyncVia:          t.obj.SyncVia, MainLicense: w.mainLicense, RemoteLicense: ro.license,
		RemoteESVersion: ro.esVersion, OutputHosts: t.out.Hosts,
	}
	for name := range ro.followers {
		if t.obj.Follower == nil || name != t.obj.Follower.Index {
			in.Followers = append(in.Followers, name)
		}
	}
	for _, name := range declared {
		if (t.obj.Follower == nil || name != t.obj.Follower.Index) && !slices.Contains(in.Followers, name) {
			in.Followers = append(in.Followers, name)
		}
	}
	slices.Sort(in.Followers)
	if ro.outputs != nil {
		in.RemoteESOutputs = map[string][]string{}
		for id, o := range ro.outputs {
			if o.Type() == "elasticsearch" {
				in.RemoteESOutputs[id] = stringList(o["hosts"])
			}
		}
		if s := t.obj.ESOutput; s != nil {
			in.RemoteESOutputs[s.ID] = s.Hosts
		}
	}
	var extra []Problem
	if t.obj.SyncVia == SyncViaDirect && t.cluster.Kibana == nil {
		extra = append(extra, Problem{Cluster: t.cluster.Name, Output: t.out.ID, Check: CheckKibana,
			Message: fmt.Sprintf("sync_via: direct needs clusters.remotes[%s].kibana: fleetform installs integrations through the remote's Kibana", t.cluster.Name)})
	}
	if probe {
		if ref := t.out.KibanaAPIKey; ref != nil && !ref.Generate && t.out.KibanaURL != "" && servesSyncStatus(ro.version) &&
			!e.adoptedUnverified(ctx, w, t.out.ID, "kibana_api_key", *ref) {
			if v, err := e.cfg.Resolve(ctx, *ref); err != nil {
				extra = append(extra, Problem{Cluster: t.cluster.Name, Output: t.out.ID, Check: CheckKibana, Message: "kibana_api_key: " + err.Error()})
			} else {
				p := e.cfg.ProbeKibana(ctx, t.out.KibanaURL, v)
				in.Kibana = &p
			}
		}
		if ref := tokenRef(t.out); ref != nil && !ref.Generate && !e.adoptedUnverified(ctx, w, t.out.ID, tokenPath(t.out), *ref) {
			if v, err := e.cfg.Resolve(ctx, *ref); err != nil {
				extra = append(extra, Problem{Cluster: t.cluster.Name, Output: t.out.ID, Check: CheckServiceToken, Message: "service token: " + err.Error()})
			} else {
				status, err := authStatus(ctx, t.cluster.ES, secret.New("Bearer "+v.Reveal()))
				in.ServiceToken = &Probe{URL: "the remote's Elasticsearch", Status: status, Err: err}
			}
		}
	}
	return append(Preflight(in), extra...)
}

// computeSeen records the packages installed on main, the only ones whose
// uninstall is ever propagated.
func (e *Engine) computeSeen(c *computed, w *world) {
	seen := w.ledger.seen(e.cfg.MainCluster)
	ledger, cluster, now := e.cfg.Ledger, e.cfg.MainCluster, e.cfg.Now
	for _, p := range w.mainInstalled {
		if p.Status != "" && p.Status != StatusInstalled || seen[p.Name] == p.Version {
			continue
		}
		name, version := p.Name, p.Version
		c.hidden = append(c.hidden, op{phase: phaseAfterMain, run: func(ctx context.Context) error {
			return ledger.Put(ctx, Entry{Cluster: cluster, Kind: LedgerSeenPackage, ID: name,
				Data: map[string]string{"version": version}, AppliedAt: now()})
		}})
	}
}

func stringList(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, s := range x {
			out = append(out, fmt.Sprint(s))
		}
		return out
	}
	return nil
}
