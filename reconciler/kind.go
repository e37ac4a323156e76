package reconciler

import (
	"context"
	"fmt"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// kind is one kind of Fleet object fleetform manages on the main cluster.
// Each kind lives in its own file and holds every rule of that kind —
// outputs.go, agent_policies.go, packages.go, proxies.go,
// fleet_server_hosts.go, download_sources.go — and the engine (engine.go,
// observe.go, record.go, adopt.go) knows none of them: it walks the table
// kinds in dependency order.
//
// A kind reaches Kibana through its own small client interface (outputsAPI,
// agentPoliciesAPI, …), which *kibana.Client implements; Config.Fleet is
// asked for it with clientFor, so Fleet does not grow with every kind.
type kind interface {
	// name is the plan kind (plan.KindOutput, …); records and plan keys use it.
	name() string
	// declared returns the ids of the objects doc declares, in document order.
	declared(doc *schema.Document) []string
	// observed reports whether a plan of doc lists the kind, given whether
	// the inventory records objects of a kind (recorded is nil before the
	// inventory is read: the engine asks again afterwards). The kinds the
	// first plans knew are always listed; the others only when declared,
	// recorded or needed by a related kind's rules, so a Kibana without the
	// API, or a fake without the methods, is not asked for kinds nobody uses.
	observed(doc *schema.Document, recorded func(kind string) bool) bool
	// observe reads every object of the kind with list calls only (paged
	// where Kibana pages); the engine runs every kind's observe
	// concurrently. It returns what to store in the observation; the
	// engine calls it after every list has returned.
	observe(ctx context.Context, r *Reconciler) (func(*observation), error)
	// fingerprint is the plan-relevant part of the observation (JSON
	// values). It may hold clear-text credentials: only the digest of all
	// kinds' parts leaves the engine.
	fingerprint(obs *observation) any
	// plan normalises the declared objects, diffs their declared fields
	// against the observation, applies Kibana's refusal rules and adds a
	// step for each object that needs one (create, update, blocked, or the
	// no-op that adopts a matching object) to c.
	plan(ctx context.Context, r *Reconciler, doc *schema.Document, c *computed, cache *secretCache)
	// references are the objects a declared object refers to (proxy_id,
	// fleet_server_host_id, download_source_id, data_output_id,
	// monitoring_output_id, output_id, policy_ids). The engine makes the
	// object's create or update depend on their creates and updates.
	references(doc *schema.Document, id string) []ref
	// prune returns the step for an owned object doc no longer declares
	// (delete, or blocked with Kibana's reason), or nil when it is gone.
	// prune is false when the plan only warns.
	prune(r *Reconciler, doc *schema.Document, c *computed, rec Record, prune bool) *step
	// apply carries out one create, update or delete: the request bodies.
	apply(ctx context.Context, r *Reconciler, s *step, cache *secretCache) error
	// record returns the inventory records of the declared objects that
	// exist and are in their desired state after an apply.
	record(ctx context.Context, r *Reconciler, rc *recordCtx) ([]Record, error)
	// gone reports whether the record of an owned, undeclared object is to
	// be forgotten after an apply (deleted, or gone on its own).
	gone(rc *recordCtx, rec Record) bool
	// adopt returns the records `import --adopt` writes for the declared
	// objects that exist (secrets by Fleet secret id only: unverified).
	adopt(r *Reconciler, doc *schema.Document, obs *observation) []Record
	// secrets lists the declared secret references, which Apply reads
	// before its first write.
	secrets(doc *schema.Document) []declaredSecret
}

// ownableKind is a kind whose objects not managed here the plan lists
// (unmanaged.go): ownable returns the observed objects a repository could
// own, not those Kibana manages itself.
type ownableKind interface {
	kind
	ownable(obs *observation) []plan.Object
}

// kinds is the table the engine walks, in dependency order: an object's
// parents come before it (creates and updates in this order, deletes in
// reverse). It is the main cluster's part of the plan's one table of kinds
// (plan.SetKindOrder; package remote appends the remote kinds), which
// orders the changes no reference orders: the plan's order, which is the
// apply order, puts every change after those it depends on (plan.Sort).
var kinds = []kind{
	proxyKind,
	fleetServerHostKind,
	downloadSourceKind,
	packageKind{},
	outputKind{},
	agentPolicyKind{},
	integrationPolicyKind{},
}

// kindNamed returns the kind of the table with plan kind name, or nil.
func kindNamed(name string) kind {
	for _, k := range kinds {
		if k.name() == name {
			return k
		}
	}
	return nil
}

// KindOrder returns the main cluster's kinds in apply order (the table).
func KindOrder() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.name()
	}
	return out
}

func init() { plan.SetKindOrder(KindOrder()...) }

// ref names an object another object refers to.
type ref struct{ kind, id string }

// declaredSecret is one secret reference a declared object holds.
type declaredSecret struct {
	kind, id string
	spec     secretSpec
}

// recordCtx is what kinds' record and gone see after an apply.
type recordCtx struct {
	doc     *schema.Document
	c       *computed
	status  map[string]string // outcome status by plan key
	cache   *secretCache
	cluster string
	// now holds views a kind re-observed after the apply, by kind name
	// (outputs re-list themselves for the secret ids Kibana assigned).
	now map[string]any
}

// ok reports whether key's object is in its desired state now: no change
// was planned for it, or its change applied.
func (rc *recordCtx) ok(key string) bool {
	st, planned := rc.status[key]
	return !planned || st == StatusApplied
}

// applied reports whether key's planned change applied.
func (rc *recordCtx) applied(key string) bool { return rc.status[key] == StatusApplied }

// Kinds of the main cluster beyond plan's three.
const (
	kindProxy           = "proxy"
	kindFleetServerHost = "fleet_server_host"
	kindDownloadSource  = "download_source"
)

// kindNoun names a kind in messages: "output", "agent policy", …
func kindNoun(kind string) string {
	switch kind {
	case plan.KindAgentPolicy:
		return "agent policy"
	case kindFleetServerHost:
		return "Fleet Server host"
	case kindDownloadSource:
		return "download source"
	case KindIntegrationPolicy:
		return "integration policy"
	}
	return kind
}

// clientFor returns r's Fleet client as the client interface C a kind
// needs, or an error naming the kind when the client lacks it.
func clientFor[C any](r *Reconciler, kind string) (C, error) {
	c, ok := r.cfg.Fleet.(C)
	if !ok {
		var zero C
		return zero, fmt.Errorf("the Fleet client (%T) cannot manage %s", r.cfg.Fleet, kindPlural(kind))
	}
	return c, nil
}
