package reconciler

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// objectKind is the kind of a Fleet setting Kibana keeps as a plain JSON
// object with secrets: proxies (proxies.go), Fleet Server hosts
// (fleet_server_hosts.go) and agent download sources
// (download_sources.go). Each of those files holds its kind's objectSpec:
// its fields, client calls and Kibana's rules; this file is what they share
// (diff of declared fields, secrets by reference and salted hash, the one
// default, preconfigured objects; bodies and records in objects_apply.go).
// Ownership is like outputs':
// fleetform owns what it declares (no adopt form) and prunes what it owns.
type objectKind struct{ objectSpec }

// objectSpec is what one such kind is made of.
type objectSpec struct {
	kind string // plan kind
	// objects returns the declared objects.
	objects func(doc *schema.Document) []declaredObject
	// client calls; each kind has its own client interface (clientFor).
	list   func(ctx context.Context, r *Reconciler) ([]map[string]any, error)
	get    func(ctx context.Context, r *Reconciler, id string) error
	create func(ctx context.Context, r *Reconciler, body map[string]any) error
	update func(ctx context.Context, r *Reconciler, id string, body map[string]any) error
	del    func(ctx context.Context, r *Reconciler, id string) error
	// observedWith are other kinds whose declaration or records make this
	// kind needed (a proxy's prune reads the hosts and sources using it).
	observedWith []string
	// mergeable are object fields a PUT replaces whole: sent merged over
	// the observed value, so undeclared sub-keys are kept.
	mergeable []string
	// putKeeps are fields Kibana clears or resets when a PUT omits them
	// (schema.nullable defaults to null; a boolean's default): a PUT always
	// sends them, as declared, else as observed (null when absent).
	putKeeps []string
	// hasDefault: the kind has one default (is_default), which Kibana moves
	// when another object is written with is_default: true.
	hasDefault bool
	// defaultDeleted is Kibana's refusal to delete the default (fmt, id).
	defaultDeleted string
	// noDefault is what having no default breaks, for the plan's reason.
	noDefault string
	// preconfiguredDeleted is Kibana's refusal to delete a preconfigured
	// object (fmt, id); "" when the kind cannot be preconfigured.
	preconfiguredDeleted string
	// rules returns reasons to block a create or update that Kibana would
	// refuse (nil: none).
	rules func(doc *schema.Document, c *computed, o declaredObject, have map[string]any) []string
	// pruneRules returns why Kibana refuses to delete an owned object, or
	// a note on what the delete also does (nil: none).
	pruneRules func(c *computed, id string, have map[string]any) (blocked, note string)
}

// declaredObject is one declared object of an objectKind.
type declaredObject struct {
	id, name string
	fields   map[string]any // declared non-secret fields, as Kibana stores them
	secrets  []secretSpec
	refs     []ref
}

// objectStep is the change of one object of an objectKind.
type objectStep struct {
	*step
	obj      declaredObject
	have     map[string]any  // nil on create
	write    map[string]bool // secret paths whose value is sent
	dropRefs map[string]bool // stored secrets replaced by a plain value
	// isDefault is the is_default a PUT of a kind with putKeeps
	// is_default sends: declared, else false when another object becomes
	// the default in this plan, else as observed.
	isDefault bool
	// versionLacks are the kind's keys the cluster's Kibana version does
	// not know (version_objects.go): a PUT does not repeat them.
	versionLacks []string
}

func (k objectKind) name() string { return k.kind }

func (k objectKind) declared(doc *schema.Document) []string {
	objs := k.objects(doc)
	ids := make([]string, len(objs))
	for i, o := range objs {
		ids[i] = o.id
	}
	return ids
}

func (k objectKind) find(doc *schema.Document, id string) (declaredObject, bool) {
	for _, o := range k.objects(doc) {
		if o.id == id {
			return o, true
		}
	}
	return declaredObject{}, false
}

// observed: declared, recorded, or needed by a related kind.
func (k objectKind) observed(doc *schema.Document, recorded func(string) bool) bool {
	if len(k.objects(doc)) > 0 || (recorded != nil && recorded(k.kind)) {
		return true
	}
	for _, other := range k.observedWith {
		if o := kindNamed(other); o != nil && (len(o.declared(doc)) > 0 || (recorded != nil && recorded(other))) {
			return true
		}
	}
	return false
}

func (k objectKind) observe(ctx context.Context, r *Reconciler) (func(*observation), error) {
	list, err := k.list(ctx, r)
	if err != nil && r.kindAbsent(ctx, k.kind, err) {
		return func(obs *observation) { obs.objects[k.kind] = map[string]map[string]any{} }, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", kindPlural(k.kind), err)
	}
	objs := make(map[string]map[string]any, len(list))
	for _, o := range list {
		m := canonicalMap(o)
		id, _ := m["id"].(string)
		objs[id] = m
	}
	return func(obs *observation) { obs.objects[k.kind] = objs }, nil
}

func (k objectKind) fingerprint(obs *observation) any { return obs.objects[k.kind] }

func (k objectKind) references(doc *schema.Document, id string) []ref {
	o, _ := k.find(doc, id)
	return o.refs
}

func (k objectKind) secrets(doc *schema.Document) []declaredSecret {
	var out []declaredSecret
	for _, o := range k.objects(doc) {
		for _, sp := range o.secrets {
			out = append(out, declaredSecret{k.kind, o.id, sp})
		}
	}
	return out
}

// defaults returns the declared default (the object declaring is_default:
// true) and the observed one.
func (k objectKind) defaults(doc *schema.Document, obs *observation) (want, have string) {
	for _, o := range k.objects(doc) {
		if isTrue(o.fields["is_default"]) {
			want = o.id
		}
	}
	for id, o := range obs.objects[k.kind] {
		if isTrue(o["is_default"]) {
			have = id
		}
	}
	return want, have
}

// plan diffs every declared object: its declared fields, its secrets, the
// default's rules, preconfiguration and the kind's own rules.
func (k objectKind) plan(ctx context.Context, r *Reconciler, doc *schema.Document, c *computed, cache *secretCache) {
	noun := kindNoun(k.kind)
	wantDefault, haveDefault := k.defaults(doc, c.obs)
	for _, o := range k.objects(doc) {
		s := &objectStep{step: &step{change: &plan.Change{Cluster: r.cfg.Cluster, Kind: k.kind, ID: o.id, Name: o.name}},
			obj: o, write: map[string]bool{}}
		s.data = s
		have, exists := c.obs.objects[k.kind][o.id]
		key := s.change.Key()
		rec, hasRec := c.obs.records[key]
		var blocked []string
		if !exists {
			s.change.Action = plan.Create
			for _, f := range sortedKeys(o.fields) {
				s.change.Fields = append(s.change.Fields, plan.FieldDiff{Path: f, After: o.fields[f]})
			}
		} else {
			s.have = have
			s.change.Fields = diffManaged("", o.fields, have)
		}
		s.isDefault = isTrue(have["is_default"])
		if d, declared := o.fields["is_default"]; declared {
			s.isDefault = isTrue(d)
		} else if wantDefault != "" && wantDefault != o.id {
			s.isDefault = false
		}
		if k.hasDefault {
			var why []string
			s.change.Fields, why = k.defaultRules(s.change.Fields, o.id, wantDefault, haveDefault)
			blocked = append(blocked, why...)
		}
		blocked = append(blocked, k.planSecrets(ctx, r, c, s, rec, hasRec, exists, cache)...)
		if why := c.foreignBlock(key, noun+" "+o.id); why != "" {
			blocked = append(blocked, why)
		}
		if exists && isTrue(have["is_preconfigured"]) && len(s.change.Fields) > 0 {
			blocked = append(blocked, fmt.Sprintf("%s %s is preconfigured in kibana.yml, and Kibana's setup writes it again from kibana.yml at every start, so a change through the API would not last (%s); change kibana.yml instead",
				noun, o.id, strings.Join(topKeys(s.change.Fields), ", ")))
		}
		if k.rules != nil && (!exists || len(s.change.Fields) > 0) {
			blocked = append(blocked, k.rules(doc, c, o, have)...)
		}
		if c.settle(s.step, blocked, exists, hasRec) {
			c.add(s.step)
		}
	}
	// An old default is sent is_default: false only when the new default's
	// change is planned to apply.
	if wantDefault != "" && wantDefault != haveDefault {
		if st := c.steps[plan.Key(r.cfg.Cluster, k.kind, wantDefault)]; st == nil || (st.change.Action != plan.Create && st.change.Action != plan.Update) {
			for _, st := range c.steps {
				if os, ok := st.data.(*objectStep); ok && st.change.Kind == k.kind && os.obj.id == haveDefault {
					if _, declared := os.obj.fields["is_default"]; !declared {
						os.isDefault = true
					}
				}
			}
		}
	}
	r.blockUnsupported(c)
}

// defaultRules applies Kibana's rule of one default (fleet_server_host.ts
// and download_source.ts, create and update: writing is_default: true
// unsets the previous default in the same request) to an existing
// object's field diffs. It drops an is_default: false that the new
// default's own change makes anyway, and blocks unsetting the default
// otherwise: that would leave Fleet without one.
func (k objectKind) defaultRules(fields []plan.FieldDiff, id, want, have string) ([]plan.FieldDiff, []string) {
	var blocked []string
	out := fields[:0]
	for _, f := range fields {
		if f.Path == "is_default" {
			switch {
			case f.After == false && have == id && want != "" && want != id:
				continue // the new default's change unsets this one
			case f.After == false && have == id:
				blocked = append(blocked, fmt.Sprintf("%s %s is the default %s, and unsetting it would leave none (%s); declare is_default: true on another %s to move it (never by unsetting the old one)",
					kindNoun(k.kind), id, kindNoun(k.kind), k.noDefault, kindNoun(k.kind)))
			case f.After == true && have != "" && have != id:
				f.Note = "replaces " + have + " (Kibana unsets it and updates every agent policy)"
			}
		}
		out = append(out, f)
	}
	return out, blocked
}

// planSecrets adds the declared secrets that must be sent to s, and
// returns reasons to block.
func (k objectKind) planSecrets(ctx context.Context, r *Reconciler, c *computed, s *objectStep, rec Record, hasRec, exists bool, cache *secretCache) []string {
	var blocked []string
	declaredPlain := map[string]bool{}
	for _, sp := range s.obj.secrets {
		if !sp.Stored {
			declaredPlain[sp.PlainPath] = true
		}
	}
	for _, sp := range s.obj.secrets {
		if sp.Ref.Generate {
			blocked = append(blocked, fmt.Sprintf("%s is declared generate: true, which only remote outputs' credentials can be; give the value with env: or file:", sp.Path))
			continue
		}
		var obsSec observedSecret
		if exists {
			obsSec = observeSecret(s.have, sp)
		}
		need, note, err := r.secretNeed(ctx, sp, obsSec, rec.Secrets, hasRec, exists, cache)
		switch {
		case errors.Is(err, errAdoptedUnverified):
			if cache != nil && cache.planning {
				c.plan.Unverified = append(c.plan.Unverified, plan.UnverifiedSecret{Cluster: r.cfg.Cluster, Kind: k.kind,
					ID: s.obj.id, Path: sp.Path, Ref: describeRef(sp.Ref), Reason: err.Error(), Adopted: true})
			}
		case err != nil && cache.planning:
			c.plan.Unverified = append(c.plan.Unverified, plan.UnverifiedSecret{Cluster: r.cfg.Cluster, Kind: k.kind,
				ID: s.obj.id, Path: sp.Path, Ref: describeRef(sp.Ref), Reason: unverifiedReason(err, sp.Ref)})
		case err != nil && s.err == nil:
			s.err = fmt.Errorf("%s %s: %s: %w", kindNoun(k.kind), s.obj.id, sp.Path, err)
		}
		if need == needNone {
			continue
		}
		s.write[sp.Path] = true
		fd := plan.FieldDiff{Path: sp.Path, After: plan.Sensitive, Sensitive: true, Note: note}
		if obsSec.present() {
			fd.Before = plan.Sensitive
		}
		s.change.Fields = append(s.change.Fields, fd)
	}
	// A stored secret whose field is now declared plain is not sent back:
	// Kibana refuses both ("Cannot specify both ssl.key and
	// secrets.ssl.key") and deletes the stored one.
	if exists {
		for path := range kibana.Output(s.have).SecretRefs() {
			plainPath := strings.TrimPrefix(path, "secrets.")
			if declaredPlain[plainPath] && !declaresSecret(s.obj.secrets, path) {
				if s.dropRefs == nil {
					s.dropRefs = map[string]bool{}
				}
				s.dropRefs[path] = true
				s.change.Fields = append(s.change.Fields, plan.FieldDiff{Path: path, Before: plan.Sensitive, Sensitive: true, Note: "replaced by plain " + plainPath})
			}
		}
	}
	return blocked
}

func declaresSecret(specs []secretSpec, path string) bool {
	for _, sp := range specs {
		if sp.Path == path {
			return true
		}
	}
	return false
}

// prune deletes an owned object no longer declared, unless Kibana would
// refuse: the default no declared object takes over, a preconfigured one,
// or the kind's own refusals.
func (k objectKind) prune(r *Reconciler, doc *schema.Document, c *computed, rec Record, _ bool) *step {
	have, ok := c.obs.objects[k.kind][rec.ID]
	if !ok {
		return nil
	}
	name, _ := have["name"].(string)
	s := pruneStep(rec, name)
	s.data = &objectStep{step: s, have: have}
	noun := kindNoun(k.kind)
	want, _ := k.defaults(doc, c.obs)
	var takesOver *step
	if want != "" {
		takesOver = c.steps[plan.Key(r.cfg.Cluster, k.kind, want)]
	}
	switch {
	case k.hasDefault && isTrue(have["is_default"]) && (takesOver == nil || (takesOver.change.Action != plan.Create && takesOver.change.Action != plan.Update)):
		s.change.Action, s.change.Reason = plan.Blocked, fmt.Sprintf("owned and no longer declared, but %s %s is the default %s, which Kibana refuses to delete ("+k.defaultDeleted+"); make another %s the default first",
			noun, rec.ID, noun, rec.ID, noun)
	case k.hasDefault && isTrue(have["is_default"]):
		s.change.DependsOn = append(s.change.DependsOn, takesOver.change.Key())
	}
	if s.change.Action == plan.Delete && k.preconfiguredDeleted != "" && isTrue(have["is_preconfigured"]) {
		s.change.Action, s.change.Reason = plan.Blocked, fmt.Sprintf("owned and no longer declared, but %s %s is preconfigured in kibana.yml, which Kibana refuses to delete ("+k.preconfiguredDeleted+"); remove it there", noun, rec.ID, rec.ID)
	}
	if s.change.Action == plan.Delete && k.pruneRules != nil {
		blocked, note := k.pruneRules(c, rec.ID, have)
		switch {
		case blocked != "":
			s.change.Action, s.change.Reason = plan.Blocked, "owned and no longer declared, but "+blocked
		case note != "":
			s.change.Reason += "; " + note
		}
	}
	return s
}

// objectFields returns the declared fields of v (a schema struct) as
// Kibana's JSON, without id and the secret-valued paths (secrets.* and
// plain ones), which secretSpecs carry.
func objectFields(v any, specs []secretSpec) map[string]any {
	m := canonicalMap(v)
	delete(m, "id")
	delete(m, "secrets")
	for _, sp := range specs {
		if !sp.Stored {
			deletePath(m, sp.Path)
		}
	}
	return m
}

func deepCopyAny(v any) any {
	if m, ok := v.(map[string]any); ok {
		return deepCopy(m)
	}
	return v
}

// kindPlural names a kind's objects in messages.
func kindPlural(kind string) string {
	switch n := kindNoun(kind); {
	case strings.HasSuffix(n, "y"):
		return strings.TrimSuffix(n, "y") + "ies"
	default:
		return n + "s"
	}
}
