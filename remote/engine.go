package remote

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
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
	Now           func() time.Time
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
}

// world is everything the remote side of a plan reads.
type world struct {
	mainLicense   string
	mainInstalled []kibana.InstalledPackage
	remotes       map[string]*remoteObs
	ledger        ledgerView
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

// Phases of remote operations around the main cluster's apply.
const (
	phasePre  = iota // before the main cluster: link, the remote's elasticsearch output
	phasePost        // after: credentials, follower (needs the leader index), direct sync
)

// phaseMinted marks the plan-only op of a credential the Minter mints
// during the main cluster's apply; Apply reports it through the op that
// finishes the rotation afterwards (see reportMinted).
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
	for _, t := range ts {
		ro := w.remotes[t.cluster.Name]
		c.problems = append(c.problems, e.preflight(ctx, t, ro, w, probe)...)
		c.problems = append(c.problems, versionProblems(t, ro.version)...)
		e.computeCredentials(c, t, ro, w, mainPlan)
		e.computeLink(c, t, ro)
		e.computeESOutput(c, t, ro, w)
		e.computeFollower(c, t, ro, w)
		e.computeDirect(c, t, ro, w, mainPlan)
		c.warnings = append(c.warnings, integrationsNote(t, ro)...)
	}
	e.computeSeen(c, w)
	e.computeConfirm(c, w)
	e.computePrune(c, ts, w, prune)
	sortProblems(c.problems)
	return c
}

func (e *Engine) preflight(ctx context.Context, t target, ro *remoteObs, w *world, probe bool) []Problem {
	in := PreflightInput{
		Output: t.out.ID, Remote: t.cluster.Name,
		SyncIntegrations: t.out.SyncIntegrations != nil && *t.out.SyncIntegrations,
		SyncVia:          t.obj.SyncVia, MainLicense: w.mainLicense, RemoteLicense: ro.license,
		OutputHosts: t.out.Hosts,
	}
	for name := range ro.followers {
		if t.obj.Follower == nil || name != t.obj.Follower.Index {
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
		if ref := t.out.KibanaAPIKey; ref != nil && !ref.Generate && t.out.KibanaURL != "" {
			if v, err := e.cfg.Resolve(ctx, *ref); err != nil {
				extra = append(extra, Problem{Cluster: t.cluster.Name, Output: t.out.ID, Check: CheckKibana, Message: "kibana_api_key: " + err.Error()})
			} else {
				p := e.cfg.ProbeKibana(ctx, t.out.KibanaURL, v)
				in.Kibana = &p
			}
		}
		if ref := tokenRef(t.out); ref != nil && !ref.Generate {
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

func tokenRef(o schema.Output) *schema.SecretRef {
	if o.Secrets != nil && o.Secrets.ServiceToken != nil {
		return o.Secrets.ServiceToken
	}
	return o.ServiceToken
}

// credKind describes one generated credential of a target.
type credKind struct {
	kind      string // KindServiceToken or KindAPIKey
	ledger    string // LedgerJournalToken or LedgerJournalAPIKey
	path      string // the output's field
	plainPath string
	prefix    string
	existing  []string // names with prefix on the remote
}

func (e *Engine) credKinds(t target, ro *remoteObs) []credKind {
	var ks []credKind
	if s := t.obj.ServiceToken; s != nil {
		path := "secrets.service_token"
		if s.Plain {
			path = "service_token"
		}
		k := credKind{kind: KindServiceToken, ledger: LedgerJournalToken, path: path, plainPath: "service_token", prefix: s.Prefix}
		if ro != nil {
			for _, n := range ro.tokens {
				if strings.HasPrefix(n, s.Prefix) && isGeneration(n, s.Prefix) {
					k.existing = append(k.existing, n)
				}
			}
		}
		ks = append(ks, k)
	}
	if s := t.obj.KibanaAPIKey; s != nil {
		k := credKind{kind: KindAPIKey, ledger: LedgerJournalAPIKey, path: "kibana_api_key", plainPath: "kibana_api_key", prefix: s.Prefix}
		if ro != nil {
			for _, a := range ro.keys {
				if isGeneration(a.Name, s.Prefix) {
					k.existing = append(k.existing, a.Name)
				}
			}
		}
		ks = append(ks, k)
	}
	return ks
}

// isGeneration reports whether name is prefix followed by a generation number.
func isGeneration(name, prefix string) bool {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || rest == "" {
		return false
	}
	_, err := strconv.Atoi(rest)
	return err == nil
}

func maxGeneration(names []string, prefix string) int {
	g := 0
	for _, n := range names {
		if v, err := strconv.Atoi(strings.TrimPrefix(n, prefix)); err == nil && v > g {
			g = v
		}
	}
	return g
}

// rotation builds the rotation machinery of one credential of t.
func (e *Engine) rotation(t target, k credKind, timeout time.Duration) *Rotation {
	oc := &outputCred{main: e.cfg.MainFleet, outputID: t.out.ID, path: k.path, plainPath: k.plainPath,
		hasher: e.cfg.Hasher, inventory: e.cfg.Inventory, cluster: e.cfg.MainCluster}
	var cred Credential
	if k.kind == KindServiceToken {
		cred = &tokenCred{outputCred: oc, spec: *t.obj.ServiceToken, es: t.cluster.ES}
	} else {
		cred = &keyCred{outputCred: oc, spec: *t.obj.KibanaAPIKey, es: t.cluster.ES}
	}
	store := &ledgerJournal{ledger: e.cfg.Ledger, cluster: t.cluster.Name, kind: k.ledger, id: t.out.ID, now: e.cfg.Now}
	return &Rotation{Cred: cred, Store: store, Timeout: timeout, Poll: e.cfg.HealthPoll, Now: e.cfg.Now}
}

func mainMints(p *plan.Plan, cluster, outputID, path string) bool {
	if p == nil {
		return false
	}
	for _, ch := range p.Changes {
		if ch.Cluster != cluster || ch.Kind != plan.KindOutput || ch.ID != outputID {
			continue
		}
		for _, f := range ch.Fields {
			if f.Path == path && f.After == plan.ToBeGenerated {
				return ch.Action == plan.Create || ch.Action == plan.Update
			}
		}
	}
	return false
}

func (e *Engine) computeCredentials(c *computed, t target, ro *remoteObs, w *world, mainPlan *plan.Plan) {
	outKey := plan.Key(e.cfg.MainCluster, plan.KindOutput, t.out.ID)
	for _, k := range e.credKinds(t, ro) {
		j := w.ledger.journal(t.cluster.Name, k.ledger, t.out.ID)
		if j.Phase == PhaseIdle && j.Current == "" && j.Generation == 0 {
			j.Generation = maxGeneration(k.existing, k.prefix) // no journal: never reuse a name
		}
		minted := mainMints(mainPlan, e.cfg.MainCluster, t.out.ID, k.path)
		rot := e.rotation(t, k, 0)
		ref := credRef{cluster: t.cluster.Name, kind: k.kind, output: t.out.ID}
		ch := plan.Change{Cluster: t.cluster.Name, Kind: k.kind, ID: k.prefix + strconv.Itoa(j.Generation+1)}
		switch {
		case j.Phase != PhaseIdle:
			ch.ID, ch.Action = cmp.Or(j.Next, j.Current), plan.Update
			ch.Reason = fmt.Sprintf("finish or roll back the rotation interrupted in phase %s", j.Phase)
			if j.Phase == PhaseSwapped {
				ch.Reason = fmt.Sprintf("output %s holds %s; %s is revoked once the output reports healthy or no agent uses it", t.out.ID, j.Current, j.Previous)
			}
			res := &RotationResult{}
			c.ops = append(c.ops, op{change: ch, phase: phasePost, cred: ref, rotation: res, run: func(ctx context.Context) error {
				r, err := rot.Resume(ctx)
				*res = r
				return err
			}})
		case minted:
			ch.Action = plan.Create
			ch.Reason = fmt.Sprintf("minted while output %s is applied; the value goes into its %s and nowhere else", t.out.ID, k.path)
			ch.Fields = []plan.FieldDiff{{Path: "value", After: plan.ToBeGenerated, Sensitive: true}}
			c.ops = append(c.ops, op{change: ch, phase: phaseMinted, cred: ref}) // done by the Minter during the main apply
		case j.Current == "" || !slices.Contains(k.existing, j.Current):
			ch.Action = plan.Create
			if j.Current == "" {
				ch.Reason = fmt.Sprintf("no record of the credential output %s uses; a new one is minted and swapped in", t.out.ID)
			} else {
				ch.Reason = fmt.Sprintf("drift: %s was deleted on the remote; a new one is minted and swapped into output %s", j.Current, t.out.ID)
			}
			ch.Fields = []plan.FieldDiff{{Path: "value", After: plan.ToBeGenerated, Sensitive: true}}
			ch.DependsOn = []string{outKey}
			c.ops = append(c.ops, op{change: ch, phase: phasePost, cred: ref, run: func(ctx context.Context) error {
				_, err := rot.Rotate(ctx)
				return err
			}})
		}
		// Credentials of this output that are no longer in use.
		for _, n := range k.existing {
			if n == j.Current || n == j.Next || n == j.Previous || j.Phase != PhaseIdle || minted {
				continue
			}
			if j.Current == "" { // unknown which one the output holds: keep them until a journal exists
				continue
			}
			name := n
			del := plan.Change{Cluster: t.cluster.Name, Kind: k.kind, ID: name, Action: plan.Delete,
				Reason: fmt.Sprintf("created by fleetform for output %s and no longer in use", t.out.ID)}
			cred := rot.Cred
			c.ops = append(c.ops, op{change: del, phase: phasePost, run: func(ctx context.Context) error {
				return cred.Revoke(ctx, name)
			}})
		}
	}
}

func (e *Engine) computeDirect(c *computed, t target, ro *remoteObs, w *world, mainPlan *plan.Plan) {
	if t.obj.SyncVia != SyncViaDirect || t.cluster.Kibana == nil {
		return
	}
	in := SyncInput{
		SyncUninstalled: t.out.SyncUninstalledIntegrations != nil && *t.out.SyncUninstalledIntegrations,
		ForceUninstall:  e.cfg.ForceUninstall,
		Seen:            w.ledger.seen(e.cfg.MainCluster),
		Now:             e.cfg.Now(),
	}
	var byThisApply map[string]string
	in.Main, byThisApply = e.projectMain(w.mainInstalled, mainPlan)
	in.Remote = remotePackages(ro.packages, w.ledger, t.cluster.Name)
	in.RemoteLatest = latestVersions(ro.packages)
	for _, p := range ro.policies {
		agentless, _ := p.Raw["supports_agentless"].(bool)
		in.RemotePolicies = append(in.RemotePolicies, PackagePolicy{ID: p.ID, Name: p.Name, Package: p.Package.Name, Agents: p.Agents, Agentless: agentless})
	}
	installed := map[string]string{}
	for _, p := range in.Remote {
		installed[p.Name] = p.Version
	}
	kb, ledger, cluster, now := t.cluster.Kibana, e.cfg.Ledger, t.cluster.Name, e.cfg.Now
	decisions := DecideSync(in)
	for _, d := range decisions {
		ch := plan.Change{Cluster: t.cluster.Name, Kind: KindPackage, ID: d.Package, Reason: d.Reason}
		if how, ok := byThisApply[d.Package]; ok {
			ch.Reason += " (" + how + ")"
			ch.DependsOn = []string{plan.Key(e.cfg.MainCluster, plan.KindPackage, d.Package)}
		}
		if len(d.Notes) > 0 {
			ch.Reason += "\n" + strings.Join(d.Notes, "\n")
		}
		before, has := installed[d.Package]
		var run func(ctx context.Context) error
		switch d.Action {
		case SyncSkip:
			continue
		case SyncInstall:
			ch.Action = plan.Create
			ch.Fields = []plan.FieldDiff{{Path: "version", After: d.Version}}
			if has {
				ch.Action = plan.Update
				ch.Fields[0].Before = before
			}
			run = func(ctx context.Context) error {
				err := kb.InstallPackage(ctx, d.Package, d.Version, d.Force)
				return recordSync(ctx, ledger, cluster, d.Package, d.Version, now(), err, true)
			}
		case SyncUninstall:
			ch.Action = plan.Delete
			ch.Fields = []plan.FieldDiff{{Path: "version", Before: d.Version}}
			run = func(ctx context.Context) error {
				err := kb.UninstallPackage(ctx, d.Package, d.Version, false)
				return recordSync(ctx, ledger, cluster, d.Package, d.Version, now(), err, false)
			}
		case SyncBlocked:
			ch.Action = plan.Blocked
		}
		c.ops = append(c.ops, op{change: ch, phase: phasePost, run: run})
	}
	c.hidden = append(c.hidden, e.blockedUninstalls(t, in, decisions, w)...)
}

// UninstallBlocked is the Failure.Name of an uninstall that fleetform's
// own rules held back (agents on the remote, policies Kibana would delete).
const UninstallBlocked = "UninstallBlocked"

// blockedUninstalls keeps the reason of every blocked uninstall in the
// package's sync-failure entry, so status shows why the integration is in
// warning. The entry is written only when the reason changes (and the
// time is of the first time it was seen), and a blocked record is cleared
// once the uninstall is no longer blocked.
func (e *Engine) blockedUninstalls(t target, in SyncInput, decisions []SyncDecision, w *world) []op {
	onMain := map[string]bool{}
	for _, p := range in.Main {
		onMain[p.Name] = p.Status == "" || p.Status == StatusInstalled
	}
	blocked := map[string]string{}
	for _, d := range decisions {
		if d.Action == SyncBlocked && !onMain[d.Package] {
			blocked[d.Package] = d.Reason
		}
	}
	ledger, cluster, now := e.cfg.Ledger, t.cluster.Name, e.cfg.Now
	var ops []op
	for _, rp := range in.Remote {
		reason, isBlocked := blocked[rp.Name]
		had := rp.UninstallError
		switch {
		case isBlocked && (had == nil || had.Name != UninstallBlocked || had.Message != reason):
			pkg, version := rp.Name, rp.Version
			ops = append(ops, op{phase: phasePost, run: func(ctx context.Context) error {
				return recordBlocked(ctx, ledger, cluster, pkg, version, &Failure{Name: UninstallBlocked, Message: reason, At: now()})
			}})
		case !isBlocked && had != nil && had.Name == UninstallBlocked:
			pkg, version := rp.Name, rp.Version
			ops = append(ops, op{phase: phasePost, run: func(ctx context.Context) error {
				return recordBlocked(ctx, ledger, cluster, pkg, version, nil)
			}})
		}
	}
	return ops
}

// recordBlocked sets (f non-nil) or clears the uninstall failure of pkg in
// its sync-failure entry, keeping the install record.
func recordBlocked(ctx context.Context, l Ledger, cluster, pkg, version string, f *Failure) error {
	es, err := l.Load(ctx)
	if err != nil {
		return err
	}
	e, _ := newLedgerView(es).get(cluster, LedgerSyncFailure, pkg)
	rec, err := decodeFailure(e)
	if err != nil {
		return err
	}
	rec.Uninstall = f
	if rec.Install == nil && rec.Uninstall == nil && len(rec.Attempts) == 0 {
		return l.Delete(ctx, cluster, LedgerSyncFailure, pkg)
	}
	data, err := encodeFailure(rec)
	if err != nil {
		return err
	}
	data["version"] = version
	at := e.AppliedAt
	if f != nil {
		at = f.At
	}
	return l.Put(ctx, Entry{Cluster: cluster, Kind: LedgerSyncFailure, ID: pkg, Data: data, AppliedAt: at})
}

// remotePackages converts the remote's package list, adding fleetform's
// own record of failed direct-sync attempts.
func remotePackages(pkgs []kibana.Package, lv ledgerView, cluster string) []Package {
	var out []Package
	for _, p := range pkgs {
		status := cmp.Or(p.InstallStatus, p.Status)
		if p.InstalledVersion == "" || status == StatusNotInstalled {
			continue
		}
		rp := Package{Name: p.Name, Version: p.InstalledVersion, Status: status}
		if e, ok := lv.get(cluster, LedgerSyncFailure, p.Name); ok {
			f, _ := decodeFailure(e) // observe checked every record
			rp.InstallError, rp.UninstallError = f.Install, f.Uninstall
			if status == StatusInstallFailed {
				rp.FailedAttempts = f.Attempts
			}
		}
		out = append(out, rp)
	}
	// Failed installs that left nothing behind still count for the backoff.
	for k, e := range lv {
		if k[0] != cluster || k[1] != LedgerSyncFailure || slices.ContainsFunc(out, func(p Package) bool { return p.Name == k[2] }) {
			continue
		}
		f, _ := decodeFailure(e) // observe checked every record
		if len(f.Attempts) > 0 && f.Install != nil {
			out = append(out, Package{Name: k[2], Status: StatusInstallFailed, FailedAttempts: f.Attempts, InstallError: f.Install,
				Version: e.Data["version"]})
		}
	}
	return out
}

// recordSync keeps fleetform's record of direct-sync failures: failed
// installs (for the backoff, newest first, at most five) and the latest
// failed uninstall (for status). A success clears the record.
func recordSync(ctx context.Context, l Ledger, cluster, pkg, version string, at time.Time, opErr error, install bool) error {
	es, err := l.Load(ctx)
	if err != nil {
		return errors.Join(opErr, err)
	}
	e, had := newLedgerView(es).get(cluster, LedgerSyncFailure, pkg)
	f, err := decodeFailure(e)
	if err != nil {
		return errors.Join(opErr, err)
	}
	if opErr == nil {
		if !had {
			return nil
		}
		if install {
			f.Attempts, f.Install = nil, nil
		} else {
			f.Uninstall = nil
		}
		if f.Install == nil && f.Uninstall == nil {
			return l.Delete(ctx, cluster, LedgerSyncFailure, pkg)
		}
	} else {
		fail := &Failure{Name: errorName(opErr), Message: opErr.Error(), At: at}
		if install {
			f.Install = fail
			f.Attempts = append([]time.Time{at}, f.Attempts...)
			if len(f.Attempts) > len(InstallRetryBackoff) {
				f.Attempts = f.Attempts[:len(InstallRetryBackoff)]
			}
		} else {
			f.Uninstall = fail
		}
	}
	data, err := encodeFailure(f)
	if err != nil {
		return errors.Join(opErr, err)
	}
	data["version"] = version
	return errors.Join(opErr, l.Put(ctx, Entry{Cluster: cluster, Kind: LedgerSyncFailure, ID: pkg, Data: data, AppliedAt: at}))
}

func errorName(err error) string {
	var ae *kibana.APIError
	if errors.As(err, &ae) && ae.Status == 404 {
		return "PackageNotFoundError"
	}
	return "Error"
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
		c.hidden = append(c.hidden, op{phase: phasePost, run: func(ctx context.Context) error {
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
