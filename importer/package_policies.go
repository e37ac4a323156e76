package importer

import (
	"context"
	"sort"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
)

const kindPackagePolicy = "package_policy"

// integrationPolicyLister is the list call import needs for integration
// policies; *kibana.Client implements it.
type integrationPolicyLister interface {
	ListIntegrationPolicies(ctx context.Context, opts kibana.IntegrationPolicyListOptions) ([]kibana.IntegrationPolicy, error)
}

// exportPackagePolicies writes every integration policy in Kibana's
// simplified format: every input and stream with its enabled flag and the
// variables that hold a value. Kibana's answer lists every input of the
// package, so the export is complete rather than minimal; the reconciler
// compares only what is declared, so trimming it later is safe. Secret
// variables ({isSecretRef, id}) become references (secretrefs.go).
func exportPackagePolicies(ctx context.Context, f Fleet, b *builder) error {
	l, ok := f.(integrationPolicyLister)
	if !ok {
		return nil
	}
	pols, err := l.ListIntegrationPolicies(ctx, kibana.IntegrationPolicyListOptions{})
	if err != nil {
		return err
	}
	sort.Slice(pols, func(i, j int) bool { return pols[i].ID < pols[j].ID })
	for i := range pols {
		p := &pols[i]
		if !b.wanted(p.ID) {
			continue
		}
		if p.Raw["is_managed"] == true {
			b.skip(p.ID, "managed by Kibana (is_managed: true): Fleet refuses edits to it")
			continue
		}
		if err := p.Decode(); err != nil {
			return err
		}
		var e entry
		var envs []EnvVar
		secret := func(path string) any {
			ref, ev := b.secretRef(p.ID, path)
			envs = append(envs, ev)
			return ref
		}
		vars := func(prefix string, in map[string]any) map[string]any {
			out := map[string]any{}
			for k, v := range in {
				if v = prune(v); v != nil {
					if varIsSecret(k, v) {
						v = secret(prefix + k)
					}
					out[k] = v
				}
			}
			if len(out) == 0 {
				return nil
			}
			return out
		}
		e.set("id", p.ID)
		e.set("name", p.Name)
		if p.Description != nil && *p.Description != "" {
			e.set("description", *p.Description)
		}
		if p.Namespace != "" {
			e.set("namespace", p.Namespace)
		}
		e.set("package", map[string]any{"name": p.Package.Name, "version": p.Package.Version})
		policyIDs := make([]any, len(p.PolicyIDs))
		for i, id := range p.PolicyIDs {
			policyIDs[i] = id
		}
		e.set("policy_ids", policyIDs)
		// Only an output id: none, null and "" all send the data to the
		// agent policy's output, and are left out — absent, so unmanaged;
		// output_id: null would declare "clear it".
		if p.OutputID != nil && *p.OutputID != "" {
			e.set("output_id", *p.OutputID)
		}
		if v := vars("vars.", p.Vars); v != nil {
			e.set("vars", v)
		}
		inputs := map[string]any{}
		for name, in := range p.Inputs {
			m := map[string]any{}
			if in.Enabled != nil {
				m["enabled"] = *in.Enabled
			}
			if v := vars("inputs."+name+".vars.", in.Vars); v != nil {
				m["vars"] = v
			}
			streams := map[string]any{}
			for sname, st := range in.Streams {
				sm := map[string]any{}
				if st.Enabled != nil {
					sm["enabled"] = *st.Enabled
				}
				if v := vars("inputs."+name+".streams."+sname+".vars.", st.Vars); v != nil {
					sm["vars"] = v
				}
				streams[sname] = sm
			}
			if len(streams) > 0 {
				m["streams"] = streams
			}
			inputs[name] = m
		}
		if len(inputs) > 0 {
			e.set("inputs", inputs)
		}
		if p.Raw["supports_agentless"] == true {
			e.set("supports_agentless", true)
		}
		if l, ok := p.Raw["additional_datastreams_permissions"].([]any); ok && len(l) > 0 {
			e.set("additional_datastreams_permissions", l)
		}
		sort.Slice(envs, func(i, j int) bool { return strings.Compare(envs[i].Path, envs[j].Path) < 0 })
		b.add(Object{ID: p.ID, Name: p.Name, Secrets: envs, Raw: p.Raw}, e)
	}
	return nil
}

// varIsSecret says whether an integration policy variable is written as a
// reference rather than its value: a stored secret ({isSecretRef, id}: the
// package marks it secret: true, and Kibana never answers its value), or a
// clear-text value of a variable whose name says it holds a secret (a
// package, or an older version of it, that does not mark it secret: Kibana
// answers the value, which must not land in Git, and validate refuses it
// there: schema.SecretVarName).
func varIsSecret(name string, v any) bool {
	if m, ok := v.(map[string]any); ok {
		return m["isSecretRef"] == true
	}
	if !schema.SecretVarName(name) {
		return false
	}
	switch v := v.(type) {
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	}
	return false
}
