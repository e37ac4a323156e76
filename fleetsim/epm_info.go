package fleetsim

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// The package info answer's definitions. Kibana's getInfoHandler
// (FLEET/server/routes/epm/handlers.ts) answers {item: PackageInfo} from
// getPackageInfo (FLEET/server/services/epm/packages/get.ts), which spreads
// the package's manifests into the item — `...packageInfo, ...additions,
// data_streams: filteredDataStreams, policy_templates:
// filteredPolicyTemplates` — so the item carries the package's vars, its
// policy templates with their inputs and the data streams with their
// streams, each var a RegistryVarsEntry (name, type, title, multi,
// required, show_user, default, secret, options, min_duration,
// max_duration, url_allowed_schemes; FLEET/common/types/models/epm.ts),
// an input's and a stream's required_vars (RegistryRequiredVars, an object
// whose keys keep the manifest's order) and the package's and a stream's
// var_groups (RegistryVarGroup[]).
// With full=true the definitions come from the package archive
// (getPackageFromSource); without it, for a package not of type input, from
// the registry's info (Registry.fetchInfo), whose variables have no secret
// field (elastic/package-registry packages/datastream.go, type Variable).
// fleetsim's built-in manifests (manifests.go) stand for both. A package of
// type input is answered as written: input-only policy templates (name,
// type, input, template_path, vars) and no data streams (it has no
// data_stream directory).

// manifestDefinitions adds m's definitions to a package info item; full
// keeps the secret flags (see above).
func manifestDefinitions(item map[string]any, m *pkgManifest, full bool) {
	if m.raw != nil {
		m = m.raw
	}
	item["type"] = m.Type
	if len(m.Vars) > 0 {
		item["vars"] = varDefsJSON(m.Vars, full)
	}
	if len(m.VarGroups) > 0 {
		item["var_groups"] = varGroupsJSON(m.VarGroups)
	}
	templates := make([]any, 0, len(m.PolicyTemplates))
	for _, pt := range m.PolicyTemplates {
		if pt.Input != "" {
			e := map[string]any{"name": pt.Name, "title": pt.Name, "description": pt.Name, "type": pt.Type, "input": pt.Input,
				"template_path": "input.yml.hbs", "multiple": !m.Limited}
			if len(pt.Vars) > 0 {
				e["vars"] = varDefsJSON(pt.Vars, full)
			}
			templates = append(templates, e)
			continue
		}
		inputs := make([]any, 0, len(pt.Inputs))
		for _, in := range pt.Inputs {
			e := map[string]any{"type": in.Type, "title": in.Type}
			if len(in.Vars) > 0 {
				e["vars"] = varDefsJSON(in.Vars, full)
			}
			if len(in.RequiredVars) > 0 {
				e["required_vars"] = requiredVarsJSON(in.RequiredVars)
			}
			inputs = append(inputs, e)
		}
		templates = append(templates, map[string]any{"name": pt.Name, "title": pt.Name, "description": pt.Name, "inputs": inputs, "multiple": !m.Limited})
	}
	item["policy_templates"] = templates
	streams := make([]any, 0, len(m.DataStreams))
	for _, ds := range m.DataStreams {
		ss := make([]any, 0, len(ds.Streams))
		for _, s := range ds.Streams {
			e := map[string]any{"input": s.Input, "enabled": !s.Disabled, "title": s.Input, "template_path": "stream.yml.hbs"}
			if len(s.Vars) > 0 {
				e["vars"] = varDefsJSON(s.Vars, full)
			}
			if len(s.RequiredVars) > 0 {
				e["required_vars"] = requiredVarsJSON(s.RequiredVars)
			}
			if len(s.VarGroups) > 0 {
				e["var_groups"] = varGroupsJSON(s.VarGroups)
			}
			ss = append(ss, e)
		}
		// path is the data stream's directory: <package>.<path> is the
		// default dataset (package-registry NewDataStream).
		streams = append(streams, map[string]any{"type": ds.Type, "dataset": ds.Dataset, "title": ds.Dataset, "release": "ga",
			"package": m.Name, "path": strings.TrimPrefix(ds.Dataset, m.Name+"."), "streams": ss})
	}
	item["data_streams"] = streams
}

// varDefsJSON is RegistryVarsEntry[]; secret only when full (the archive).
func varDefsJSON(defs []varDef, full bool) []any {
	out := make([]any, 0, len(defs))
	for _, d := range defs {
		e := map[string]any{"name": d.Name, "type": d.Type, "title": d.label(), "multi": d.Multi, "required": d.Required, "show_user": true}
		if d.Default != nil {
			e["default"] = cloneValue(d.Default)
		} else if d.DefaultNull {
			e["default"] = nil // the archive's manifest as parsed keeps it
		}
		if d.Secret && full {
			e["secret"] = true
		}
		if len(d.Options) > 0 { // options: [{value, text}]
			opts := make([]any, len(d.Options))
			for i, o := range d.Options {
				opts[i] = map[string]any{"value": o, "text": jsString(o, true)}
			}
			e["options"] = opts
		}
		if d.MinDuration != "" {
			e["min_duration"] = d.MinDuration
		}
		if d.MaxDuration != "" {
			e["max_duration"] = d.MaxDuration
		}
		if len(d.URLAllowedSchemes) > 0 {
			e["url_allowed_schemes"] = slices.Clone(d.URLAllowedSchemes)
		}
		out = append(out, e)
	}
	return out
}

// requiredVarsJSON is RegistryRequiredVars: {group: [{name, value?}]}, the
// groups in the manifest's order (a Go map would sort them).
func requiredVarsJSON(groups []requiredVarGroup) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, g := range groups {
		if i > 0 {
			b.WriteByte(',')
		}
		conds := make([]any, len(g.Vars))
		for j, c := range g.Vars {
			e := map[string]any{"name": c.Name}
			if c.Value != nil {
				e["value"] = cloneValue(c.Value)
			}
			conds[j] = e
		}
		k, _ := json.Marshal(g.Name)
		v, _ := json.Marshal(conds)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// varGroupsJSON is RegistryVarGroup[]: name, required, options [{name, vars}].
func varGroupsJSON(groups []varGroup) []any {
	out := make([]any, len(groups))
	for i, g := range groups {
		opts := make([]any, len(g.Options))
		for j, o := range g.Options {
			vars := make([]any, len(o.Vars))
			for k, v := range o.Vars {
				vars[k] = v
			}
			opts[j] = map[string]any{"name": o.Name, "title": o.Name, "vars": vars}
		}
		out[i] = map[string]any{"name": g.Name, "title": g.Name, "required": g.Required, "options": opts}
	}
	return out
}
