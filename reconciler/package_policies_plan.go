package reconciler

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// IntegrationPolicyFleet is the part of Kibana's Fleet API the
// integration-policy kind calls (simplified format); *kibana.Client
// implements it. A Fleet without it cannot manage integration policies.
type IntegrationPolicyFleet interface {
	ListIntegrationPolicies(ctx context.Context, opts kibana.IntegrationPolicyListOptions) ([]kibana.IntegrationPolicy, error)
	GetIntegrationPolicy(ctx context.Context, id string) (kibana.IntegrationPolicy, error)
	CreateIntegrationPolicy(ctx context.Context, body map[string]any) (kibana.IntegrationPolicy, error)
	UpdateIntegrationPolicy(ctx context.Context, id string, body map[string]any) (kibana.IntegrationPolicy, error)
	DeleteIntegrationPolicy(ctx context.Context, id string) error
}

// ipObservation is what the integration-policy kind observed: every
// integration policy (one paged list call), by id.
type ipObservation struct {
	policies map[string]kibana.IntegrationPolicy
}

// needsEnterprise reports whether a declared integration policy asks for
// what Kibana allows only with an enterprise licence: an output_id, or
// policy_ids of other than one agent policy (then the plan reads the
// licence).
func needsEnterprise(doc *schema.Document) bool {
	return slices.ContainsFunc(doc.PackagePolicies, func(p schema.PackagePolicy) bool {
		id, _ := p.OutputID.Get()
		return id != "" || (p.PolicyIDs != nil && len(p.PolicyIDs) != 1)
	})
}

// ipStep is one planned integration-policy change with what apply needs.
type ipStep struct {
	change  plan.Change
	err     error // fails the change before it runs (a secret that could not be read)
	body    ipBodyInput
	secrets []ipSecretVar
	write   map[string]bool // secret var paths whose value is sent
	values  *valueCheck     // what apply checks the referenced values against (package_policies_values_apply.go)
}

// planIntegrationPolicies diffs the declared integration policies against
// ipo. Dependencies come from integrationPolicyKind.references.
func (r *Reconciler) planIntegrationPolicies(ctx context.Context, doc *schema.Document, obs *observation, ipo *ipObservation, cache *secretCache) ([]*ipStep, []plan.UnverifiedSecret, []error) {
	var (
		steps      []*ipStep
		unverified []plan.UnverifiedSecret
		errs       []error
	)
	diffs := integrationPolicyDiffs(doc, ipo, valueRulesFor(obs.kibanaVersion).boolStrings)
	for i := range doc.PackagePolicies {
		p := &doc.PackagePolicies[i]
		have, exists := ipo.policies[p.ID]
		var havePtr *kibana.IntegrationPolicy
		if exists {
			havePtr = &have
		}
		s := &ipStep{
			change:  plan.Change{Cluster: r.cfg.Cluster, Kind: KindIntegrationPolicy, ID: p.ID, Name: ipName(*p, havePtr)},
			body:    ipBodyInput{want: p, fields: diffs[i].fields, have: havePtr},
			secrets: integrationPolicySecrets(*p),
		}
		if len(s.secrets) > 0 { // written by the secrets loop below and ipSecretValues only
			s.body.values, s.body.keep, s.write = map[string]secret.Value{}, map[string]observedSecret{}, map[string]bool{}
		}
		key := s.change.Key()
		rec, hasRec := obs.records[key]
		var blocked []string
		var unreadable error
		if exists {
			s.change.Fields, unreadable = diffs[i].diff, diffs[i].err
		} else {
			s.change.Action = plan.Create
			for _, k := range sortedKeys(s.body.fields) {
				if k != "package" && (k != "output_id" || s.body.fields[k] != nil) {
					s.change.Fields = append(s.change.Fields, plan.FieldDiff{Path: k, After: s.body.fields[k]})
				}
			}
		}
		s.body.version, blocked = r.integrationPolicyVersion(doc, obs, p, havePtr)
		if !exists {
			s.change.Fields = append(s.change.Fields, plan.FieldDiff{Path: "package", After: map[string]any{"name": ipPackageName(p, nil), "version": s.body.version}})
		}
		for _, sv := range s.secrets {
			sp := sv.spec()
			var obsSec observedSecret
			if exists && unreadable == nil {
				obsSec, unreadable = observedVarSecret(have, sv.ipVar)
			}
			if sv.Ref.Generate {
				blocked = append(blocked, fmt.Sprintf("%s is declared generate: true; only output credentials are generated — give the value with env: or file:", sp.Path))
				continue
			}
			need, note, err := r.secretNeed(ctx, sp, obsSec, rec.Secrets, hasRec, exists, cache)
			switch {
			case errors.Is(err, errAdoptedUnverified):
				// Recorded by import --adopt without its value: listed as not
				// compared, never written until its reference changes.
				if cache != nil && cache.planning {
					unverified = append(unverified, plan.UnverifiedSecret{Cluster: r.cfg.Cluster, Kind: KindIntegrationPolicy,
						ID: p.ID, Path: sp.Path, Ref: describeRef(sp.Ref), Reason: err.Error(), Adopted: true})
				}
			case err != nil && cache != nil && cache.planning:
				unverified = append(unverified, plan.UnverifiedSecret{Cluster: r.cfg.Cluster, Kind: KindIntegrationPolicy,
					ID: p.ID, Path: sp.Path, Ref: describeRef(sp.Ref), Reason: unverifiedReason(err, sp.Ref)})
			case err != nil && s.err == nil:
				s.err = fmt.Errorf("integration policy %s: %s: %w", p.ID, sp.Path, err)
			}
			if need == needWrite {
				s.write[sp.Path] = true
				fd := plan.FieldDiff{Path: sp.Path, After: plan.Sensitive, Sensitive: true, Note: note}
				if obsSec.present() {
					fd.Before = plan.Sensitive
				}
				s.change.Fields = append(s.change.Fields, fd)
			} else if obsSec.present() {
				s.body.keep[sp.Path] = obsSec
			}
		}
		if unreadable != nil {
			blocked = append(blocked, fmt.Sprintf("Kibana's answer for integration policy %s does not read as the simplified format: %v", p.ID, unreadable))
		}
		if why := foreignOwners(obs, key, "integration policy "+p.ID); why != "" {
			blocked = append(blocked, why)
		}
		switch {
		case !exists && p.Adopt:
			blocked = append(blocked, fmt.Sprintf("integration policy %s is declared with adopt: true but does not exist in Fleet; adopt never creates an integration policy", p.ID))
		case !exists || len(s.change.Fields) > 0:
			blocked = append(blocked, r.integrationPolicyRefusals(doc, obs, ipo, p, havePtr, s.change.Fields)...)
		}
		switch {
		case len(blocked) > 0:
			s.change.Action = plan.Blocked
			s.change.Reason = strings.Join(blocked, "\n")
		case !exists:
		case len(s.change.Fields) > 0:
			s.change.Action = plan.Update
		case !hasRec:
			s.change.Action = plan.NoOp
			s.change.Reason = "exists and matches; apply records it as owned by fleetform"
			if p.Adopt {
				s.change.Reason = "adopted: fleetform manages its declared fields only, which already match"
			}
			s.change.DependsOn = nil
		default:
			if s.err != nil {
				errs = append(errs, s.err)
			}
			continue
		}
		steps = append(steps, s)
	}
	return steps, unverified, errs
}

// ipDiff is a declared integration policy's fields
// (integrationPolicyFields) and, when it exists, their diff with the
// observed one (diffIntegrationPolicy).
type ipDiff struct {
	fields map[string]any
	diff   []plan.FieldDiff
	err    error
}

// integrationPolicyDiffs returns the ipDiff of every declared integration
// policy, in document order. Both are pure functions of the declaration
// and the observation, and most of a plan of thousands of policies (the
// observed inputs are decoded here), so they run on up to GOMAXPROCS
// goroutines, each on its own share of the policies. With boolStrings (a
// Kibana before 9.4) the declared vars "true" and "false" are the booleans
// Kibana stores for them (coerceBoolStrings), so such a policy converges.
func integrationPolicyDiffs(doc *schema.Document, ipo *ipObservation, boolStrings bool) []ipDiff {
	out := make([]ipDiff, len(doc.PackagePolicies))
	one := func(i int) {
		p := &doc.PackagePolicies[i]
		out[i].fields = integrationPolicyFields(*p)
		if boolStrings {
			coerceBoolStrings(out[i].fields)
		}
		if have, exists := ipo.policies[p.ID]; exists {
			out[i].diff, out[i].err = diffIntegrationPolicy(out[i].fields, have)
		}
	}
	const share = 256 // policies below which another goroutine does not pay
	workers := min(runtime.GOMAXPROCS(0), (len(out)+share-1)/share)
	if workers <= 1 {
		for i := range out {
			one(i)
		}
		return out
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(out); i += workers {
				one(i)
			}
		})
	}
	wg.Wait()
	return out
}

// ipPackageName is the package p declares, else have's.
func ipPackageName(p *schema.PackagePolicy, have *kibana.IntegrationPolicy) string {
	if p.Package != nil {
		return p.Package.Name
	}
	if have != nil {
		return have.Package.Name
	}
	return ""
}

func derefOr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// foreignOwners explains why an object another fleetform instance owns is
// left alone, or returns "".
func foreignOwners(obs *observation, key, what string) string {
	owners := obs.foreign[key]
	if len(owners) == 0 {
		return ""
	}
	return fmt.Sprintf("%s is owned by fleetform instance %s (state index): two instances managing one object undo each other's changes; declare it in one instance only", what, strings.Join(owners, ", "))
}

// integrationPolicyVersion is the package version a create or update
// sends: the declared one; else, for an existing policy, its own; else the
// version the document installs, the installed one or Kibana's newest.
func (r *Reconciler) integrationPolicyVersion(doc *schema.Document, obs *observation, p *schema.PackagePolicy, have *kibana.IntegrationPolicy) (string, []string) {
	if p.Package != nil && p.Package.Version != "" && p.Package.Version != "latest" {
		return p.Package.Version, nil
	}
	if have != nil {
		return have.Package.Version, nil
	}
	name := ipPackageName(p, nil)
	for _, d := range doc.Packages {
		if d.Name == name && d.Version != "" && d.Version != "latest" {
			return d.Version, nil
		}
	}
	if pk, ok := obs.packages[name]; ok && pk.InstalledVersion != "" {
		return pk.InstalledVersion, nil
	}
	if v := obs.latest[name]; v != "" {
		return v, nil
	}
	return "", []string{fmt.Sprintf("package %q is neither installed nor known to Kibana's registry, so integration policy %s cannot name a version; declare package.version or the package in packages", name, p.ID)}
}

// outputType is the type output id will have: declared, else observed.
func (r *Reconciler) outputType(doc *schema.Document, obs *observation, id string) string {
	if o, ok := doc.Output(id); ok {
		return o.Type
	}
	if o, ok := obs.outputs[id]; ok {
		t, _ := o["type"].(string)
		return t
	}
	return ""
}

// pruneIntegrationPolicy is the delete of owned integration policy rec,
// which the document no longer declares (nil when it is gone); blocked
// when Kibana would refuse it (integrationPolicyDeleteRefusal).
func pruneIntegrationPolicy(obs *observation, rec Record) *ipStep {
	if obs.ip == nil {
		return nil
	}
	have, ok := obs.ip.policies[rec.ID]
	if !ok {
		return nil
	}
	s := &ipStep{change: plan.Change{Cluster: rec.Cluster, Kind: KindIntegrationPolicy, ID: rec.ID, Name: have.Name,
		Action: plan.Delete, Reason: "owned by fleetform and no longer declared"}, body: ipBodyInput{have: &have}}
	if why := integrationPolicyDeleteRefusal(obs, have); why != "" {
		s.change.Action = plan.Blocked
		s.change.Reason = "owned by fleetform and no longer declared, but " + why
	}
	return s
}

// runIntegrationPolicy carries out one integration-policy change.
func (r *Reconciler) runIntegrationPolicy(ctx context.Context, s *ipStep, cache *secretCache) error {
	f, err := clientFor[IntegrationPolicyFleet](r, KindIntegrationPolicy)
	if err != nil {
		return err
	}
	if s.err != nil {
		return s.err
	}
	if err := r.ipSecretValues(ctx, s, cache); err != nil {
		return err
	}
	ch := s.change
	switch ch.Action {
	case plan.Create:
		body := integrationPolicyCreateBody(s.body)
		return r.createChecked(ctx, "integration policy "+ch.ID,
			func(ctx context.Context) error { _, err := f.GetIntegrationPolicy(ctx, ch.ID); return err },
			func(ctx context.Context) error { _, err := f.CreateIntegrationPolicy(ctx, body); return err })
	case plan.Update:
		body, err := integrationPolicyUpdateBody(s.body)
		if err != nil {
			return err
		}
		_, err = f.UpdateIntegrationPolicy(ctx, ch.ID, body)
		return err
	case plan.Delete:
		return f.DeleteIntegrationPolicy(ctx, ch.ID)
	case plan.NoOp:
		return nil
	}
	return fmt.Errorf("%s of %s is not supported", ch.Action, ch.Kind)
}

// ipSecretValues resolves the secret vars s writes.
func (r *Reconciler) ipSecretValues(ctx context.Context, s *ipStep, cache *secretCache) error {
	for _, sv := range s.secrets {
		path := sv.Path()
		if !s.write[path] {
			continue
		}
		v, err := cache.get(ctx, sv.Ref)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		s.body.values[path] = v
	}
	return nil
}

// integrationPolicyRecord is the inventory record of declared policy p
// after an apply: declared fields hashed, secret vars by Fleet secret id
// and salted hash of the value sent (or as recorded before).
func (r *Reconciler) integrationPolicyRecord(p schema.PackagePolicy, now *kibana.IntegrationPolicy, s *ipStep, old Record) (Record, error) {
	specs := make([]secretSpec, 0)
	for _, sv := range integrationPolicySecrets(p) {
		specs = append(specs, sv.spec())
	}
	rec := Record{Cluster: r.cfg.Cluster, Kind: KindIntegrationPolicy, ID: p.ID, Adopted: p.Adopt, DesiredHash: desiredHash(integrationPolicyFields(p), specs)}
	for _, sv := range integrationPolicySecrets(p) {
		path := sv.Path()
		var obsSec observedSecret
		if now != nil {
			var err error
			if obsSec, err = observedVarSecret(*now, sv.ipVar); err != nil {
				return Record{}, err
			}
		}
		sr := SecretRecord{FleetSecretID: obsSec.ID, RefDescribe: describeRef(sv.Ref)}
		switch {
		case s != nil && s.write[path] && !s.body.values[path].IsZero():
			sr.Hash = r.cfg.Hasher.Hash(s.body.values[path])
		case old.Secrets[path].Hash != "":
			sr.Hash = old.Secrets[path].Hash
		case old.Secrets[path].RefDescribe == sr.RefDescribe && old.Secrets[path].FleetSecretID == sr.FleetSecretID:
		default:
			continue
		}
		if rec.Secrets == nil {
			rec.Secrets = map[string]SecretRecord{}
		}
		rec.Secrets[path] = sr
	}
	return rec, nil
}

// adoptIntegrationPolicyRecord is Adopt's record of p: secrets by Fleet
// secret id only ("unverified": fleetform has never seen their values).
func (r *Reconciler) adoptIntegrationPolicyRecord(p schema.PackagePolicy, have kibana.IntegrationPolicy) (Record, error) {
	rec, _ := r.integrationPolicyRecord(p, nil, nil, Record{}) // reads no observed secret: no error
	for _, sv := range integrationPolicySecrets(p) {
		obsSec, err := observedVarSecret(have, sv.ipVar)
		if err != nil {
			return Record{}, err
		}
		if !obsSec.present() {
			continue
		}
		if rec.Secrets == nil {
			rec.Secrets = map[string]SecretRecord{}
		}
		rec.Secrets[sv.Path()] = SecretRecord{FleetSecretID: obsSec.ID, RefDescribe: describeRef(sv.Ref)}
	}
	return rec, nil
}
