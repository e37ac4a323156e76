package fleetsim

import (
	"net/http"
	"regexp"
	"strings"
)

// The data_stream.dataset check and the simplified body's boolean strings,
// by Kibana version (docs/fleetsim-inferred.md item 56; the plan checks the
// same in reconciler/package_policies_values_dataset.go).
//
// validatePackagePolicyConfig (FLEET/common/services/validate_package_policy.ts)
// ends with
//
//	if (varName === DATASET_VAR_NAME && packageType === 'input' && parsedValue !== undefined) {
//	  const { valid, error } = isValidDataset(parsedValue.dataset ? parsedValue.dataset : parsedValue, false);
//
// — elastic/kibana#182925 (labels v8.14.0, v8.15.0); validatePackagePolicy
// passes packageInfo.type for a stream's vars only. isValidDataset
// (FLEET/common/services/is_valid_namespace.ts): "Dataset is required",
// "Dataset must be lowercase", "Dataset contains invalid characters"
// (INVALID_NAMESPACE_CHARACTERS, "-" among them), "Dataset cannot be more
// than 100 bytes", "Dataset cannot start with an underscore or dot". A value
// that is not a string throws a TypeError (`name.trim is not a function`;
// null already at `parsedValue.dataset`), which the route's error handler
// answers 500 with its message. elastic/kibana#287557 (v9.5.0) removed the
// packageType guard, so from 9.5 every var named data_stream.dataset is
// checked, whatever the package type and level (inferred from its
// description).
//
// SimplifiedVarsSchema was schema.oneOf([schema.boolean(), schema.string(),
// …]) until elastic/kibana#256047 (fixing #255976, merged March 2026:
// inferred 9.4.0) put schema.string() first: config-schema's boolean takes
// the strings "true" and "false" in any case (kbn-config-schema
// internals), so a simplified body's "true" became true before validation
// and storage.

// datasetInvalidChars is INVALID_NAMESPACE_CHARACTERS with JavaScript's \s
// spelled out.
var datasetInvalidChars = regexp.MustCompile(`[*\\/?"<>|,#:\-\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}]`)

// isValidDataset is isValidDataset(dataset, false): its error, "" when valid.
func isValidDataset(dataset string) string {
	switch {
	case strings.TrimSpace(dataset) == "":
		return "Dataset is required"
	case dataset != strings.ToLower(dataset):
		return "Dataset must be lowercase"
	case datasetInvalidChars.MatchString(dataset):
		return "Dataset contains invalid characters"
	case len(dataset) > 100:
		return "Dataset cannot be more than 100 bytes"
	case strings.HasPrefix(dataset, "_") || strings.HasPrefix(dataset, "."):
		return "Dataset cannot start with an underscore or dot"
	}
	return ""
}

// datasetChecked reports whether the dataset check runs for var name at a
// stream (or not) of a package of type pkgType.
func (r varRules) datasetChecked(name string, stream bool, pkgType string) bool {
	return name == datasetVarName && (r.datasetAnyPackage || r.datasetInput && stream && pkgType == "input")
}

// datasetOutcome is the dataset check of a config entry's value: its error,
// or the message of the TypeError Kibana throws.
func datasetOutcome(val varValue, d varDef) (msg, typeError string) {
	if !val.present {
		return "", ""
	}
	parsed := val.v
	if ref, ok := parsed.(map[string]any); ok && d.Secret && ref["isSecretRef"] == true {
		return "", "" // validatePackagePolicyConfig returns before
	}
	switch v := parsed.(type) {
	case string:
		return isValidDataset(strings.TrimSpace(v)), ""
	case nil:
		return "", "Cannot read properties of null (reading 'dataset')"
	case map[string]any:
		if ds, ok := v["dataset"].(string); ok && ds != "" {
			return isValidDataset(ds), ""
		}
	}
	return "", "name.trim is not a function"
}

// datasetError is the dataset check's 400 message for a var, "" when none.
func (r varRules) datasetError(val varValue, d varDef, stream bool, pkgType string) []string {
	if !r.datasetChecked(d.Name, stream, pkgType) {
		return nil
	}
	if msg, _ := datasetOutcome(val, d); msg != "" {
		return []string{msg}
	}
	return nil
}

// datasetTypeError is the TypeError validatePackagePolicy throws on the
// policy, "" when none: the first data_stream.dataset value that is not a
// string among the vars it checks (package vars, then each enabled input's
// vars and its enabled streams' vars).
func datasetTypeError(version string, m *pkgManifest, inputs []map[string]any, vars map[string]any) string {
	r := varRulesFor(version)
	if m == nil || !r.datasetInput {
		return ""
	}
	find := func(rec map[string]any, defs []varDef, stream bool) string {
		for _, d := range defs {
			if !r.datasetChecked(d.Name, stream, m.Type) {
				continue
			}
			if _, te := datasetOutcome(entryValue(rec, d.Name), d); te != "" {
				return te
			}
		}
		return ""
	}
	if te := find(vars, m.Vars, false); te != "" {
		return te
	}
	for _, in := range inputs {
		if in["enabled"] != true {
			continue
		}
		typ, _ := in["type"].(string)
		rec, _ := in["vars"].(map[string]any)
		for _, pt := range m.PolicyTemplates {
			for _, d := range pt.Inputs {
				if d.Type == typ {
					if te := find(rec, d.Vars, false); te != "" {
						return te
					}
				}
			}
		}
		ss, _ := in["streams"].([]any)
		for _, s := range ss {
			st, _ := s.(map[string]any)
			if st["enabled"] != true {
				continue
			}
			ds, _ := st["data_stream"].(map[string]any)
			dataset, _ := ds["dataset"].(string)
			srec, _ := st["vars"].(map[string]any)
			if te := find(srec, streamVarDefs(m, dataset, typ), true); te != "" {
				return te
			}
		}
	}
	return ""
}

// packagePolicyInvalid is validatePackagePolicyOrThrow's answer for a
// policy Kibana refuses: 500 with the TypeError's message when the
// validation throws, else 400 "Package policy is invalid: …"; nil when
// the policy is valid.
func packagePolicyInvalid(version string, m *pkgManifest, name, namespace string, inputs []map[string]any, vars map[string]any) *kresp {
	if te := datasetTypeError(version, m, inputs, vars); te != "" {
		return kerr(http.StatusInternalServerError, "%s", te)
	}
	if lines := validatePackagePolicyInputs(version, m, name, namespace, inputs, vars); len(lines) > 0 {
		return badRequest("Package policy is invalid: %s", strings.Join(lines, "\n"))
	}
	return nil
}

// coerceBoolStrings is SimplifiedVarsSchema before 9.4 on a simplified
// body's vars: "true" and "false" (any case) become booleans.
func coerceBoolStrings(vars map[string]any) {
	for k, v := range vars {
		if s, ok := v.(string); ok {
			switch strings.ToLower(s) {
			case "true":
				vars[k] = true
			case "false":
				vars[k] = false
			}
		}
	}
}
