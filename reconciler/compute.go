package reconciler

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// step is one planned change with what apply needs to carry it out. The
// plan holds only what people and saved plans may see; the step also holds
// the desired and observed objects.
type step struct {
	change *plan.Change
	// err fails the step before it runs (a secret that could not be read).
	err error

	out      *schema.Output
	outWant  map[string]any  // managed (non-secret) fields, normalized
	outHave  map[string]any  // observed output; nil on create
	write    map[string]bool // secret paths whose value is sent (resolved or minted)
	mint     map[string]bool // secret paths to mint first
	dropRefs map[string]bool // observed secrets.* refs deliberately not sent back (replaced by a plain field)

	pol     *schema.AgentPolicy
	polWant map[string]any
	polHave *kibana.AgentPolicy

	pkg     *schema.Package
	pkgHave *kibana.Package
	pkgWant string // version to install
	force   bool

	ip *ipStep // integration policies (package_policies_plan.go)
}

// computed is a plan with its steps, keyed by plan.Key.
type computed struct {
	plan  *plan.Plan
	steps map[string]*step
	obs   *observation
	// errs are problems found while computing that no change carries (a
	// secret of an unchanged output that could not be read to verify it).
	errs []error
}

func (c *computed) add(s *step) { c.steps[s.change.Key()] = s }

// compute diffs doc against obs. With cache nil it plans without secret
// values; with a cache it also resolves every declared secret and verifies
// it against the inventory hash — a planning cache (Plan) lists the
// references it cannot read as not compared, an apply cache (Apply) fails
// their outputs.
func (r *Reconciler) compute(ctx context.Context, doc *schema.Document, obs *observation, rev string, prune bool, cache *secretCache) *computed {
	c := &computed{
		plan:  &plan.Plan{FormatVersion: plan.FormatVersion, Revision: rev, Fingerprint: obs.fingerprint, Changes: []plan.Change{}},
		steps: map[string]*step{},
		obs:   obs,
	}
	r.computePackages(doc, c)
	r.computeOutputs(ctx, doc, c, cache)
	r.blockUnsupported(c)
	r.computePolicies(doc, c)
	r.computePrune(doc, c, prune)
	r.computeIntegrationPolicies(ctx, doc, c, prune, cache)
	for _, s := range c.steps {
		c.plan.Changes = append(c.plan.Changes, *s.change)
	}
	// Re-point steps at the sorted changes.
	c.plan.Sort()
	for i := range c.plan.Changes {
		ch := &c.plan.Changes[i]
		c.steps[ch.Key()].change = ch
	}
	return c
}

// samePlan reports whether two plans ask for the same changes.
func samePlan(a, b *plan.Plan) bool {
	ja, jb := plan.Plan{Changes: a.Changes}, plan.Plan{Changes: b.Changes}
	return fmt.Sprint(canonical(ja)) == fmt.Sprint(canonical(jb))
}

// ---- outputs ----

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

func (r *Reconciler) computeOutputs(ctx context.Context, doc *schema.Document, c *computed, cache *secretCache) {
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
		s := &step{
			change:  &plan.Change{Cluster: r.cfg.Cluster, Kind: plan.KindOutput, ID: o.ID, Name: o.Name},
			out:     o,
			outWant: outputFields(*o),
			write:   map[string]bool{},
			mint:    map[string]bool{},
		}
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
		if why := c.foreignBlock(key, "output "+o.ID); why != "" {
			blocked = append(blocked, why)
		}
		if exists && isTrue(have["is_preconfigured"]) {
			if msg := preconfiguredBlock(o.ID, have, s.change.Fields); msg != "" {
				blocked = append(blocked, msg)
			}
		}
		switch {
		case len(blocked) > 0:
			s.change.Action = plan.Blocked
			s.change.Reason = strings.Join(blocked, "\n")
		case exists && len(s.change.Fields) > 0:
			s.change.Action = plan.Update
		case exists && !hasRec:
			s.change.Action = plan.NoOp
			s.change.Reason = "exists and matches; apply records it as owned by fleetform"
		case exists:
			if s.err != nil {
				c.errs = append(c.errs, s.err)
			}
			continue // nothing to do
		}
		c.add(s)
	}
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
func (s *step) typeChangeWipes(have map[string]any, haveType string) {
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

func (s *step) declaresPath(specs []secretSpec, path string) bool {
	for _, sp := range specs {
		if sp.Path == path {
			return true
		}
	}
	return false
}

// defaultRules applies Kibana's default-output rules to an existing
// output's field diffs (fleet-api.md §2.10, traps 11 and 33). It drops an
// is_default(_monitoring): false that another output's is_default: true will
// flip anyway, and returns reasons to block what Kibana would refuse.
func (r *Reconciler) defaultRules(fields []plan.FieldDiff, id, wantDefault, wantDefaultMon, haveDefault, haveDefaultMon string, outputs map[string]map[string]any) ([]plan.FieldDiff, []string) {
	var blocked []string
	out := fields[:0]
	for _, f := range fields {
		var want, have, flag string
		switch f.Path {
		case "is_default":
			want, have, flag = wantDefault, haveDefault, "is_default"
		case "is_default_monitoring":
			want, have, flag = wantDefaultMon, haveDefaultMon, "is_default_monitoring"
		default:
			out = append(out, f)
			continue
		}
		switch {
		case f.After == false && have == id && want != "" && want != id:
			// The new default's own change flips this one in the same request.
			continue
		case f.After == false && have == id:
			blocked = append(blocked, fmt.Sprintf("output %s is the current %s output and Kibana refuses %s: false; declare %s: true on another output to move it (never by unsetting the old one)", id, flagNoun(flag), flag, flag))
		case f.After == true && have != "" && have != id:
			old := outputs[have]
			if isTrue(old["is_preconfigured"]) && !slices.Contains(stringList(old["allow_edit"]), flag) {
				blocked = append(blocked, fmt.Sprintf("the current %s output %s is preconfigured in kibana.yml without %s in allow_edit, so Kibana cannot move the default away from it (Preconfigured output %s %s cannot be updated outside of kibana config file.)", flagNoun(flag), have, flag, have, flag))
			} else {
				f.Note = "replaces " + have
			}
		}
		out = append(out, f)
	}
	return out, blocked
}

// notePinning adds to an is_default: true change of a non-elasticsearch
// output the agent policies Kibana pins to the previous default in the same
// request (fleet-api.md §2.5 step 8, §2.8 step 5, trap 12): Fleet Server and
// agentless policies that follow the default get data_output_id = the old
// default. (Synthetics policies are pinned too; the plan does not read
// package policies to find them.)
func notePinning(fields []plan.FieldDiff, o *schema.Output, haveDefault string, policies map[string]kibana.AgentPolicy) {
	if o.Type == "elasticsearch" || haveDefault == "" || haveDefault == o.ID {
		return
	}
	for i := range fields {
		if fields[i].Path != "is_default" || fields[i].After != true {
			continue
		}
		var pinned []string
		for _, id := range sortedKeys(policies) {
			p := policies[id]
			if (p.HasFleetServer || p.SupportsAgentless) && (p.DataOutputID == nil || *p.DataOutputID == "") {
				pinned = append(pinned, id)
			}
		}
		if len(pinned) > 0 {
			fields[i].Note = strings.TrimPrefix(fields[i].Note+"; Kibana pins data_output_id of agent policies "+strings.Join(pinned, ", ")+" to "+haveDefault, "; ")
		}
	}
}

func flagNoun(flag string) string {
	if flag == "is_default_monitoring" {
		return "default monitoring"
	}
	return "default"
}

// preconfiguredBlock explains which changed keys of a preconfigured output
// are outside its allow_edit, or returns "" when all are allowed.
func preconfiguredBlock(id string, have map[string]any, fields []plan.FieldDiff) string {
	allowed := stringList(have["allow_edit"])
	var bad []string
	for _, k := range topKeys(fields) {
		if !slices.Contains(allowed, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return fmt.Sprintf("output %s is preconfigured in kibana.yml and %s cannot be updated outside of kibana config file (allow_edit: [%s]); change kibana.yml instead",
		id, strings.Join(bad, ", "), strings.Join(allowed, ", "))
}

type secretNeedKind int

const (
	needNone secretNeedKind = iota
	needWrite
	needMint
)

// secretNeed decides whether a declared secret must be sent, and says why
// in a note that names no value.
func (r *Reconciler) secretNeed(ctx context.Context, sp secretSpec, have observedSecret, recs map[string]SecretRecord, hasRec, exists bool, cache *secretCache) (secretNeedKind, string, error) {
	rec, ok := recs[sp.Path]
	ok = ok && hasRec
	matches := func() bool {
		if have.ID != "" {
			return have.ID == rec.FleetSecretID
		}
		return !have.Plain.IsZero() && r.cfg.Hasher.Verify(have.Plain, rec.Hash)
	}
	write := needWrite
	if sp.Ref.Generate {
		write = needMint
	}
	switch {
	case !exists:
		return write, "", nil
	case !ok:
		return write, "not yet recorded by fleetform", nil
	case rec.RefDescribe != describeRef(sp.Ref):
		return write, "reference changed: " + rec.RefDescribe + " → " + describeRef(sp.Ref), nil
	case !have.present():
		return write, "drift: missing in Fleet", nil
	case have.ID != "" && rec.FleetSecretID != "" && have.ID != rec.FleetSecretID:
		return write, "drift: secret id changed outside fleetform", nil
	case rec.Hash == "":
		// Adopted by import: fleetform has never seen the value, so it
		// cannot compare it; a changed reference is what makes it write.
		return needNone, "", nil
	case !matches():
		return write, "drift: changed outside fleetform", nil
	case sp.Ref.Generate || cache == nil:
		return needNone, "", nil
	}
	v, err := cache.get(ctx, sp.Ref)
	if err != nil {
		return needNone, "", err
	}
	if !r.cfg.Hasher.Verify(v, rec.Hash) {
		return needWrite, "value changed at " + describeRef(sp.Ref), nil
	}
	return needNone, "", nil
}

// ---- agent policies ----

func policyFields(p schema.AgentPolicy) map[string]any {
	m := map[string]any{
		"data_output_id":       derefOrNil(p.DataOutputID),
		"monitoring_output_id": derefOrNil(p.MonitoringOutputID),
	}
	if p.FleetServerHostID != nil {
		m["fleet_server_host_id"] = *p.FleetServerHostID
	}
	if p.Adopt {
		return m
	}
	m["name"] = p.Name
	m["namespace"] = p.Namespace
	if p.Description != nil {
		m["description"] = *p.Description
	}
	return m
}

func observedPolicyFields(p kibana.AgentPolicy) map[string]any {
	return map[string]any{
		"name":                 p.Name,
		"namespace":            p.Namespace,
		"description":          derefOrNil(p.Description),
		"data_output_id":       derefOrNil(p.DataOutputID),
		"monitoring_output_id": derefOrNil(p.MonitoringOutputID),
		"fleet_server_host_id": derefOrNil(p.FleetServerHostID),
	}
}

func (r *Reconciler) computePolicies(doc *schema.Document, c *computed) {
	for i := range doc.AgentPolicies {
		p := &doc.AgentPolicies[i]
		s := &step{
			change:  &plan.Change{Cluster: r.cfg.Cluster, Kind: plan.KindAgentPolicy, ID: p.ID, Name: p.Name},
			pol:     p,
			polWant: policyFields(*p),
		}
		have, exists := c.obs.policies[p.ID]
		_, hasRec := c.obs.records[s.change.Key()]
		for _, k := range []string{"data_output_id", "monitoring_output_id"} {
			if id, _ := s.polWant[k].(string); id != "" {
				if dep, ok := c.steps[plan.Key(r.cfg.Cluster, plan.KindOutput, id)]; ok && dep.change.Action != plan.NoOp {
					s.change.DependsOn = append(s.change.DependsOn, dep.change.Key())
				}
			}
		}
		if why := c.foreignBlock(s.change.Key(), "agent policy "+p.ID); why != "" {
			s.change.Action, s.change.Reason = plan.Blocked, why
			if exists {
				s.polHave = &have
			}
			c.add(s)
			continue
		}
		switch {
		case !exists && p.Adopt:
			s.change.Action = plan.Blocked
			s.change.Reason = fmt.Sprintf("agent policy %s is declared with adopt: true but does not exist in Fleet; adopt never creates a policy", p.ID)
			for _, k := range sortedKeys(s.polWant) {
				s.change.Fields = append(s.change.Fields, plan.FieldDiff{Path: k, After: s.polWant[k]})
			}
		case !exists:
			s.change.Action = plan.Create
			for _, k := range sortedKeys(s.polWant) {
				if s.polWant[k] != nil {
					s.change.Fields = append(s.change.Fields, plan.FieldDiff{Path: k, After: s.polWant[k]})
				}
			}
			if why := r.policyOutputLicense(c, p.ID, s.polWant, nil); why != "" {
				s.change.Action, s.change.Reason = plan.Blocked, why
			}
		default:
			s.polHave = &have
			if s.change.Name == "" {
				s.change.Name = have.Name
			}
			s.change.Fields = diffManaged("", s.polWant, observedPolicyFields(have))
			pinned := r.restrictedDataOutput(doc, c, have, s.polWant)
			switch {
			case len(s.change.Fields) > 0 && pinned != "":
				s.change.Action = plan.Blocked
				s.change.Reason = pinned
			case len(s.change.Fields) > 0 && have.IsManaged:
				s.change.Action = plan.Blocked
				s.change.Reason = fmt.Sprintf("agent policy %s is managed by an external orchestration solution (is_managed); fleetform does not force changes onto it", p.ID)
			case len(s.change.Fields) > 0 && r.policyOutputLicense(c, p.ID, s.polWant, &have) != "":
				s.change.Action = plan.Blocked
				s.change.Reason = r.policyOutputLicense(c, p.ID, s.polWant, &have)
			case len(s.change.Fields) > 0:
				s.change.Action = plan.Update
			case !hasRec:
				s.change.Action = plan.NoOp
				s.change.Reason = "exists and matches; apply records it as owned by fleetform"
				if p.Adopt {
					s.change.Reason = "adopted: fleetform manages its output fields only, which already match"
				}
				s.change.DependsOn = nil
			default:
				continue
			}
		}
		c.add(s)
	}
}

// policyOutputLicense returns why Kibana would refuse the per-policy
// outputs of agent policy id below a platinum licence (trap 15), or "":
// Kibana checks on create and when the output fields change, and exempts
// policies that are managed and preconfigured, run Fleet Server or have a
// fleet_server or synthetics integration.
func (r *Reconciler) policyOutputLicense(c *computed, id string, want map[string]any, have *kibana.AgentPolicy) string {
	if c.obs.license == "" || !needsPolicyOutputLicense(want, have) {
		return ""
	}
	if have != nil && c.obs.policyHasPackage(id, exemptPackages...) {
		return ""
	}
	why := PolicyOutputLicenseProblem(r.cfg.Cluster, c.obs.license, []string{id})
	if why == "" {
		return ""
	}
	var set []string
	for _, k := range []string{"data_output_id", "monitoring_output_id"} {
		if v, _ := want[k].(string); v != "" {
			set = append(set, k+": "+v)
		}
	}
	return why + "; it sets " + strings.Join(set, ", ") + " (Fleet Server and Synthetics policies are exempt)"
}

// restrictedDataOutput explains why a Fleet Server or agentless policy
// cannot take the data output it would get, or returns "". Such policies
// accept only elasticsearch outputs; when a remote_elasticsearch output
// becomes the default, Kibana pins them to the previous default (trap 12),
// and asking for "the default" again would be refused.
func (r *Reconciler) restrictedDataOutput(doc *schema.Document, c *computed, have kibana.AgentPolicy, want map[string]any) string {
	if !have.HasFleetServer && !have.SupportsAgentless {
		return ""
	}
	wantID, _ := want["data_output_id"].(string)
	effective := wantID
	if effective == "" {
		for _, o := range doc.Outputs {
			if o.IsDefault != nil && *o.IsDefault {
				effective = o.ID
			}
		}
	}
	if effective == "" {
		for id, o := range c.obs.outputs {
			if isTrue(o["is_default"]) {
				effective = id
			}
		}
	}
	typ := ""
	if o, ok := doc.Output(effective); ok {
		typ = o.Type
	} else if o, ok := c.obs.outputs[effective]; ok {
		typ, _ = o["type"].(string)
	}
	if typ == "" || typ == "elasticsearch" {
		return ""
	}
	how := "data_output_id " + wantID
	if wantID == "" {
		how = "the default output " + effective
	}
	return fmt.Sprintf("agent policy %s runs Fleet Server or agentless integrations, which only accept elasticsearch outputs, but %s is %s (Kibana would refuse: Output of type %q is not usable with policy %q); declare data_output_id: <an elasticsearch output> for it",
		have.ID, how, typ, typ, have.Name)
}

// ---- packages ----

func (r *Reconciler) computePackages(doc *schema.Document, c *computed) {
	for i := range doc.Packages {
		p := &doc.Packages[i]
		s := &step{change: &plan.Change{Cluster: r.cfg.Cluster, Kind: plan.KindPackage, ID: p.Name}, pkg: p}
		have, installed := c.obs.packages[p.Name]
		want := p.Version
		if want == "latest" {
			want = "" // Kibana installs its newest known version
			if installed && have.Version != "" {
				want = have.Version
			}
		}
		s.pkgWant = want
		_, hasRec := c.obs.records[s.change.Key()]
		switch {
		case !installed:
			s.change.Action = plan.Create
			s.change.Fields = []plan.FieldDiff{{Path: "version", After: p.Version}}
			if latest := c.obs.latest[p.Name]; pinnedBelowLatest(want, latest) {
				s.force = true
				s.change.Fields[0].Note = belowLatestNote(latest)
			}
		case have.InstallStatus != "" && have.InstallStatus != "installed":
			s.pkgHave = &have
			s.change.Action = plan.Update
			s.force = true
			s.change.Fields = []plan.FieldDiff{{Path: "version", Before: have.InstalledVersion, After: cmpOr(want, p.Version), Note: "install status " + have.InstallStatus + "; reinstall"}}
		case want != "" && have.InstalledVersion != want:
			s.pkgHave = &have
			s.change.Action = plan.Update
			s.force = compareVersions(want, have.InstalledVersion) < 0
			note := ""
			if s.force {
				note = "downgrade (installed with force)"
			} else if latest := c.obs.latest[p.Name]; pinnedBelowLatest(want, latest) {
				s.force, note = true, belowLatestNote(latest)
			}
			s.change.Fields = []plan.FieldDiff{{Path: "version", Before: have.InstalledVersion, After: want, Note: note}}
		case !hasRec:
			s.pkgHave = &have
			s.change.Action = plan.NoOp
			s.change.Reason = "installed at the declared version; apply records it as owned by fleetform"
		default:
			continue
		}
		c.add(s)
	}
}

// ---- prune ----

func (r *Reconciler) computePrune(doc *schema.Document, c *computed, prune bool) {
	declared := map[string]bool{}
	for _, o := range doc.Outputs {
		declared[plan.Key(r.cfg.Cluster, plan.KindOutput, o.ID)] = true
	}
	for _, p := range doc.AgentPolicies {
		declared[plan.Key(r.cfg.Cluster, plan.KindAgentPolicy, p.ID)] = true
	}
	for _, p := range doc.Packages {
		declared[plan.Key(r.cfg.Cluster, plan.KindPackage, p.Name)] = true
	}
	keys := sortedKeys(c.obs.records)
	for _, key := range keys {
		rec := c.obs.records[key]
		if declared[key] || rec.Cluster != r.cfg.Cluster || rec.Adopted {
			continue
		}
		s := &step{change: &plan.Change{Cluster: rec.Cluster, Kind: rec.Kind, ID: rec.ID, Action: plan.Delete,
			Reason: "owned by fleetform and no longer declared"}}
		switch rec.Kind {
		case plan.KindOutput:
			have, ok := c.obs.outputs[rec.ID]
			if !ok {
				continue
			}
			s.outHave = have
			s.change.Name, _ = have["name"].(string)
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
				s.change.Action, s.change.Reason = plan.Blocked, fmt.Sprintf("owned and no longer declared, but output %s is preconfigured in kibana.yml; remove it there", rec.ID)
			}
			// Policies moving away from this output go first.
			for _, st := range c.steps {
				if st.polHave != nil && (ptrIs(st.polHave.DataOutputID, rec.ID) || ptrIs(st.polHave.MonitoringOutputID, rec.ID)) {
					s.change.DependsOn = append(s.change.DependsOn, st.change.Key())
				}
			}
			if s.change.Action == plan.Delete {
				r.pruneResetsPolicies(doc, c, s)
			}
		case plan.KindAgentPolicy:
			have, ok := c.obs.policies[rec.ID]
			if !ok {
				continue
			}
			s.polHave = &have
			s.change.Name = have.Name
			if have.IsManaged {
				s.change.Action, s.change.Reason = plan.Blocked, fmt.Sprintf("owned and no longer declared, but agent policy %s is managed (is_managed)", rec.ID)
			}
		case plan.KindPackage:
			have, ok := c.obs.packages[rec.ID]
			if !ok {
				continue
			}
			s.pkgHave = &have
			s.change.Fields = []plan.FieldDiff{{Path: "version", Before: have.InstalledVersion}}
			if prune {
				s.change.Action, s.change.Reason = uninstallEffect(rec.ID, c.obs.packagePolicies)
			}
		default:
			continue
		}
		if owners := c.obs.foreign[key]; len(owners) > 0 && s.change.Action == plan.Delete {
			s.change.Action, s.change.Reason = plan.Blocked, fmt.Sprintf("owned by fleetform and no longer declared here, but fleetform instance %s owns it too (state index); not deleted", strings.Join(owners, ", "))
		}
		if !prune {
			c.plan.Warnings = append(c.plan.Warnings, fmt.Sprintf("%s %q is owned by fleetform but no longer declared; apply with --prune deletes it", rec.Kind, rec.ID))
			continue
		}
		c.add(s)
	}
	// Policy deletes that free an output come before the output delete.
	for _, s := range c.steps {
		if s.change.Kind != plan.KindOutput || s.change.Action != plan.Delete {
			continue
		}
		for _, st := range c.steps {
			if st.change.Kind == plan.KindAgentPolicy && st.change.Action == plan.Delete &&
				(ptrIs(st.polHave.DataOutputID, s.change.ID) || ptrIs(st.polHave.MonitoringOutputID, s.change.ID)) {
				s.change.DependsOn = append(s.change.DependsOn, st.change.Key())
			}
		}
	}
}

// foreignBlock explains why an object that another fleetform instance owns
// (its record in the shared state index) is left alone, or returns "".
func (c *computed) foreignBlock(key, what string) string {
	owners := c.obs.foreign[key]
	if len(owners) == 0 {
		return ""
	}
	return fmt.Sprintf("%s is owned by fleetform instance %s (state index): two instances managing one object undo each other's changes, and one's --prune deletes what the other declares; declare it in one instance only", what, strings.Join(owners, ", "))
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

// uninstallEffect is what Kibana does on an uninstall of pkg without force,
// given its package policies (trap 18): with none it just uninstalls; when
// none has agents it silently deletes them all first, which the plan says;
// when any has agents it refuses with a 400, so the plan blocks it.
func uninstallEffect(pkg string, pps []kibana.PackagePolicy) (plan.Action, string) {
	const owned = "owned by fleetform and no longer declared"
	var all, inUse []string
	agents := 0
	for _, pp := range pps {
		if pp.Package.Name != pkg {
			continue
		}
		name := cmpOr(pp.Name, pp.ID)
		all = append(all, name)
		if pp.Agents > 0 {
			inUse = append(inUse, fmt.Sprintf("%s (%d agent%s)", name, pp.Agents, plural(pp.Agents)))
			agents += pp.Agents
		}
	}
	slices.Sort(all)
	slices.Sort(inUse)
	switch {
	case len(inUse) > 0:
		return plan.Blocked, fmt.Sprintf("%s, but %d package polic%s of %s %s in use by %d agent%s: %s; Kibana refuses the uninstall (Unable to remove package with existing package policy(s) in use by agent(s)); move the agents or delete those package policies first",
			owned, len(inUse), pick(len(inUse), "y", "ies"), pkg, pick(len(inUse), "is", "are"), agents, plural(agents), strings.Join(inUse, ", "))
	case len(all) > 0:
		return plan.Delete, fmt.Sprintf("%s; Kibana also deletes its package policies, which no agent uses: %s", owned, strings.Join(all, ", "))
	}
	return plan.Delete, owned
}

func plural(n int) string { return pick(n, "", "s") }

// pick returns one when n is 1, else many.
func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ---- helpers ----

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func derefOrNil(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func ptrIs(p *string, v string) bool { return p != nil && *p == v }

func isTrue(v any) bool { b, _ := v.(bool); return b }

func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// compareVersions orders dotted numeric versions (semver without build
// metadata; a pre-release sorts before its release).
func compareVersions(a, b string) int {
	ac, apre, _ := strings.Cut(a, "-")
	bc, bpre, _ := strings.Cut(b, "-")
	as, bs := strings.Split(ac, "."), strings.Split(bc, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			fmt.Sscanf(as[i], "%d", &x)
		}
		if i < len(bs) {
			fmt.Sscanf(bs[i], "%d", &y)
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case apre == bpre:
		return 0
	case apre == "":
		return 1
	case bpre == "":
		return -1
	}
	return strings.Compare(apre, bpre)
}
