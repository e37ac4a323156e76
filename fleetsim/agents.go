package fleetsim

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Simulated agents. fleetsim keeps no agent documents: each agent policy
// holds how many of its agents are in each of the three classes Fleet's
// counts tell apart, and GET /api/fleet/agents lists agents synthesized
// from them. The classes follow the agent status runtime field
// (x-pack/platform/plugins/shared/fleet/server/services/agents/
// build_status_runtime_field.ts), whose first branch is
// `active == false → 'unenrolled'`, then the inactivity timeout → 'inactive':
//
//   - online: enrolled (active: true) and checking in (agentPolicy.Agents);
//   - inactive: enrolled (active: true) but past the policy's inactivity
//     timeout (agentPolicy.InactiveAgents);
//   - unenrolled: active: false (agentPolicy.UnenrolledAgents); Kibana keeps
//     the document until the delete-unenrolled-agents task removes it.
//
// Which classes an agent count holds depends on the Kibana version; the
// two counts fleetform depends on are listAgentCount (the agent policy
// list's agents field) and deleteAgentCount (agent policy delete's refusal).

// versionListCountsInactive is elastic/kibana#184517 "[Fleet] include
// inactive agents in agent policy agent count" (v8.15.0): populateAssignedAgentsCount
// (routes/agent_policy/handlers.ts) lists with showInactive: true instead of
// false. Together with elastic/kibana#187960 "[Fleet] separated
// `showInactive` from unenrolled status filter" (v8.15.0, closes
// elastic/kibana#186065, found on the 8.15.0 snapshot) the list counts
// online and inactive agents but not unenrolled ones: getAgentsByKuery
// (services/agents/crud.ts) adds ENROLLED_AGENT_CONDITION (`NOT
// status:unenrolled`) unless the kuery names status:unenrolled or status:*.
// Before it the list counted with showInactive: false, ACTIVE_AGENT_CONDITION
// `NOT (status:inactive OR status:unenrolled)`: online agents only.
const versionListCountsInactive = "8.15.0"

// versionDeleteIgnoresUnenrolled is where agent policy delete stops
// counting unenrolled agents (fleetsim-inferred.md 53). elastic/kibana#175815
// (v8.12.2) made delete count with getAgentsByKuery({showInactive: true,
// kuery: `fleet-agents.policy_id:${id}`}), and getAgentsByKuery then added no
// condition at all for showInactive: true (crud.ts: only showInactive ===
// false pushed ACTIVE_AGENT_CONDITION), so unenrolled agents counted too. A
// later delete reads `fleet-agents.policy_id:${id} and not status:
// unenrolled`; elastic/kibana#182118 (v8.14.0), which unenrolls agents
// before deleting the policies it resets, needs that clause. From 8.15.0
// (elastic/kibana#187960) getAgentsByKuery leaves unenrolled agents out
// itself, and the newest delete counts `active: true` documents
// (esClient.count with { term: { active: 'true' } }), the same set since
// status unenrolled is exactly active == false.
const versionDeleteIgnoresUnenrolled = "8.14.0"

// listAgentCount is the agents field of the agent policy list for p.
func (c *Cluster) listAgentCount(p *agentPolicy) int {
	if versionAtLeast(c.cfg.Version, versionListCountsInactive) {
		return p.Agents + p.InactiveAgents
	}
	return p.Agents
}

// deleteAgentCount is what agent policy delete counts for p before it
// refuses (services/agent_policy.ts delete): before 8.12.2 getAgentsByKuery
// with showInactive: false (online agents); from elastic/kibana#175815
// (8.12.2) inactive agents too, and unenrolled ones until
// versionDeleteIgnoresUnenrolled.
func (c *Cluster) deleteAgentCount(p *agentPolicy) int {
	switch {
	case !versionAtLeast(c.cfg.Version, versionDeleteInactiveAgents):
		return p.Agents
	case !versionAtLeast(c.cfg.Version, versionDeleteIgnoresUnenrolled):
		return p.Agents + p.InactiveAgents + p.UnenrolledAgents
	}
	return p.Agents + p.InactiveAgents
}

// agentsSearchLimit is SO_SEARCH_LIMIT (common/constants): GET
// /api/fleet/agents refuses page * perPage above it.
const agentsSearchLimit = 10000

// listAgentsQuery is GetAgentsRequestSchema's query
// (server/types/rest_spec/agent.ts, 8.12–8.14 form): page (1), perPage (20),
// kuery (validateKuery against the agent mappings), showInactive (false),
// withMetrics, showUpgradeable, getStatusSummary (false), sortField,
// sortOrder; the object's validate refuses page * perPage over
// SO_SEARCH_LIMIT with "You cannot use page and perPage page over 10000
// agents".
var listAgentsQuery = tObject{validate: agentsPageLimit, fields: []field{
	{name: "page", t: tNumber{}, def: 1.0},
	{name: "perPage", t: tNumber{}, def: 20.0},
	{name: "kuery", t: tValidated{inner: tString{}, fn: validateAgentKuery}},
	{name: "showInactive", t: tBool{}, def: false},
	{name: "withMetrics", t: tBool{}, def: false},
	{name: "showUpgradeable", t: tBool{}, def: false},
	{name: "getStatusSummary", t: tBool{}, def: false},
	{name: "sortField", t: tString{}},
	{name: "sortOrder", t: tEnum{"asc", "desc"}},
}}

func agentsPageLimit(q map[string]any) string {
	page, _ := q["page"].(float64)
	perPage, _ := q["perPage"].(float64)
	if page*perPage > agentsSearchLimit {
		return fmt.Sprintf("You cannot use page and perPage page over %d agents", agentsSearchLimit)
	}
	return ""
}

func validateAgentKuery(v any) string {
	k, _ := v.(string)
	if strings.TrimSpace(k) == "" {
		return ""
	}
	if _, err := parseAgentKuery(k); err != nil {
		return err.Error()
	}
	return ""
}

// agentRoutes are the agent routes fleetsim serves.
func agentRoutes() []*route {
	return []*route{
		{method: "GET", pattern: "/api/fleet/agents", priv: privRead, privTag: "fleet-agents-read", query: listAgentsQuery, handle: (*Cluster).listAgents},
	}
}

// simAgent is one synthesized agent document.
type simAgent struct {
	id, policyID, status string
	active               bool
	enrolled             time.Time
}

// agentsOf synthesizes p's agents: online ones, then inactive, then
// unenrolled, each numbered.
func agentsOf(p *agentPolicy) []simAgent {
	var out []simAgent
	add := func(n int, status string, active bool) {
		for i := range n {
			out = append(out, simAgent{id: fmt.Sprintf("%s-%s-%d", p.ID, status, i+1), policyID: p.ID, status: status, active: active, enrolled: p.UpdatedAt})
		}
	}
	add(p.Agents, "online", true)
	add(p.InactiveAgents, "inactive", true)
	add(p.UnenrolledAgents, "unenrolled", false)
	return out
}

// includeUnenrolled is crud.ts includeUnenrolled: a kuery that names
// status:* or status:unenrolled (literally, lower-cased) keeps unenrolled
// agents in a list from 8.15.0.
func includeUnenrolled(kuery string) bool {
	k := strings.ToLower(kuery)
	return strings.Contains(k, "status:*") || strings.Contains(k, "status:unenrolled")
}

// listAgents is getAgentsHandler (routes/agent/handlers.ts) over
// getAgentsByKuery (services/agents/crud.ts): the kuery, then
// showInactive: false hides inactive and unenrolled agents (before 8.15.0
// ACTIVE_AGENT_CONDITION is `NOT (status:inactive OR status:unenrolled)`;
// from it `NOT (status:inactive)`, and ENROLLED_AGENT_CONDITION `NOT
// status:unenrolled` hides unenrolled ones unless includeUnenrolled), sorted
// by enrolled_at desc, answered as {items, total, page, perPage} and
// statusSummary when getStatusSummary. Agents of policies the request's
// space cannot see are left out (the space filter of getAgentsByKuery).
func (c *Cluster) listAgents(r *kreq) *kresp {
	q := r.query
	page := int(q["page"].(float64))
	perPage := int(q["perPage"].(float64))
	showInactive, _ := q["showInactive"].(bool)
	kuery, _ := q["kuery"].(string)
	var match func(simAgent) bool
	if strings.TrimSpace(kuery) != "" {
		m, err := parseAgentKuery(kuery)
		if err != nil {
			return badRequest("%s", err.Error())
		}
		match = m
	}
	since815 := versionAtLeast(c.cfg.Version, versionListCountsInactive)
	var all []simAgent
	for _, id := range sortedKeys(c.st.AgentPolicies) {
		p := c.st.AgentPolicies[id]
		if c.spaceAware() && !c.policyVisible(p, r) {
			continue
		}
		for _, a := range agentsOf(p) {
			switch {
			case match != nil && !match(a):
				continue
			case !showInactive && a.status == "inactive":
				continue
			case a.status == "unenrolled" && !since815 && !showInactive:
				continue
			case a.status == "unenrolled" && since815 && !includeUnenrolled(kuery):
				continue
			}
			all = append(all, a)
		}
	}
	summary := map[string]int{"online": 0, "error": 0, "inactive": 0, "offline": 0, "updating": 0, "unenrolled": 0, "degraded": 0, "enrolling": 0, "unenrolling": 0, "orphaned": 0, "uninstalled": 0}
	for _, a := range all {
		summary[a.status]++
	}
	if page < 1 {
		page = 1
	}
	start := min((page-1)*perPage, len(all))
	end := min(start+perPage, len(all))
	items := make([]map[string]any, 0, end-start)
	for _, a := range all[start:end] {
		items = append(items, map[string]any{
			"id": a.id, "type": "PERMANENT", "active": a.active, "policy_id": a.policyID, "policy_revision": 1,
			"status": a.status, "enrolled_at": a.enrolled.UTC().Format(time.RFC3339Nano), "local_metadata": map[string]any{},
			"packages": []any{}, "tags": []any{},
		})
	}
	body := map[string]any{"items": items, "total": len(all), "page": page, "perPage": perPage}
	if q["getStatusSummary"] == true {
		body["statusSummary"] = summary
	}
	return ok(body)
}

// parseAgentKuery understands the KQL agent lists take: field:value and
// field:"value" terms on policy_id (or fleet-agents.policy_id), status
// and active, `*` as "has a value", joined by not, and, or (not binds
// tightest, then and) and grouped by parentheses.
func parseAgentKuery(k string) (func(simAgent) bool, error) {
	p := &agentKueryParser{toks: agentKueryTokens.FindAllString(k, -1)}
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, fmt.Errorf("KQLSyntaxError: Expected AND, OR or end of input but %q found", strings.Join(p.toks[p.i:], " "))
	}
	return f, nil
}

var agentKueryTokens = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|[()]|:|[^\s():"]+`)

type agentKueryParser struct {
	toks []string
	i    int
}

func (p *agentKueryParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *agentKueryParser) or() (func(simAgent) bool, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "or") {
		p.i++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l0 := l
		l = func(a simAgent) bool { return l0(a) || r(a) }
	}
	return l, nil
}

func (p *agentKueryParser) and() (func(simAgent) bool, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "and") {
		p.i++
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l0 := l
		l = func(a simAgent) bool { return l0(a) && r(a) }
	}
	return l, nil
}

func (p *agentKueryParser) not() (func(simAgent) bool, error) {
	if strings.EqualFold(p.peek(), "not") {
		p.i++
		f, err := p.not()
		if err != nil {
			return nil, err
		}
		return func(a simAgent) bool { return !f(a) }, nil
	}
	return p.term()
}

func (p *agentKueryParser) term() (func(simAgent) bool, error) {
	if p.peek() == "(" {
		p.i++
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("KQLSyntaxError: Expected \")\" but %q found", p.peek())
		}
		p.i++
		return f, nil
	}
	if p.i+2 >= len(p.toks) || p.toks[p.i+1] != ":" {
		return nil, fmt.Errorf("KQLSyntaxError: Expected field:value but found %q", strings.Join(p.toks[p.i:], " "))
	}
	field, raw := strings.TrimPrefix(p.toks[p.i], "fleet-agents."), p.toks[p.i+2]
	p.i += 3
	value := raw
	if strings.HasPrefix(raw, `"`) {
		value = unquoteKQL(raw[1 : len(raw)-1])
	}
	exists := raw == "*"
	switch field {
	case "policy_id":
		return func(a simAgent) bool { return exists || a.policyID == value }, nil
	case "status":
		return func(a simAgent) bool { return exists || a.status == value }, nil
	case "active":
		return func(a simAgent) bool { return exists || fmt.Sprint(a.active) == value }, nil
	}
	return nil, fmt.Errorf("This key '%s' does NOT exist in fleet-agents saved object index patterns", p.toks[p.i-3])
}
