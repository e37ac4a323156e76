package reconciler

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/secret"
)

// apply sends an output's create, update or delete.
func (outputKind) apply(ctx context.Context, r *Reconciler, st *step, cache *secretCache) error {
	s := st.data.(*outputStep)
	switch st.change.Action {
	case plan.Create:
		return r.createOutput(ctx, s, cache)
	case plan.Update:
		body, err := r.outputUpdateBody(ctx, s, cache)
		if err != nil {
			return err
		}
		_, err = r.cfg.Fleet.UpdateOutput(ctx, st.change.ID, body)
		return err
	default:
		return r.cfg.Fleet.DeleteOutput(ctx, st.change.ID)
	}
}

// createOutput posts a new output, checking before every POST that it does
// not exist yet: a POST of an existing id is a 409 that Kibana sends only
// after unsetting the current default and writing the secrets (trap 7).
func (r *Reconciler) createOutput(ctx context.Context, s *outputStep, cache *secretCache) error {
	body, err := r.outputCreateBody(ctx, s, cache)
	if err != nil {
		return err
	}
	return r.createChecked(ctx, "output "+s.out.ID,
		func(ctx context.Context) error { _, err := r.cfg.Fleet.GetOutput(ctx, s.out.ID); return err },
		func(ctx context.Context) error { _, err := r.cfg.Fleet.CreateOutput(ctx, body); return err })
}

// secretValue returns the value to send for a secret path: minted (once
// per apply) or resolved from its reference.
func (r *Reconciler) secretValue(ctx context.Context, s *outputStep, sp secretSpec, cache *secretCache) (secret.Value, error) {
	if !sp.Ref.Generate {
		return cache.get(ctx, sp.Ref)
	}
	if v, ok := cache.getMinted(s.out.ID, sp.Path); ok {
		return v, nil
	}
	if r.cfg.Minter == nil {
		return secret.Value{}, fmt.Errorf("%s: %w: generate: true needs a minter", sp.Path, ErrBlocked)
	}
	v, err := r.cfg.Minter.Mint(ctx, r.cfg.Cluster, *s.out, sp.Path)
	if err != nil {
		return secret.Value{}, fmt.Errorf("mint %s: %w", sp.Path, err)
	}
	cache.setMinted(s.out.ID, sp.Path, v)
	return v, nil
}

// outputCreateBody is the POST body: id, every declared field and every
// declared secret (secrets.* as strings Kibana moves to .fleet-secrets;
// plain opt-ins as plain fields). Never is_preconfigured.
func (r *Reconciler) outputCreateBody(ctx context.Context, s *outputStep, cache *secretCache) (map[string]any, error) {
	body := deepCopy(s.outWant)
	body["id"] = s.out.ID
	for _, sp := range secretSpecs(*s.out) {
		v, err := r.secretValue(ctx, s, sp, cache)
		if err != nil {
			return nil, err
		}
		kibana.Output(body).SetField(sp.Path, v.Reveal())
	}
	delete(body, "is_preconfigured")
	return body, nil
}

// mergeable are object-valued output fields stored whole by Kibana: a PUT
// replaces them, so unmanaged sub-keys are sent back as observed.
var mergeable = map[string]bool{"ssl": true, "shipper": true, "sasl": true, "random": true, "round_robin": true, "hash": true}

// outputUpdateBody is the PUT body: the changed top-level fields (object
// fields merged over their observed value), type, and everything Kibana
// would otherwise wipe — every stored secret reference as {"id": …} unless a
// new value replaces it (trap 3) and, for remote_elasticsearch, the plain
// service_token and kibana_api_key (trap 4). Never id or is_preconfigured.
func (r *Reconciler) outputUpdateBody(ctx context.Context, s *outputStep, cache *secretCache) (map[string]any, error) {
	body := map[string]any{"type": s.out.Type}
	tops := topKeys(s.change.Fields)
	if haveType, _ := s.outHave["type"].(string); haveType != s.out.Type {
		// A type change makes Kibana null or re-default fields of the old
		// type (preset, ssl, …; fleet-api.md §2.8 steps 6 and 11, trap 34):
		// every declared field is sent so one PUT converges.
		tops = sortedKeys(s.outWant)
	}
	for _, top := range tops {
		if _, declared := s.outWant[top]; !declared {
			continue // a sensitive path (secrets.*, plain credentials): below
		}
		switch {
		case mergeable[top]:
			body[top] = mergeObjects(s.outHave[top], s.outWant[top])
		default:
			body[top] = s.outWant[top]
		}
	}
	// Stored secret references go back unchanged unless replaced, and only
	// at paths the output's type has: a reference Kibana left behind after a
	// type change would make the PUT a 400 ("definition for this key is
	// missing").
	allowed, known := typeSecretPaths[s.out.Type]
	for path, ref := range kibana.Output(s.outHave).SecretRefs() {
		if !s.dropRefs[path] && (!known || slices.Contains(allowed, path)) {
			kibana.Output(body).SetField(path, ref)
		}
	}
	s.keepClearedFields(body)
	specs := secretSpecs(*s.out)
	for _, sp := range specs {
		if !s.write[sp.Path] && !s.mint[sp.Path] {
			continue
		}
		v, err := r.secretValue(ctx, s, sp, cache)
		if err != nil {
			return nil, err
		}
		// A plain ssl.key is written inside ssl; secrets.ssl.key, with
		// secret storage off, is too: Kibana stores {...body.ssl,
		// ...body.secrets.ssl}, replacing the stored ssl (output.ts update,
		// "if not, store plain text values"), so the rest of ssl goes along.
		if sp.Path == "ssl.key" || sp.PlainPath == "ssl.key" {
			if _, ok := body["ssl"]; !ok {
				if merged := mergeObjects(s.outHave["ssl"], s.outWant["ssl"]); merged != nil {
					body["ssl"] = merged
				}
			}
		}
		kibana.Output(body).SetField(sp.Path, v.Reveal())
		if sp.Stored {
			// Kibana refuses a plain value next to a secret ("Cannot specify both
			// service_token and secrets.service_token").
			if _, isTop := body[sp.PlainPath]; isTop && !strings.Contains(sp.PlainPath, ".") {
				delete(body, sp.PlainPath)
			}
			if sp.PlainPath == "ssl.key" {
				if ssl, ok := body["ssl"].(map[string]any); ok {
					delete(ssl, "key")
				}
			}
		} else {
			// A plain value replaces a stored secret of the same field.
			if m, ok := body["secrets"].(map[string]any); ok {
				deletePath(m, sp.PlainPath)
			}
		}
	}
	if m, ok := body["secrets"].(map[string]any); ok && len(m) == 0 {
		delete(body, "secrets")
	}
	s.kafkaUpdateSiblings(body)
	delete(body, "id")
	delete(body, "is_preconfigured")
	return body, nil
}

func deepCopy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			out[k] = deepCopy(sub)
		} else {
			out[k] = v
		}
	}
	return out
}

// mergeObjects overlays want's keys onto a copy of have (recursively).
func mergeObjects(have, want any) any {
	wm, ok := want.(map[string]any)
	if !ok {
		return want
	}
	hm, _ := have.(map[string]any)
	out := map[string]any{}
	maps.Copy(out, deepCopy(hm))
	for k, v := range wm {
		out[k] = mergeObjects(out[k], v)
	}
	return out
}

func deletePath(m map[string]any, path string) {
	head, rest, nested := strings.Cut(path, ".")
	if !nested {
		delete(m, head)
		return
	}
	sub, ok := m[head].(map[string]any)
	if !ok {
		return
	}
	deletePath(sub, rest)
	if len(sub) == 0 {
		delete(m, head)
	}
}
