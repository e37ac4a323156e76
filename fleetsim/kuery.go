package fleetsim

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// --- kuery ---------------------------------------------------------------

var kueryTerm = regexp.MustCompile(`^\s*(?:(?:fleet|ingest)-agent-policies\.)?([^\s:()"]+)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|([^\s()"]+))\s*`)

// parseKuery understands the KQL Fleet clients use on agent policies:
// field:"value" or field:value terms joined by `or`/`and` (and binds tighter),
// with optional parentheses around the whole expression.
func parseKuery(k string) (func(*agentPolicy) bool, error) {
	s := strings.TrimSpace(k)
	for strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	var ors [][]func(*agentPolicy) bool
	var ands []func(*agentPolicy) bool
	rest := s
	for {
		m := kueryTerm.FindStringSubmatchIndex(rest)
		if m == nil {
			return nil, fmt.Errorf("KQLSyntaxError: Expected field:value but found %q", rest)
		}
		fieldName := rest[m[2]:m[3]]
		var value string
		if m[4] >= 0 {
			value = strings.ReplaceAll(rest[m[4]:m[5]], `\"`, `"`)
		} else {
			value = rest[m[6]:m[7]]
		}
		if !slices.Contains(agentPolicyFields, fieldName) {
			return nil, unknownFieldError{field: fieldName}
		}
		ands = append(ands, kueryMatch(fieldName, value))
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

// agentPolicyFields are the mapped fields of ingest-agent-policies a kuery may name.
var agentPolicyFields = []string{"id", "name", "namespace", "description", "is_managed", "is_default", "is_default_fleet_server",
	"has_fleet_server", "is_preconfigured", "status", "updated_at", "updated_by", "revision", "data_output_id",
	"monitoring_output_id", "download_source_id", "fleet_server_host_id", "supports_agentless", "is_protected",
	"inactivity_timeout", "unenroll_timeout", "monitoring_enabled", "schema_version", "space_ids", "agents"}

type unknownFieldError struct{ field string }

func (e unknownFieldError) Error() string {
	return fmt.Sprintf("This key '%s' does NOT exist in ingest-agent-policies saved object index patterns", e.field)
}

// searchFilter is the SO `search` fallback: the term in the name or description.
func searchFilter(term string) func(*agentPolicy) bool {
	t := strings.ToLower(strings.Trim(strings.TrimSpace(term), `"*`))
	return func(p *agentPolicy) bool {
		return strings.Contains(strings.ToLower(p.str("name")), t) || strings.Contains(strings.ToLower(p.str("description")), t)
	}
}

func kueryMatch(fieldName, value string) func(*agentPolicy) bool {
	return func(p *agentPolicy) bool {
		var v any
		if fieldName == "id" {
			v = p.ID
		} else {
			v = p.Attrs[fieldName]
		}
		switch t := v.(type) {
		case string:
			if value == "*" {
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
