// Package reconciler turns a desired-state document into a plan and applies
// it to Fleet: observe (list calls only) → normalise both sides → diff → plan
// → apply (ordered, bounded concurrency) → re-observe → record ownership.
//
// Each kind of Fleet object has its own file holding all its rules —
// proxies.go, fleet_server_hosts.go, download_sources.go, packages.go,
// outputs*.go, agent_policies.go — behind the small interface in kind.go;
// the engine (engine.go, observe.go, record.go, adopt.go) walks the table of
// kinds in dependency order, which is also the plan's order. An engine that
// manages objects of other clusters (package remote) contributes their
// changes to the same plan (clusters.go), and one executor (engine.go's
// execute) applies both in the plan's order.
//
// Safety rules it keeps (fleet-api.md §9): hosts are compared with explicit
// ports; only fields the document declares are compared; secrets are read
// from their references (all of them by Apply, before its first write; those
// it can by Plan, which names the others), compared by salted hash, sent as
// secrets.* (or plain fields on explicit opt-in) and sent back as {"id": …}
// when unchanged; a secret id changed behind fleetform's back is drift; id
// and is_preconfigured are never sent on PUT; an output PUT always repeats
// type and every field Kibana clears when a typed body omits it (kafka
// password, username, sasl and ssl; remote credentials) so nothing is wiped;
// a new default output is set on the new output, never by unsetting the old;
// preconfigured outputs are edited only within allow_edit; agent policy PUTs
// keep inactivity_timeout and carry no read-only fields; nothing unchanged is
// ever PUT; prune is off by default and deletes only objects the state index
// records as owned.
package reconciler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// Fleet is what the reconciler calls on Kibana's Fleet API; *kibana.Client
// implements it. It is the client interfaces of the kinds always observed;
// the other kinds ask Fleet for theirs (clientFor), so a client that lacks
// a kind's methods works until a document declares that kind.
type Fleet interface {
	outputsAPI
	agentPoliciesAPI
	packagesAPI
}

// Inventory is the ownership record (the state index on the main cluster).
type Inventory interface {
	// Load returns this instance's records, and may also return other
	// instances' records (Owner set) so their objects are left alone.
	Load(ctx context.Context) ([]Record, error)
	Put(ctx context.Context, r Record) error
	Delete(ctx context.Context, cluster, kind, id string) error
}

// Record says fleetform owns one object, and what it knows of its secrets.
type Record struct {
	Cluster     string
	Kind        string // plan.KindOutput, plan.KindAgentPolicy, plan.KindPackage
	ID          string
	DesiredHash string                  // digest of the declared (non-secret) fields
	Secrets     map[string]SecretRecord // by secret path, e.g. "secrets.service_token"
	Adopted     bool                    // adopt form: fleetform manages some fields but never deletes it
	Revision    string                  // source revision of the last apply that changed it
	AppliedAt   time.Time
	// Owner is set by Load on a record of another fleetform instance sharing
	// the state index: that instance owns the object. "" means this one.
	Owner string
}

// SecretRecord is what fleetform keeps about one secret: a salted hash of the
// value (never the value), the Fleet secret id it was stored under and the
// reference it came from.
type SecretRecord struct {
	Hash          string // "saltHex:hashHex"
	FleetSecretID string // "" when Kibana stored the value in plain text
	RefDescribe   string // "env:NAME", "file:/path", "generate"
}

// Hasher hashes secret values for the inventory and verifies a value against
// a stored hash; state.HashSecret / state.VerifySecret in production.
type Hasher interface {
	Hash(v secret.Value) string
	Verify(v secret.Value, hash string) bool
}

// Minter mints the values of secrets declared `generate: true` (service
// tokens, remote Kibana API keys). Two-cluster provisioning implements it;
// without a Minter, outputs that need a generated value are blocked.
type Minter interface {
	Mint(ctx context.Context, cluster string, out schema.Output, path string) (secret.Value, error)
}

// Config configures a Reconciler.
type Config struct {
	Fleet     Fleet
	Inventory Inventory
	Hasher    Hasher
	// Resolve reads a secret reference (env, file). Apply needs every
	// reference; Plan compares the ones it can read and lists the others.
	// Default: kibana.ResolveSecret.
	Resolve func(ctx context.Context, ref schema.SecretRef) (secret.Value, error)
	Minter  Minter // nil: generate: true blocks the output
	// License reads the main cluster's licence (Elasticsearch GET /_license)
	// when a declared agent policy sets data_output_id or
	// monitoring_output_id: below platinum, Kibana refuses those (trap 15)
	// and the plan blocks them. nil: the licence is not checked.
	License LicenseSource
	Cluster string // name of the main cluster in plans; default "main"
	// Space is the Kibana space Fleet is read and written in (the Fleet
	// client's /s/<space> prefix), stated by the plan; "" is the default.
	Space string
	// Prune deletes owned objects that are no longer declared. Off by default.
	Prune bool
	// Concurrency bounds parallel writes of independent changes; default 4.
	Concurrency int
	// CreateAttempts bounds how often a create is posted after a failure
	// that left it unclear whether the object exists; default 3.
	CreateAttempts int
	// InstallWait bounds how long apply waits for a package install Kibana
	// is running (packages.go); zero values take kibana's defaults.
	InstallWait kibana.InstallWait
	Now         func() time.Time
}

// Reconciler plans and applies documents against one Fleet.
type Reconciler struct {
	cfg Config
	log *slog.Logger
}

// New returns a Reconciler. log may be nil (discard).
func New(cfg Config, log *slog.Logger) (*Reconciler, error) {
	if cfg.Fleet == nil || cfg.Inventory == nil || cfg.Hasher == nil {
		return nil, errors.New("reconciler: Fleet, Inventory and Hasher are required")
	}
	if cfg.Resolve == nil {
		cfg.Resolve = kibana.ResolveSecret
	}
	if cfg.Cluster == "" {
		cfg.Cluster = "main"
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.CreateAttempts <= 0 {
		cfg.CreateAttempts = 3
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Hasher = newVerifyCache(cfg.Hasher)
	return &Reconciler{cfg: cfg, log: log}, nil
}

// Plan observes Fleet and computes the changes that make it match doc.
// Secret changes are found from references, the inventory's hashes and
// Fleet secret ids, and from the values of the references Plan can read
// where it runs (compared by their salted hash, shown as "(sensitive,
// changed)"); the references it cannot read are listed in the plan's
// Unverified, never silently taken as unchanged. rev is the source revision.
func (r *Reconciler) Plan(ctx context.Context, doc *schema.Document, rev string) (*plan.Plan, error) {
	return r.PlanClusters(ctx, doc, rev, nil)
}

// PlanClusters is Plan with the changes an engine wrapping the reconciler
// contributes (clusters.go) in the same plan; clusters may be nil.
func (r *Reconciler) PlanClusters(ctx context.Context, doc *schema.Document, rev string, clusters Clusters) (*plan.Plan, error) {
	obs, err := r.observe(ctx, doc, r.cfg.Prune)
	if err != nil {
		return nil, err
	}
	doc = directSyncForKibana(doc, obs.kibanaVersion)
	c := r.compute(ctx, doc, obs, rev, r.cfg.Prune, newPlanSecretCache(r.cfg.Resolve))
	if clusters != nil {
		cp, err := clusters(ctx, c.plan, r.cfg.Prune)
		if err != nil {
			return nil, err
		}
		c.extend(cp)
	}
	r.log.Info("plan computed", "revision", rev, "changes", len(c.plan.Changes), "fingerprint", obs.fingerprint)
	return c.plan, nil
}

// ErrStalePlan is returned by Apply for a saved plan whose observed state or
// configuration moved since it was made.
var ErrStalePlan = errors.New("saved plan is stale")

// ErrNotConverged is wrapped by Apply's error when a change failed, was
// skipped or was blocked.
var ErrNotConverged = errors.New("not converged")

// ApplyOptions tune one Apply.
type ApplyOptions struct {
	Prune    bool   // delete owned objects no longer declared (also Config.Prune)
	Revision string // source revision recorded in the inventory; default: the saved plan's
	// Progress, when set, is told as each change starts and ends (progress.go).
	Progress ProgressFunc
	// Clusters, when set, contributes the changes of other clusters to the
	// plan, which this Apply executes with the main cluster's (clusters.go).
	Clusters Clusters
}

// Outcome is what happened to one change.
type Outcome struct {
	Change plan.Change
	Status string // applied | failed | skipped | blocked
	Err    error  `json:"-"`
}

// Outcome statuses.
const (
	StatusApplied = "applied"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
	StatusBlocked = "blocked"
)

// Result reports an Apply.
type Result struct {
	Plan     *plan.Plan // the plan that was executed (with changes found only by reading secrets or by observing the remotes after the main cluster's writes)
	Outcomes []Outcome  // in plan order
	Recorded int        // inventory records written or removed
}

// Counts tallies outcomes by status.
func (r Result) Counts() map[string]int {
	m := map[string]int{}
	for _, o := range r.Outcomes {
		m[o.Status]++
	}
	return m
}

// Apply makes Fleet match doc. With saved non-nil it first checks that a
// fresh observation has the saved plan's fingerprint and that the fresh plan
// equals it, and refuses with ErrStalePlan otherwise. Apply reads secret
// values, so it also finds values rotated under an unchanged reference (by
// their inventory hash) and applies those updates too. Independent changes
// run concurrently; a failure skips only its dependants; every failure is
// reported together. Finally it observes again and records ownership.
func (r *Reconciler) Apply(ctx context.Context, doc *schema.Document, saved *plan.Plan, opts ApplyOptions) (Result, error) {
	rev := opts.Revision
	if rev == "" && saved != nil {
		rev = saved.Revision
	}
	prune := r.cfg.Prune || opts.Prune
	obs, err := r.observe(ctx, doc, prune)
	if err != nil {
		return Result{}, err
	}
	doc = directSyncForKibana(doc, obs.kibanaVersion)
	if saved != nil && saved.Fingerprint != obs.fingerprint {
		return Result{}, fmt.Errorf("%w: Fleet changed since the plan was made (fingerprint %s, now %s); run plan again", ErrStalePlan, saved.Fingerprint, obs.fingerprint)
	}
	secrets := newSecretCache(r.cfg.Resolve)
	c := r.compute(ctx, doc, obs, rev, prune, secrets)
	var cp *ClusterPlan
	if opts.Clusters != nil {
		if cp, err = opts.Clusters(ctx, c.plan, prune); err != nil {
			return Result{}, err
		}
		c.extend(cp)
	}
	if saved != nil {
		if err := c.checkSaved(saved, cp, r.cfg.Cluster); err != nil {
			return Result{}, err
		}
	}
	if cp != nil && cp.Stop != nil {
		return Result{}, cp.Stop
	}
	if err := r.resolveAll(ctx, doc, c.plan, secrets); err != nil {
		return Result{}, err // nothing was attempted
	}
	if err := checkReferencedValues(ctx, c, secrets); err != nil {
		return Result{}, err // nothing was attempted (package_policies_values_apply.go)
	}
	log := r.log.With("revision", rev)
	log.Info("apply started", "changes", len(c.plan.Changes))
	res := Result{Plan: c.plan}
	var (
		recorded  int
		recErr    error
		didRecord bool
	)
	// The main cluster's inventory is brought up to date once its changes
	// have run: before the first step computed from its result, or after
	// the last change.
	recordMain := func(outcomes []Outcome) {
		didRecord = true
		own := slices.DeleteFunc(slices.Clone(outcomes), func(o Outcome) bool { return c.contributed[o.Change.Key()] })
		recorded, recErr = r.record(ctx, doc, c, own, secrets, rev)
		if cp != nil && cp.MainDone != nil {
			cp.MainDone(own)
		}
	}
	progress := withProgress(ctx, opts.Progress)
	res.Outcomes = r.execute(progress, c, secrets, log, recordMain)
	if !didRecord {
		recordMain(res.Outcomes)
	}
	res.Recorded = recorded
	errs := c.errs
	for _, o := range res.Outcomes {
		if o.Status != StatusApplied {
			errs = append(errs, o.Err)
		}
	}
	if recErr != nil {
		errs = append(errs, recErr)
	}
	if cp != nil && cp.Finish != nil {
		more, err := cp.Finish(ctx, res.Outcomes, func(ch plan.Change, status string, err error) { reportProgress(progress, ch, status, err) })
		for _, o := range more {
			if o.Status != StatusApplied {
				errs = append(errs, o.Err)
			}
		}
		res.Outcomes = append(res.Outcomes, more...)
		if len(more) > 0 {
			// Changes found only by observing the remotes after the main
			// cluster's writes (something moved there meanwhile) join the
			// executed plan, so the result holds every change it reports.
			p := *res.Plan
			p.Changes = slices.Clone(p.Changes)
			for _, o := range more {
				p.Changes = append(p.Changes, o.Change)
			}
			res.Plan = &p
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	counts := res.Counts()
	log.Info("apply finished", "applied", counts[StatusApplied], "failed", counts[StatusFailed],
		"skipped", counts[StatusSkipped], "blocked", counts[StatusBlocked], "recorded", recorded)
	if len(errs) > 0 {
		return res, fmt.Errorf("%w: %w", ErrNotConverged, errors.Join(errs...))
	}
	return res, nil
}
