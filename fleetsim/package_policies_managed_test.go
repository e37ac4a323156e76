package fleetsim

import (
	"testing"
)

// Kibana's refusals of writes to managed integration policies and to the
// integrations of hosted agent policies, with the exact messages of
// FLEET/server/services/package_policy.ts (create: validateIsNotHostedPolicy;
// update: `packagePolicyUpdate.is_managed && !options?.force`; delete: the
// is_managed package policy, then the hosted agent policies) and the
// suffixes of FLEET/server/errors/index.ts (HostedAgentPolicyRestrictionRelatedError,
// PackagePolicyRestrictionRelatedError), 400 by FLEET/server/errors/handlers.ts.
// The statuses and the force escapes are those of
// x-pack/platform/test/fleet_api_integration/apis/package_policy/create.ts,
// update.ts and delete.ts.
func TestPackagePolicy_ManagedRefusals(t *testing.T) {
	const (
		pp        = "/api/fleet/package_policies/"
		hostedMsg = "Cannot remove integrations of hosted agent policy in Fleet because the agent policy is managed by an external orchestration solution, such as Elastic Cloud, Kubernetes, etc. Please make changes using your orchestration solution."
	)
	setup := func(t *testing.T) (kb *client, regular, hosted string) {
		t.Helper()
		_, kb = startMain(t)
		regular = kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Test policy", "namespace": "default"}).must(t, 200).item()["id"].(string)
		hosted = kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Hosted", "namespace": "default", "is_managed": true}).must(t, 200).item()["id"].(string)
		return kb, regular, hosted
	}
	managedPP := func(t *testing.T, kb *client, policyID string) string {
		t.Helper()
		// A full-format create may set is_managed (PackagePolicyBaseSchema),
		// as Kibana's own preconfiguration does.
		item := kb.do("POST", "/api/fleet/package_policies", filetestBody("managed-1", policyID, map[string]any{"is_managed": true})).must(t, 200).item()
		wantEql(t, "is_managed", true, item["is_managed"])
		return item["id"].(string)
	}

	t.Run("create in a hosted agent policy: 400 unless force", func(t *testing.T) {
		kb, _, hosted := setup(t)
		kb.do("POST", "/api/fleet/package_policies", filetestBody("filetest", hosted, nil)).
			wantError(t, 400, "Cannot update integrations of hosted agent policy "+hosted+" in Fleet because the agent policy is managed by an external orchestration solution, such as Elastic Cloud, Kubernetes, etc. Please make changes using your orchestration solution.")
		kb.do("POST", "/api/fleet/package_policies", filetestBody("filetest-1", hosted, map[string]any{"force": true})).wantStatus(t, 200)
	})
	t.Run("update into a hosted agent policy is not refused", func(t *testing.T) {
		// update.ts "should work with multiple policy ids", "should work
		// with valid values on hosted policies".
		kb, regular, hosted := setup(t)
		id := kb.do("POST", "/api/fleet/package_policies", filetestBody("filetest-1", regular, nil)).must(t, 200).item()["id"].(string)
		wantEql(t, "policy_ids", []any{regular, hosted}, kb.do("PUT", pp+id, map[string]any{"policy_ids": []any{regular, hosted}}).must(t, 200).item()["policy_ids"])
	})
	t.Run("update saying is_managed: 400 unless force", func(t *testing.T) {
		kb, regular, _ := setup(t)
		id := managedPP(t, kb, regular)
		kb.do("PUT", pp+id, map[string]any{"description": "x", "is_managed": true}).
			wantError(t, 400, "Cannot update package policy "+id+" in Fleet because the package policy is managed by an external orchestration solution, such as Elastic Cloud, Kubernetes, etc. Please make changes using your orchestration solution.")
		item := kb.do("PUT", pp+id, map[string]any{"description": "x", "is_managed": true, "force": true}).must(t, 200).item()
		wantEql(t, "description", "x", item["description"])
		wantEql(t, "is_managed", true, item["is_managed"])
	})
	t.Run("a simplified update of a managed policy is not refused", func(t *testing.T) {
		// The check reads the request's is_managed, which the simplified
		// schema (SimplifiedCreatePackagePolicyRequestBodySchema) cannot
		// carry; the stored one stays.
		kb, regular, _ := setup(t)
		id := managedPP(t, kb, regular)
		item := kb.do("PUT", pp+id+"?format=simplified", map[string]any{"name": "managed-1", "namespace": "default", "description": "y",
			"package": map[string]any{"name": "nginx", "version": "2.1.0"}, "inputs": map[string]any{}}).must(t, 200).item()
		wantEql(t, "description", "y", item["description"])
		wantEql(t, "is_managed", true, item["is_managed"])
	})
	t.Run("is_managed is not a simplified field", func(t *testing.T) {
		kb, regular, _ := setup(t)
		kb.do("POST", "/api/fleet/package_policies", map[string]any{"name": "s1", "namespace": "default", "policy_ids": []any{regular}, "is_managed": true,
			"package": map[string]any{"name": "nginx", "version": "2.1.0"}}).wantStatus(t, 400)
		id := managedPP(t, kb, regular)
		kb.do("PUT", pp+id, map[string]any{"name": "managed-1", "is_managed": false, "force": true,
			"package": map[string]any{"name": "nginx", "version": "2.1.0"}, "inputs": map[string]any{}}).wantStatus(t, 400)
	})
	t.Run("delete of a managed policy: 400 unless force", func(t *testing.T) {
		kb, regular, _ := setup(t)
		id := managedPP(t, kb, regular)
		kb.do("DELETE", pp+id, nil).
			wantError(t, 400, "Cannot delete package policy "+id+" in Fleet because the package policy is managed by an external orchestration solution, such as Elastic Cloud, Kubernetes, etc. Please make changes using your orchestration solution.")
		var res []any
		r := kb.do("POST", "/api/fleet/package_policies/delete", map[string]any{"packagePolicyIds": []any{id}}).must(t, 200)
		_ = decodeJSON(r.Raw, &res)
		wantEql(t, "bulk result", []any{map[string]any{"id": id, "success": false, "statusCode": float64(400), "body": map[string]any{
			"message": "Cannot delete package policy " + id + " in Fleet because the package policy is managed by an external orchestration solution, such as Elastic Cloud, Kubernetes, etc. Please make changes using your orchestration solution."}}}, res)
		kb.do("DELETE", pp+id+"?force=true", nil).wantStatus(t, 200)
		kb.do("GET", pp+id, nil).wantStatus(t, 404)
	})
	t.Run("delete in a hosted agent policy: 400 unless force", func(t *testing.T) {
		kb, regular, hosted := setup(t)
		id := kb.do("POST", "/api/fleet/package_policies", filetestBody("filetest-1", regular, nil)).must(t, 200).item()["id"].(string)
		kb.do("PUT", pp+id, map[string]any{"policy_ids": []any{regular, hosted}}).must(t, 200)
		kb.do("DELETE", pp+id, nil).wantError(t, 400, hostedMsg)
		var res []any
		r := kb.do("POST", "/api/fleet/package_policies/delete", map[string]any{"packagePolicyIds": []any{id}}).must(t, 200)
		_ = decodeJSON(r.Raw, &res)
		wantEql(t, "bulk result", []any{map[string]any{"id": id, "success": false, "statusCode": float64(400), "body": map[string]any{"message": hostedMsg}}}, res)
		kb.do("POST", "/api/fleet/package_policies/delete", map[string]any{"packagePolicyIds": []any{id}, "force": true}).must(t, 200)
		kb.do("GET", pp+id, nil).wantStatus(t, 404)
	})
}

// output_id: schema.maybe(schema.oneOf([schema.literal(null), schema.string()]))
// in both formats (FLEET/server/types/models/package_policy.ts);
// simplifiedPackagePolicytoNewPackagePolicy passes it on and update's
// saved-object update stores null as null, while an absent output_id is
// left out of the partial update and keeps the stored one
// (FLEET/server/services/package_policy.ts). "" is stored as given (the
// preflight licence check only reads a non-empty one).
func TestPackagePolicy_OutputIDClears(t *testing.T) {
	_, kb := startMain(t, ClusterConfig{Name: "main", License: "enterprise"})
	const pp = "/api/fleet/package_policies/"
	ap := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Test policy", "namespace": "default"}).must(t, 200).item()["id"].(string)
	out := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "es2", "type": "elasticsearch", "hosts": []any{"https://es2:9200"}}).must(t, 200).item()["id"].(string)
	simple := func(extra map[string]any) map[string]any {
		b := map[string]any{"name": "n1", "namespace": "default", "package": map[string]any{"name": "nginx", "version": "2.1.0"}, "inputs": map[string]any{}}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	id := kb.do("POST", "/api/fleet/package_policies?format=simplified", simple(map[string]any{"policy_ids": []any{ap}, "output_id": out})).must(t, 200).item()["id"].(string)
	wantEql(t, "output_id after create", out, kb.do("GET", pp+id+"?format=simplified", nil).item()["output_id"])

	// Absent: kept.
	kb.do("PUT", pp+id+"?format=simplified", simple(nil)).must(t, 200)
	wantEql(t, "output_id after an update without it", out, kb.do("GET", pp+id+"?format=simplified", nil).item()["output_id"])

	// null: cleared, stored and answered as null.
	item := kb.do("PUT", pp+id+"?format=simplified", simple(map[string]any{"output_id": nil})).must(t, 200).item()
	if v, ok := item["output_id"]; !ok || v != nil {
		t.Errorf("update answered output_id %v (present %v), want null", v, ok)
	}
	got := kb.do("GET", pp+id+"?format=simplified", nil).item()
	if v, ok := got["output_id"]; !ok || v != nil {
		t.Errorf("GET answered output_id %v (present %v), want null", v, ok)
	}

	// "": stored as given.
	wantEql(t, `output_id after ""`, "", kb.do("PUT", pp+id+"?format=simplified", simple(map[string]any{"output_id": ""})).must(t, 200).item()["output_id"])
}
