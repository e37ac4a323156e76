package reconciler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// observation is Fleet and the inventory as read at one moment.
type observation struct {
	outputs  map[string]map[string]any // by id, canonical JSON values; may hold clear-text credentials
	policies map[string]kibana.AgentPolicy
	packages map[string]kibana.Package // installed (any install status other than not_installed)
	// latest is the registry's newest version of every package Kibana
	// lists (the list item's version), installed or not; see packages.go.
	latest  map[string]string
	records map[string]Record // by plan.Key
	// foreign lists, by plan.Key, the other fleetform instances that own an
	// object (their records in the shared state index).
	foreign map[string][]string
	// license is the main cluster's licence level (LicenseLevel); read only
	// when a declared agent policy sets a per-policy output and
	// Config.License is set, "" otherwise.
	license string
	// packagePolicies, with agent counts, are read only when the plan needs
	// them (packagePoliciesRead): a pruned package, or a per-policy output
	// below platinum that a fleet_server or synthetics integration may exempt.
	packagePolicies     []kibana.PackagePolicy
	packagePoliciesRead bool
	// kibanaVersion is the cluster's Kibana version (GET /api/status), ""
	// when Config.Fleet cannot read it (see version.go).
	kibanaVersion string
	// spaces is Fleet's space awareness migration status, read only for a
	// repository that names a space on Kibana 9.1+ (spaces.go).
	spaces spaceAwareness
	// objects holds the kinds observed as plain JSON objects (proxies,
	// Fleet Server hosts, download sources), by kind and id.
	objects map[string]map[string]map[string]any
	ip      *ipObservation // integration policies (package_policies_kind.go)
	// agentPolicyPrune is read only for a plan that prunes an agent policy
	// (agent_policies_prune.go).
	agentPolicyPrune *agentPolicyPruneObservation
	// fingerprint digests all of the above but kibanaVersion (see fingerprint).
	fingerprint string
}

// observe reads everything a plan of doc needs, concurrently: every kind of
// the table with its list calls (kind.observed), the inventory, and the
// main cluster's licence (GET /_license) when a declared agent policy sets a
// per-policy output. A kind needed only because the inventory records
// objects of it (prune) is listed once the inventory is read. Package policies are read
// last, only when the plan needs them (see needPackagePolicies).
func (r *Reconciler) observe(ctx context.Context, doc *schema.Document, prune bool) (*observation, error) {
	var (
		wg      sync.WaitGroup
		sets    = make([]func(*observation), len(kinds))
		kindErr = make([]error, len(kinds))
		listed  = make([]bool, len(kinds))
		records []Record
		license elastic.License
		errs    [2]error
	)
	for i, k := range kinds {
		if k.observed(doc, nil) {
			listed[i] = true
			wg.Go(func() { sets[i], kindErr[i] = k.observe(ctx, r) })
		}
	}
	wg.Go(func() { records, errs[0] = r.cfg.Inventory.Load(ctx) })
	checkLicense := r.cfg.License != nil && setsPolicyOutput(doc)
	if checkLicense {
		wg.Go(func() { license, errs[1] = r.cfg.License.License(ctx) })
	}
	var kibanaVersion string
	var versionErr error
	if vr, ok := r.cfg.Fleet.(VersionReader); ok {
		wg.Go(func() { kibanaVersion, versionErr = vr.KibanaVersion(ctx) })
	}
	wg.Wait()
	if versionErr != nil {
		return nil, fmt.Errorf("observe: read kibana version: %w", versionErr)
	}
	if errs[0] == nil {
		// Owned objects of kinds not listed yet: list them for prune.
		recorded := func(kind string) bool { return recordsKind(records, r.cfg.Cluster, kind) }
		for i, k := range kinds {
			if !listed[i] && k.observed(doc, recorded) {
				wg.Go(func() { sets[i], kindErr[i] = k.observe(ctx, r) })
			}
		}
		wg.Wait()
	}
	var all []error
	for _, err := range kindErr {
		if err != nil {
			all = append(all, fmt.Errorf("observe: %w", err))
		}
	}
	for i, what := range []string{"load inventory", "read licence"} {
		if errs[i] != nil {
			all = append(all, fmt.Errorf("observe: %s: %w", what, errs[i]))
		}
	}
	if err := errors.Join(all...); err != nil {
		return nil, err
	}
	obs := &observation{
		kibanaVersion: kibanaVersion,
		spaces:        r.observeSpaces(ctx, doc, kibanaVersion),
		records:       make(map[string]Record, len(records)),
		objects:       map[string]map[string]map[string]any{},
	}
	for _, set := range sets {
		if set != nil {
			set(obs)
		}
	}
	var broken []error
	for _, rec := range records {
		if rec.Kind == "" || rec.ID == "" {
			// A record that names no object cannot be matched to one: read
			// as "nothing recorded", it would make fleetform forget what it
			// owns (and which secrets it verified). It is an error.
			broken = append(broken, fmt.Errorf("record (cluster %q, kind %q, id %q, owner %q) names no object", rec.Cluster, rec.Kind, rec.ID, rec.Owner))
			continue
		}
		if rec.Cluster == "" {
			rec.Cluster = r.cfg.Cluster
		}
		key := plan.Key(rec.Cluster, rec.Kind, rec.ID)
		if rec.Owner != "" {
			if obs.foreign == nil {
				obs.foreign = map[string][]string{}
			}
			obs.foreign[key] = append(obs.foreign[key], rec.Owner)
			slices.Sort(obs.foreign[key])
			continue
		}
		obs.records[key] = rec
	}
	if len(broken) > 0 {
		return nil, fmt.Errorf("observe: load inventory: %d broken record(s) in the state index; fix or delete them: %w", len(broken), errors.Join(broken...))
	}
	if checkLicense {
		obs.license = LicenseLevel(license)
	}
	if err := r.observeAgentPolicyPrune(ctx, doc, obs, prune); err != nil {
		return nil, err
	}
	obs.fingerprint = obs.computeFingerprint()
	if r.needPackagePolicies(doc, obs, prune) {
		pps, err := r.cfg.Fleet.ListPackagePolicies(ctx)
		if err != nil {
			return nil, fmt.Errorf("observe: list package policies: %w", err)
		}
		obs.packagePolicies, obs.packagePoliciesRead = pps, true
	}
	return obs, nil
}

// recordsKind reports whether records hold one of this instance's records
// of kind on cluster (a record without a cluster is the main cluster's).
func recordsKind(records []Record, cluster, kind string) bool {
	for _, rec := range records {
		if rec.Kind == kind && rec.Owner == "" && (rec.Cluster == cluster || rec.Cluster == "") {
			return true
		}
	}
	return false
}

// needPackagePolicies reports whether a plan of doc needs the package
// policies: prune uninstalls an owned package (Kibana deletes its package
// policies, or refuses when agents use them), or a per-policy output is set
// below platinum on an existing policy that a fleet_server or synthetics
// integration would exempt from the licence check.
func (r *Reconciler) needPackagePolicies(doc *schema.Document, obs *observation, prune bool) bool {
	if prune {
		declared := map[string]bool{}
		for _, p := range doc.Packages {
			declared[p.Name] = true
		}
		for _, rec := range obs.records {
			if _, installed := obs.packages[rec.ID]; rec.Kind == plan.KindPackage && rec.Cluster == r.cfg.Cluster &&
				!rec.Adopted && !declared[rec.ID] && installed {
				return true
			}
		}
	}
	if obs.license == "" || LicenseAtLeast(obs.license, "platinum") {
		return false
	}
	for _, p := range doc.AgentPolicies {
		if have, ok := obs.policies[p.ID]; ok && needsPolicyOutputLicense(policyFields(p), &have) {
			return true
		}
	}
	return false
}

// policyHasPackage reports whether agent policy id has a package policy of
// one of pkgs (false when package policies were not read).
func (o *observation) policyHasPackage(id string, pkgs ...string) bool {
	for _, pp := range o.packagePolicies {
		if slices.Contains(pkgs, pp.Package.Name) && (pp.PolicyID == id || slices.Contains(pp.PolicyIDs, id)) {
			return true
		}
	}
	return false
}

// computeFingerprint digests the observation: each kind's part
// (kind.fingerprint), the licence and the inventory. Only the digest leaves
// this function, so the clear-text credentials Kibana returns never do.
func (o *observation) computeFingerprint() string {
	type rec struct {
		Key     string
		Hash    string
		Adopted bool
		Secrets map[string]SecretRecord
	}
	var view struct {
		Kinds   map[string]any
		Records []rec
		License string
	}
	view.Kinds = make(map[string]any, len(kinds))
	for _, k := range kinds {
		view.Kinds[k.name()] = k.fingerprint(o)
	}
	view.License = o.license
	for k, r := range o.records {
		view.Records = append(view.Records, rec{k, r.DesiredHash, r.Adopted, r.Secrets})
	}
	sort.Slice(view.Records, func(i, j int) bool { return view.Records[i].Key < view.Records[j].Key })
	b, _ := json.Marshal(view) // JSON values only: cannot fail
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
