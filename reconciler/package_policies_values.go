package reconciler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fleetform/fleetform/internal/kversion"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
)

// The values of an integration policy's variables, checked as Kibana
// checks them before it writes the policy. The create and update handlers
// turn the simplified body into a package policy
// (simplifiedPackagePolicytoNewPackagePolicy: the package's defaults, the
// body's values over them — on an update fleetform's body carries the
// policy's current inputs and vars, package_policies.go) and the package
// policy service validates it (validatePackagePolicyOrThrow,
// FLEET/server/services/package_policy.ts, on create and on update, with
// validatePackagePolicy, FLEET/common/services/validate_package_policy.ts):
//
//   - package vars: every var of the package, always;
//   - an input's vars: when the input is enabled;
//   - a stream's vars: every var its data stream defines, when the input
//     and the stream are enabled;
//
// each with validatePackagePolicyConfig: "<title> is required" (undefined,
// or a blank yaml; a required multi var also when empty or holding a blank
// text), "Invalid YAML format", "Invalid format for <title>: expected
// array", the YAML special characters of a text, "Boolean values must be
// either true or false", "Invalid integer", "Invalid value for select
// type", and from 9.2 the duration and url checks. Kibana answers 400
// "Package policy is invalid: " and one "<key>: <errors>" line per key
// (<key> is inputs.<input>.streams.<dataset>.vars.<var>, the input named
// <policy_template>-<input> only when the package has several templates).
// The plan blocks such a policy with that message, so apply writes nothing
// of it.
//
// required_vars groups and var_groups: package_policies_values_groups.go.
//
// What the plan cannot know: the value of a variable given as a secret
// reference ({env:} or {file:}) is read at apply; the plan checks it for
// presence only (a referenced value is never "undefined"), and apply checks
// the values it read before its first write
// (package_policies_values_apply.go).
//
// The data_stream.dataset check (from 8.14; a value that is not a string
// makes Kibana fail with 500) and the simplified body's "true"/"false"
// strings, which Kibana before 9.4 reads as booleans:
// package_policies_values_dataset.go. Not modelled
// (docs/fleetsim-inferred.md item 56): the data streams and index templates
// of another package that an input package's dataset would write to.

// valueRules are the version-dependent parts of Kibana's value checks (see
// fleetsim/package_policies_vars.go, whose versions they share).
type valueRules struct {
	expectedArray, strictSelect, durationURL, jsonMessages bool
	// required_vars of streams and inputs, var_groups
	// (package_policies_values_groups.go).
	streamRequiredVars, inputRequiredVars, varGroups bool
	// The data_stream.dataset check of input packages' streams, of every
	// var so named, and the boolean strings of simplified vars
	// (package_policies_values_dataset.go).
	datasetInput, datasetAnyPackage, boolStrings bool
}

// valueRulesFor is the rules of a Kibana version; an unknown version ("")
// has the newest.
func valueRulesFor(version string) valueRules {
	at := func(since kversion.Gate) bool { return version == "" || kibanaAtLeast(version, since) }
	return valueRules{
		expectedArray: at("8.8.0"), // elastic/kibana#151465
		strictSelect:  at("8.8.0"), // elastic/kibana#155180
		durationURL:   at("9.2.0"), // elastic/kibana#231027, #231062 (August 2025)
		jsonMessages:  at("8.18.0"),

		streamRequiredVars: at("8.18.0"), // elastic/kibana#207130 (v8.18.0, v9.0.0)
		inputRequiredVars:  at("9.1.0"),  // elastic/kibana#211863 (v9.1.0, backport:skip)
		varGroups:          at("9.4.0"),  // elastic/kibana#249449 (January 2026; inferred)

		datasetInput:      at("8.14.0"), // elastic/kibana#182925 (v8.14.0, v8.15.0)
		datasetAnyPackage: at("9.5.0"),  // elastic/kibana#287557 (v9.5.0)
		boolStrings:       !at("9.4.0"), // fixed by elastic/kibana#256047 (March 2026; inferred 9.4.0)
	}
}

// line is one "<key>: <errors>" line of Kibana's 400: the errors
// JSON.stringify'd, or joined with "," before 8.18.
func (r valueRules) line(key string, errs []string) string {
	if !r.jsonMessages {
		return key + ": " + strings.Join(errs, ",")
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b) // JSON.stringify does not escape <, > and &
	enc.SetEscapeHTML(false)
	_ = enc.Encode(errs)
	return key + ": " + strings.TrimSuffix(b.String(), "\n")
}

// refValue stands for a value given as a secret reference: present, never
// shown, not known until apply reads it.
type refValue struct{}

// valueError is one key Kibana refuses: its key, its errors, and the var in
// fleetform's terms with where its value comes from — or, for a
// required_vars group none of whose siblings is met, the group and the
// conditions it does not meet.
type valueError struct {
	key  string
	errs []string
	at   ipVar
	from string // "declared", "the package's default" or "the policy's current value"

	group string   // a required_vars group
	unmet []string // its unmet conditions' vars

	// typeError is the message of the TypeError Kibana throws on this
	// var's value (the dataset check of a value that is not a string): it
	// answers 500 with it, and nothing else.
	typeError string
}

// errLine is e's "<key>: <message>" line of Kibana's 400.
func (r valueRules) errLine(e valueError, errs []string) string {
	if e.group != "" {
		return e.key + ": " + r.requiredVarsMessage(e.unmet)
	}
	return r.line(e.key, errs)
}

// where is e in fleetform's terms.
func (e valueError) where() string {
	if e.group != "" {
		return fmt.Sprintf("%s: required_vars group %s not met (%s)", strings.TrimSuffix(e.at.Path(), ".vars."), e.group, strings.Join(e.unmet, ", "))
	}
	return fmt.Sprintf("%s (%s)", e.at.Path(), e.from)
}

// valuesBody is the inputs and vars Kibana builds the policy from: the
// declared ones (secret references as refValue, or their value read at
// apply from resolved, by var path), over the observed ones on an update
// that keeps the package version — as integrationPolicyUpdateBody sends
// them. observed marks which came from the policy.
//
// With r.boolStrings the body's "true" and "false" strings are booleans,
// as Kibana before 9.4 reads them (coerceBoolStrings).
func valuesBody(s *ipStep, resolved map[string]any, r valueRules) (inputs, vars map[string]any, observed map[string]any, err error) {
	body := map[string]any{}
	if have := s.body.have; have != nil && s.body.version == have.Package.Version {
		obs, err := observedIntegrationPolicyFields(*have)
		if err != nil {
			return nil, nil, nil, err
		}
		observed = map[string]any{}
		for _, k := range []string{"inputs", "vars"} {
			if m, _ := obs[k].(map[string]any); len(m) > 0 {
				body[k] = deepCopyJSON(m)
				observed[k] = m
			}
		}
	}
	for _, k := range []string{"inputs", "vars"} {
		if v, ok := s.body.fields[k]; ok {
			body[k] = mergeObjects(body[k], v)
		}
	}
	for _, sv := range integrationPolicySecrets(*s.body.want) {
		var v any = refValue{}
		if r, ok := resolved[sv.Path()]; ok {
			v = r
		}
		sv.varsAt(body, true)[sv.Name] = v
	}
	if r.boolStrings {
		coerceBoolStrings(body)
	}
	inputs, _ = body["inputs"].(map[string]any)
	vars, _ = body["vars"].(map[string]any)
	return inputs, vars, observed, nil
}

// kibanaValueErrors validates the policy Kibana builds from d and the
// body's inputs and vars, in the order of validatePackagePolicy's result:
// inputs (package order; each input's vars, its required_vars, then its
// streams' vars and required_vars), then the package vars. A var a
// var_group names goes unchecked: fleetform sends no var_group_selections
// (package_policies_values_groups.go).
func kibanaValueErrors(d *pkgDefaults, inputs, vars, declared, observed map[string]any, r valueRules) []valueError {
	var out []valueError
	from := func(at ipVar) string {
		path := at.segments()
		if hasPath(declared, path) {
			return "declared"
		}
		if hasPath(observed, path) {
			return "the policy's current value"
		}
		return "the package's default"
	}
	check := func(key string, at ipVar, def kibana.PackageVar, given map[string]any) {
		val := givenValue(def, given)
		errs := validateValue(val, def, r)
		if _, ref := val.v.(refValue); !ref && val.present && r.datasetChecked(def.Name, at.Stream != "", d.pkgType) {
			parsed := val.v
			if str, ok := parsed.(string); ok {
				parsed = strings.TrimSpace(str)
			}
			msg, typeErr := datasetCheck(parsed)
			if typeErr != "" {
				out = append(out, valueError{key: key, at: at, from: from(at), typeError: typeErr})
				return
			}
			if msg != "" {
				errs = append(errs, msg)
			}
		}
		if len(errs) > 0 {
			out = append(out, valueError{key: key, errs: errs, at: at, from: from(at)})
		}
	}
	required := func(key string, at ipVar, groups kibana.RequiredVars, defs []kibana.PackageVar, given map[string]any) {
		if unmet := requiredVarsErrors(groups, defs, given); unmet != nil {
			for _, g := range unmet {
				out = append(out, valueError{key: key + "." + g.name, unmet: g.unmet, at: at, group: g.name})
			}
		}
	}
	if !d.noTemplates {
		for _, id := range d.order {
			def := d.inputs[id]
			in, _ := inputs[id].(map[string]any)
			enabled := len(def.streamOn) == 0
			for _, on := range def.streamOn {
				enabled = enabled || on
			}
			if in != nil {
				enabled = in["enabled"] != false
			}
			key := def.name
			if d.hasIntegrations {
				key = def.template + "-" + def.name
			}
			ivars, _ := in["vars"].(map[string]any)
			if enabled {
				for _, v := range def.varList {
					check("inputs."+key+".vars."+v.Name, ipVar{Input: id, Name: v.Name}, v, ivars)
				}
				if r.inputRequiredVars && len(def.varList) > 0 {
					required("inputs."+key+".required_vars", ipVar{Input: id}, def.requiredVars, def.varList, ivars)
				}
			}
			streams, _ := in["streams"].(map[string]any)
			for _, sid := range def.sorder {
				st, _ := streams[sid].(map[string]any)
				on := def.streamOn[sid]
				if st != nil {
					on = st["enabled"] != false
				}
				if !on {
					continue
				}
				svars, _ := st["vars"].(map[string]any)
				defs := def.streamVars[sid]
				if enabled {
					var groups []kibana.VarGroup
					if r.varGroups {
						groups = def.streamGroups[sid]
					}
					for _, v := range defs {
						if controlledByVarGroup(v.Name, groups) {
							continue
						}
						check("inputs."+key+".streams."+sid+".vars."+v.Name, ipVar{Input: id, Stream: sid, Name: v.Name}, v, svars)
					}
				}
				// stream.vars && stream.enabled: the input's state is not read.
				if r.streamRequiredVars && len(defs) > 0 {
					required("inputs."+key+".streams."+sid+".required_vars", ipVar{Input: id, Stream: sid}, def.streamRequired[sid], defs, svars)
				}
			}
		}
	}
	var groups []kibana.VarGroup
	if r.varGroups {
		groups = d.varGroups
	}
	for _, v := range d.varList {
		if controlledByVarGroup(v.Name, groups) {
			continue
		}
		check("vars."+v.Name, ipVar{Name: v.Name}, v, vars)
	}
	return out
}

// givenValue is the value Kibana holds for def: the body's, else the
// package's default (packageToPackagePolicy).
func givenValue(def kibana.PackageVar, given map[string]any) varValue {
	if val, ok := given[def.Name]; ok {
		return varValue{v: val, present: true}
	}
	return defaultVarValue(def)
}

// segments is v's path in a simplified body, key by key (a dataset holds
// dots).
func (v ipVar) segments() []string {
	switch {
	case v.Input == "":
		return []string{"vars", v.Name}
	case v.Stream == "":
		return []string{"inputs", v.Input, "vars", v.Name}
	}
	return []string{"inputs", v.Input, "streams", v.Stream, "vars", v.Name}
}

func hasPath(m map[string]any, path []string) bool {
	for i, p := range path {
		v, ok := m[p]
		if !ok {
			return false
		}
		if i == len(path)-1 {
			return true
		}
		if m, ok = v.(map[string]any); !ok {
			return false
		}
	}
	return false
}

// defaultVarValue is packageToPackagePolicy's varsReducer,
// `value: !registryVar.default && registryVar.multi ? [] : registryVar.default`:
// [] for a multi var without a truthy default, else the default — null for
// a manifest's `default: null`, which is defined (a required var holding it
// is not "required"; a select, url or duration var's null is checked) —
// and undefined without one.
func defaultVarValue(def kibana.PackageVar) varValue {
	if def.Multi && !jsTruthy(def.Default) {
		return varValue{v: []any{}, present: true}
	}
	if def.Default != nil {
		return varValue{v: deepCopyJSON(def.Default), present: true}
	}
	if def.DefaultNull {
		return varValue{v: nil, present: true}
	}
	return varValue{}
}

// checkValues returns the reason Kibana would refuse s's values (nil when
// it would not), naming each key in fleetform's terms; values are never
// quoted.
func checkValues(s *ipStep, d *pkgDefaults, k pkgKey, kibanaVersion string) []string {
	r := valueRulesFor(kibanaVersion)
	errs, err := valueErrorsOf(s, d, r, nil)
	if err != nil || len(errs) == 0 {
		return nil // an answer that does not read: the plan already blocks the policy
	}
	if e, ok := firstTypeError(errs); ok {
		return []string{typeErrorReason(e, k, e.where())}
	}
	lines := make([]string, len(errs))
	where := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = r.errLine(e, e.errs)
		where[i] = e.where()
	}
	return []string{fmt.Sprintf("Kibana refuses it with 400: Package policy is invalid: %s\n(checked against package %s %s; in fleetform's terms: %s)",
		strings.Join(lines, "\n"), k.name, k.version, strings.Join(where, ", "))}
}

// valueErrorsOf is kibanaValueErrors of the policy s sends: secret
// references present and unchecked (refValue), or, by var path, the values
// resolved read from them at apply.
func valueErrorsOf(s *ipStep, d *pkgDefaults, r valueRules, resolved map[string]any) ([]valueError, error) {
	inputs, vars, observed, err := valuesBody(s, resolved, r)
	if err != nil {
		return nil, err
	}
	// A copy: the declared fields are the create body's and the plan's.
	declared, _ := deepCopyJSON(s.body.fields).(map[string]any)
	for _, sv := range integrationPolicySecrets(*s.body.want) {
		sv.varsAt(declared, true)[sv.Name] = refValue{}
	}
	return kibanaValueErrors(d, inputs, vars, declared, observed, r), nil
}

// refWarnings warns of each variable given as a secret reference that the
// package does not mark secret: true — Kibana keeps its value in clear text
// in the integration policy.
func refWarnings(p *schema.PackagePolicy, d *pkgDefaults, k pkgKey) []string {
	var out []string
	for _, sv := range integrationPolicySecrets(*p) {
		var defs map[string]kibana.PackageVar
		switch in := d.inputs[sv.Input]; {
		case sv.Input == "":
			defs = d.vars
		case in == nil:
			continue
		case sv.Stream == "":
			defs = in.vars
		default:
			defs = in.streams[sv.Stream]
		}
		def, ok := defs[sv.Name]
		if !ok || def.Secret || sv.Ref.Generate {
			continue
		}
		kind := "env:"
		if sv.Ref.File != "" {
			kind = "file:"
		}
		out = append(out, fmt.Sprintf("integration policy %s: %s is given as a secret reference (%s), but package %s %s does not mark the variable secret: true, so Kibana stores its value in clear text in the integration policy (readable with the policy, and sent in the agent policy); fleetform reads it at apply and sends it as a plain value",
			p.ID, sv.Path(), kind, k.name, k.version))
	}
	return out
}

// firstTypeError is the first of errs that makes Kibana throw: validatePackagePolicy
// stops there, and Kibana answers 500 rather than its 400.
func firstTypeError(errs []valueError) (valueError, bool) {
	for _, e := range errs {
		if e.typeError != "" {
			return e, true
		}
	}
	return valueError{}, false
}

// typeErrorReason is why a policy whose value makes Kibana throw is blocked.
func typeErrorReason(e valueError, k pkgKey, where string) string {
	return fmt.Sprintf("Kibana fails with 500: %s (validatePackagePolicy's isValidDataset reads the value of %s as a string, and it is not one; checked against package %s %s; in fleetform's terms: %s); give the dataset as a string",
		e.typeError, e.key, k.name, k.version, where)
}
