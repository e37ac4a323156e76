package fleetsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Package-policy variable values: Kibana's validatePackagePolicyConfig
// (FLEET/common/services/validate_package_policy.ts), the check of one
// variable's value against its definition, and the way
// validatePackagePolicyOrThrow (FLEET/server/services/package_policy.ts)
// writes each key's errors into "Package policy is invalid: …".
//
// What changed by Kibana version (docs/fleetsim-inferred.md item 56 says
// which versions are inferred):
//   - "Invalid format for <title>: expected array" (elastic/kibana#151465,
//     v8.8.0); before it "Invalid format".
//   - a select value outside the options, "" included, is refused
//     (elastic/kibana#155180, v8.8.0); before it only a non-empty one.
//   - duration (elastic/kibana#231027) and url (elastic/kibana#231062)
//     variables are checked, both merged in August 2025: 9.2.0.
//   - each key's errors are written JSON.stringify'd (["Invalid integer"])
//     rather than joined with "," — with the required_vars validation
//     (elastic/kibana#207130, v8.18.0 / v9.0.0), whose results are objects.
//   - required_vars and var_groups: package_policies_vars_policy.go.
//   - the data_stream.dataset check (8.14.0; every package from 9.5.0) and
//     the simplified vars' "true"/"false" strings read as booleans (before
//     9.4.0): package_policies_vars_dataset.go.

// varRules are the version-dependent parts of the value checks.
type varRules struct {
	expectedArray bool // "Invalid format for X: expected array" (else "Invalid format")
	strictSelect  bool // select checked whenever the value is defined
	durationURL   bool // duration and url variables checked
	jsonMessages  bool // errors JSON.stringify'd
	// required_vars of streams (elastic/kibana#207130) and of inputs
	// (#211863), var_groups (#249449): package_policies_vars_policy.go.
	streamRequiredVars, inputRequiredVars, varGroups bool
	// The data_stream.dataset check of input packages' streams
	// (elastic/kibana#182925) and of every var so named (#287557); the
	// boolean strings of simplified vars (until #256047):
	// package_policies_vars_dataset.go.
	datasetInput, datasetAnyPackage, boolStrings bool
}

func varRulesFor(version string) varRules {
	return varRules{
		expectedArray: versionAtLeast(version, "8.8.0"),
		strictSelect:  versionAtLeast(version, "8.8.0"),
		durationURL:   versionAtLeast(version, "9.2.0"),
		jsonMessages:  versionAtLeast(version, "8.18.0"),

		streamRequiredVars: versionAtLeast(version, "8.18.0"),
		inputRequiredVars:  versionAtLeast(version, "9.1.0"),
		varGroups:          versionAtLeast(version, "9.4.0"),

		datasetInput:      versionAtLeast(version, "8.14.0"),
		datasetAnyPackage: versionAtLeast(version, "9.5.0"),
		boolStrings:       !versionAtLeast(version, "9.4.0"),
	}
}

// line is one "key: message" of the 400: message is the key's errors as
// validatePackagePolicyOrThrow writes them.
func (r varRules) line(key string, errs []string) string {
	if !r.jsonMessages {
		return key + ": " + strings.Join(errs, ",")
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b) // JSON.stringify does not escape <, > and &
	enc.SetEscapeHTML(false)
	_ = enc.Encode(errs)
	return key + ": " + strings.TrimSuffix(b.String(), "\n")
}

var specialYAMLStart = regexp.MustCompile(`^[*&]`)

// validateVar is validatePackagePolicyConfig.
func validateVar(val varValue, d varDef, r varRules) []string {
	var errs []string
	parsed := val.v
	if s, ok := parsed.(string); ok {
		parsed = strings.TrimSpace(s)
	}
	if d.Required && (!val.present || (d.Type == "yaml" && parsed == "")) {
		errs = append(errs, d.label()+" is required")
	}
	if ref, ok := parsed.(map[string]any); ok && d.Secret && ref["isSecretRef"] == true {
		return secretRefErrors(ref, errs)
	}
	if d.Type == "yaml" {
		var out any
		if err := yaml.Unmarshal([]byte(jsString(val.v, val.present)), &out); err != nil {
			errs = append(errs, "Invalid YAML format")
		} else {
			parsed = out
		}
	}
	if d.Multi {
		arr, isArr := parsed.([]any)
		if jsTruthy(parsed) && !isArr {
			if !r.expectedArray {
				return append(errs, "Invalid format")
			}
			return append(errs, fmt.Sprintf("Invalid format for %s: expected array", d.label()))
		}
		if d.Required && isArr {
			blank := d.Type == "text" && slices.ContainsFunc(arr, func(e any) bool { s, ok := e.(string); return ok && strings.TrimSpace(s) == "" })
			if blank || len(arr) == 0 {
				errs = append(errs, d.label()+" is required")
			}
		}
		// /^[*&]/.test(cand) converts cand with String().
		if d.Type == "text" && slices.ContainsFunc(arr, func(e any) bool { return specialYAMLStart.MatchString(jsString(e, true)) }) {
			errs = append(errs, "Strings starting with special YAML characters like * or & need to be enclosed in double quotes.")
		}
		if d.Type == "integer" && slices.ContainsFunc(arr, func(e any) bool { return !isJSInteger(e) }) {
			errs = append(errs, "Invalid integer")
		}
		return errs
	}
	_, isArr := parsed.([]any)
	if d.Type == "text" && jsTruthy(parsed) && !isArr && specialYAMLStart.MatchString(jsString(parsed, true)) {
		errs = append(errs, "Strings starting with special YAML characters like * or & need to be enclosed in double quotes.")
	}
	if d.Type == "bool" && jsTruthy(parsed) {
		if s := jsString(parsed, true); s != "true" && s != "false" {
			errs = append(errs, "Boolean values must be either true or false")
		}
	}
	if d.Type == "integer" && jsTruthy(parsed) && !isArr && !isJSInteger(parsed) {
		errs = append(errs, "Invalid integer")
	}
	defined := val.present // parsedValue !== undefined: null is defined
	if d.Type == "duration" && r.durationURL && defined && !isArr {
		errs = append(errs, durationErrors(parsed, d)...)
	}
	if d.Type == "select" && (r.strictSelect && defined || !r.strictSelect && jsTruthy(parsed)) {
		if !slices.ContainsFunc(d.Options, func(o any) bool { return sameValueZero(o, parsed) }) {
			errs = append(errs, "Invalid value for select type")
		}
	}
	if d.Type == "url" && r.durationURL && defined && parsed != "" {
		errs = append(errs, urlErrors(jsString(parsed, true), d.URLAllowedSchemes)...)
	}
	return errs
}

// secretRefErrors checks a {isSecretRef: true} value of a secret var: JS
// truthiness of id and ids, as Kibana tests them.
func secretRefErrors(ref map[string]any, errs []string) []string {
	id, ids := ref["id"], ref["ids"]
	idsLen := 0
	if a, ok := ids.([]any); ok {
		idsLen = len(a)
	} else if s, ok := ids.(string); ok {
		idsLen = len(s) // ids.length of a string
	}
	switch {
	case !jsTruthy(id) && (!jsTruthy(ids) || idsLen == 0):
		return append(errs, "Secret reference is invalid, id or ids must be provided")
	case jsTruthy(id) && jsTruthy(ids):
		return append(errs, "Secret reference is invalid, id or ids cannot both be provided")
	case jsTruthy(id) && !isString(id):
		return append(errs, "Secret reference is invalid, id must be a string")
	}
	if a, ok := ids.([]any); ok && slices.ContainsFunc(a, func(e any) bool { return !isString(e) }) {
		return append(errs, "Secret reference is invalid, ids must be an array of strings")
	}
	return nil
}

// sameValueZero is Array.prototype.includes' comparison of decoded JSON
// values: arrays and objects are never equal (they are compared by
// reference).
func sameValueZero(a, b any) bool {
	switch a.(type) {
	case []any, map[string]any:
		return false
	}
	switch b.(type) {
	case []any, map[string]any:
		return false
	}
	return a == b
}

var durationPart = regexp.MustCompile(`(\d+)(ms|s|m|h)`)

// parseDuration is validate_package_policy.ts parseDuration: the value in
// nanoseconds and its errors.
func parseDuration(v any) (float64, []string) {
	s, ok := v.(string)
	if !ok || strings.TrimSpace(s) == "" {
		return 0, []string{"Duration cannot be empty"}
	}
	matches := durationPart.FindAllStringSubmatch(s, -1)
	if len(matches) == 0 {
		return 0, []string{`Invalid duration format. Expected format like "1h30m45s"`}
	}
	var full strings.Builder
	var ns float64
	for _, m := range matches {
		full.WriteString(m[0])
		n, _ := strconv.ParseFloat(m[1], 64)
		switch m[2] {
		case "h":
			ns += n * 3600e9
		case "m":
			ns += n * 60e9
		case "s":
			ns += n * 1e9
		case "ms":
			ns += n * 1e6
		}
	}
	if full.String() != s {
		return ns, []string{"Duration contains invalid characters"}
	}
	return ns, nil
}

func durationErrors(v any, d varDef) []string {
	ns, errs := parseDuration(v)
	if len(errs) > 0 {
		return errs
	}
	if d.MinDuration != "" {
		if min, e := parseDuration(d.MinDuration); len(e) > 0 {
			errs = append(errs, "Invalid min_duration specification")
		} else if ns < min {
			errs = append(errs, "Duration is below the minimum allowed value of "+d.MinDuration)
		}
	}
	if d.MaxDuration != "" {
		if max, e := parseDuration(d.MaxDuration); len(e) > 0 {
			errs = append(errs, "Invalid max_duration specification")
		} else if ns > max {
			errs = append(errs, "Duration is above the maximum allowed value of "+d.MaxDuration)
		}
	}
	return errs
}

var (
	urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
	// forbiddenHost are the WHATWG URL standard's forbidden host code
	// points (and "%", which a valid host holds only percent-encoded).
	forbiddenHost = regexp.MustCompile(`[\x00-\x20#%/:<>?@\[\\\]^|\x7f]`)
)

var specialSchemes = []string{"http", "https", "ws", "wss", "ftp"}

// urlErrors is the url check: `new URL(value)` (the WHATWG URL parser,
// approximated — docs/fleetsim-inferred.md item 56: a scheme, and for the
// special schemes a host without forbidden code points and a port up to
// 65535) and the scheme against url_allowed_schemes.
func urlErrors(s string, allowed []string) []string {
	if !validURL(s) {
		return []string{"Invalid URL format"}
	}
	if len(allowed) > 0 {
		scheme, _, _ := strings.Cut(s, ":")
		scheme = strings.ToLower(scheme)
		if !slices.Contains(allowed, scheme) {
			return []string{fmt.Sprintf("URL scheme %q is not allowed. Allowed schemes: %s", scheme, strings.Join(allowed, ", "))}
		}
	}
	return nil
}

func validURL(s string) bool {
	s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	m := urlScheme.FindString(s)
	if m == "" {
		return false
	}
	scheme := strings.ToLower(strings.TrimSuffix(m, ":"))
	if !slices.Contains(specialSchemes, scheme) {
		return true // file: and non-special schemes: an opaque or empty host is valid
	}
	rest := strings.TrimLeft(s[len(m):], `/\`)
	if i := strings.IndexAny(rest, `/\?#`); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 {
			return false
		}
		host, port = rest[:end+1], rest[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return false
		}
		port = strings.TrimPrefix(port, ":")
	} else if i := strings.LastIndex(rest, ":"); i >= 0 {
		host, port = rest[:i], rest[i+1:]
	}
	if host == "" || !strings.HasPrefix(host, "[") && forbiddenHost.MatchString(host) {
		return false
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n > 65535 || strings.ContainsAny(port, "+-") {
			return false
		}
	}
	return true
}

// jsTruthy is JavaScript truthiness of a decoded JSON value.
func jsTruthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case float64:
		return t != 0 && !math.IsNaN(t)
	}
	return true
}

// isJSInteger is Number.isInteger(Number(v)).
func isJSInteger(v any) bool {
	switch t := v.(type) {
	case float64:
		return t == math.Trunc(t) && !math.IsInf(t, 0)
	case string:
		f, ok := jsNumber(t)
		return ok && f == math.Trunc(f) && !math.IsInf(f, 0)
	case bool, nil:
		return true
	case []any: // Number([]) is 0, Number([x]) is Number(String(x))
		switch len(t) {
		case 0:
			return true
		case 1:
			return isJSInteger(jsString(t[0], true))
		}
	}
	return false
}

// jsNumber is Number(s) for a string: blank is 0; 0x, 0o and 0b integer
// literals (unsigned); otherwise a decimal literal or ±Infinity.
func jsNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	if len(s) > 2 && s[0] == '0' {
		base := map[byte]int{'x': 16, 'X': 16, 'o': 8, 'O': 8, 'b': 2, 'B': 2}[s[1]]
		if base != 0 {
			n, err := strconv.ParseUint(s[2:], base, 64)
			return float64(n), err == nil
		}
	}
	switch strings.TrimLeft(s, "+-") {
	case "Infinity":
		return math.Inf(1), true
	case "inf", "Inf", "infinity", "nan", "NaN":
		return 0, false // Go accepts these, Number() does not
	}
	if strings.ContainsAny(s, "_xXpP") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// jsString is String(v) for decoded JSON values.
func jsString(v any, present bool) string {
	if !present {
		return "undefined"
	}
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			if e == nil {
				continue // [null].join() is ""
			}
			parts[i] = jsString(e, true)
		}
		return strings.Join(parts, ",")
	}
	return "[object Object]"
}
