package remote

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/secret"
)

// outputCred is the part of Credential that deals with the main output: it
// reads which credential the output holds, swaps a new one in (sending
// every other stored secret back as {"id"}, and never repeating type, so
// nothing else is wiped: traps 3 and 4), and records the new value's hash
// and Fleet secret id in the reconciler's inventory so the next plan does
// not read the swap as drift.
type outputCred struct {
	main      MainFleet
	outputID  string
	path      string // secrets.service_token, service_token or kibana_api_key
	plainPath string // where Kibana keeps the value in clear text
	hasher    Hasher
	inventory reconciler.Inventory // may be nil
	cluster   string               // the main cluster's name in the inventory
}

func (c *outputCred) read(ctx context.Context) (kibana.Output, bool, error) {
	out, err := c.main.GetOutput(ctx, c.outputID)
	if kibana.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read output %s: %w", c.outputID, err)
	}
	return out, true, nil
}

// Marker is "id:<fleet secret id>" or "hash:<salted hash of the plain
// value>", or "" when the output or its credential is absent.
func (c *outputCred) Marker(ctx context.Context) (string, error) {
	out, ok, err := c.read(ctx)
	if err != nil || !ok {
		return "", err
	}
	if id := c.secretID(out); id != "" {
		return "id:" + id, nil
	}
	if v, _ := kibana.Output(out).Field(c.plainPath).(string); v != "" {
		return "hash:" + c.hasher.Hash(secret.New(v)), nil
	}
	return "", nil
}

func (c *outputCred) Holds(ctx context.Context, m string) (bool, error) {
	out, ok, err := c.read(ctx)
	if err != nil {
		return false, err
	}
	if !ok {
		return m == "", nil
	}
	id := c.secretID(out)
	plain, _ := kibana.Output(out).Field(c.plainPath).(string)
	switch {
	case m == "":
		return id == "" && plain == "", nil
	case strings.HasPrefix(m, "id:"):
		return id == strings.TrimPrefix(m, "id:"), nil
	case strings.HasPrefix(m, "hash:"):
		return plain != "" && c.hasher.Verify(secret.New(plain), strings.TrimPrefix(m, "hash:")), nil
	}
	return false, fmt.Errorf("unknown credential marker %q", m)
}

func (c *outputCred) Swap(ctx context.Context, v secret.Value) error {
	out, ok, err := c.read(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("output %s does not exist", c.outputID)
	}
	body := map[string]any{}
	for path, ref := range kibana.Output(out).SecretRefs() {
		if path != c.path {
			kibana.Output(body).SetField(path, ref)
		}
	}
	kibana.Output(body).SetField(c.path, v.Reveal())
	updated, err := c.main.UpdateOutput(ctx, c.outputID, body)
	if err != nil {
		return fmt.Errorf("update output %s %s: %w", c.outputID, c.path, err)
	}
	return c.record(ctx, updated, v)
}

// record updates the reconciler's inventory record of the output.
func (c *outputCred) record(ctx context.Context, out kibana.Output, v secret.Value) error {
	if c.inventory == nil {
		return nil
	}
	recs, err := c.inventory.Load(ctx)
	if err != nil {
		return fmt.Errorf("load inventory: %w", err)
	}
	for _, rec := range recs {
		if rec.Kind != "output" || rec.ID != c.outputID || (rec.Cluster != "" && rec.Cluster != c.cluster) {
			continue
		}
		secrets := make(map[string]reconciler.SecretRecord, len(rec.Secrets)+1)
		for k, s := range rec.Secrets {
			secrets[k] = s
		}
		sr := reconciler.SecretRecord{Hash: c.hasher.Hash(v), RefDescribe: "generate"}
		sr.FleetSecretID = c.secretID(out)
		secrets[c.path] = sr
		rec.Secrets = secrets
		if err := c.inventory.Put(ctx, rec); err != nil {
			return fmt.Errorf("record output %s: %w", c.outputID, err)
		}
		return nil
	}
	return nil // not owned yet: the reconciler records it at the end of its apply
}

// secretID is the Fleet secret id at c.path ("" for plain paths, or when
// Kibana fell back to plain storage).
func (c *outputCred) secretID(out kibana.Output) string {
	rest, ok := strings.CutPrefix(c.path, "secrets.")
	if !ok {
		return ""
	}
	return out.SecretID(strings.Split(rest, ".")...)
}

func (c *outputCred) Healthy(ctx context.Context) (bool, error) {
	h, err := c.main.OutputHealth(ctx, c.outputID)
	if err != nil {
		return false, err
	}
	return strings.EqualFold(h.State, "HEALTHY"), nil
}

// Agents counts the agents whose policies use the output, as Kibana
// resolves it: an agent policy's data or monitoring output (the default
// output when the policy names none), and the output of a package policy
// (per-integration output) on that agent policy.
func (c *outputCred) Agents(ctx context.Context) (int, error) {
	out, ok, err := c.read(ctx)
	if err != nil || !ok {
		return 0, err
	}
	isDefault, _ := out["is_default"].(bool)
	isDefaultMon, _ := out["is_default_monitoring"].(bool)
	policies, err := c.main.ListAgentPolicies(ctx, kibana.ListOptions{WithAgentCount: true})
	if err != nil {
		return 0, fmt.Errorf("count agents of output %s: %w", c.outputID, err)
	}
	using := map[string]bool{}
	uses := func(ref *string, isDef bool) bool { return ref == nil && isDef || ref != nil && *ref == c.outputID }
	for _, p := range policies {
		if uses(p.DataOutputID, isDefault) || uses(p.MonitoringOutputID, isDefaultMon) {
			using[p.ID] = true
		}
	}
	pps, err := c.main.ListPackagePolicies(ctx)
	if err != nil {
		return 0, fmt.Errorf("count agents of output %s: %w", c.outputID, err)
	}
	for _, pp := range pps {
		if pp.OutputID != nil && *pp.OutputID == c.outputID {
			for _, id := range append([]string{pp.PolicyID}, pp.PolicyIDs...) {
				if id != "" {
					using[id] = true
				}
			}
		}
	}
	n := 0
	for _, p := range policies {
		if using[p.ID] {
			n += p.Agents
		}
	}
	return n, nil
}

// tokenCred is a service token of elastic/fleet-server-remote.
type tokenCred struct {
	*outputCred
	spec TokenSpec
	es   ES
}

func (t *tokenCred) Name(gen int) string { return t.spec.Name(gen) }

func (t *tokenCred) Mint(ctx context.Context, name string) (secret.Value, error) {
	tok, err := t.es.CreateServiceToken(ctx, ServiceNamespace, ServiceName, name)
	return tok.Value, err
}

func (t *tokenCred) Verify(ctx context.Context, v secret.Value) error {
	status, err := authStatus(ctx, t.es, secret.New("Bearer "+v.Reveal()))
	if err != nil {
		return err
	}
	if status != 200 {
		return fmt.Errorf("_security/_authenticate answered %d", status)
	}
	return nil
}

func (t *tokenCred) Exists(ctx context.Context, name string) (bool, error) {
	names, err := serviceTokens(ctx, t.es)
	if err != nil {
		return false, err
	}
	return slices.Contains(names, name), nil
}

func (t *tokenCred) Revoke(ctx context.Context, name string) error {
	return deleteServiceToken(ctx, t.es, name)
}

// keyCred is a remote API key with Kibana Fleet read privileges.
type keyCred struct {
	*outputCred
	spec APIKeySpec
	es   ES
}

func (k *keyCred) Name(gen int) string { return k.spec.Name(gen) }

func (k *keyCred) Mint(ctx context.Context, name string) (secret.Value, error) {
	_, v, err := k.es.CreateAPIKey(ctx, name, k.spec.RoleDescriptors(),
		map[string]any{"managed_by": "fleetform", "output_id": k.outputID})
	return v, err
}

func (k *keyCred) Verify(ctx context.Context, v secret.Value) error {
	status, err := authStatus(ctx, k.es, secret.New("ApiKey "+v.Reveal()))
	if err != nil {
		return err
	}
	if status != 200 {
		return fmt.Errorf("_security/_authenticate answered %d", status)
	}
	return nil
}

func (k *keyCred) Exists(ctx context.Context, name string) (bool, error) {
	keys, err := apiKeys(ctx, k.es, name)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(keys, func(a elastic.APIKey) bool { return a.Name == name }), nil
}

func (k *keyCred) Revoke(ctx context.Context, name string) error {
	keys, err := apiKeys(ctx, k.es, name)
	if err != nil {
		return err
	}
	var ids []string
	for _, a := range keys {
		if a.Name == name {
			ids = append(ids, a.ID)
		}
	}
	return invalidateAPIKeys(ctx, k.es, ids...)
}
