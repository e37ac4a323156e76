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
	// fingerprint digests all of the above but kibanaVersion (see fingerprint).
	fingerprint string
	ip          *ipObservation // integration policies (package_policies_plan.go)
}

// observe reads everything a plan of doc needs with four list calls,
// concurrently: outputs, agent policies (paged), EPM packages and the
// inventory; with them the main cluster's licence (GET /_license) when a
// declared agent policy sets a per-policy output. Package policies are read
// afterwards, only when the plan needs them (see needPackagePolicies).
func (r *Reconciler) observe(ctx context.Context, doc *schema.Document, prune bool) (*observation, error) {
	var (
		wg       sync.WaitGroup
		outputs  []kibana.Output
		policies []kibana.AgentPolicy
		packages []kibana.Package
		records  []Record
		license  elastic.License
		errs     [5]error
	)
	wg.Go(func() { outputs, errs[0] = r.cfg.Fleet.ListOutputs(ctx) })
	wg.Go(func() { policies, errs[1] = r.cfg.Fleet.ListAgentPolicies(ctx, kibana.ListOptions{}) })
	wg.Go(func() { packages, errs[2] = r.cfg.Fleet.ListPackages(ctx) })
	wg.Go(func() { records, errs[3] = r.cfg.Inventory.Load(ctx) })
	checkLicense := r.cfg.License != nil && setsPolicyOutput(doc)
	if checkLicense {
		wg.Go(func() { license, errs[4] = r.cfg.License.License(ctx) })
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
	for i, what := range []string{"list outputs", "list agent policies", "list packages", "load inventory", "read licence"} {
		if errs[i] != nil {
			errs[i] = fmt.Errorf("observe: %s: %w", what, errs[i])
		}
	}
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	obs := &observation{
		outputs:       make(map[string]map[string]any, len(outputs)),
		policies:      make(map[string]kibana.AgentPolicy, len(policies)),
		packages:      map[string]kibana.Package{},
		latest:        latestVersions(packages),
		kibanaVersion: kibanaVersion,
		records:       make(map[string]Record, len(records)),
	}
	for _, o := range outputs {
		obs.outputs[o.ID()] = canonicalMap(map[string]any(o))
	}
	for _, p := range policies {
		obs.policies[p.ID] = p
	}
	for _, p := range packages {
		if p.InstalledVersion != "" && p.Status != "not_installed" {
			obs.packages[p.Name] = p
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
	obs.fingerprint = obs.computeFingerprint()
	ip, err := r.observeIntegrationPolicies(ctx, doc, obs)
	if err != nil {
		return nil, err
	}
	obs.ip = ip
	if r.needPackagePolicies(doc, obs, prune) {
		pps, err := r.cfg.Fleet.ListPackagePolicies(ctx)
		if err != nil {
			return nil, fmt.Errorf("observe: list package policies: %w", err)
		}
		obs.packagePolicies, obs.packagePoliciesRead = pps, true
	}
	return obs, nil
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

// computeFingerprint digests the observation: every output, the
// plan-relevant fields of every agent policy (not agent counts, timestamps
// or the revision, which move without anyone changing what a plan reads:
// every edit of a policy's integrations bumps it), the licence, installed
// packages and the inventory. Only the digest leaves this function, so the
// clear-text credentials Kibana returns never do.
func (o *observation) computeFingerprint() string {
	type pol struct {
		ID, Name, Namespace                                        string
		Description, DataOutputID, MonitoringOutputID, FleetServer *string
		IsManaged, HasFleetServer, SupportsAgentless               bool
		InactivityTimeout                                          *int
	}
	type pkg struct{ Name, Version, Status string }
	type rec struct {
		Key     string
		Hash    string
		Adopted bool
		Secrets map[string]SecretRecord
	}
	var view struct {
		Outputs  map[string]map[string]any
		Policies []pol
		Packages []pkg
		Records  []rec
		License  string
	}
	view.Outputs = o.outputs
	view.License = o.license
	for _, p := range o.policies {
		view.Policies = append(view.Policies, pol{p.ID, p.Name, p.Namespace, p.Description, p.DataOutputID,
			p.MonitoringOutputID, p.FleetServerHostID, p.IsManaged, p.HasFleetServer, p.SupportsAgentless, p.InactivityTimeout})
	}
	sort.Slice(view.Policies, func(i, j int) bool { return view.Policies[i].ID < view.Policies[j].ID })
	for _, p := range o.packages {
		view.Packages = append(view.Packages, pkg{p.Name, p.InstalledVersion, p.InstallStatus})
	}
	sort.Slice(view.Packages, func(i, j int) bool { return view.Packages[i].Name < view.Packages[j].Name })
	for k, r := range o.records {
		view.Records = append(view.Records, rec{k, r.DesiredHash, r.Adopted, r.Secrets})
	}
	sort.Slice(view.Records, func(i, j int) bool { return view.Records[i].Key < view.Records[j].Key })
	b, _ := json.Marshal(view) // JSON values only: cannot fail
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
