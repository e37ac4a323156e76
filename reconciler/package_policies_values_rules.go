package reconciler

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/fleetform/fleetform/kibana"
)

// validatePackagePolicyConfig (FLEET/common/services/validate_package_policy.ts
// in elastic/kibana) for one variable's value, on the JSON values of a
// simplified body. fleetsim/package_policies_vars.go serves the same rules;
// the two are tested against each other through fleetsim's 400s
// (package_policies_values_test.go).

// varValue is a config entry's value; present is false for undefined.
type varValue struct {
	v       any
	present bool
}

var specialYAMLStart = regexp.MustCompile(`^[*&]`)

const quoteMessage = "Strings starting with special YAML characters like * or & need to be enclosed in double quotes."

// validateValue returns Kibana's errors for val against def (nil: valid).
// A refValue (a secret reference read at apply) is present and not
// checked further; a stored {isSecretRef: true} of a secret var is valid
// (fleetform sends back what Kibana answered).
func validateValue(val varValue, def kibana.PackageVar, r valueRules) []string {
	if _, ok := val.v.(refValue); ok {
		return nil
	}
	var errs []string
	parsed := val.v
	if s, ok := parsed.(string); ok {
		parsed = strings.TrimSpace(s)
	}
	if def.Required && (!val.present || (def.Type == "yaml" && parsed == "")) {
		errs = append(errs, def.Label()+" is required")
	}
	if ref, ok := parsed.(map[string]any); ok && def.Secret && ref["isSecretRef"] == true {
		return errs
	}
	if def.Type == "yaml" {
		var out any
		if err := yaml.Unmarshal([]byte(jsString(val.v, val.present)), &out); err != nil {
			errs = append(errs, "Invalid YAML format")
		} else {
			parsed = out
		}
	}
	arr, isArr := parsed.([]any)
	if def.Multi {
		if jsTruthy(parsed) && !isArr {
			if !r.expectedArray {
				return append(errs, "Invalid format")
			}
			return append(errs, fmt.Sprintf("Invalid format for %s: expected array", def.Label()))
		}
		if def.Required && isArr {
			blank := def.Type == "text" && slices.ContainsFunc(arr, func(e any) bool { s, ok := e.(string); return ok && strings.TrimSpace(s) == "" })
			if blank || len(arr) == 0 {
				errs = append(errs, def.Label()+" is required")
			}
		}
		if def.Type == "text" && slices.ContainsFunc(arr, func(e any) bool { return specialYAMLStart.MatchString(jsString(e, true)) }) {
			errs = append(errs, quoteMessage)
		}
		if def.Type == "integer" && slices.ContainsFunc(arr, func(e any) bool { return !isJSInteger(e) }) {
			errs = append(errs, "Invalid integer")
		}
		return errs
	}
	if def.Type == "text" && jsTruthy(parsed) && !isArr && specialYAMLStart.MatchString(jsString(parsed, true)) {
		errs = append(errs, quoteMessage)
	}
	if def.Type == "bool" && jsTruthy(parsed) {
		if s := jsString(parsed, true); s != "true" && s != "false" {
			errs = append(errs, "Boolean values must be either true or false")
		}
	}
	if def.Type == "integer" && jsTruthy(parsed) && !isArr && !isJSInteger(parsed) {
		errs = append(errs, "Invalid integer")
	}
	defined := val.present // parsedValue !== undefined: null is defined
	if def.Type == "duration" && r.durationURL && defined && !isArr {
		errs = append(errs, durationErrors(parsed, def)...)
	}
	if def.Type == "select" && (r.strictSelect && defined || !r.strictSelect && jsTruthy(parsed)) {
		if !slices.ContainsFunc(def.Options, func(o kibana.PackageOption) bool { return sameValueZero(o.Value, parsed) }) {
			errs = append(errs, "Invalid value for select type")
		}
	}
	if def.Type == "url" && r.durationURL && defined && parsed != "" {
		errs = append(errs, urlErrors(jsString(parsed, true), def.URLAllowedSchemes)...)
	}
	return errs
}

// sameValueZero is Array.prototype.includes' comparison of JSON values
// (arrays and objects compare by reference: never equal).
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

// parseDuration is validate_package_policy.ts parseDuration.
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
	unit := map[string]float64{"h": 3600e9, "m": 60e9, "s": 1e9, "ms": 1e6}
	for _, m := range matches {
		full.WriteString(m[0])
		n, _ := strconv.ParseFloat(m[1], 64)
		ns += n * unit[m[2]]
	}
	if full.String() != s {
		return ns, []string{"Duration contains invalid characters"}
	}
	return ns, nil
}

func durationErrors(v any, def kibana.PackageVar) []string {
	ns, errs := parseDuration(v)
	if len(errs) > 0 {
		return errs
	}
	if def.MinDuration != "" {
		if lo, e := parseDuration(def.MinDuration); len(e) > 0 {
			errs = append(errs, "Invalid min_duration specification")
		} else if ns < lo {
			errs = append(errs, "Duration is below the minimum allowed value of "+def.MinDuration)
		}
	}
	if def.MaxDuration != "" {
		if hi, e := parseDuration(def.MaxDuration); len(e) > 0 {
			errs = append(errs, "Invalid max_duration specification")
		} else if ns > hi {
			errs = append(errs, "Duration is above the maximum allowed value of "+def.MaxDuration)
		}
	}
	return errs
}

var (
	urlScheme     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
	forbiddenHost = regexp.MustCompile(`[\x00-\x20#%/:<>?@\[\\\]^|\x7f]`)
)

// urlErrors is the url check: new URL(value), approximated as fleetsim
// does (a scheme; for http, https, ws, wss and ftp a host without
// forbidden code points and a port up to 65535), then url_allowed_schemes.
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
	if !slices.Contains([]string{"http", "https", "ws", "wss", "ftp"}, strings.ToLower(strings.TrimSuffix(m, ":"))) {
		return true
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

// jsTruthy is JavaScript truthiness of a JSON value.
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
	case int:
		return t != 0
	}
	return true
}

// isJSInteger is Number.isInteger(Number(v)).
func isJSInteger(v any) bool {
	switch t := v.(type) {
	case float64:
		return t == math.Trunc(t) && !math.IsInf(t, 0)
	case int, bool, nil:
		return true
	case string:
		f, ok := jsNumber(t)
		return ok && f == math.Trunc(f) && !math.IsInf(f, 0)
	case []any:
		switch len(t) {
		case 0:
			return true
		case 1:
			return isJSInteger(jsString(t[0], true))
		}
	}
	return false
}

// jsNumber is Number(s) of a string.
func jsNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	if len(s) > 2 && s[0] == '0' {
		if base := map[byte]int{'x': 16, 'X': 16, 'o': 8, 'O': 8, 'b': 2, 'B': 2}[s[1]]; base != 0 {
			n, err := strconv.ParseUint(s[2:], base, 64)
			return float64(n), err == nil
		}
	}
	switch strings.TrimLeft(s, "+-") {
	case "Infinity":
		return math.Inf(1), true
	case "inf", "Inf", "infinity", "nan", "NaN":
		return 0, false
	}
	if strings.ContainsAny(s, "_xXpP") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// jsString is String(v) of a JSON value.
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
	case int:
		return strconv.Itoa(t)
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			if e != nil {
				parts[i] = jsString(e, true)
			}
		}
		return strings.Join(parts, ",")
	}
	return "[object Object]"
}
