package fleetsim

import (
	"slices"
	"strings"
)

// A package policy validated against its package, as Kibana's
// validatePackagePolicy (FLEET/common/services/validate_package_policy.ts)
// does before validatePackagePolicyOrThrow
// (FLEET/server/services/package_policy.ts) writes one "key: message" line
// per key of its flattened result (getFlattenedObject: arrays are leaves).
// The result object's order is name, namespace, inputs, vars; an input's is
// vars, required_vars, streams; a stream's vars, required_vars.
//
// By version (docs/fleetsim-inferred.md item 56):
//   - a stream's required_vars (elastic/kibana#207130, v8.18.0 / v9.0.0);
//   - an input's required_vars (elastic/kibana#211863, v9.1.0,
//     backport:skip: not on 8.19);
//   - var_groups (elastic/kibana#249449, merged January 2026, inferred
//     9.4.0): a package or stream var that a var_group's option names is
//     validated only when that option is selected (var_group_selections),
//     and is then required when its group is. The simplified API takes the
//     package-level selections; fleetsim's handlers read none, so every
//     such var goes unchecked, as it does for a body without them.

// validatePackagePolicyInputs returns Kibana's "key: message" lines for a
// cluster of the given version, in the order of validatePackagePolicy's
// result object (name, namespace, inputs, vars).
func validatePackagePolicyInputs(version string, m *pkgManifest, name, namespace string, inputs []map[string]any, vars map[string]any) []string {
	r := varRulesFor(version)
	var lines []string
	add := func(key string, errs []string) {
		if len(errs) > 0 {
			lines = append(lines, r.line(key, errs))
		}
	}
	if strings.TrimSpace(name) == "" {
		add("name", []string{"Name is required"})
	}
	if namespace != "" {
		if msg := namespaceError(namespace); msg != "" {
			add("namespace", []string{msg})
		}
	}
	var pkgGroups []varGroup
	if m != nil && r.varGroups {
		pkgGroups = m.VarGroups
	}
	if m == nil || len(m.PolicyTemplates) == 0 {
		if m != nil {
			lines = append(lines, validateVarsRecord(r, "vars", vars, m.Vars, pkgGroups, nil)...)
		}
		return lines
	}
	hasIntegrations := len(m.PolicyTemplates) > 1
	for _, in := range inputs {
		typ, _ := in["type"].(string)
		pt, _ := in["policy_template"].(string)
		key := typ
		if hasIntegrations {
			key = pt + "-" + typ // buildInputKey
		}
		enabled := in["enabled"] == true
		var def *inputDef
		for _, t := range m.PolicyTemplates {
			if t.Name != pt && pt != "" {
				continue
			}
			for i, d := range t.Inputs {
				if d.Type == typ {
					def = &t.Inputs[i]
				}
			}
		}
		var inputDefs []varDef
		if def != nil {
			inputDefs = def.Vars
		}
		if rec, ok := in["vars"].(map[string]any); ok && len(rec) > 0 {
			if enabled {
				lines = append(lines, validateVarsRecord(r, "inputs."+key+".vars", rec, inputDefs, nil, nil)...)
			}
			if r.inputRequiredVars && enabled && def != nil && len(def.Vars) > 0 {
				lines = append(lines, r.requiredVarsLines("inputs."+key+".required_vars", requiredVarsErrors(rec, enabled, def.RequiredVars))...)
			}
		}
		ss, _ := in["streams"].([]any)
		for _, s := range ss {
			st, _ := s.(map[string]any)
			ds, _ := st["data_stream"].(map[string]any)
			dataset, _ := ds["dataset"].(string)
			sdef := streamDefOf(m, dataset, typ)
			if sdef == nil {
				continue
			}
			on := st["enabled"] == true
			rec, hasVars := st["vars"].(map[string]any)
			var groups []varGroup
			if r.varGroups {
				groups = sdef.VarGroups
			}
			selections := stringMap(st["var_group_selections"])
			if len(sdef.Vars) > 0 && enabled && on {
				for _, d := range sdef.Vars {
					if !shouldValidateVar(d.Name, groups, selections) {
						continue
					}
					if isVarRequiredByVarGroup(d.Name, groups, selections) {
						d.Required = true
					}
					val := entryValue(rec, d.Name)
					add("inputs."+key+".streams."+dataset+".vars."+d.Name, append(validateVar(val, d, r), r.datasetError(val, d, true, m.Type)...))
				}
			}
			if r.streamRequiredVars && hasVars && on {
				lines = append(lines, r.requiredVarsLines("inputs."+key+".streams."+dataset+".required_vars", requiredVarsErrors(rec, on, sdef.RequiredVars))...)
			}
		}
	}
	lines = append(lines, validateVarsRecord(r, "vars", vars, m.Vars, pkgGroups, nil)...)
	return lines
}

// streamDefOf is the stream of input type input in the data stream of
// dataset (streamsByDatasetAndInput[`${dataset}-${input}`]).
func streamDefOf(m *pkgManifest, dataset, input string) *streamDef {
	for i := range m.DataStreams {
		ds := &m.DataStreams[i]
		if ds.Dataset != dataset {
			continue
		}
		for j := range ds.Streams {
			if ds.Streams[j].Input == input {
				return &ds.Streams[j]
			}
		}
	}
	return nil
}

func streamVarDefs(m *pkgManifest, dataset, input string) []varDef {
	if s := streamDefOf(m, dataset, input); s != nil {
		return s.Vars
	}
	return nil
}

// validateVarsRecord validates the vars present in rec (input-level and
// package-level vars are validated by the entries they have), those a
// var_group hides skipped.
func validateVarsRecord(r varRules, prefix string, rec map[string]any, defs []varDef, groups []varGroup, selections map[string]string) []string {
	var lines []string
	for _, k := range orderedVarNames(rec, defs) {
		i := slices.IndexFunc(defs, func(d varDef) bool { return d.Name == k })
		if i < 0 {
			continue // no definition: Kibana only logs it
		}
		if !shouldValidateVar(k, groups, selections) {
			continue
		}
		d := defs[i]
		if isVarRequiredByVarGroup(k, groups, selections) {
			d.Required = true
		}
		val := entryValue(rec, k)
		if errs := append(validateVar(val, d, r), r.datasetError(val, d, false, "")...); len(errs) > 0 {
			lines = append(lines, r.line(prefix+"."+k, errs))
		}
	}
	return lines
}

// orderedVarNames: the manifest's order first, then unknown names sorted.
func orderedVarNames(rec map[string]any, defs []varDef) []string {
	var out []string
	for _, d := range defs {
		if _, ok := rec[d.Name]; ok {
			out = append(out, d.Name)
		}
	}
	for _, k := range sortedKeys(rec) {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// stringMap is a {string: string} value (var_group_selections); nil when
// absent.
func stringMap(v any) map[string]string {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		if s, ok := e.(string); ok {
			out[k] = s
		}
	}
	return out
}
