package fleetsim

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v4"
)

// Agent policy advanced_settings, typed as Kibana types them:
// getSettingsAPISchema('AGENT_POLICY_ADVANCED_SETTINGS')
// (FLEET/server/services/form_settings/form_settings.ts) turns each entry of
// AGENT_POLICY_ADVANCED_SETTINGS (FLEET/common/settings/agent_policy_settings.ts)
// that has an api_field into a key of
// advanced_settings: schema.maybe(schema.object({...})) — so an unknown key
// is refused — whose value is schema.any({validate}) running the entry's zod
// schema and answering stringifyZodError (@kbn/zod-helpers: the issue
// message, path-less at the top level). An entry whose zod schema has a
// truthy default is schema.oneOf([any, literal(null)], {defaultValue});
// any other is schema.maybe(schema.nullable(any)).
//
// The zod messages are zod 3's (docs/fleetsim-inferred.md); the keys and
// their types follow the newest stored agent_policy_settings.ts, at every
// version; keys newer than advanced_settings are removed by version in
// versions.go versionedNestedFields (docs/fleetsim-inferred.md 59).
var advancedSettingsSchema = tObject{fields: []field{
	{name: "agent_limits_go_max_procs", t: tNullable{inner: tZod(zodIntMin0)}},
	{name: "agent_download_timeout", t: tNullable{inner: tZod(zodDuration)}},
	{name: "agent_download_target_directory", t: tNullable{inner: tZod(zodString)}},
	{name: "agent_logging_metrics_period", t: tNullable{inner: tZod(zodDuration)}},
	// z.enum(AGENT_LOG_LEVELS).default(DEFAULT_LOG_LEVEL): 'info'.
	{name: "agent_logging_level", t: tNullable{inner: tZod(zodEnum(agentLogLevels...))}, def: "info"},
	// z.boolean().default(true).
	{name: "agent_logging_to_files", t: tNullable{inner: tZod(zodBool)}, def: true},
	{name: "agent_logging_files_rotateeverybytes", t: tNullable{inner: tZod(zodIntMin0)}},
	{name: "agent_logging_files_keepfiles", t: tNullable{inner: tZod(zodIntMin0)}},
	{name: "agent_logging_files_interval", t: tNullable{inner: tZod(zodDuration)}},
	// z.enum(['', 'process', 'otel']).default(''): a falsy default, so maybe(nullable).
	{name: "agent_monitoring_runtime_experimental", t: tNullable{inner: tZod(zodEnum("", "process", "otel"))}},
	{name: "agent_internal", t: tNullable{inner: tZod(zodYAML)}},
}}

// agentLogLevels are AGENT_LOG_LEVELS (error, warning, info, debug; the
// default is AGENT_LOG_LEVELS.INFO).
var agentLogLevels = []string{"error", "warning", "info", "debug"}

// tZod is schema.any({validate}) around a zod schema: the function answers
// stringifyZodError's message, "" when the value parses.
type tZod func(v any) string

func (t tZod) check(path string, v any, present bool) (any, *validationError) {
	if msg := t(v); msg != "" {
		return nil, verr(path, "%s", msg)
	}
	return v, nil
}

// zodType is zod 3's name of a JSON value's parsed type.
func zodType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		if math.IsNaN(x) {
			return "nan"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

// zodIntMin0 is z.number().int().min(0).
func zodIntMin0(v any) string {
	f, ok := v.(float64)
	if !ok {
		return fmt.Sprintf("Expected number, received %s", zodType(v))
	}
	if f != math.Trunc(f) {
		return "Expected integer, received float"
	}
	if f < 0 {
		return "Number must be greater than or equal to 0"
	}
	return ""
}

func zodString(v any) string {
	if _, ok := v.(string); !ok {
		return fmt.Sprintf("Expected string, received %s", zodType(v))
	}
	return ""
}

func zodBool(v any) string {
	if _, ok := v.(bool); !ok {
		return fmt.Sprintf("Expected boolean, received %s", zodType(v))
	}
	return ""
}

// durationPattern is zodStringWithDurationValidation's refine: /^(\d+[s|m|h])?$/.
var durationPattern = regexp.MustCompile(`^(\d+[s|m|h])?$`)

func zodDuration(v any) string {
	if msg := zodString(v); msg != "" {
		return msg
	}
	if !durationPattern.MatchString(v.(string)) {
		return "Must be a string with a time unit, e.g. 30s, 5m, 2h"
	}
	return ""
}

// zodYAML is zodStringWithYamlValidation: a string js-yaml can load.
func zodYAML(v any) string {
	if msg := zodString(v); msg != "" {
		return msg
	}
	var out any
	if err := yaml.Unmarshal([]byte(v.(string)), &out); err != nil {
		return "Must be a valid YAML string"
	}
	return ""
}

// zodEnum is z.enum(values).
func zodEnum(values ...string) func(any) string {
	quoted := make([]string, len(values))
	for i, s := range values {
		quoted[i] = "'" + s + "'"
	}
	list := strings.Join(quoted, " | ")
	return func(v any) string {
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("Expected %s, received %s", list, zodType(v))
		}
		for _, want := range values {
			if s == want {
				return ""
			}
		}
		return fmt.Sprintf("Invalid enum value. Expected %s, received '%s'", list, s)
	}
}
