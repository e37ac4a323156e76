package reconciler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
)

// observation is Fleet and the inventory as read at one moment.
type observation struct {
	outputs  map[string]map[string]any // by id, canonical JSON values; may hold clear-text credentials
	policies map[string]kibana.AgentPolicy
	packages map[string]kibana.Package // installed (any install status other than not_installed)
	records  map[string]Record         // by plan.Key
	// fingerprint digests all of the above (see fingerprint).
	fingerprint string
}

// observe reads everything a plan needs with four list calls, concurrently:
// outputs, agent policies (paged), EPM packages and the inventory.
func (r *Reconciler) observe(ctx context.Context) (*observation, error) {
	var (
		wg       sync.WaitGroup
		outputs  []kibana.Output
		policies []kibana.AgentPolicy
		packages []kibana.Package
		records  []Record
		errs     [4]error
	)
	wg.Go(func() { outputs, errs[0] = r.cfg.Fleet.ListOutputs(ctx) })
	wg.Go(func() { policies, errs[1] = r.cfg.Fleet.ListAgentPolicies(ctx, kibana.ListOptions{}) })
	wg.Go(func() { packages, errs[2] = r.cfg.Fleet.ListPackages(ctx) })
	wg.Go(func() { records, errs[3] = r.cfg.Inventory.Load(ctx) })
	wg.Wait()
	for i, what := range []string{"list outputs", "list agent policies", "list packages", "load inventory"} {
		if errs[i] != nil {
			errs[i] = fmt.Errorf("observe: %s: %w", what, errs[i])
		}
	}
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	obs := &observation{
		outputs:  make(map[string]map[string]any, len(outputs)),
		policies: make(map[string]kibana.AgentPolicy, len(policies)),
		packages: map[string]kibana.Package{},
		records:  make(map[string]Record, len(records)),
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
	for _, rec := range records {
		if rec.Cluster == "" {
			rec.Cluster = r.cfg.Cluster
		}
		obs.records[plan.Key(rec.Cluster, rec.Kind, rec.ID)] = rec
	}
	obs.fingerprint = obs.computeFingerprint()
	return obs, nil
}

// computeFingerprint digests the observation: every output, the
// plan-relevant fields of every agent policy (not agent counts or
// timestamps, which move without anyone changing the policy), installed
// packages and the inventory. Only the digest leaves this function, so the
// clear-text credentials Kibana returns never do.
func (o *observation) computeFingerprint() string {
	type pol struct {
		ID, Name, Namespace                                        string
		Description, DataOutputID, MonitoringOutputID, FleetServer *string
		Revision                                                   int
		IsManaged                                                  bool
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
	}
	view.Outputs = o.outputs
	for _, p := range o.policies {
		view.Policies = append(view.Policies, pol{p.ID, p.Name, p.Namespace, p.Description, p.DataOutputID,
			p.MonitoringOutputID, p.FleetServerHostID, p.Revision, p.IsManaged, p.InactivityTimeout})
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
