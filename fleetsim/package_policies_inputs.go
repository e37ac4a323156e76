package fleetsim

import (
	"fmt"
	"regexp"
	"strings"
)

// Package-policy inputs: Kibana's full format (an array of inputs with
// streams and {type, value} vars), the simplified format (inputs keyed
// <policy_template>-<input type>, streams keyed by dataset, plain var values)
// and the validation against the package manifest.
//
// Sources: FLEET/common/services/package_to_package_policy.ts (defaults),
// FLEET/common/services/simplified_package_policy_helper.ts (both directions),
// FLEET/common/services/validate_package_policy.ts (messages).

// defaultInputs is packageToPackagePolicyInputs: every input of every policy
// template with its streams; a stream is enabled unless the manifest says
// enabled: false, an input when one of its streams is (or it has none).
func defaultInputs(m *pkgManifest) []map[string]any {
	out := []map[string]any{}
	if m == nil {
		return out
	}
	for _, pt := range m.PolicyTemplates {
		for _, in := range pt.Inputs {
			streams := []any{}
			anyEnabled := false
			for _, ds := range m.DataStreams {
				for _, s := range ds.Streams {
					if s.Input != in.Type {
						continue
					}
					st := map[string]any{
						"enabled":     !s.Disabled,
						"data_stream": map[string]any{"type": ds.Type, "dataset": ds.Dataset},
					}
					if len(s.Vars) > 0 {
						st["vars"] = varsRecord(s.Vars)
					}
					anyEnabled = anyEnabled || !s.Disabled
					streams = append(streams, st)
				}
			}
			input := map[string]any{
				"type":            in.Type,
				"policy_template": pt.Name,
				"enabled":         len(streams) == 0 || anyEnabled,
				"streams":         streams,
			}
			if len(in.Vars) > 0 {
				input["vars"] = varsRecord(in.Vars)
			}
			out = append(out, input)
		}
	}
	return out
}

// varsRecord is varsReducer, `value: !registryVar.default &&
// registryVar.multi ? [] : registryVar.default`: {type, value: default}, []
// for a multi var without a truthy default, null for `default: null`, no
// value (undefined) without a default.
func varsRecord(defs []varDef) map[string]any {
	out := make(map[string]any, len(defs))
	for _, d := range defs {
		e := map[string]any{"type": d.Type}
		switch {
		case d.Default != nil:
			e["value"] = cloneValue(d.Default)
		case d.Multi:
			e["value"] = []any{}
		case d.DefaultNull:
			e["value"] = nil // defined: a required var holding it is not "required"
		}
		out[d.Name] = e
	}
	return out
}

// inputID is generateInputId: <policy_template>-<type>, or <type>.
func inputID(in map[string]any) string {
	t, _ := in["type"].(string)
	if pt, _ := in["policy_template"].(string); pt != "" {
		return pt + "-" + t
	}
	return t
}

// simplifiedError is a PackagePolicyValidationError (400).
type simplifiedError struct{ msg string }

func (e simplifiedError) Error() string { return e.msg }

// applySimplified is simplifiedPackagePolicytoNewPackagePolicy on top of the
// package's default inputs: it returns the full-format inputs and vars.
// Before 9.4 the body's "true" and "false" strings are booleans
// (SimplifiedVarsSchema, package_policies_vars_dataset.go).
func applySimplified(version string, m *pkgManifest, inputs map[string]any, pkgVars map[string]any) ([]map[string]any, map[string]any, error) {
	boolStrings := varRulesFor(version).boolStrings
	assignVars := func(given map[string]any, rec map[string]any, ctx string) error {
		if boolStrings {
			given = cloneMap(given)
			coerceBoolStrings(given)
		}
		return assignVars(given, rec, ctx)
	}
	full := defaultInputs(m)
	var vars map[string]any
	if m != nil && len(m.Vars) > 0 {
		vars = varsRecord(m.Vars)
	}
	if pkgVars != nil {
		if err := assignVars(pkgVars, vars, ""); err != nil {
			return nil, nil, err
		}
	}
	byID := map[string]map[string]any{}
	for _, in := range full {
		byID[inputID(in)] = in
	}
	for _, id := range sortedKeys(inputs) {
		val, _ := inputs[id].(map[string]any)
		in := byID[id]
		if in == nil {
			return nil, nil, simplifiedError{fmt.Sprintf("Input not found: %s", id)}
		}
		in["enabled"] = val["enabled"] != false
		if iv, ok := val["vars"].(map[string]any); ok {
			rec, _ := in["vars"].(map[string]any)
			if err := assignVars(iv, rec, id); err != nil {
				return nil, nil, err
			}
		}
		streams, _ := val["streams"].(map[string]any)
		for _, sid := range sortedKeys(streams) {
			sval, _ := streams[sid].(map[string]any)
			st := findStream(in, sid)
			if st == nil {
				return nil, nil, simplifiedError{fmt.Sprintf("Stream not found %s: %s", id, sid)}
			}
			st["enabled"] = sval["enabled"] != false
			if sv, ok := sval["vars"].(map[string]any); ok {
				rec, _ := st["vars"].(map[string]any)
				if err := assignVars(sv, rec, id+" "+sid); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	return full, vars, nil
}

func findStream(in map[string]any, dataset string) map[string]any {
	streams, _ := in["streams"].([]any)
	for _, s := range streams {
		st, _ := s.(map[string]any)
		if ds, _ := st["data_stream"].(map[string]any); ds != nil && ds["dataset"] == dataset {
			return st
		}
	}
	return nil
}

// assignVars is assignVariables: every given var must exist in the record.
func assignVars(given map[string]any, rec map[string]any, ctx string) error {
	for _, k := range sortedKeys(given) {
		e, ok := rec[k].(map[string]any)
		if !ok {
			return simplifiedError{fmt.Sprintf("Variable %s:%s not found", ctx, k)}
		}
		e["value"] = cloneValue(given[k])
	}
	return nil
}

// simplifiedInputs is formatInputs: the full format keyed the simplified way.
func simplifiedInputs(inputs []map[string]any) map[string]any {
	out := map[string]any{}
	for _, in := range inputs {
		v := map[string]any{"enabled": in["enabled"] == true}
		if vars := simplifiedVars(in["vars"]); vars != nil {
			v["vars"] = vars
		}
		streams := map[string]any{}
		ss, _ := in["streams"].([]any)
		for _, s := range ss {
			st, _ := s.(map[string]any)
			ds, _ := st["data_stream"].(map[string]any)
			dataset, _ := ds["dataset"].(string)
			e := map[string]any{"enabled": st["enabled"] == true}
			if vars := simplifiedVars(st["vars"]); vars != nil {
				e["vars"] = vars
			}
			streams[dataset] = e
		}
		v["streams"] = streams
		out[inputID(in)] = v
	}
	return out
}

// simplifiedVars is formatVars: each var's value (absent values stay absent).
func simplifiedVars(v any) map[string]any {
	rec, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]any, len(rec))
	for k, e := range rec {
		em, _ := e.(map[string]any)
		if val, ok := em["value"]; ok {
			out[k] = val
		}
	}
	return out
}

// varValue is a configEntry's value; present is false for undefined.
type varValue struct {
	v       any
	present bool
}

func entryValue(rec map[string]any, name string) varValue {
	e, ok := rec[name].(map[string]any)
	if !ok {
		return varValue{}
	}
	v, ok := e["value"]
	return varValue{v: v, present: ok}
}

// invalidNamespaceChars is INVALID_NAMESPACE_CHARACTERS.
var invalidNamespaceChars = regexp.MustCompile(`[\*\\/\?"<>|\s,#:-]+`)

// namespaceError is isValidNamespace (FLEET/common/services/is_valid_namespace.ts)
// for a non-blank namespace: "" when valid.
func namespaceError(ns string) string {
	switch {
	case strings.TrimSpace(ns) == "":
		return ""
	case ns != strings.ToLower(ns):
		return "Namespace must be lowercase"
	case invalidNamespaceChars.MatchString(ns):
		return "Namespace contains invalid characters"
	case len(ns) > 100:
		return "Namespace cannot be more than 100 bytes"
	}
	return ""
}

// --- secrets ---------------------------------------------------------------

// secretVarPaths visits every var record entry whose definition is secret:
// package vars, input vars and stream vars.
func secretVarEntries(m *pkgManifest, inputs []map[string]any, vars map[string]any) []map[string]any {
	if m == nil {
		return nil
	}
	var out []map[string]any
	pick := func(rec map[string]any, defs []varDef) {
		for _, d := range defs {
			if !d.Secret {
				continue
			}
			if e, ok := rec[d.Name].(map[string]any); ok {
				out = append(out, e)
			}
		}
	}
	pick(vars, m.Vars)
	for _, in := range inputs {
		typ, _ := in["type"].(string)
		rec, _ := in["vars"].(map[string]any)
		for _, pt := range m.PolicyTemplates {
			for _, d := range pt.Inputs {
				if d.Type == typ {
					pick(rec, d.Vars)
				}
			}
		}
		ss, _ := in["streams"].([]any)
		for _, s := range ss {
			st, _ := s.(map[string]any)
			ds, _ := st["data_stream"].(map[string]any)
			dataset, _ := ds["dataset"].(string)
			srec, _ := st["vars"].(map[string]any)
			pick(srec, streamVarDefs(m, dataset, typ))
		}
	}
	return out
}

// storeVarSecrets is extractAndWriteSecrets for package policies: a secret
// var's plain string value goes to .fleet-secrets and the var holds
// {isSecretRef: true, id}; references already given are kept. It returns the
// ids now referenced. With secret storage off values stay in plain text.
func (c *Cluster) storeVarSecrets(m *pkgManifest, inputs []map[string]any, vars map[string]any) []string {
	if !c.secretStorageEnabled() {
		return nil
	}
	var ids []string
	for _, e := range secretVarEntries(m, inputs, vars) {
		switch v := e["value"].(type) {
		case string:
			if v == "" {
				continue
			}
			id := c.node.CreateFleetSecret(v)
			e["value"] = map[string]any{"isSecretRef": true, "id": id}
			ids = append(ids, id)
		case map[string]any:
			if id, ok := v["id"].(string); ok && v["isSecretRef"] == true {
				ids = append(ids, id)
			}
		}
	}
	return ids
}
