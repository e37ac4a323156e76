package fleetsim

import (
	"testing"
)

// advanced_settings follows getSettingsAPISchema (FLEET/server/services/
// form_settings/form_settings.ts) over AGENT_POLICY_ADVANCED_SETTINGS
// (FLEET/common/settings/agent_policy_settings.ts): known keys only, each
// value checked by its zod schema, the message stringifyZodError's.
func TestAdvancedSettings_TypedPerAgentPolicySettings(t *testing.T) {
	const p = "[request body.advanced_settings."
	tests := []struct {
		name     string
		settings map[string]any
		message  string // "" accepted
	}{
		{"every key, valid", map[string]any{
			"agent_limits_go_max_procs": 2.0, "agent_download_timeout": "2h", "agent_download_target_directory": "/tmp/a",
			"agent_logging_metrics_period": "30s", "agent_logging_level": "debug", "agent_logging_to_files": false,
			"agent_logging_files_rotateeverybytes": 10000.0, "agent_logging_files_keepfiles": 7.0,
			"agent_logging_files_interval": "1h", "agent_monitoring_runtime_experimental": "otel",
			"agent_internal": "agent:\n  internal:\n    runtime:\n      default: otel\n"}, ""},
		{"nulls", map[string]any{"agent_limits_go_max_procs": nil, "agent_logging_level": nil}, ""},
		{"unknown key", map[string]any{"agent_go_max_procs": 2.0}, p + "agent_go_max_procs]: definition for this key is missing"},
		{"go_max_procs a string", map[string]any{"agent_limits_go_max_procs": "2"},
			"[request body.advanced_settings.agent_limits_go_max_procs]: types that failed validation:\n- " +
				p + "agent_limits_go_max_procs.0]: Expected number, received string\n- " +
				p + "agent_limits_go_max_procs.1]: expected value to equal [null]"},
		{"go_max_procs negative", map[string]any{"agent_limits_go_max_procs": -1.0},
			"[request body.advanced_settings.agent_limits_go_max_procs]: types that failed validation:\n- " +
				p + "agent_limits_go_max_procs.0]: Number must be greater than or equal to 0\n- " +
				p + "agent_limits_go_max_procs.1]: expected value to equal [null]"},
		{"keepfiles not an integer", map[string]any{"agent_logging_files_keepfiles": 1.5},
			"[request body.advanced_settings.agent_logging_files_keepfiles]: types that failed validation:\n- " +
				p + "agent_logging_files_keepfiles.0]: Expected integer, received float\n- " +
				p + "agent_logging_files_keepfiles.1]: expected value to equal [null]"},
		{"download timeout without a unit", map[string]any{"agent_download_timeout": "120"},
			"[request body.advanced_settings.agent_download_timeout]: types that failed validation:\n- " +
				p + "agent_download_timeout.0]: Must be a string with a time unit, e.g. 30s, 5m, 2h\n- " +
				p + "agent_download_timeout.1]: expected value to equal [null]"},
		{"unknown log level", map[string]any{"agent_logging_level": "trace"},
			"[request body.advanced_settings.agent_logging_level]: types that failed validation:\n- " +
				p + "agent_logging_level.0]: Invalid enum value. Expected 'error' | 'warning' | 'info' | 'debug', received 'trace'\n- " +
				p + "agent_logging_level.1]: expected value to equal [null]"},
		{"internal not YAML", map[string]any{"agent_internal": "a: [1"},
			"[request body.advanced_settings.agent_internal]: types that failed validation:\n- " +
				p + "agent_internal.0]: Must be a valid YAML string\n- " +
				p + "agent_internal.1]: expected value to equal [null]"},
	}
	_, kb := startMain(t, ClusterConfig{Name: "main"})
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"name": "adv " + string(rune('a'+i)), "namespace": "default", "advanced_settings": tc.settings}
			r := kb.do("POST", "/api/fleet/agent_policies", body)
			if tc.message != "" {
				r.wantError(t, 400, tc.message)
				return
			}
			r.must(t, 200)
		})
	}
}

// The entries with a truthy zod default (agent_logging_level 'info',
// agent_logging_to_files true) are schema.oneOf(..., {defaultValue}): a
// policy sent with advanced_settings stores them when absent.
func TestAdvancedSettings_DefaultsFilled(t *testing.T) {
	_, kb := startMain(t, ClusterConfig{Name: "main"})
	item := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "adv", "namespace": "default",
		"advanced_settings": map[string]any{"agent_limits_go_max_procs": 2.0}}).must(t, 200).item()
	adv, _ := item["advanced_settings"].(map[string]any)
	if adv["agent_logging_level"] != "info" || adv["agent_logging_to_files"] != true || adv["agent_limits_go_max_procs"] != 2.0 {
		t.Errorf("advanced_settings = %v, want go_max_procs 2 with the logging defaults", adv)
	}
	if _, has := adv["agent_monitoring_runtime_experimental"]; has {
		t.Errorf("agent_monitoring_runtime_experimental filled from a falsy default: %v", adv)
	}
}
