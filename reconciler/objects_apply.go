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

// The request bodies, records and adoption of the kinds on objectKind
// (objects.go).

// apply sends the create (id, every declared field and secret), the update
// or the delete.
func (k objectKind) apply(ctx context.Context, r *Reconciler, st *step, cache *secretCache) error {
	s := st.data.(*objectStep)
	switch st.change.Action {
	case plan.Create:
		body := deepCopy(s.obj.fields)
		body["id"] = s.obj.id
		for _, sp := range s.obj.secrets {
			v, err := cache.get(ctx, sp.Ref)
			if err != nil {
				return fmt.Errorf("%s: %w", sp.Path, err)
			}
			kibana.Output(body).SetField(sp.Path, v.Reveal())
		}
		return r.createChecked(ctx, kindNoun(k.kind)+" "+s.obj.id,
			func(ctx context.Context) error { return k.get(ctx, r, s.obj.id) },
			func(ctx context.Context) error { return k.create(ctx, r, body) })
	case plan.Update:
		body, err := k.updateBody(ctx, s, cache)
		if err != nil {
			return err
		}
		return k.update(ctx, r, st.change.ID, body)
	default:
		return k.del(ctx, r, st.change.ID)
	}
}

// updateBody is the PUT body: the changed top-level fields (objects merged
// over the observed value), the fields Kibana resets when omitted
// (putKeeps), every stored secret reference as observed unless replaced
// (Kibana deletes the secrets a PUT omits), and the new secret values.
// Never id or is_preconfigured.
func (k objectKind) updateBody(ctx context.Context, s *objectStep, cache *secretCache) (map[string]any, error) {
	body := map[string]any{}
	merge := func(top string) any {
		if slices.Contains(k.mergeable, top) {
			return mergeObjects(s.have[top], s.obj.fields[top])
		}
		return s.obj.fields[top]
	}
	for _, top := range topKeys(s.change.Fields) {
		if _, declared := s.obj.fields[top]; declared {
			body[top] = merge(top)
		}
	}
	for _, top := range k.putKeeps {
		if _, sent := body[top]; sent || slices.Contains(s.versionLacks, top) {
			continue
		}
		_, declared := s.obj.fields[top]
		switch {
		case top == "is_default":
			body[top] = s.isDefault
		case declared:
			body[top] = merge(top)
		default:
			body[top] = deepCopyAny(s.have[top]) // nil too: Kibana's PUT schema requires the key
		}
	}
	for path, ref := range kibana.Output(s.have).SecretRefs() {
		if !s.dropRefs[path] && !s.write[path] {
			kibana.Output(body).SetField(path, ref)
		}
	}
	for _, sp := range s.obj.secrets {
		if !s.write[sp.Path] {
			continue
		}
		v, err := cache.get(ctx, sp.Ref)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sp.Path, err)
		}
		top, _, _ := strings.Cut(sp.Path, ".")
		if _, sent := body[top]; !sent && top != "secrets" {
			body[top] = mergeObjects(s.have[top], s.obj.fields[top])
		}
		// With secret storage off Kibana builds the stored object of a
		// secret's plain field from the request alone ({...ssl,
		// ...secrets.ssl}, replacing the stored ssl): the rest of it goes
		// along, or a secret write wipes ssl.certificate and the
		// certificate authorities (download_source.ts, fleet_server_host.ts
		// update).
		if plainTop, _, nested := strings.Cut(sp.PlainPath, "."); sp.Stored && nested && slices.Contains(k.mergeable, plainTop) {
			if _, sent := body[plainTop]; !sent {
				if merged := mergeObjects(s.have[plainTop], s.obj.fields[plainTop]); merged != nil {
					body[plainTop] = merged
				}
			}
		}
		kibana.Output(body).SetField(sp.Path, v.Reveal())
		if sp.Stored {
			// Kibana refuses a plain value next to a secret ("Cannot
			// specify both ssl.key and secrets.ssl.key").
			if m, ok := body[strings.SplitN(sp.PlainPath, ".", 2)[0]].(map[string]any); ok && strings.Contains(sp.PlainPath, ".") {
				deletePath(m, strings.SplitN(sp.PlainPath, ".", 2)[1])
			}
		} else if m, ok := body["secrets"].(map[string]any); ok {
			deletePath(m, sp.PlainPath)
		}
	}
	if m, ok := body["secrets"].(map[string]any); ok && len(m) == 0 {
		delete(body, "secrets")
	}
	delete(body, "id")
	delete(body, "is_preconfigured")
	return body, nil
}

// record re-lists the kind when one of its changes applied (for the secret
// ids Kibana assigned) and records every declared object that exists and
// is in its desired state, with a salted hash of each secret it wrote.
func (k objectKind) record(ctx context.Context, r *Reconciler, rc *recordCtx) ([]Record, error) {
	objs := rc.c.obs.objects[k.kind]
	for key, st := range rc.status {
		if s := rc.c.steps[key]; s != nil && s.change.Kind == k.kind && st == StatusApplied && s.change.Action != plan.NoOp {
			set, err := k.observe(ctx, r)
			if err != nil {
				return nil, fmt.Errorf("record: re-observe: %w", err)
			}
			now := &observation{objects: map[string]map[string]map[string]any{}}
			set(now)
			objs = now.objects[k.kind]
			break
		}
	}
	rc.now[k.kind] = objs
	var (
		out  []Record
		errs []error
	)
	for _, o := range k.objects(rc.doc) {
		key := plan.Key(r.cfg.Cluster, k.kind, o.id)
		have, exists := objs[o.id]
		if !exists || !rc.ok(key) {
			continue
		}
		old := rc.c.obs.records[key]
		rec := Record{Cluster: r.cfg.Cluster, Kind: k.kind, ID: o.id, DesiredHash: desiredHash(o.fields, o.secrets)}
		var s *objectStep
		if st := rc.c.steps[key]; st != nil {
			s, _ = st.data.(*objectStep)
		}
		for _, sp := range o.secrets {
			sr := SecretRecord{FleetSecretID: observeSecret(have, sp).ID, RefDescribe: describeRef(sp.Ref)}
			switch {
			case s != nil && s.write[sp.Path]:
				v, err := rc.cache.get(ctx, sp.Ref)
				if err != nil {
					errs = append(errs, fmt.Errorf("record %s %s: %w", kindNoun(k.kind), o.id, err))
					continue
				}
				sr.Hash = r.cfg.Hasher.Hash(v)
			case old.Secrets[sp.Path].Hash != "":
				sr.Hash = old.Secrets[sp.Path].Hash
			case old.Secrets[sp.Path].RefDescribe == sr.RefDescribe && old.Secrets[sp.Path].FleetSecretID == sr.FleetSecretID:
				// adopted by import, value unverified: keep it as it is
			default:
				continue
			}
			if rec.Secrets == nil {
				rec.Secrets = map[string]SecretRecord{}
			}
			rec.Secrets[sp.Path] = sr
		}
		out = append(out, rec)
	}
	return out, errors.Join(errs...)
}

func (k objectKind) gone(rc *recordCtx, rec Record) bool {
	objs, ok := rc.now[k.kind].(map[string]map[string]any)
	if !ok {
		objs = rc.c.obs.objects[k.kind]
	}
	_, there := objs[rec.ID]
	return !there || rc.applied(plan.Key(rec.Cluster, rec.Kind, rec.ID))
}

// adopt records each declared object that exists, its secrets by Fleet
// secret id only (unverified).
func (k objectKind) adopt(r *Reconciler, doc *schema.Document, obs *observation) []Record {
	var out []Record
	for _, o := range k.objects(doc) {
		have, exists := obs.objects[k.kind][o.id]
		if !exists {
			continue
		}
		rec := Record{Cluster: r.cfg.Cluster, Kind: k.kind, ID: o.id, DesiredHash: desiredHash(o.fields, o.secrets)}
		for _, sp := range o.secrets {
			if obsSec := observeSecret(have, sp); obsSec.present() {
				if rec.Secrets == nil {
					rec.Secrets = map[string]SecretRecord{}
				}
				rec.Secrets[sp.Path] = SecretRecord{FleetSecretID: obsSec.ID, RefDescribe: describeRef(sp.Ref)}
			}
		}
		out = append(out, rec)
	}
	return out
}
