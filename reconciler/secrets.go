package reconciler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// secretSpec is one secret-valued field an output declares.
type secretSpec struct {
	Path string // as in the document and the plan: "secrets.service_token", "ssl.key", "kibana_api_key", …
	Ref  schema.SecretRef
	// Stored is true for secrets.* paths, which Kibana keeps in .fleet-secrets
	// and returns as {"id": …}; false for plain fields (stored in the saved
	// object and returned in clear text).
	Stored bool
	// PlainPath is where Kibana puts the value in clear text: the field itself
	// for plain paths, and for secrets.* paths the plain field Kibana falls back
	// to when its secret storage is off (fleet-api.md §2.7).
	PlainPath string
}

// secretSpecs lists the secret fields o declares, in path order.
func secretSpecs(o schema.Output) []secretSpec {
	var out []secretSpec
	add := func(path string, ref *schema.SecretRef, stored bool, plain string) {
		if ref != nil {
			out = append(out, secretSpec{Path: path, Ref: *ref, Stored: stored, PlainPath: plain})
		}
	}
	add("kibana_api_key", o.KibanaAPIKey, false, "kibana_api_key")
	add("password", o.Password, false, "password")
	if s := o.Secrets; s != nil {
		add("secrets.password", s.Password, true, "password")
		add("secrets.service_token", s.ServiceToken, true, "service_token")
		if s.SSL != nil {
			add("secrets.ssl.key", s.SSL.Key, true, "ssl.key")
		}
	}
	add("service_token", o.ServiceToken, false, "service_token")
	if o.SSL != nil {
		add("ssl.key", o.SSL.Key, false, "ssl.key")
	}
	return out
}

// describeRef names a reference without its value: "env:NAME",
// "file:/path" or "generate".
func describeRef(r schema.SecretRef) string {
	switch {
	case r.Env != "":
		return "env:" + r.Env
	case r.File != "":
		return "file:" + r.File
	case r.Generate:
		return "generate"
	}
	return "none"
}

// observedSecret is what Fleet holds at a secret path.
type observedSecret struct {
	ID    string       // Fleet secret id ({"id": …}) when stored as a secret
	Ref   any          // the reference object exactly as observed ({"id"} or {"id","hash"}); sent back unchanged
	Plain secret.Value // clear-text value when stored in the saved object
}

func (s observedSecret) present() bool { return s.ID != "" || !s.Plain.IsZero() }

// observeSecret reads spec's path from an observed output.
func observeSecret(out map[string]any, spec secretSpec) observedSecret {
	var s observedSecret
	if spec.Stored {
		if ref, ok := kibana.Output(out).Field(spec.Path).(map[string]any); ok {
			if id, _ := ref["id"].(string); id != "" {
				return observedSecret{ID: id, Ref: ref}
			}
		}
	}
	if v, ok := kibana.Output(out).Field(spec.PlainPath).(string); ok && v != "" {
		s.Plain = secret.New(v)
	}
	return s
}

// secretCache resolves each reference at most once per Apply and keeps the
// values in memory only.
type secretCache struct {
	resolve func(context.Context, schema.SecretRef) (secret.Value, error)
	// planning: a reference that cannot be read is listed in the plan as
	// not compared (plan.Plan.Unverified) instead of failing its output.
	planning bool
	mu       sync.Mutex
	vals     map[string]secret.Value
	errs     map[string]error
	minted   map[string]secret.Value // by output id + path
}

func newSecretCache(resolve func(context.Context, schema.SecretRef) (secret.Value, error)) *secretCache {
	return &secretCache{resolve: resolve, vals: map[string]secret.Value{}, errs: map[string]error{}, minted: map[string]secret.Value{}}
}

// get resolves ref (env or file).
func (c *secretCache) get(ctx context.Context, ref schema.SecretRef) (secret.Value, error) {
	key := describeRef(ref)
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.vals[key]; ok {
		return v, nil
	}
	if err, ok := c.errs[key]; ok {
		return secret.Value{}, err
	}
	v, err := c.resolve(ctx, ref)
	if err != nil {
		err = fmt.Errorf("resolve secret: %w", err)
		c.errs[key] = err
		return secret.Value{}, err
	}
	c.vals[key] = v
	return v, nil
}

func (c *secretCache) setMinted(outputID, path string, v secret.Value) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.minted[outputID+"\x00"+path] = v
}

func (c *secretCache) getMinted(outputID, path string) (secret.Value, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.minted[outputID+"\x00"+path]
	return v, ok
}

// ErrSecretsUnresolved is wrapped by Apply's error when secret references
// it needs cannot be read; Apply then writes nothing.
var ErrSecretsUnresolved = errors.New("secret references cannot be read")

// resolveAll reads every env: and file: reference the apply of c needs —
// those of every declared object (of every kind) whose change is not
// blocked, changed or not (an unchanged one is verified against its
// recorded hash) — before the first write. It returns one error naming each
// object, field and reference that cannot be read, and no value.
func (r *Reconciler) resolveAll(ctx context.Context, doc *schema.Document, p *plan.Plan, cache *secretCache) error {
	blocked := map[string]bool{}
	for _, ch := range p.Changes {
		if ch.Action == plan.Blocked {
			blocked[ch.Key()] = true
		}
	}
	var errs []error
	for _, k := range kinds {
		for _, ds := range k.secrets(doc) {
			if blocked[plan.Key(r.cfg.Cluster, ds.kind, ds.id)] || ds.spec.Ref.Generate {
				continue
			}
			if _, err := cache.get(ctx, ds.spec.Ref); err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %s: %w", kindNoun(ds.kind), ds.id, ds.spec.Path, err))
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = "  " + e.Error()
	}
	return fmt.Errorf("%w: %w (%d), so nothing was written:\n%s", ErrNotConverged, ErrSecretsUnresolved, len(errs), strings.Join(lines, "\n"))
}

// newPlanSecretCache is the cache of Plan: it reads what it can and lets
// compute list the rest as not compared.
func newPlanSecretCache(resolve func(context.Context, schema.SecretRef) (secret.Value, error)) *secretCache {
	c := newSecretCache(resolve)
	c.planning = true
	return c
}

// unverifiedReason is why ref could not be read, without the "resolve
// secret: env:NAME:" prefix the plan already shows.
func unverifiedReason(err error, ref schema.SecretRef) string {
	msg := strings.TrimPrefix(err.Error(), "resolve secret: ")
	return strings.TrimPrefix(msg, describeRef(ref)+": ")
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
		return needNone, "", errAdoptedUnverified
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
