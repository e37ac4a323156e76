package reconciler

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/fleetform/fleetform/kibana"
)

// fingerprintPolicy is an agent policy as Kibana lists it, every field a
// plan reads set, plus fields it does not read.
func fingerprintPolicy() map[string]any {
	return map[string]any{
		"id": "p1", "name": "Policy 1", "namespace": "default", "description": "d",
		"data_output_id": "west", "monitoring_output_id": "east", "fleet_server_host_id": "fs",
		"is_managed": false, "has_fleet_server": false, "supports_agentless": false, "inactivity_timeout": 1209600.0,
		"monitoring_enabled": []any{"logs", "metrics"}, "space_ids": []any{"default"},
		"advanced_settings": map[string]any{"agent_logging_level": "info", "agent_limits_go_max_procs": 2.0},
		"global_data_tags":  []any{map[string]any{"name": "team", "value": "a"}, map[string]any{"name": "n", "value": 1.0}},
		// Not read by a plan:
		"revision": 3.0, "agents": 10.0, "updated_at": "2026-11-27T12:00:00.000Z", "updated_by": "elastic",
		"status": "active", "schema_version": "1.1.1", "is_preconfigured": false,
	}
}

// policiesFingerprint decodes the policies as the client does and returns
// the agent policy kind's fingerprint and the observation's.
func policiesFingerprint(t *testing.T, pols ...map[string]any) (string, string) {
	t.Helper()
	obs := &observation{policies: map[string]kibana.AgentPolicy{}}
	for _, raw := range pols {
		b, err := json.Marshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		var p kibana.AgentPolicy
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		obs.policies[p.ID] = p
	}
	return agentPolicyKind{}.fingerprint(obs).(string), obs.computeFingerprint()
}

// TestAgentPolicyFingerprint_PlanFields: the fingerprint (a saved plan is
// applied only while it is unchanged) changes with every field a plan reads
// of an agent policy — the typed ones, each of policyOptional added,
// changed, nested or removed, a policy added or removed — and not with
// the revision, agent count or timestamps.
func TestAgentPolicyFingerprint_PlanFields(t *testing.T) {
	other := map[string]any{"id": "p2", "name": "Policy 2", "namespace": "default"}
	base, baseObs := policiesFingerprint(t, fingerprintPolicy(), other)

	type edit struct {
		name string
		edit func(p map[string]any)
	}
	set := func(k string, v any) func(map[string]any) { return func(p map[string]any) { p[k] = v } }
	del := func(k string) func(map[string]any) { return func(p map[string]any) { delete(p, k) } }
	changes := []edit{
		{"id", set("id", "p3")},
		{"name", set("name", "Policy one")},
		{"namespace", set("namespace", "prod")},
		{"description changed", set("description", "e")},
		{"description empty", set("description", "")},
		{"description null", set("description", nil)},
		{"description absent", del("description")},
		{"data_output_id", set("data_output_id", "east")},
		{"data_output_id null", set("data_output_id", nil)},
		{"monitoring_output_id", set("monitoring_output_id", "west")},
		{"monitoring_output_id absent", del("monitoring_output_id")},
		{"fleet_server_host_id", set("fleet_server_host_id", "fs2")},
		{"fleet_server_host_id null", set("fleet_server_host_id", nil)},
		{"is_managed", set("is_managed", true)},
		{"has_fleet_server", set("has_fleet_server", true)},
		{"supports_agentless", set("supports_agentless", true)},
		{"inactivity_timeout", set("inactivity_timeout", 60.0)},
		{"inactivity_timeout absent", del("inactivity_timeout")},
		{"a list reordered", set("monitoring_enabled", []any{"metrics", "logs"})},
		{"a list shortened", set("monitoring_enabled", []any{"logs"})},
		{"a list emptied", set("monitoring_enabled", []any{})},
		{"a nested value", set("advanced_settings", map[string]any{"agent_logging_level": "debug", "agent_limits_go_max_procs": 2.0})},
		{"a nested key added", set("advanced_settings", map[string]any{"agent_logging_level": "info", "agent_limits_go_max_procs": 2.0, "x": nil})},
		{"a nested number as a string", set("advanced_settings", map[string]any{"agent_logging_level": "info", "agent_limits_go_max_procs": "2"})},
		{"an object in a list", set("global_data_tags", []any{map[string]any{"name": "team", "value": "b"}, map[string]any{"name": "n", "value": 1.0}})},
		{"a value's type", set("global_data_tags", []any{map[string]any{"name": "team", "value": "a"}, map[string]any{"name": "n", "value": "1"}})},
	}
	for _, k := range policyOptional {
		p := fingerprintPolicy()
		if _, there := p[k]; there {
			changes = append(changes, edit{k + " removed", del(k)})
			changes = append(changes, edit{k + " null", set(k, nil)})
		} else {
			changes = append(changes, edit{k + " added", set(k, map[string]any{"a": 1.0})})
			changes = append(changes, edit{k + " added as null", set(k, nil)})
		}
		changes = append(changes, edit{k + " changed", set(k, map[string]any{"a": 2.0})})
	}
	for _, c := range changes {
		p := fingerprintPolicy()
		c.edit(p)
		got, gotObs := policiesFingerprint(t, p, other)
		if got == base || gotObs == baseObs {
			t.Errorf("%s: fingerprint unchanged (kind %v, observation %v)", c.name, got == base, gotObs == baseObs)
		}
	}
	if got, _ := policiesFingerprint(t, fingerprintPolicy()); got == base {
		t.Error("a policy removed: fingerprint unchanged")
	}
	if got, _ := policiesFingerprint(t, fingerprintPolicy(), other, map[string]any{"id": "p9"}); got == base {
		t.Error("a policy added: fingerprint unchanged")
	}

	// Fields a plan does not read move without changing it.
	for k, v := range map[string]any{"revision": 4.0, "agents": 0.0, "updated_at": "2026-11-28T00:00:00.000Z",
		"updated_by": "someone", "status": "inactive", "package_policies": []any{map[string]any{"id": "x"}}} {
		p := fingerprintPolicy()
		p[k] = v
		if got, gotObs := policiesFingerprint(t, p, other); got != base || gotObs != baseObs {
			t.Errorf("%s changed the fingerprint; a plan does not read it", k)
		}
	}
	// The same policies listed in another order digest the same.
	p := fingerprintPolicy()
	if got, _ := policiesFingerprint(t, other, p); got != base {
		t.Error("the fingerprint depends on the list's order")
	}
}

// TestAppendCanonical_Distinct: values that differ have different
// canonical forms, including ones a naive concatenation would confuse.
func TestAppendCanonical_Distinct(t *testing.T) {
	values := []any{
		nil, true, false, 0.0, 1.0, -1.0, 1.5, 1e21, "", "1", "true", "n", "a,b", `"`, "a\"b",
		[]any{}, []any{nil}, []any{"a", "b"}, []any{"a,b"}, []any{[]any{}}, []any{"a"}, []any{"b", "a"},
		map[string]any{}, map[string]any{"a": nil}, map[string]any{"a": "b"}, map[string]any{"a:b": nil},
		map[string]any{"a": []any{"b"}}, map[string]any{"a": 1.0, "b": 2.0}, map[string]any{"a": 2.0, "b": 1.0},
	}
	seen := map[string]int{}
	for i, v := range values {
		k := string(appendCanonical(nil, v))
		if j, dup := seen[k]; dup {
			t.Errorf("%#v and %#v both read %q", values[j], v, k)
		}
		seen[k] = i
	}
	a := map[string]any{"x": 1.0, "y": []any{"z"}, "w": map[string]any{"b": true, "a": false}}
	b := map[string]any{"w": map[string]any{"a": false, "b": true}, "y": []any{"z"}, "x": 1.0}
	if string(appendCanonical(nil, a)) != string(appendCanonical(nil, b)) {
		t.Error("equal objects read differently")
	}
}

// TestObservationFingerprint_RecordsAndLicence: the observation's digest
// changes with every field of an inventory record, a record added or
// removed, the licence and each kind's part; and not with a record's
// revision or time of apply, which a plan does not read.
func TestObservationFingerprint_RecordsAndLicence(t *testing.T) {
	obsOf := func(edit func(o *observation)) string {
		o := &observation{
			policies: map[string]kibana.AgentPolicy{"p1": {ID: "p1", Name: "P"}},
			outputs:  map[string]map[string]any{"o1": {"id": "o1", "hosts": []any{"https://es:443"}}},
			license:  "platinum",
			records: map[string]Record{
				"main/output/o1": {Cluster: "main", Kind: "output", ID: "o1", DesiredHash: "h1", Revision: "r1",
					Secrets: map[string]SecretRecord{"secrets.ssl.key": {Hash: "s:h", FleetSecretID: "fs1", RefDescribe: "env:KEY"}}},
				"main/agent_policy/p1": {Cluster: "main", Kind: "agent_policy", ID: "p1", DesiredHash: "h2"},
			},
		}
		if edit != nil {
			edit(o)
		}
		return o.computeFingerprint()
	}
	base := obsOf(nil)
	if again := obsOf(nil); again != base {
		t.Fatal("the same observation digests differently")
	}
	rec := func(key string, edit func(r *Record)) func(o *observation) {
		return func(o *observation) {
			r := o.records[key]
			if r.Secrets != nil {
				r.Secrets = maps.Clone(r.Secrets)
			}
			edit(&r)
			o.records[key] = r
		}
	}
	secret := func(edit func(s *SecretRecord)) func(r *Record) {
		return func(r *Record) {
			s := r.Secrets["secrets.ssl.key"]
			edit(&s)
			r.Secrets["secrets.ssl.key"] = s
		}
	}
	for name, edit := range map[string]func(o *observation){
		"desired hash":     rec("main/agent_policy/p1", func(r *Record) { r.DesiredHash = "h3" }),
		"adopted":          rec("main/agent_policy/p1", func(r *Record) { r.Adopted = true }),
		"a secret added":   rec("main/agent_policy/p1", func(r *Record) { r.Secrets = map[string]SecretRecord{"x": {}} }),
		"a secret removed": rec("main/output/o1", func(r *Record) { r.Secrets = nil }),
		"a secret's path": rec("main/output/o1", func(r *Record) {
			r.Secrets = map[string]SecretRecord{"secrets.ssl.other": r.Secrets["secrets.ssl.key"]}
		}),
		"a secret's hash":    rec("main/output/o1", secret(func(s *SecretRecord) { s.Hash = "s:i" })),
		"a Fleet secret id":  rec("main/output/o1", secret(func(s *SecretRecord) { s.FleetSecretID = "" })),
		"a secret reference": rec("main/output/o1", secret(func(s *SecretRecord) { s.RefDescribe = "env:OTHER" })),
		"a record removed":   func(o *observation) { delete(o.records, "main/agent_policy/p1") },
		"a record added":     func(o *observation) { o.records["main/package/nginx"] = Record{DesiredHash: "h4"} },
		"a record's key": func(o *observation) {
			o.records["main/agent_policy/p2"] = o.records["main/agent_policy/p1"]
			delete(o.records, "main/agent_policy/p1")
		},
		"licence":         func(o *observation) { o.license = "basic" },
		"an output":       func(o *observation) { o.outputs["o1"]["hosts"] = []any{"https://es2:443"} },
		"an agent policy": func(o *observation) { o.policies["p1"] = kibana.AgentPolicy{ID: "p1", Name: "Q"} },
	} {
		if obsOf(edit) == base {
			t.Errorf("%s: fingerprint unchanged", name)
		}
	}
	if obsOf(rec("main/output/o1", func(r *Record) { r.Revision = "r2" })) != base {
		t.Error("a record's revision changed the fingerprint; a plan does not read it")
	}
}
