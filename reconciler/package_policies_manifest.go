package reconciler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// An integration policy checked against its package's definitions before
// apply sends it. Kibana builds a simplified create or update
// (createPackagePolicyHandler, updatePackagePolicyHandler) with
// simplifiedPackagePolicytoNewPackagePolicy
// (FLEET/common/services/simplified_package_policy_helper.ts): it starts
// from the package's defaults (packageToPackagePolicy,
// FLEET/common/services/package_to_package_policy.ts) and refuses, with a
// PackagePolicyValidationError (400), the first declared key the defaults
// lack:
//
//	throw new PackagePolicyValidationError(`Variable ${ctxMessage}:${varKey} not found`);
//	throw new PackagePolicyValidationError(`Input not found: ${inputId}`);
//	throw new PackagePolicyValidationError(`Stream not found ${inputId}: ${streamId}`);
//
// (assignVariables: ctxMessage is '' for package vars, `${inputId}` for an
// input's, `${inputId} ${streamId}` for a stream's). The plan reads the
// package's definitions (kibana.Client.PackageInfo) for every integration
// policy it creates or updates — never for one that is unchanged, so a
// converged plan sends no extra request — once per package and version,
// and blocks a policy Kibana would refuse, so apply writes nothing of it.
// It also blocks a clear-text value for a variable the package marks
// secret: true, and keeps every such value out of the plan.

// PackageInfoFleet reads a package's definitions; *kibana.Client
// implements it.
type PackageInfoFleet interface {
	PackageInfo(ctx context.Context, name, version string) (kibana.PackageInfo, error)
}

// packageInfoConcurrency bounds the package info reads of one plan.
const packageInfoConcurrency = 4

type pkgKey struct{ name, version string }

type pkgInfoResult struct {
	defaults *pkgDefaults // nil when err
	err      error
}

// needsPackageCheck reports whether s is a create or update of a declared
// integration policy (an unchanged one is not checked).
func needsPackageCheck(s *ipStep) bool {
	if s.body.want == nil || s.body.version == "" || s.change.Action == plan.NoOp || s.change.Action == plan.Delete {
		return false
	}
	if s.body.have == nil && s.body.want.Adopt {
		return false // blocked: adopt never creates
	}
	return s.body.have == nil || len(s.change.Fields) > 0
}

// checkIntegrationPolicyPackages reads the package info each checked step
// needs, concurrently, and applies checkAgainstPackage to each — then, when
// Kibana would get past the simplified conversion, checkValues
// (package_policies_values.go) with the rules of kibanaVersion. It returns
// the plan's warnings: secret references given for variables the package
// does not mark secret.
func (r *Reconciler) checkIntegrationPolicyPackages(ctx context.Context, steps []*ipStep, kibanaVersion string) []string {
	var keys []pkgKey
	for _, s := range steps {
		if needsPackageCheck(s) {
			k := pkgKey{ipPackageName(s.body.want, s.body.have), s.body.version}
			if k.name != "" && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	infos := make(map[pkgKey]pkgInfoResult, len(keys))
	f, ok := r.cfg.Fleet.(PackageInfoFleet)
	if !ok {
		for _, k := range keys {
			infos[k] = pkgInfoResult{err: fmt.Errorf("the Fleet client (%T) cannot read package definitions", r.cfg.Fleet)}
		}
	} else {
		var (
			mu  sync.Mutex
			wg  sync.WaitGroup
			sem = make(chan struct{}, packageInfoConcurrency)
		)
		for _, k := range keys {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				res := pkgInfoResult{}
				if info, err := f.PackageInfo(ctx, k.name, k.version); err != nil {
					res.err = err
				} else {
					d := packageDefaults(info)
					res.defaults = &d
				}
				mu.Lock()
				infos[k] = res
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	var warnings []string
	for _, s := range steps {
		if !needsPackageCheck(s) {
			continue
		}
		k := pkgKey{ipPackageName(s.body.want, s.body.have), s.body.version}
		if k.name == "" {
			continue
		}
		res := infos[k]
		var why []string
		if res.err != nil {
			why = []string{packageInfoUnreadable(k, res.err)}
			redactVarValues(&s.change, s.body.want, nil)
		} else {
			why = checkAgainstPackage(s.body.want, res.defaults, k)
			if !slices.ContainsFunc(why, func(w string) bool { return strings.HasPrefix(w, kibanaRefuses) }) {
				why = append(why, checkValues(s, res.defaults, k, kibanaVersion)...)
			}
			if len(why) == 0 && len(s.secrets) > 0 {
				s.values = &valueCheck{defaults: res.defaults, pkg: k, rules: valueRulesFor(kibanaVersion)}
			}
			warnings = append(warnings, refWarnings(s.body.want, res.defaults, k)...)
			if valueRulesFor(kibanaVersion).boolStrings {
				warnings = append(warnings, boolStringWarnings(s.body.want)...)
			}
			redactVarValues(&s.change, s.body.want, res.defaults)
		}
		if len(why) == 0 {
			continue
		}
		if s.change.Action == plan.Blocked && s.change.Reason != "" {
			s.change.Reason += "\n" + strings.Join(why, "\n")
		} else {
			s.change.Action = plan.Blocked
			s.change.Reason = strings.Join(why, "\n")
		}
	}
	return warnings
}

// packageInfoUnreadable is the reason a policy is blocked when its
// package's definitions cannot be read.
func packageInfoUnreadable(k pkgKey, err error) string {
	var ae *kibana.APIError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		return fmt.Sprintf("package %s %s is neither installed nor in Kibana's package registry (GET /api/fleet/epm/packages/%s/%s: 404 %s): Kibana would refuse the integration policy; install the package or declare a version the registry has",
			k.name, k.version, k.name, k.version, ae.Message)
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		return fmt.Sprintf("the credentials cannot read the definitions of package %s %s (GET /api/fleet/epm/packages/%s/%s: 403 %s), which the plan checks the integration policy against; they need the Integrations read privilege (or Fleet all; READ_PACKAGE_INFO_SECURITY in Kibana's server/routes/epm/index.ts); variable values are hidden because the plan cannot tell which the package marks secret",
			k.name, k.version, k.name, k.version, ae.Message)
	}
	return fmt.Sprintf("the definitions of package %s %s, which the plan checks the integration policy against, could not be read: %v; variable values are hidden because the plan cannot tell which the package marks secret", k.name, k.version, err)
}

// kibanaRefuses starts the reasons of checkAgainstPackage's refusals, at
// which Kibana stops before it validates the values.
const kibanaRefuses = "Kibana refuses it with 400 "

// pkgDefaults is what packageToPackagePolicy builds from a package: its
// package vars (nil when it has none: `vars: undefined` unless
// packageInfo.vars?.length) and its inputs by generateInputId, each with
// its vars and its streams by dataset.
type pkgDefaults struct {
	vars   map[string]kibana.PackageVar
	inputs map[string]*pkgInputDefaults
	order  []string // input ids in the package's order

	// For the values check (package_policies_values.go): the definitions
	// in the package's order, whether it has several policy templates
	// (doesPackageHaveIntegrations: Kibana's keys then name the
	// template), none, and its type.
	varList         []kibana.PackageVar
	hasIntegrations bool
	noTemplates     bool
	pkgType         string
	varGroups       []kibana.VarGroup // package-level var_groups
}

type pkgInputDefaults struct {
	vars    map[string]kibana.PackageVar // nil: the input has no vars
	streams map[string]map[string]kibana.PackageVar
	sorder  []string

	template, name string // policy template, effective name (name ?? type)
	varList        []kibana.PackageVar
	streamVars     map[string][]kibana.PackageVar // by dataset, in order
	streamOn       map[string]bool                // a new policy's stream enabled
	requiredVars   kibana.RequiredVars            // the input's required_vars
	streamRequired map[string]kibana.RequiredVars // by dataset
	streamGroups   map[string][]kibana.VarGroup   // by dataset: var_groups
}

func varMap(defs []kibana.PackageVar) map[string]kibana.PackageVar {
	if len(defs) == 0 {
		return nil
	}
	m := make(map[string]kibana.PackageVar, len(defs))
	for _, d := range defs {
		m[d.Name] = d
	}
	return m
}

// packageDefaults follows packageToPackagePolicyInputs: every input of
// every policy template (getNormalizedInputs: an input-only template is one
// input of its `input` type, without vars), keyed
// `${policy_template}-${getInputEffectiveName(input)}` (name ?? type), with
// the streams of getStreamsForInputType — every stream whose input is the
// input's type, of the data streams the template lists by path (all when
// it lists none), keyed by their data stream's dataset. For a package of
// type input the data streams are getNormalizedDataStreams': one per
// template, dataset `${package}.${template}`, its stream the template's
// vars plus data_stream.dataset when absent — titled "Dataset name",
// required, its default the template's name
// (FLEET/common/services/policy_template.ts).
func packageDefaults(info kibana.PackageInfo) pkgDefaults {
	d := pkgDefaults{vars: varMap(info.Vars), inputs: map[string]*pkgInputDefaults{}, varList: info.Vars,
		hasIntegrations: len(info.PolicyTemplates) > 1, noTemplates: len(info.PolicyTemplates) == 0, pkgType: info.Type, varGroups: info.VarGroups}
	dataStreams := info.DataStreams
	if info.Type == "input" {
		dataStreams = nil
		for _, pt := range info.PolicyTemplates {
			if pt.Input == nil {
				continue
			}
			vars := slices.Clone(pt.Vars)
			if !slices.ContainsFunc(vars, func(v kibana.PackageVar) bool { return v.Name == "data_stream.dataset" }) {
				// addDatasetVarIfNotPresent's DATA_STREAM_DATASET_VAR, its
				// default the template's name (elastic/kibana#151140, v8.7.0).
				vars = append(vars, kibana.PackageVar{Name: "data_stream.dataset", Type: "text", Title: "Dataset name", Required: true, ShowUser: true, Default: pt.Name})
			}
			ds := info.Name + "." + pt.Name
			dataStreams = append(dataStreams, kibana.PackageDataStream{Type: pt.Type, Dataset: ds, Path: ds,
				Streams: []kibana.PackageStream{{Input: *pt.Input, Vars: vars}}})
		}
	}
	for _, pt := range info.PolicyTemplates {
		inputs := pt.Inputs
		paths := pt.DataStreams
		if pt.Input != nil {
			inputs, paths = []kibana.PackageInput{{Type: *pt.Input}}, nil
		}
		for _, in := range inputs {
			name := in.Name
			if name == "" {
				name = in.Type
			}
			id := pt.Name + "-" + name
			def := &pkgInputDefaults{vars: varMap(in.Vars), streams: map[string]map[string]kibana.PackageVar{},
				template: pt.Name, name: name, varList: in.Vars, streamVars: map[string][]kibana.PackageVar{}, streamOn: map[string]bool{},
				requiredVars: in.RequiredVars, streamRequired: map[string]kibana.RequiredVars{}, streamGroups: map[string][]kibana.VarGroup{}}
			for _, ds := range dataStreams {
				if len(paths) > 0 && !slices.Contains(paths, ds.Path) {
					continue
				}
				for _, st := range ds.Streams {
					if st.Input != in.Type {
						continue
					}
					if _, dup := def.streams[ds.Dataset]; !dup {
						def.sorder = append(def.sorder, ds.Dataset)
					}
					def.streams[ds.Dataset] = varMap(st.Vars)
					def.streamVars[ds.Dataset] = st.Vars
					def.streamOn[ds.Dataset] = st.Enabled == nil || *st.Enabled
					def.streamRequired[ds.Dataset] = st.RequiredVars
					def.streamGroups[ds.Dataset] = st.VarGroups
				}
			}
			if _, dup := d.inputs[id]; !dup {
				d.order = append(d.order, id)
			}
			d.inputs[id] = def
		}
	}
	return d
}

// checkAgainstPackage returns why Kibana would refuse p's declared inputs,
// streams and vars — Kibana's own message, in the order Kibana meets them
// (package vars, then each input in key order: the input, its vars, each
// stream and its vars; fleetform sends keys sorted, and Kibana stops at the
// first) — and the clear-text values of vars the package marks secret:
// true. Values are never quoted.
func checkAgainstPackage(p *schema.PackagePolicy, d *pkgDefaults, k pkgKey) []string {
	var out []string
	refuse := func(msg, hint string) {
		out = append(out, fmt.Sprintf(kibanaRefuses+"%q: %s", msg, hint))
	}
	pkg := k.name + " " + k.version
	vars := func(given schema.Vars, defs map[string]kibana.PackageVar, ctx, where string, at ipVar) {
		for _, name := range sortedKeys(given) {
			def, ok := defs[name]
			if !ok {
				refuse(fmt.Sprintf("Variable %s:%s not found", ctx, name), fmt.Sprintf("package %s has no variable %q %s (its variables there: %s)", pkg, name, where, listOrNone(sortedKeys(defs))))
				continue
			}
			if def.Secret && clearText(given[name]) {
				v := at
				v.Name = name
				out = append(out, fmt.Sprintf("%s: package %s marks this variable secret: true, and it is given in clear text, so it would be in Git and in every plan; give it as {env: NAME} or {file: PATH} (Kibana keeps it in .fleet-secrets and answers it as a reference)", v.Path(), pkg))
			}
		}
	}
	vars(p.Vars, d.vars, "", "at package level", ipVar{})
	for _, id := range sortedKeys(p.Inputs) {
		in := p.Inputs[id]
		def := d.inputs[id]
		if def == nil {
			refuse("Input not found: "+id, fmt.Sprintf("package %s has no input %q (its inputs, <policy_template>-<input type>: %s)", pkg, id, listOrNone(d.order)))
			continue
		}
		vars(in.Vars, def.vars, id, "on input "+id, ipVar{Input: id})
		for _, sid := range sortedKeys(in.Streams) {
			sdefs, ok := def.streams[sid]
			if !ok {
				refuse(fmt.Sprintf("Stream not found %s: %s", id, sid), fmt.Sprintf("input %s of package %s has no stream (data stream) %q (its streams: %s)", id, pkg, sid, listOrNone(def.sorder)))
				continue
			}
			vars(in.Streams[sid].Vars, sdefs, id+" "+sid, "on stream "+sid+" of input "+id, ipVar{Input: id, Stream: sid})
		}
	}
	return out
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// clearText reports whether a declared var value is a value rather than a
// secret reference ({env:} / {file:}) or nothing (null, "", []).
func clearText(v any) bool {
	switch t := v.(type) {
	case nil, map[string]any:
		return false
	case string:
		return t != ""
	case []any:
		return len(t) > 0
	}
	return true
}

// redactVarValues replaces, in ch's fields, the values of p's declared vars
// that the package marks secret: true — or, when d is nil (the
// definitions could not be read), of every declared var — by
// plan.Sensitive. The fields' values are copied first: a create's field
// holds the same map as the body apply sends.
func redactVarValues(ch *plan.Change, p *schema.PackagePolicy, d *pkgDefaults) {
	secretAt := func(defs map[string]kibana.PackageVar, name string) bool {
		return d == nil || defs[name].Secret
	}
	var pkgVars map[string]kibana.PackageVar
	if d != nil {
		pkgVars = d.vars
	}
	var locs [][]string
	add := func(given schema.Vars, defs map[string]kibana.PackageVar, prefix ...string) {
		for _, name := range sortedKeys(given) {
			if _, isRef := given[name].(map[string]any); !isRef && secretAt(defs, name) {
				locs = append(locs, append(slices.Clone(prefix), "vars", name))
			}
		}
	}
	add(p.Vars, pkgVars)
	for _, id := range sortedKeys(p.Inputs) {
		in := p.Inputs[id]
		var idefs *pkgInputDefaults
		if d != nil {
			idefs = d.inputs[id]
		}
		if idefs == nil && d != nil {
			continue // no such input: no definition says secret
		}
		var ivars map[string]kibana.PackageVar
		if idefs != nil {
			ivars = idefs.vars
		}
		add(in.Vars, ivars, "inputs", id)
		for _, sid := range sortedKeys(in.Streams) {
			var svars map[string]kibana.PackageVar
			if idefs != nil {
				svars = idefs.streams[sid]
			}
			add(in.Streams[sid].Vars, svars, "inputs", id, "streams", sid)
		}
	}
	for i := range ch.Fields {
		f := &ch.Fields[i]
		for _, loc := range locs {
			for n := 1; n <= len(loc); n++ {
				if strings.Join(loc[:n], ".") != f.Path {
					continue
				}
				if n == len(loc) {
					if f.Before != nil {
						f.Before = plan.Sensitive
					}
					if f.After != nil {
						f.After = plan.Sensitive
					}
					f.Sensitive = true
					continue
				}
				f.Before = redactAt(f.Before, loc[n:])
				f.After = redactAt(f.After, loc[n:])
			}
		}
	}
}

// redactAt returns a copy of v with the value at path replaced by
// plan.Sensitive (v itself when path is not there).
func redactAt(v any, path []string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	e, there := m[path[0]]
	if !there {
		return v
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		out[k] = x
	}
	if len(path) == 1 {
		if e != nil {
			out[path[0]] = plan.Sensitive
		}
		return out
	}
	out[path[0]] = redactAt(e, path[1:])
	return out
}
