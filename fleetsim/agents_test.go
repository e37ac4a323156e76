package fleetsim

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// The two agent counts of an agent policy by version and agent mix
// (agents.go): the list's agents field (routes/agent_policy/handlers.ts
// populateAssignedAgentsCount: showInactive false before
// elastic/kibana#184517 and #187960, v8.15.0, then online and inactive but
// not unenrolled) and agent policy delete's refusal
// (services/agent_policy.ts delete: online only before
// elastic/kibana#175815, v8.12.2; then online, inactive and unenrolled;
// unenrolled left out from 8.14.0, fleetsim-inferred.md 53).
func TestAgentPolicyAgentCounts_ByVersionAndMix(t *testing.T) {
	type mix struct{ online, inactive, unenrolled int }
	mixes := map[string]mix{"none": {}, "inactive": {0, 2, 0}, "unenrolled": {0, 0, 3}, "online": {1, 0, 0}}
	cases := []struct {
		version, mix string
		listed       int
		deleteStatus int
	}{
		{"8.12.1", "none", 0, 200},
		{"8.12.1", "inactive", 0, 200},
		{"8.12.1", "unenrolled", 0, 200},
		{"8.12.1", "online", 1, 500},
		{"8.13.4", "none", 0, 200},
		{"8.13.4", "inactive", 0, 400},
		{"8.13.4", "unenrolled", 0, 400},
		{"8.13.4", "online", 1, 400},
		{"8.14.3", "inactive", 0, 400},
		{"8.14.3", "unenrolled", 0, 200},
		{"8.15.0", "inactive", 2, 400},
		{"8.15.0", "unenrolled", 0, 200},
		{"8.16.0", "inactive", 2, 400},
		{"8.16.0", "online", 1, 400},
		{"9.1.0", "none", 0, 200},
		{"9.1.0", "inactive", 2, 400},
		{"9.1.0", "unenrolled", 0, 200},
		{"9.1.0", "online", 1, 400},
	}
	for _, tc := range cases {
		t.Run(tc.version+"/"+tc.mix, func(t *testing.T) {
			s, kb := startMain(t, ClusterConfig{Name: "main", Version: tc.version})
			m := mixes[tc.mix]
			seedPolicies(t, s, &ClusterSeed{AgentPolicies: []SeedAgentPolicy{{ID: "p", Name: "P", Namespace: "default", Agents: m.online, InactiveAgents: m.inactive, UnenrolledAgents: m.unenrolled}}})
			q := "&noAgentCount=false"
			if !versionAtLeast(tc.version, versionNoAgentCount) {
				q = ""
			}
			r := kb.do("GET", "/api/fleet/agent_policies?perPage=10"+q, nil).wantStatus(t, 200)
			if got := r.items()[0].(map[string]any)["agents"]; got != float64(tc.listed) {
				t.Errorf("list agents = %v, want %d", got, tc.listed)
			}
			kb.do("POST", "/api/fleet/agent_policies/delete", map[string]any{"agentPolicyId": "p"}).wantStatus(t, tc.deleteStatus)
		})
	}
}

// GET /api/fleet/agents (routes/agent/handlers.ts getAgentsHandler,
// services/agents/crud.ts getAgentsByKuery): showInactive, the kuery, and
// unenrolled agents by version — before 8.15.0 showInactive: true shows
// them, from elastic/kibana#187960 only a kuery naming status:unenrolled
// or status:* does.
func TestListAgents_FiltersByVersion(t *testing.T) {
	cases := []struct {
		version, query string
		total          int
	}{
		{"8.13.4", "", 1},
		{"8.13.4", "showInactive=true", 6},
		{"8.13.4", `showInactive=true&kuery=policy_id:"p" and not status:unenrolled`, 3},
		{"8.13.4", `showInactive=true&kuery=(fleet-agents.policy_id:"p" or fleet-agents.policy_id:"q") and (status:inactive or status:unenrolled)`, 5},
		{"8.13.4", `showInactive=true&kuery=policy_id:"q"`, 0},
		{"8.15.0", "showInactive=true", 3},
		{"8.15.0", "showInactive=true&kuery=status:unenrolled", 3},
		{"8.15.0", "showInactive=true&kuery=status:*", 6},
		{"9.1.0", "", 1},
	}
	for _, tc := range cases {
		t.Run(tc.version+" "+tc.query, func(t *testing.T) {
			s, kb := startMain(t, ClusterConfig{Name: "main", Version: tc.version})
			seedPolicies(t, s, &ClusterSeed{AgentPolicies: []SeedAgentPolicy{{ID: "p", Name: "P", Namespace: "default", Agents: 1, InactiveAgents: 2, UnenrolledAgents: 3}}})
			q, _ := url.ParseQuery(tc.query)
			r := kb.do("GET", "/api/fleet/agents?perPage=100&"+q.Encode(), nil).wantStatus(t, 200)
			if got := r.Body["total"]; got != float64(tc.total) || len(r.items()) != tc.total {
				t.Errorf("total %v, %d items; want %d", got, len(r.items()), tc.total)
			}
			for _, it := range r.items() {
				if a := it.(map[string]any); a["policy_id"] != "p" {
					t.Errorf("agent %v", a)
				}
			}
		})
	}
}

// GetAgentsRequestSchema (types/rest_spec/agent.ts): page * perPage over
// SO_SEARCH_LIMIT and unknown kuery fields are 400s at request query.
func TestListAgents_QuerySchema(t *testing.T) {
	_, kb := startMain(t)
	r := kb.do("GET", "/api/fleet/agents?page=2&perPage=10000", nil).wantStatus(t, 400)
	if want := "[request query]: You cannot use page and perPage page over 10000 agents"; r.msg() != want {
		t.Errorf("message %q, want %q", r.msg(), want)
	}
	r = kb.do("GET", "/api/fleet/agents?kuery="+url.QueryEscape("bogus:1"), nil).wantStatus(t, 400)
	if r.msg() == "" {
		t.Error("no message")
	}
	r = kb.do("GET", "/api/fleet/agents?nope=1", nil).wantStatus(t, 400)
	if want := "[request query.nope]: definition for this key is missing"; r.msg() != want {
		t.Errorf("message %q, want %q", r.msg(), want)
	}
	r = kb.do("GET", "/api/fleet/agents?getStatusSummary=true", nil).wantStatus(t, 200)
	if _, ok := r.Body["statusSummary"].(map[string]any); !ok {
		t.Errorf("statusSummary missing: %v", r.Body)
	}
}

// A seed file gives an agent policy inactive and unenrolled agents next to
// its online ones (inactive_agents, unenrolled_agents), and agents alone
// keeps meaning online agents.
func TestSeedFile_AgentStatuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.yaml")
	yml := "clusters:\n  main:\n    agent_policies:\n      - {id: p, name: P, agents: 1, inactive_agents: 2, unenrolled_agents: 3}\n"
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	sf, err := LoadSeedFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, kb := startMain(t, ClusterConfig{Name: "main", Version: "8.13.4"})
	if err := s.Seed(sf); err != nil {
		t.Fatal(err)
	}
	r := kb.do("GET", "/api/fleet/agents?showInactive=true", nil).wantStatus(t, 200)
	if r.Body["total"] != 6.0 {
		t.Errorf("total %v, want 6", r.Body["total"])
	}
}
