package fleetsim

import "testing"

// The package info item carries the package's vars, policy templates and
// data streams (getPackageInfo, FLEET/server/services/epm/packages/get.ts:
// `...packageInfo, ...additions, data_streams: filteredDataStreams,
// policy_templates: filteredPolicyTemplates`); a var's secret flag only
// with full=true, the archive's definitions — without it getInfoHandler
// passes skipArchive: true and answers the registry's info, whose
// variables have no secret field (elastic/package-registry
// packages/datastream.go, type Variable).
func TestEPM_PackageInfoDefinitions_SecretOnlyWithFull(t *testing.T) {
	_, kb := startMain(t)
	secretOf := func(item map[string]any, name string) any {
		for _, v := range item["vars"].([]any) {
			if m := v.(map[string]any); m["name"] == name {
				return m["secret"]
			}
		}
		t.Fatalf("no package var %s in %v", name, item["vars"])
		return nil
	}
	full := kb.do("GET", "/api/fleet/epm/packages/azure/1.1.0?full=true", nil).must(t, 200).item()
	if secretOf(full, "connection_string") != true || secretOf(full, "eventhub") != nil {
		t.Errorf("full=true vars = %v", full["vars"])
	}
	if pt := full["policy_templates"].([]any); len(pt) != 1 || getPathT(pt[0].(map[string]any), "name") != "activitylogs" {
		t.Errorf("policy_templates = %v", full["policy_templates"])
	}
	ds := full["data_streams"].([]any)
	if len(ds) != 1 || getPathT(ds[0].(map[string]any), "dataset") != "azure.activitylogs" || getPathT(ds[0].(map[string]any), "path") != "activitylogs" {
		t.Errorf("data_streams = %v", ds)
	}
	plain := kb.do("GET", "/api/fleet/epm/packages/azure/1.1.0", nil).must(t, 200).item()
	if secretOf(plain, "connection_string") != nil {
		t.Errorf("without full the registry's info has no secret field: %v", plain["vars"])
	}
	// A package without a built-in manifest answers no definitions, as its
	// package policies have no inputs in fleetsim.
	if item := kb.do("GET", "/api/fleet/epm/packages/apache/2.0.0?full=true", nil).must(t, 200).item(); item["policy_templates"] != nil {
		t.Errorf("apache policy_templates = %v", item["policy_templates"])
	}
}
