package reconciler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Outputs (kind "output"): where agents send data. The diff, secrets and
// prune rules are here; Kibana's default-output and preconfiguration rules
// in outputs_rules.go; the request bodies in outputs_apply.go; the fields a
// PUT must repeat in update_keeps.go; records in outputs_record.go.

// outputsAPI is what the output kind calls on Kibana.
type outputsAPI interface {
	ListOutputs(ctx context.Context) ([]kibana.Output, error)
	GetOutput(ctx context.Context, id string) (kibana.Output, error)
	CreateOutput(ctx context.Context, body map[string]any) (kibana.Output, error)
	UpdateOutput(ctx context.Context, id string, body map[string]any) (kibana.Output, error)
	DeleteOutput(ctx context.Context, id string) error
}

// outputStep is an output's change: the declared output, its managed
// fields and the observed one, and which secrets apply sends.
type outputStep struct {
	*step
	out      *schema.Output
	outWant  map[string]any  // managed (non-secret) fields, normalized
	outHave  map[string]any  // observed output; nil on create
	write    map[string]bool // secret paths whose value is sent (resolved or minted)
	mint     map[string]bool // secret paths to mint first
	dropRefs map[string]bool // observed secrets.* refs deliberately not sent back (replaced by a plain field)
}

type outputKind struct{}

func (outputKind) name() string                                      { return plan.KindOutput }
func (outputKind) observed(*schema.Document, func(string) bool) bool { return true }

func (outputKind) declared(doc *schema.Document) []string {
	ids := make([]string, len(doc.Outputs))
	for i, o := range doc.Outputs {
		ids[i] = o.ID
	}
	return ids
}

func (outputKind) observe(ctx context.Context, r *Reconciler) (func(*observation), error) {
	list, err := r.cfg.Fleet.ListOutputs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list outputs: %w", err)
	}
	return func(obs *observation) {
		obs.outputs = make(map[string]map[string]any, len(list))
		for _, o := range list {
			obs.outputs[o.ID()] = canonicalMap(map[string]any(o))
		}
	}, nil
}

// fingerprint is every output as observed.
func (outputKind) fingerprint(obs *observation) any { return obs.outputs }

// references: an output refers to its proxy.
func (outputKind) references(doc *schema.Document, id string) []ref {
	o, ok := doc.Output(id)
	if !ok || o.ProxyID == nil {
		return nil
	}
	return []ref{{kindProxy, *o.ProxyID}}
}

func (outputKind) secrets(doc *schema.Document) []declaredSecret {
	var out []declaredSecret
	for _, o := range doc.Outputs {
		for _, sp := range secretSpecs(o) {
			out = append(out, declaredSecret{plan.KindOutput, o.ID, sp})
		}
	}
	return out
}

// fleetformOnly are document keys Kibana does not have (or that hold secret
// references, handled by secretSpecs).
var fleetformOnly = []string{"id", "remote", "sync_via", "allow_edit", "secrets", "service_token", "kibana_api_key", "password"}

// outputFields returns the Kibana fields o declares (no secrets), with
// hosts normalized the way Kibana stores them.
func outputFields(o schema.Output) map[string]any {
	m := canonicalMap(o)
	for _, k := range fleetformOnly {
		delete(m, k)
	}
	if ssl, ok := m["ssl"].(map[string]any); ok {
		delete(ssl, "key")
		if len(ssl) == 0 {
			delete(m, "ssl")
		}
	}
	if hosts, ok := m["hosts"].([]any); ok && hostsNormalized(o.Type) {
		for i, h := range hosts {
			if s, ok := h.(string); ok {
				hosts[i] = NormalizeHost(s)
			}
		}
	}
	return m
}

// plan diffs the declared outputs: only declared fields (hosts normalised as
// Kibana stores them), secrets by reference and recorded hash, Kibana's
// default-output rules, preconfigured outputs within allow_edit, and
// features the cluster's Kibana lacks.
func (outputKind) plan(ctx context.Context, r *Reconciler, doc *schema.Document, c *computed, cache *secretCache) {
	var wantDefault, wantDefaultMon string
	for _, o := range doc.Outputs {
		if o.IsDefault != nil && *o.IsDefault {
			wantDefault = o.ID
		}
		if o.IsDefaultMonitoring != nil && *o.IsDefaultMonitoring {
			wantDefaultMon = o.ID
		}
	}
	var haveDefault, haveDefaultMon string
	for id, o := range c.obs.outputs {
		if b, _ := o["is_default"].(bool); b {
			haveDefault = id
		}
		if b, _ := o["is_default_monitoring"].(bool); b {
			haveDefaultMon = id
		}
	}
	for i := range doc.Outputs {
		o := &doc.Outputs[i]
		s := &outputStep{
			step:    &step{change: &plan.Change{Cluster: r.cfg.Cluster, Kind: plan.KindOutput, ID: o.ID, Name: o.Name}},
			out:     o,
			outWant: outputFields(*o),
			write:   map[string]bool{},
			mint:    map[string]bool{},
		}
		s.data = s
		if w := dropKafkaProxy(o, s.outWant); w != "" {
			c.plan.Warnings = append(c.plan.Warnings, w)
		}
		have, exists := c.obs.outputs[o.ID]
		key := s.change.Key()
		rec, hasRec := c.obs.records[key]
		var blocked []string
		if !exists {
			s.change.Action = plan.Create
			for _, k := range sortedKeys(s.outWant) {
				s.change.Fields = append(s.change.Fields, plan.FieldDiff{Path: k, After: s.outWant[k]})
			}
		} else {
			s.outHave = have
			s.change.Fields = diffManaged("", s.outWant, have)
		}
		s.change.Fields, blocked = r.defaultRules(s.change.Fields, o.ID, wantDefault, wantDefaultMon, haveDefault, haveDefaultMon, c.obs.outputs)
		noteDirectSync(s.change.Fields, o)
		notePinning(s.change.Fields, o, haveDefault, c.obs.policies)
		// Secrets.
		specs := secretSpecs(*o)
		declaredPlain := map[string]bool{}
		for _, sp := range specs {
			if !sp.Stored {
				declaredPlain[sp.PlainPath] = true
			}
		}
		for _, sp := range specs {
			var obsSec observedSecret
			if exists {
				obsSec = observeSecret(have, sp)
			}
			need, note, err := r.secretNeed(ctx, sp, obsSec, rec.Secrets, hasRec, exists, cache)
			switch {
			case errors.Is(err, errAdoptedUnverified):
				if cache != nil && cache.planning {
					c.plan.Unverified = append(c.plan.Unverified, plan.UnverifiedSecret{Cluster: r.cfg.Cluster, Kind: plan.KindOutput,
						ID: o.ID, Path: sp.Path, Ref: describeRef(sp.Ref), Reason: err.Error(), Adopted: true})
				}
			case err != nil && cache.planning:
				c.plan.Unverified = append(c.plan.Unverified, plan.UnverifiedSecret{Cluster: r.cfg.Cluster, Kind: plan.KindOutput,
					ID: o.ID, Path: sp.Path, Ref: describeRef(sp.Ref), Reason: unverifiedReason(err, sp.Ref)})
			case err != nil && s.err == nil:
				s.err = fmt.Errorf("output %s: %s: %w", o.ID, sp.Path, err)
			}
			switch need {
			case needWrite:
				s.write[sp.Path] = true
				fd := plan.FieldDiff{Path: sp.Path, After: plan.Sensitive, Sensitive: true, Note: note}
				if obsSec.present() {
					fd.Before = plan.Sensitive
				}
				s.change.Fields = append(s.change.Fields, fd)
			case needMint:
				s.mint[sp.Path] = true
				fd := plan.FieldDiff{Path: sp.Path, After: plan.ToBeGenerated, Sensitive: true, Note: note}
				if obsSec.present() {
					fd.Before = plan.Sensitive
				}
				s.change.Fields = append(s.change.Fields, fd)
				if r.cfg.Minter == nil {
					blocked = append(blocked, fmt.Sprintf("%s is declared generate: true, and minting generated secrets is not available yet (two-cluster provisioning); give the value with env: or file: until then", sp.Path))
				}
			}
		}
		// A secrets.* reference replaced by a declared plain field is dropped
		// from the PUT on purpose: Kibana then deletes the stored secret.
		if exists {
			for path := range kibana.Output(have).SecretRefs() {
				plainPath := strings.TrimPrefix(path, "secrets.")
				if declaredPlain[plainPath] && !s.declaresPath(specs, path) {
					if s.dropRefs == nil {
						s.dropRefs = map[string]bool{}
					}
					s.dropRefs[path] = true
					s.change.Fields = append(s.change.Fields, plan.FieldDiff{Path: path, Before: plan.Sensitive, Sensitive: true, Note: "replaced by plain " + plainPath})
				}
			}
		}
		if haveType, _ := have["type"].(string); exists && haveType != o.Type {
			s.typeChangeWipes(have, haveType)
		}
		haveType, _ := have["type"].(string)
		if why := syncIntegrationsRefusal(c, r.cfg.Cluster, o, !exists || haveType != o.Type, s.change.Fields); why != "" {
			blocked = append(blocked, why)
		}
		if why := shipperRefusal(c, o, have, !exists || haveType != o.Type, s.change.Fields); why != "" {
			blocked = append(blocked, why)
		}
		if why := c.foreignBlock(key, "output "+o.ID); why != "" {
			blocked = append(blocked, why)
		}
		if exists && isTrue(have["is_preconfigured"]) {
			if msg := preconfiguredBlock(o.ID, have, s.change.Fields); msg != "" {
				blocked = append(blocked, msg)
			}
		}
		if c.settle(s.step, blocked, exists, hasRec) {
			c.add(s.step)
		}
	}
	r.blockUnsupported(c)
}

// typeSecretPaths are the secret paths each output type accepts on PUT
// (fleet-api.md §2.3, §2.7).
var typeSecretPaths = map[string][]string{
	"elasticsearch":        {"secrets.ssl.key"},
	"remote_elasticsearch": {"secrets.ssl.key", "secrets.service_token"},
	"logstash":             {"secrets.ssl.key"},
	"kafka":                {"secrets.ssl.key", "secrets.password"},
}

// typeChangeWipes plans what Kibana deletes when the output's type changes
// from haveType (fleet-api.md §2.7, §2.8 step 6): stored secrets the new
// type has no path for are not sent back (the new type's PUT schema refuses
// them, and Kibana deletes the old type's secrets), and leaving
// remote_elasticsearch nulls the plain service_token and kibana_api_key.
func (s *outputStep) typeChangeWipes(have map[string]any, haveType string) {
	allowed, known := typeSecretPaths[s.out.Type]
	note := "deleted by Kibana: the type changes from " + haveType + " to " + s.out.Type
	if known {
		for _, path := range sortedKeys(kibana.Output(have).SecretRefs()) {
			if slices.Contains(allowed, path) || s.dropRefs[path] {
				continue
			}
			if s.dropRefs == nil {
				s.dropRefs = map[string]bool{}
			}
			s.dropRefs[path] = true
			s.change.Fields = append(s.change.Fields, plan.FieldDiff{Path: path, Before: plan.Sensitive, Sensitive: true, Note: note})
		}
	}
	if haveType == "remote_elasticsearch" {
		for _, plain := range []string{"kibana_api_key", "service_token"} {
			if v, _ := have[plain].(string); v != "" && !s.write[plain] && !s.mint[plain] {
				s.change.Fields = append(s.change.Fields, plan.FieldDiff{Path: plain, Before: plan.Sensitive, Sensitive: true, Note: note})
			}
		}
	}
}

func (s *outputStep) declaresPath(specs []secretSpec, path string) bool {
	for _, sp := range specs {
		if sp.Path == path {
			return true
		}
	}
	return false
}

// prune deletes an owned output no longer declared, unless Kibana would
// refuse: the default (or default monitoring) output that no declared
// output takes over, a preconfigured one, or one whose agent policies
// cannot fall back to the default.
func (outputKind) prune(r *Reconciler, doc *schema.Document, c *computed, rec Record, _ bool) *step {
	have, ok := c.obs.outputs[rec.ID]
	if !ok {
		return nil
	}
	name, _ := have["name"].(string)
	s := pruneStep(rec, name)
	s.data = &outputStep{step: s, outHave: have}
	// A default the plan moves to another declared output does not
	// block: the delete waits for that output's change, in whose
	// request Kibana flips the flag (never a moment without default).
	newDefault := r.newDefaultStep(doc, c, rec.ID, "is_default")
	newDefaultMon := r.newDefaultStep(doc, c, rec.ID, "is_default_monitoring")
	movesDefault := isTrue(have["is_default"]) && newDefault != nil
	movesMon := isTrue(have["is_default_monitoring"]) && newDefaultMon != nil
	for _, st := range []*step{newDefault, newDefaultMon} {
		if st != nil && !slices.Contains(s.change.DependsOn, st.change.Key()) {
			s.change.DependsOn = append(s.change.DependsOn, st.change.Key())
		}
	}
	switch {
	case isTrue(have["is_default"]) && !movesDefault:
		s.change.Action, s.change.Reason = plan.Blocked, fmt.Sprintf("owned and no longer declared, but output %s is the default output, which Kibana refuses to delete (Default output %s cannot be deleted.); make another output the default first", rec.ID, rec.ID)
	case isTrue(have["is_default_monitoring"]) && !movesMon:
		s.change.Action, s.change.Reason = plan.Blocked, fmt.Sprintf("owned and no longer declared, but output %s is the default monitoring output, which Kibana refuses to delete (Default monitoring output %s cannot be deleted.); make another output the default monitoring output first", rec.ID, rec.ID)
	case isTrue(have["is_preconfigured"]):
		s.change.Action, s.change.Reason = plan.Blocked, fmt.Sprintf("owned and no longer declared, but output %s is preconfigured in kibana.yml, which Kibana refuses to delete (Preconfigured output %s cannot be deleted outside of kibana config file.); remove it there", rec.ID, rec.ID)
	}
	// Policies moving away from this output go first.
	// (Policy deletes are planned before this: agent_policy keys sort
	// before output keys.)
	for _, st := range c.steps {
		if ps, ok := st.data.(*policyStep); ok && ps.polHave != nil && (ptrIs(ps.polHave.DataOutputID, rec.ID) || ptrIs(ps.polHave.MonitoringOutputID, rec.ID)) {
			s.change.DependsOn = append(s.change.DependsOn, st.change.Key())
		}
	}
	if s.change.Action == plan.Delete {
		r.pruneResetsPolicies(doc, c, s)
	}
	return s
}

// newDefaultStep returns the step of another declared output that takes
// flag (is_default or is_default_monitoring) from output id in this plan,
// or nil.
func (r *Reconciler) newDefaultStep(doc *schema.Document, c *computed, id, flag string) *step {
	for _, o := range doc.Outputs {
		v := o.IsDefault
		if flag == "is_default_monitoring" {
			v = o.IsDefaultMonitoring
		}
		if o.ID == id || v == nil || !*v {
			continue
		}
		if st, ok := c.steps[plan.Key(r.cfg.Cluster, plan.KindOutput, o.ID)]; ok && (st.change.Action == plan.Create || st.change.Action == plan.Update) {
			return st
		}
	}
	return nil
}

// pruneResetsPolicies says in output delete s which agent policies that
// fleetform does not plan to change still use the output: Kibana resets
// their data_output_id / monitoring_output_id to null (the default) in the
// same request, after validating them all (fleet-api.md §2.9 step 6, trap
// 13). One that cannot take the default blocks the delete.
func (r *Reconciler) pruneResetsPolicies(doc *schema.Document, c *computed, s *step) {
	id := s.change.ID
	var reset []string
	for _, pid := range sortedKeys(c.obs.policies) {
		have := c.obs.policies[pid]
		if _, planned := c.steps[plan.Key(r.cfg.Cluster, plan.KindAgentPolicy, pid)]; planned {
			continue
		}
		var fields []string
		if ptrIs(have.DataOutputID, id) {
			fields = append(fields, "data_output_id")
		}
		if ptrIs(have.MonitoringOutputID, id) {
			fields = append(fields, "monitoring_output_id")
		}
		if len(fields) == 0 {
			continue
		}
		if fields[0] == "data_output_id" {
			if why := r.restrictedDataOutput(doc, c, have, map[string]any{"data_output_id": nil}); why != "" {
				s.change.Action = plan.Blocked
				s.change.Reason = fmt.Sprintf("owned and no longer declared, but Kibana would reset agent policy %s to the default output and refuses the whole delete: %s", pid, why)
				return
			}
		}
		reset = append(reset, fmt.Sprintf("agent policy %s (%q): %s", pid, have.Name, strings.Join(fields, ", ")))
	}
	if len(reset) > 0 {
		s.change.Reason += "; Kibana resets these to the default output: " + strings.Join(reset, "; ")
	}
}
