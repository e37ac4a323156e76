package fleetsim

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// --- kuery ---------------------------------------------------------------

var kueryTerm = regexp.MustCompile(`^\s*([^\s:()"]+)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|([^\s()"]+))\s*`)

// legacyAgentPolicyType is LEGACY_AGENT_POLICY_SAVED_OBJECT_TYPE, the type
// GET /api/fleet/agent_policies validates kueries against whatever type
// the deployment uses (server/types/rest_spec/agent_policy.ts
// GetAgentPoliciesRequestSchema: validateKuery(value,
// [LEGACY_AGENT_POLICY_SAVED_OBJECT_TYPE], AGENT_POLICY_MAPPINGS, true)), so
// its messages name ingest-agent-policies on space-aware clusters too. The
// saved-objects client's own errors never reach the caller: the service
// falls back to a free-text search on any 400 that is not a
// KQLSyntaxError (server/services/agent_policy.ts list).
const legacyAgentPolicyType = "ingest-agent-policies"

// parseKuery understands the KQL Fleet clients use on agent policies:
// field:"value" or field:value terms joined by `or`/`and` (and binds tighter),
// with optional parentheses around the whole expression. A field may carry
// either agent-policy type as prefix (the service's normalizeKuery rewrites
// both, elastic/kibana#189387).
func parseKuery(k string) (func(*agentPolicy) bool, error) {
	s := strings.TrimSpace(k)
	for strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	var ors [][]func(*agentPolicy) bool
	var ands []func(*agentPolicy) bool
	var unknown unknownFieldError
	rest := s
	for {
		m := kueryTerm.FindStringSubmatchIndex(rest)
		if m == nil {
			return nil, fmt.Errorf("KQLSyntaxError: Expected field:value but found %q", rest)
		}
		key := rest[m[2]:m[3]]
		var value string
		quoted := m[4] >= 0
		if quoted {
			value = unquoteKQL(rest[m[4]:m[5]])
		} else {
			value = rest[m[6]:m[7]]
		}
		if fieldName, msg := agentPolicyKueryField(key); msg != "" {
			unknown.msgs = append(unknown.msgs, msg)
		} else {
			ands = append(ands, kueryMatch(fieldName, value, quoted))
		}
		rest = rest[m[1]:]
		if rest == "" {
			break
		}
		lower := strings.ToLower(rest)
		switch {
		case strings.HasPrefix(lower, "and "):
			rest = rest[4:]
		case strings.HasPrefix(lower, "or "):
			ors = append(ors, ands)
			ands = nil
			rest = rest[3:]
		default:
			return nil, fmt.Errorf("KQLSyntaxError: Expected AND, OR or end of input but %q found", rest)
		}
	}
	if len(unknown.msgs) > 0 {
		return nil, unknown
	}
	ors = append(ors, ands)
	return func(p *agentPolicy) bool {
		for _, group := range ors {
			all := true
			for _, f := range group {
				if !f(p) {
					all = false
					break
				}
			}
			if all {
				return true
			}
		}
		return false
	}, nil
}

// agentPolicyKueryField is hasFilterKeyError (Fleet's
// server/routes/utils/filter_utils.ts, skipNormalization) on the agent
// policy mappings for one key: the attribute it names, or the message.
// filter_utils.test.ts: "Kuery with non existent parameter wrapped by SO"
// (`This key 'ingest-agent-policies.non_existent_parameter' does NOT exist
// in ingest-agent-policies saved object index patterns`), "Invalid search by
// non existent parameter" (`This type 'non_existent_parameter' is not
// allowed`).
func agentPolicyKueryField(key string) (string, string) {
	typ, field, dotted := strings.Cut(key, ".")
	if !dotted {
		if slices.Contains(agentPolicyFields, key) {
			return key, ""
		}
		return "", fmt.Sprintf("This type '%s' is not allowed", key)
	}
	if (typ == legacyAgentPolicyType || typ == "fleet-agent-policies") && slices.Contains(agentPolicyFields, field) {
		return field, ""
	}
	return "", fmt.Sprintf("This key '%s' does NOT exist in %s saved object index patterns", key, legacyAgentPolicyType)
}

// agentPolicyFields are the mapped fields of ingest-agent-policies a kuery may name.
var agentPolicyFields = []string{"id", "name", "namespace", "description", "is_managed", "is_default", "is_default_fleet_server",
	"has_fleet_server", "is_preconfigured", "status", "updated_at", "updated_by", "revision", "data_output_id",
	"monitoring_output_id", "download_source_id", "fleet_server_host_id", "supports_agentless", "is_protected",
	"inactivity_timeout", "unenroll_timeout", "monitoring_enabled", "schema_version", "space_ids", "agents"}

// unknownFieldError is validateKuery's error for keys the mappings lack:
// every key's message, joined by newlines, after "KQLSyntaxError: ".
type unknownFieldError struct{ msgs []string }

func (e unknownFieldError) Error() string {
	return "KQLSyntaxError: " + strings.Join(e.msgs, "\n")
}

// searchFilter is the SO `search` fallback: the term in the name or description.
func searchFilter(term string) func(*agentPolicy) bool {
	t := strings.ToLower(strings.Trim(strings.TrimSpace(term), `"*`))
	return func(p *agentPolicy) bool {
		return strings.Contains(strings.ToLower(p.str("name")), t) || strings.Contains(strings.ToLower(p.str("description")), t)
	}
}

// kueryMatch matches one field:value term. An unquoted * is KQL's exists
// query (field:*); a quoted value is literal, so name:"*" selects only a
// policy named * (kbn-es-query grammar.peggy: wildcards are read in
// UnquotedLiteral only; FuzzParseKuery found fleetsim reading "*" as exists).
func kueryMatch(fieldName, value string, quoted bool) func(*agentPolicy) bool {
	return func(p *agentPolicy) bool {
		var v any
		if fieldName == "id" {
			v = p.ID
		} else {
			v = p.Attrs[fieldName]
		}
		switch t := v.(type) {
		case string:
			if value == "*" && !quoted {
				return t != ""
			}
			return t == value
		case bool:
			return fmt.Sprint(t) == value
		case float64:
			return fmt.Sprint(t) == value
		case nil:
			return false
		}
		return fmt.Sprint(v) == value
	}
}

// --- package-policy kuery --------------------------------------------------
//
// GET /api/fleet/package_policies checks a kuery twice, and the two checks
// name different saved-object types:
//
//  1. The route's query schema (server/types/rest_spec/package_policy.ts
//     GetPackagePoliciesRequestSchema) runs validateKuery(value,
//     [PACKAGE_POLICY_SAVED_OBJECT_TYPE], PACKAGE_POLICIES_MAPPINGS, true)
//     (server/routes/utils/filter_utils.ts). The type is a constant, not the
//     one in use: fleet-package-policies since elastic/kibana#189387 (8.16.0)
//     renamed PACKAGE_POLICY_SAVED_OBJECT_TYPE (common/constants/
//     package_policy.ts), ingest-package-policies before — whether or not
//     the deployment ran the space awareness migration. Its errors are 400
//     "[request query.kuery]: KQLSyntaxError: <errors joined by \n>".
//  2. The package policy service (server/services/package_policy.ts list)
//     rewrites both prefixes, ingest-package-policies. and
//     fleet-package-policies., to "<type in use>.attributes." (its
//     normalizeKuery; #189387: "The kuery is rewritten to match the used
//     object type so both the old and the new saved object type are now
//     working") and hands the filter to the saved-objects client, whose
//     validateConvertFilterToKueryNode (core saved-objects filter_utils.ts)
//     checks it against the type in use (getPackagePolicySavedObjectType:
//     fleet-package-policies once space-aware, ingest-package-policies
//     otherwise) and throws createBadRequestError, whose message ends in
//     ": Bad Request" (core filter_utils.test.ts "...saved object index
//     patterns: Bad Request"); Fleet's error handler answers it as a 400.
//
// So `package.name:nginx` passes the schema (a mapped field) and fails at
// the client: `This type package is not allowed: Bad Request` (get.ts
// "should return 400 if the passed kuery does not have prefix
// ingest-package-policies"), and `name:x` fails there naming the type in use.

// versionPolicySOTypes is elastic/kibana#189387 (labelled v8.16.0): the
// fleet-agent-policies and fleet-package-policies types, and kueries on
// either prefix.
const versionPolicySOTypes = "8.16.0"

const (
	legacyPackagePolicyType = "ingest-package-policies"
	newPackagePolicyType    = "fleet-package-policies"
)

// packagePolicyKueryFields are the mapped package-policy fields fleetsim
// filters on (PACKAGE_POLICIES_MAPPINGS holds more; a kuery naming one of
// those is refused as unmapped).
var packagePolicyKueryFields = map[string]func(*packagePolicy) []string{
	"package.name": func(pp *packagePolicy) []string { return []string{pp.PackageName} },
	"name":         func(pp *packagePolicy) []string { return []string{pp.Name} },
	"policy_ids":   func(pp *packagePolicy) []string { return pp.PolicyIDs },
	"policy_id":    func(pp *packagePolicy) []string { return pp.PolicyIDs },
	"output_id": func(pp *packagePolicy) []string {
		if pp.OutputID == nil {
			return nil
		}
		return []string{*pp.OutputID}
	},
}

// packagePolicyMapped is fieldDefined on PACKAGE_POLICIES_MAPPINGS: a field,
// or an object holding fields (package).
func packagePolicyMapped(path string) bool {
	if packagePolicyKueryFields[path] != nil {
		return true
	}
	for f := range packagePolicyKueryFields {
		if strings.HasPrefix(f, path+".") {
			return true
		}
	}
	return false
}

// packagePolicySchemaType is the type the route's kuery validation names.
func packagePolicySchemaType(version string) string {
	if versionAtLeast(version, versionPolicySOTypes) {
		return newPackagePolicyType
	}
	return legacyPackagePolicyType
}

// packagePolicySchemaKeyError is hasFilterKeyError (Fleet's
// server/routes/utils/filter_utils.ts, skipNormalization) for one key;
// filter_utils.test.ts "Invalid search by non existent parameter" (`This
// type 'non_existent_parameter' is not allowed`), "invalid search by nested
// wrong parameter - without wrapped SO" (`This key 'package.is_managed' does
// NOT exist in <type> saved object index patterns`), "Search by package
// name without SO" (valid). Either package-policy prefix counts as the
// type's, as the service's normalizeKuery treats them (see
// docs/fleetsim.md "Spaces" on two-segment keys).
func packagePolicySchemaKeyError(key, schemaType string) string {
	parts := strings.Split(key, ".")
	if len(parts) == 1 {
		if packagePolicyMapped(key) {
			return ""
		}
		return fmt.Sprintf("This type '%s' is not allowed", key)
	}
	var defined bool
	switch {
	case len(parts) == 2 && (parts[0] == schemaType || parts[0] == legacyPackagePolicyType || parts[0] == newPackagePolicyType):
		defined = packagePolicyMapped(parts[1])
	case len(parts) == 2:
		defined = packagePolicyMapped(key)
	default: // fieldDefined also tries the key without its first segment
		defined = packagePolicyMapped(key) || packagePolicyMapped(strings.Join(parts[1:], "."))
	}
	if defined {
		return ""
	}
	return fmt.Sprintf("This key '%s' does NOT exist in %s saved object index patterns", key, schemaType)
}

// packagePolicyClientKeyError is the saved-objects client's
// hasFilterKeyError (core filter_utils.ts) for one key after Fleet's
// normalizeKuery, against the type in use; "" and the field otherwise.
func (c *Cluster) packagePolicyClientKeyError(key string) (field, msg string) {
	inUse := c.packagePolicyType()
	typ, rest, dotted := strings.Cut(key, ".")
	if !dotted {
		return "", fmt.Sprintf("This key '%s' need to be wrapped by a saved object type like %s", key, inUse)
	}
	rewritten := typ == inUse ||
		versionAtLeast(c.cfg.Version, versionPolicySOTypes) && (typ == legacyPackagePolicyType || typ == newPackagePolicyType)
	if !rewritten {
		return "", fmt.Sprintf("This type %s is not allowed", typ)
	}
	rest = strings.TrimPrefix(rest, "attributes.")
	if packagePolicyKueryFields[rest] == nil {
		return "", fmt.Sprintf("This key '%s.attributes.%s' does NOT exist in %s saved object index patterns", inUse, rest, inUse)
	}
	return rest, ""
}

// packagePolicyKuery understands `field:value` terms joined by `or`, checked
// as described above.
func (c *Cluster) packagePolicyKuery(k string) (func(*packagePolicy) bool, *kresp) {
	type term struct{ key, value string }
	var terms []term
	for _, part := range splitOr(k) {
		f, v, found := strings.Cut(strings.TrimSpace(part), ":")
		if !found {
			return nil, badRequest("KQLSyntaxError: Expected field:value but found %q", part)
		}
		terms = append(terms, term{strings.TrimSpace(f), strings.Trim(strings.TrimSpace(v), `"`)})
	}
	schemaType := packagePolicySchemaType(c.cfg.Version)
	var errs []string
	for _, t := range terms {
		if e := packagePolicySchemaKeyError(t.key, schemaType); e != "" {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, badRequest("[request query.kuery]: KQLSyntaxError: %s", strings.Join(errs, "\n"))
	}
	var matchers []func(*packagePolicy) bool
	for _, t := range terms {
		field, e := c.packagePolicyClientKeyError(t.key)
		if e != "" {
			errs = append(errs, e)
			continue
		}
		get, val := packagePolicyKueryFields[field], t.value
		matchers = append(matchers, func(pp *packagePolicy) bool { return slices.Contains(get(pp), val) })
	}
	if len(errs) > 0 {
		return nil, badRequest("%s: Bad Request", strings.Join(errs, "\n"))
	}
	return func(pp *packagePolicy) bool {
		return slices.ContainsFunc(matchers, func(m func(*packagePolicy) bool) bool { return m(pp) })
	}, nil
}

// splitOr splits a kuery on `or`, dropping parentheses around the whole.
func splitOr(k string) []string {
	s := strings.TrimSpace(k)
	for strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	var out []string
	for _, p := range strings.Split(s, " or ") {
		out = append(out, strings.Split(p, " OR ")...)
	}
	return out
}

// unquoteKQL is the text of a quoted KQL value, as KQL's grammar reads it
// (src/platform/packages/shared/kbn-es-query/src/kuery/grammar/grammar.peggy,
// QuotedCharacter): \\ is \ and \" is ", \t, \r and \n are whitespace,
// \uXXXX is that character, and any other backslash stays as it is.
func unquoteKQL(q string) string {
	if !strings.Contains(q, `\`) {
		return q
	}
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if q[i] != '\\' || i+1 == len(q) {
			b.WriteByte(q[i])
			continue
		}
		switch q[i+1] {
		case '\\', '"':
			b.WriteByte(q[i+1])
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		case 'u':
			r, err := strconv.ParseUint(q[i+2:min(i+6, len(q))], 16, 32)
			if err != nil || i+6 > len(q) {
				b.WriteByte('\\')
				continue
			}
			b.WriteRune(rune(r))
			i += 4
		default:
			b.WriteByte('\\')
			continue
		}
		i++
	}
	return b.String()
}
