package fleetsim

import (
	"fmt"
	"testing"
)

// rvList builds a required_versions list from version, percentage pairs; a
// nil percentage leaves the key out.
func rvList(pairs ...any) []any {
	out := []any{}
	for i := 0; i < len(pairs); i += 2 {
		m := map[string]any{"version": pairs[i]}
		if pairs[i+1] != nil {
			m["percentage"] = pairs[i+1]
		}
		out = append(out, m)
	}
	return out
}

// validateRequiredVersions on create and update, at the newest Kibana
// (Enterprise licence): the cases of
// services/agent_policies/required_versions.test.ts ("feature flag enabled"),
// with the message AgentPolicyInvalidError carries to the 400 answer.
func TestRequiredVersions_Validity(t *testing.T) {
	const name = "test policy"
	tests := []struct {
		test string // required_versions.test.ts case
		rv   []any
		want string // "" = accepted
	}{
		{"should throw error if duplicate versions", rvList("9.0.0", 10.0, "9.0.0", 10.0), "duplicate versions not allowed"},
		{"should throw error if has invalid semver version", rvList("9.0.0", 10.0, "9.0.0invalid", 10.0), "invalid semver version 9.0.0invalid"},
		{"should throw error if sum of percentages exceeds 100", rvList("9.0.0", 100.0, "9.1.0", 10.0), "sum of percentages cannot exceed 100"},
		{"should throw error if percentage is 0", rvList("9.0.0", 100.0, "9.1.0", 0.0), "percentage must be greater than 0"},
		{"should throw error if percentage is less than 1", rvList("9.0.0", 100.0, "9.1.0", 0.5), "percentage must be greater than 0"},
		{"should not throw error if valid required_versions", rvList("9.0.0", 90.0, "9.1.0", 10.0), ""},
		// Each rule runs over the whole list before the next
		// (checkTargetVersionsValidity): a duplicate after a bad
		// percentage is still reported as the duplicate.
		{"checkTargetVersionsValidity order", rvList("9.0.0", 0.0, "9.1.0", 10.0, "9.1.0", 10.0), "duplicate versions not allowed"},
		{"checkTargetVersionsValidity order, semver after percentage", rvList("x", 10.0, "9.1.0", 0.0), "percentage must be greater than 0"},
		{"empty list", []any{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.test, func(t *testing.T) {
			_, kb := startMain(t)
			r := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "c", "name": name, "namespace": "default", "required_versions": tc.rv})
			newAgentPolicy(t, kb, "u")
			u := kb.do("PUT", "/api/fleet/agent_policies/u", map[string]any{"name": name + " u", "namespace": "default", "required_versions": tc.rv})
			if tc.want == "" {
				r.must(t, 200)
				u.must(t, 200)
				return
			}
			r.wantError(t, 400, fmt.Sprintf("Policy %q failed required_versions validation: %s", name, tc.want))
			u.wantError(t, 400, fmt.Sprintf("Policy %q failed required_versions validation: %s", name+" u", tc.want))
			kb.do("GET", "/api/fleet/agent_policies/c", nil).must(t, 404)
			if got := kb.do("GET", "/api/fleet/agent_policies/u", nil).must(t, 200).item()["required_versions"]; got != nil {
				t.Errorf("refused update stored required_versions %v", got)
			}
		})
	}
}

// The gates before the validity rules, by version and licence:
// required_versions.test.ts "should throw error if feature flag is disabled"
// (the flag is off by default before 9.1.0, elastic/kibana#219932) and
// "should throw error if license is not at least Enterprise" (from 9.1.0,
// elastic/kibana#224393: FleetUnauthorizedError, 403, checked before the
// list's own validity — the test's list has duplicate versions). Absent or
// null required_versions is never checked; an empty list is (it is truthy in
// JavaScript).
func TestRequiredVersions_FlagAndLicence(t *testing.T) {
	const (
		flagOff = `Policy "p" failed validation: required_versions are not allowed when automatic upgrades feature is disabled`
		licence = "Agents auto upgrades feature requires at least Enterprise license"
	)
	dup := rvList("9.0.0", 10.0, "9.0.0", 10.0)
	valid := rvList("9.1.0", 10.0)
	tests := []struct {
		version, license string
		rv               any
		status           int
		msg              string
	}{
		{"9.0.0", "enterprise", valid, 400, flagOff},
		{"9.0.8", "platinum", valid, 400, flagOff},
		{"9.0.8", "enterprise", []any{}, 400, flagOff},
		{"9.0.8", "platinum", nil, 200, ""},
		{"9.1.0", "platinum", dup, 403, licence},
		{"9.1.0", "platinum", []any{}, 403, licence},
		{"9.1.0", "basic", valid, 403, licence},
		{"9.1.0", "platinum", nil, 200, ""},
		{"9.1.0", "enterprise", valid, 200, ""},
		{"9.3.0", "trial", valid, 200, ""}, // isEnterprise: hasAtLeast('enterprise'), trial ranks above
		{"9.3.0", "platinum", valid, 403, licence},
		// The 8.19 line (gateAutomaticUpgrades, gateRequiredVersionsLicence):
		// the flag is on from 8.19.0 (elastic/kibana#221210), the licence gate
		// from 8.19.1 (elastic/kibana#229752).
		{"8.19.0", "basic", valid, 200, ""},
		{"8.19.0", "platinum", []any{}, 200, ""},
		{"8.19.1", "basic", valid, 403, licence},
		{"8.19.1", "enterprise", valid, 200, ""},
		{"8.19.5", "platinum", valid, 403, licence},
	}
	for _, tc := range tests {
		for _, method := range []string{"POST", "PUT"} {
			t.Run(fmt.Sprintf("%s %s %v %s", tc.version, tc.license, tc.rv, method), func(t *testing.T) {
				_, kb := startMain(t, ClusterConfig{Name: "main", Version: tc.version, License: tc.license})
				body := map[string]any{"name": "p", "namespace": "default", "required_versions": tc.rv}
				path := "/api/fleet/agent_policies"
				if method == "PUT" {
					newAgentPolicy(t, kb, "p1")
					path += "/p1"
				} else {
					body["id"] = "p1"
				}
				r := kb.do(method, path, body)
				if tc.status == 200 {
					r.must(t, 200)
					return
				}
				r.wantError(t, tc.status, tc.msg)
				if method == "POST" {
					kb.do("GET", "/api/fleet/agent_policies/p1", nil).must(t, 404)
				} else if got := kb.do("GET", "/api/fleet/agent_policies/p1", nil).must(t, 200).item(); got["name"] != "P p1" || got["required_versions"] != nil {
					t.Errorf("refused update changed the policy: name %v, required_versions %v", got["name"], got["required_versions"])
				}
			})
		}
	}
}
