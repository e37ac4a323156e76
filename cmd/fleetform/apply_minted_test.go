package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestApply_TwoClusterMintedCredentialLinesMatchPlan: on a first
// two-cluster apply, the per-change lines report the generated service
// token and API key as the plan announced them (created), not as the update
// that finishes their rotation journal after the main apply.
func TestApply_TwoClusterMintedCredentialLinesMatchPlan(t *testing.T) {
	dir, _ := twoClusterRepo(t, "")
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"plan", "-c", dir}, &out, &errb); err != nil {
		t.Fatalf("plan: %v\n%s", err, errb.String())
	}
	for _, want := range []string{`service_token "fleetform-remote-west-1" will be created`, `api_key "fleetform-remote-west-kibana-1" will be created`} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("plan lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run(t.Context(), []string{"apply", "-c", dir}, &out, &errb); err != nil {
		t.Fatalf("apply: %v\n%s\n%s", err, out.String(), errb.String())
	}
	for _, want := range []string{`west: + service_token "fleetform-remote-west-1": created`, `west: + api_key "fleetform-remote-west-kibana-1": created`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("apply output lacks %q:\n%s", want, out.String())
		}
	}
	for _, bad := range []string{`~ service_token`, `~ api_key`, `updated`} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("apply output reports %q, which the plan did not announce:\n%s", bad, out.String())
		}
	}
}
