package fleetsim

import (
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
// max_duration, url_allowed_schemes; FLEET/common/types/models/epm.ts).
// With full=true the definitions come from the package archive
// (getPackageFromSource); without it, for a package not of type input, from
// the registry's info (Registry.fetchInfo), whose variables have no secret
// field (elastic/package-registry packages/datastream.go, type Variable).
// fleetsim's built-in manifests (manifests.go) stand for both.

// manifestDefinitions adds m's definitions to a package info item; full
// keeps the secret flags (see above).
func manifestDefinitions(item map[string]any, m *pkgManifest, full bool) {
	item["type"] = m.Type
	if len(m.Vars) > 0 {
		item["vars"] = varDefsJSON(m.Vars, full)
	}
	templates := make([]any, 0, len(m.PolicyTemplates))
	for _, pt := range m.PolicyTemplates {
		inputs := make([]any, 0, len(pt.Inputs))
		for _, in := range pt.Inputs {
			e := map[string]any{"type": in.Type, "title": in.Type}
			if len(in.Vars) > 0 {
				e["vars"] = varDefsJSON(in.Vars, full)
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
