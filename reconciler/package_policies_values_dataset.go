package reconciler

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/fleetform/fleetform/schema"
)

// The data_stream.dataset check and the simplified body's boolean strings,
// by Kibana version (fleetsim/package_policies_vars_dataset.go serves the
// same rules; docs/fleetsim-inferred.md item 56).
//
// validatePackagePolicyConfig (FLEET/common/services/validate_package_policy.ts)
// ends with
//
//	if (varName === DATASET_VAR_NAME && packageType === 'input' && parsedValue !== undefined) {
//	  const { valid, error } = isValidDataset(parsedValue.dataset ? parsedValue.dataset : parsedValue, false);
//
// (elastic/kibana#182925, labels v8.14.0 and v8.15.0; packageType is passed
// for a stream's vars only). isValidDataset
// (FLEET/common/services/is_valid_namespace.ts) answers, in this order,
// "Dataset is required" (blank), "Dataset must be lowercase", "Dataset
// contains invalid characters" (INVALID_NAMESPACE_CHARACTERS, which holds
// "-"), "Dataset cannot be more than 100 bytes" and "Dataset cannot start
// with an underscore or dot". A value that is not a string (and has no
// dataset property) makes it throw a TypeError — name.trim is not a
// function; null already at parsedValue.dataset — so Kibana answers 500
// instead of its 400. elastic/kibana#287557 (v9.5.0) removed the
// packageType guard: the check then runs for every var named
// data_stream.dataset, of any package type and at any level (inferred from
// the pull request's description).

// datasetInvalidChars is INVALID_NAMESPACE_CHARACTERS,
// /[\*\\/\?"<>|\s,#:-]+/, with JavaScript's \s spelled out (Go's \s is
// ASCII only).
var datasetInvalidChars = regexp.MustCompile(`[*\\/?"<>|,#:\-\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}]`)

// isValidDataset returns isValidDataset(dataset, false)'s error, "" when
// valid.
func isValidDataset(dataset string) string {
	switch {
	case strings.TrimSpace(dataset) == "":
		return "Dataset is required"
	case dataset != strings.ToLower(dataset):
		return "Dataset must be lowercase"
	case datasetInvalidChars.MatchString(dataset):
		return "Dataset contains invalid characters"
	case len(dataset) > 100: // Buffer.from(name).length: UTF-8 bytes
		return "Dataset cannot be more than 100 bytes"
	case strings.HasPrefix(dataset, "_") || strings.HasPrefix(dataset, "."):
		return "Dataset cannot start with an underscore or dot"
	}
	return ""
}

// datasetCheck is the dataset check of one parsed value (a string already
// trimmed): its error, or the message of the TypeError Kibana throws.
func datasetCheck(parsed any) (msg string, typeError string) {
	switch v := parsed.(type) {
	case string:
		return isValidDataset(v), ""
	case nil:
		return "", "Cannot read properties of null (reading 'dataset')"
	case map[string]any:
		if d, ok := v["dataset"].(string); ok && d != "" {
			return isValidDataset(d), ""
		}
	}
	return "", "name.trim is not a function"
}

// datasetChecked reports whether r checks the var name of a var at the
// given level (stream or not) of a package of type pkgType.
func (r valueRules) datasetChecked(name string, stream bool, pkgType string) bool {
	if name != "data_stream.dataset" {
		return false
	}
	return r.datasetAnyPackage || r.datasetInput && stream && pkgType == "input"
}

// coerceBoolStrings is config-schema's SimplifiedVarsSchema before
// elastic/kibana#256047 (fixing #255976): schema.oneOf([schema.boolean(),
// schema.string(), …]) takes the first schema that passes, and
// schema.boolean() turns the strings "true" and "false" (any case, not
// trimmed) into booleans (kbn-config-schema internals, type boolean), so
// Kibana validates and stores true where the body says "true". It rewrites
// the body's vars in place: package vars, input vars and stream vars.
func coerceBoolStrings(body map[string]any) {
	coerce := func(vars any) {
		m, _ := vars.(map[string]any)
		for k, v := range m {
			if s, ok := v.(string); ok {
				switch strings.ToLower(s) {
				case "true":
					m[k] = true
				case "false":
					m[k] = false
				}
			}
		}
	}
	coerce(body["vars"])
	inputs, _ := body["inputs"].(map[string]any)
	for _, in := range inputs {
		im, _ := in.(map[string]any)
		coerce(im["vars"])
		streams, _ := im["streams"].(map[string]any)
		for _, st := range streams {
			sm, _ := st.(map[string]any)
			coerce(sm["vars"])
		}
	}
}

// boolStringWarnings warns of each declared var holding the string "true"
// or "false" (any case) on a Kibana that reads it as a boolean: Kibana
// stores the boolean (the plan compares the declared string as that
// boolean, integrationPolicyDiffs), which a text or select variable cannot
// mean. The value is not quoted.
func boolStringWarnings(p *schema.PackagePolicy) []string {
	var out []string
	check := func(vars schema.Vars, at ipVar) {
		for _, name := range sortedKeys(vars) {
			s, ok := vars[name].(string)
			if l := strings.ToLower(s); !ok || l != "true" && l != "false" {
				continue
			}
			v := at
			v.Name = name
			out = append(out, fmt.Sprintf("integration policy %s: %s is declared as a string that Kibana before 9.4 reads as a boolean (SimplifiedVarsSchema, fixed by elastic/kibana#256047): Kibana stores the boolean, and fleetform compares it as that boolean; declare the boolean where the variable takes one (a text or select variable cannot hold this string on this Kibana)",
				p.ID, v.Path()))
		}
	}
	check(p.Vars, ipVar{})
	for _, id := range sortedKeys(p.Inputs) {
		in := p.Inputs[id]
		check(in.Vars, ipVar{Input: id})
		for _, sid := range sortedKeys(in.Streams) {
			check(in.Streams[sid].Vars, ipVar{Input: id, Stream: sid})
		}
	}
	return out
}
