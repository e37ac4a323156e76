package reconciler

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// TestAgentPolicyPrune_RequestBudget: what the agent policy prune reads
// (agent_policies_prune.go) costs nothing when no owned agent policy is
// pruned — not with --prune, not with owned policies all declared — and
// otherwise one count request per 50 candidates, narrowed to them by name,
// plus one integration policy list when the plan did not list them.
func TestAgentPolicyPrune_RequestBudget(t *testing.T) {
	h := newSimHarness(t)
	var seeds []fleetsim.SeedAgentPolicy
	doc := &schema.Document{}
	for i := range 60 {
		id := fmt.Sprintf("p%02d", i)
		seeds = append(seeds, fleetsim.SeedAgentPolicy{ID: id, Name: "Policy " + id, Namespace: "default", Agents: i % 2})
		doc.AgentPolicies = append(doc.AgentPolicies, schema.AgentPolicy{ID: id, Name: "Policy " + id, Namespace: "default"})
	}
	h.seedPolicies(seeds...)
	if got := h.own(doc); len(got) != 60 {
		t.Fatalf("import --adopt recorded %d policies", len(got))
	}
	// counts reads the request log once it holds want count requests and
	// the integration policy lists (the simulator logs a request after its
	// handler returns, which may be after the client has the answer), or
	// after a second.
	counts := func(want, wantIP int) (counted []string, ipLists int) {
		for deadline := time.Now().Add(time.Second); ; time.Sleep(5 * time.Millisecond) {
			counted, ipLists = countRequests(h.sim.Requests())
			if len(counted) >= want && ipLists >= wantIP || time.Now().After(deadline) {
				return counted, ipLists
			}
		}
	}
	// plain plans doc and returns its request log once it holds at least
	// atLeast requests and then did not grow for 50ms.
	plain := func(atLeast int) []fleetsim.Request {
		h.sim.ClearRequests()
		if p := h.plan(doc); !p.Empty() {
			t.Fatalf("plan of the declared policies:\n%s", renderText(p))
		}
		n, since := -1, time.Now()
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if reqs := h.sim.Requests(); len(reqs) != n {
				n, since = len(reqs), time.Now()
			} else if n >= atLeast && time.Since(since) > 50*time.Millisecond {
				break
			}
		}
		return h.sim.Requests()
	}
	plain(0) // the client reads Kibana's version once
	without := plain(0)
	h.connect(func(c *Config) { c.Prune = true })
	with := plain(len(without))
	if counted, ipLists := countRequests(with); len(with) != len(without) || len(counted) > 0 || ipLists > 0 {
		t.Errorf("--prune with nothing to prune sent %d requests (%d agent counts, %d integration policy lists), %d without", len(with), len(counted), ipLists, len(without))
	}

	// Two undeclared: one count request naming both, one integration
	// policy list (none is declared or recorded).
	h.sim.ClearRequests()
	p := h.plan(&schema.Document{AgentPolicies: doc.AgentPolicies[2:]})
	counted, ipLists := counts(1, 1)
	if len(counted) != 1 || ipLists != 1 || counted[0] != `ingest-agent-policies.name:"Policy p00" or ingest-agent-policies.name:"Policy p01"` {
		t.Errorf("count requests %q, integration policy lists %d", counted, ipLists)
	}
	if c := change(t, p, plan.KindAgentPolicy, "p00"); c.Action != plan.Delete {
		t.Errorf("p00 (no agents): %s %s", c.Action, c.Reason)
	}
	if c := change(t, p, plan.KindAgentPolicy, "p01"); c.Action != plan.Blocked || !strings.Contains(c.Reason, "1 agent assigned") {
		t.Errorf("p01 (1 agent): %s %s", c.Action, c.Reason)
	}

	// Sixty undeclared: two count requests (50 + 10), every one counted.
	h.sim.ClearRequests()
	p = h.plan(&schema.Document{})
	if counted, _ := counts(2, 0); len(counted) != 2 {
		t.Errorf("count requests for 60 candidates: %d, want 2", len(counted))
	}
	blocked := 0
	for _, c := range p.Changes {
		if c.Kind == plan.KindAgentPolicy && c.Action == plan.Blocked {
			blocked++
		}
	}
	if blocked != 30 {
		t.Errorf("%d prunes blocked, want the 30 policies with an agent:\n%s", blocked, renderText(p))
	}
}

// countRequests picks the agent count requests (their kuery) and the
// integration policy lists out of a request log.
func countRequests(reqs []fleetsim.Request) (counted []string, ipLists int) {
	for _, r := range reqs {
		q, _ := url.ParseQuery(r.Query)
		switch {
		case r.Path == "/api/fleet/agent_policies" && q.Get("noAgentCount") == "false":
			counted = append(counted, q.Get("kuery"))
		case r.Path == "/api/fleet/package_policies":
			ipLists++
		}
	}
	return counted, ipLists
}

// TestKQLEscape: a quoted KQL value escapes backslashes and quotes.
func TestKQLEscape(t *testing.T) {
	for in, want := range map[string]string{`plain`: `plain`, `a "b"`: `a \"b\"`, `c:\d`: `c:\\d`, `or x:y`: `or x:y`} {
		if got := kqlEscape(in); got != want {
			t.Errorf("kqlEscape(%q) = %q, want %q", in, got, want)
		}
	}
}
