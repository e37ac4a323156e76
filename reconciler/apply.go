package reconciler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/secret"
)

// ErrSkipped marks a change not attempted because a change it depends on
// failed, was skipped or is blocked.
var ErrSkipped = errors.New("skipped")

// ErrBlocked marks a change the plan blocked.
var ErrBlocked = errors.New("blocked")

// execute runs the plan's changes: in waves of equal apply rank (packages,
// outputs, policies, then deletes in reverse), each wave with bounded
// concurrency. A change whose dependency did not apply is skipped.
func (r *Reconciler) execute(ctx context.Context, c *computed, cache *secretCache, log *slog.Logger) []Outcome {
	changes := c.plan.Changes
	outcomes := make([]Outcome, len(changes))
	status := map[string]string{}
	var mu sync.Mutex
	sem := make(chan struct{}, r.cfg.Concurrency)
	for start := 0; start < len(changes); {
		end := start + 1
		for end < len(changes) && sameWave(changes[start], changes[end]) {
			end++
		}
		var wg sync.WaitGroup
		for i := start; i < end; i++ {
			ch := changes[i]
			s := c.steps[ch.Key()]
			mu.Lock()
			var failedDep string
			for _, d := range ch.DependsOn {
				if st, ok := status[d]; ok && st != StatusApplied {
					failedDep = d
					break
				}
			}
			mu.Unlock()
			set := func(o Outcome) {
				mu.Lock()
				defer mu.Unlock()
				outcomes[i] = o
				status[ch.Key()] = o.Status
				reportProgress(ctx, ch, o.Status, o.Err)
			}
			switch {
			case ch.Action == plan.Blocked:
				set(Outcome{Change: ch, Status: StatusBlocked, Err: fmt.Errorf("%s %s: %w: %s", ch.Kind, ch.ID, ErrBlocked, ch.Reason)})
				continue
			case failedDep != "":
				set(Outcome{Change: ch, Status: StatusSkipped, Err: fmt.Errorf("%s %s %s: %w: depends on %s, which did not apply", ch.Action, ch.Kind, ch.ID, ErrSkipped, failedDep)})
				continue
			}
			wg.Go(func() {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					set(Outcome{Change: ch, Status: StatusFailed, Err: fmt.Errorf("%s %s %s: %w", ch.Action, ch.Kind, ch.ID, ctx.Err())})
					return
				}
				defer func() { <-sem }()
				reportProgress(ctx, ch, StatusStarted, nil)
				err := s.err
				if err == nil {
					err = r.run(ctx, s, cache)
				}
				if err != nil {
					log.Error("change failed", "action", ch.Action, "kind", ch.Kind, "id", ch.ID, "err", err)
					set(Outcome{Change: ch, Status: StatusFailed, Err: fmt.Errorf("%s %s %s: %w", ch.Action, ch.Kind, ch.ID, err)})
					return
				}
				log.Info("change applied", "action", ch.Action, "kind", ch.Kind, "id", ch.ID)
				set(Outcome{Change: ch, Status: StatusApplied})
			})
		}
		wg.Wait()
		start = end
	}
	return outcomes
}

func sameWave(a, b plan.Change) bool {
	return a.Cluster == b.Cluster && (a.Action == plan.Delete) == (b.Action == plan.Delete) && a.Kind == b.Kind
}

// run carries out one change.
func (r *Reconciler) run(ctx context.Context, s *step, cache *secretCache) error {
	ch := s.change
	switch ch.Kind {
	case plan.KindOutput:
		switch ch.Action {
		case plan.Create:
			return r.createOutput(ctx, s, cache)
		case plan.Update:
			body, err := r.outputUpdateBody(ctx, s, cache)
			if err != nil {
				return err
			}
			_, err = r.cfg.Fleet.UpdateOutput(ctx, ch.ID, body)
			return err
		case plan.Delete:
			return r.cfg.Fleet.DeleteOutput(ctx, ch.ID)
		}
	case plan.KindAgentPolicy:
		switch ch.Action {
		case plan.Create:
			return r.createPolicy(ctx, s)
		case plan.Update:
			_, err := r.cfg.Fleet.UpdateAgentPolicy(ctx, ch.ID, policyUpdateBody(s))
			return err
		case plan.Delete:
			return r.cfg.Fleet.DeleteAgentPolicy(ctx, ch.ID)
		}
	case plan.KindPackage:
		switch ch.Action {
		case plan.Create, plan.Update:
			return r.cfg.Fleet.InstallPackage(ctx, s.pkg.Name, s.pkgWant, s.force)
		case plan.Delete:
			return r.cfg.Fleet.UninstallPackage(ctx, ch.ID, s.pkgHave.InstalledVersion, false)
		}
	}
	if ch.Action == plan.NoOp {
		return nil
	}
	return fmt.Errorf("%s of %s is not supported", ch.Action, ch.Kind)
}

// uncertain reports whether a failed create may nevertheless have reached
// Kibana and been carried out (no answer, or a 5xx/429 that a proxy could
// have sent after the fact).
func uncertain(err error) bool {
	var te *kibana.TransportError
	if errors.As(err, &te) {
		return true
	}
	st := kibana.StatusCode(err)
	return st == http.StatusTooManyRequests || st >= 500
}

// createOutput posts a new output, checking before every POST that it does
// not exist yet: a POST of an existing id is a 409 that Kibana sends only
// after unsetting the current default and writing the secrets (trap 7).
func (r *Reconciler) createOutput(ctx context.Context, s *step, cache *secretCache) error {
	body, err := r.outputCreateBody(ctx, s, cache)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		_, err := r.cfg.Fleet.GetOutput(ctx, s.out.ID)
		switch {
		case err == nil && attempt == 1:
			return fmt.Errorf("output %s was created by someone else since it was observed; plan again", s.out.ID)
		case err == nil:
			return nil // an earlier POST of ours went through; its answer was lost
		case !kibana.IsNotFound(err):
			return fmt.Errorf("check that output %s does not exist: %w", s.out.ID, err)
		}
		_, err = r.cfg.Fleet.CreateOutput(ctx, body)
		if err == nil || attempt >= r.cfg.CreateAttempts || !uncertain(err) {
			return err
		}
		r.log.Warn("create output uncertain; checking before posting again", "id", s.out.ID, "attempt", attempt, "err", err)
	}
}

// createPolicy creates an agent policy with the same existence check.
func (r *Reconciler) createPolicy(ctx context.Context, s *step) error {
	body := map[string]any{"id": s.pol.ID}
	for k, v := range s.polWant {
		if v != nil {
			body[k] = v
		}
	}
	for attempt := 1; ; attempt++ {
		_, err := r.cfg.Fleet.GetAgentPolicy(ctx, s.pol.ID)
		switch {
		case err == nil && attempt == 1:
			return fmt.Errorf("agent policy %s was created by someone else since it was observed; plan again", s.pol.ID)
		case err == nil:
			return nil
		case !kibana.IsNotFound(err):
			return fmt.Errorf("check that agent policy %s does not exist: %w", s.pol.ID, err)
		}
		_, err = r.cfg.Fleet.CreateAgentPolicy(ctx, body)
		if err == nil || attempt >= r.cfg.CreateAttempts || !uncertain(err) {
			return err
		}
		r.log.Warn("create agent policy uncertain; checking before posting again", "id", s.pol.ID, "attempt", attempt, "err", err)
	}
}

// secretValue returns the value to send for a secret path: minted (once
// per apply) or resolved from its reference.
func (r *Reconciler) secretValue(ctx context.Context, s *step, sp secretSpec, cache *secretCache) (secret.Value, error) {
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
func (r *Reconciler) outputCreateBody(ctx context.Context, s *step, cache *secretCache) (map[string]any, error) {
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
func (r *Reconciler) outputUpdateBody(ctx context.Context, s *step, cache *secretCache) (map[string]any, error) {
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
		if sp.Path == "ssl.key" {
			if _, ok := body["ssl"]; !ok {
				body["ssl"] = mergeObjects(s.outHave["ssl"], s.outWant["ssl"])
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

// policyUpdateBody is the agent policy PUT body: name and namespace (Kibana
// requires them), the observed inactivity_timeout (an omitted one is reset to
// 1209600, trap 2) and the changed fields. Never a read-only field.
func policyUpdateBody(s *step) map[string]any {
	have := s.polHave
	body := map[string]any{"name": have.Name, "namespace": have.Namespace}
	if have.InactivityTimeout != nil {
		body["inactivity_timeout"] = *have.InactivityTimeout
	}
	for _, f := range s.change.Fields {
		body[f.Path] = s.polWant[f.Path]
	}
	// Kibana validates the outputs, and the platinum licence of per-policy
	// outputs (trap 15), on every PUT whose data_output_id or
	// monitoring_output_id is not the stored value, and an omitted one is
	// not. Stored ones (a string, or null after a clear) are repeated, so a
	// change of name or description alone is not refused.
	for _, k := range []string{"data_output_id", "monitoring_output_id"} {
		if _, changed := body[k]; changed {
			continue
		}
		if v, stored := have.Raw[k]; stored {
			body[k] = v
		}
	}
	return body
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
