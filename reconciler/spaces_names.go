package reconciler

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Names across spaces. On a space-aware Fleet, Kibana checks a policy's
// name in the spaces the policy goes to, which may be others than the
// repository's own (elastic/kibana#239631, backported to 9.1 and 9.2;
// x-pack/platform/plugins/shared/fleet/server/):
//
//   - agent policy create, rename and move: services/agent_policy.ts
//     requireUniqueName looks for another agent policy of that name in the
//     policy's space_ids (an unscoped find with namespaces: space_ids, which
//     also finds those in "*"), else in the request's space: 409 "Agent
//     Policy '<id>' already exists with name '<name>'" ("Agent Policies
//     '<a>,<b>' already exist …" for several). create runs it with the body's
//     space_ids; services/spaces/agent_policy.ts updateAgentPolicySpaces runs
//     it with the new space_ids and the body's name; update runs it on a
//     rename with the (new) space_ids. space_awareness/agent_policies.ts
//     "should prevent creating agent policy for multiple spaces with same
//     name as policy in non-current namespace", "should prevent creating a
//     single-space policy with same name as an existing policy in the target
//     space", "should allow creating a policy assigned to a different space
//     even when URL space has a policy with the same name".
//   - the integration policies that move with an agent policy:
//     updateAgentPolicySpaces then runs
//     validatePackagePoliciesUniqueNameAcrossSpaces
//     (services/spaces/policy_namespaces.ts): for each of them, another
//     integration policy of that name whose spaces hold one of the new
//     spaces (literally; checked in sorted order) is a 409 "An integration
//     policy with the name <name> already exists in space "<space>". Please
//     rename it or choose a different name."
//   - integration policy create: services/package_policy.ts create runs
//     requireUniqueName with the spaces of its agent policies; when they are
//     more than one it lists every space and any integration policy of that
//     name refuses it; with one space only the request's space is looked at
//     (package_policies_rules.go checks that one). A rename (update) looks
//     at the request's space only in the stored sources. 409 "An integration policy with the name <name>
//     already exists. Please rename it or choose a different name."
//
// fleetform reads Fleet through its own space, so the plan asks the other
// spaces for these names — one request per kind and space (up to 20 names
// each), only when a declared create, rename or move targets another space.

// SpacePolicyNamesReader reads policy names in another space
// (kibana.Client.PolicyNamesInSpace).
type SpacePolicyNamesReader interface {
	PolicyNamesInSpace(ctx context.Context, space string, agentNames, integrationNames []string) (agents, integrations []kibana.NamedPolicy, err error)
}

// spaceNames is what one other space answered.
type spaceNames struct {
	agents, integrations []kibana.NamedPolicy
	err                  error
}

// agentNameCheck is one agent policy create, rename or move to check.
type agentNameCheck struct {
	p      *schema.AgentPolicy
	s      *step
	target []string // its spaces once the plan applies, sorted
	moved  bool
	pps    []kibana.IntegrationPolicy // its integration policies, by name, when moved
}

// ipNameCheck is one integration policy create or rename into agent
// policies of several spaces.
type ipNameCheck struct {
	p      *schema.PackagePolicy
	s      *step
	create bool
	target []string
}

// planSpaceNames blocks the creates, renames and moves whose name is
// taken in one of their other spaces, with Kibana's message.
func (r *Reconciler) planSpaceNames(ctx context.Context, doc *schema.Document, c *computed) {
	reader, ok := r.cfg.Fleet.(SpacePolicyNamesReader)
	if !ok || c.obs.kibanaVersion == "" || !kibanaAtLeast(c.obs.kibanaVersion, spaceAwareSince) {
		return
	}
	own := cmpOr(r.cfg.Space, "default")
	agentNames, ipNames := map[string][]string{}, map[string][]string{}
	others := func(target []string) []string {
		var out []string
		for _, s := range target {
			if s == own || s == allSpaces || s == unknownSpace {
				continue
			}
			if chk, named := c.obs.spaces.named[s]; named && chk.err == nil && !chk.exists {
				continue // blocked by planSpaces: the space does not exist
			}
			out = append(out, s)
		}
		return out
	}
	var agentChecks []agentNameCheck
	for i := range doc.AgentPolicies {
		p := &doc.AgentPolicies[i]
		s, ok := c.steps[plan.Key(r.cfg.Cluster, plan.KindAgentPolicy, p.ID)]
		if !ok || (s.change.Action != plan.Create && s.change.Action != plan.Update) {
			continue
		}
		have, exists := c.obs.policies[p.ID]
		chk := agentNameCheck{p: p, s: s, target: r.policySpaces(p, c)}
		chk.moved = exists && slices.ContainsFunc(s.change.Fields, func(f plan.FieldDiff) bool { return f.Path == "space_ids" })
		if exists && have.Name == p.Name && !chk.moved {
			continue
		}
		o := others(chk.target)
		if len(o) == 0 {
			continue
		}
		for _, sp := range o {
			agentNames[sp] = append(agentNames[sp], p.Name)
		}
		if chk.moved {
			ips := r.integrationPoliciesOf(ctx, c, p.ID)
			for _, id := range sortedKeys(ips) {
				if ip := ips[id]; slices.Contains(ip.PolicyIDs, p.ID) {
					chk.pps = append(chk.pps, ip)
					for _, sp := range o {
						ipNames[sp] = append(ipNames[sp], ip.Name)
					}
				}
			}
			slices.SortStableFunc(chk.pps, func(a, b kibana.IntegrationPolicy) int { return strings.Compare(a.Name, b.Name) })
		}
		agentChecks = append(agentChecks, chk)
	}
	var ipChecks []ipNameCheck
	for i := range doc.PackagePolicies {
		p := &doc.PackagePolicies[i]
		s, ok := c.steps[plan.Key(r.cfg.Cluster, KindIntegrationPolicy, p.ID)]
		if !ok || p.Name == "" || (s.change.Action != plan.Create && s.change.Action != plan.Update) {
			continue
		}
		var have *kibana.IntegrationPolicy
		if c.obs.ip != nil {
			if h, ok := c.obs.ip.policies[p.ID]; ok {
				have = &h
			}
		}
		// A rename: the stored update paths pass no spaces to
		// requireUniqueName (the request's space only; newer ones
		// unverified, docs/fleetsim-inferred.md).
		if have != nil {
			continue
		}
		ids := p.PolicyIDs
		if ids == nil && have != nil {
			ids = have.PolicyIDs
		}
		var target []string
		for _, id := range ids {
			target = append(target, r.agentPolicySpaces(doc, c, id)...)
		}
		target = sortedUnique(target)
		// One space: only the request's space is looked at
		// (package_policies_rules.go).
		if len(target) <= 1 {
			continue
		}
		o := others(target)
		if len(o) == 0 {
			continue
		}
		for _, sp := range o {
			ipNames[sp] = append(ipNames[sp], p.Name)
		}
		ipChecks = append(ipChecks, ipNameCheck{p: p, s: s, create: have == nil, target: target})
	}
	if len(agentChecks) == 0 && len(ipChecks) == 0 {
		return
	}
	if !r.spaceAware(ctx, c) {
		return
	}
	spaces := sortedUnique(append(sortedKeys(agentNames), sortedKeys(ipNames)...))
	answers := map[string]spaceNames{}
	for _, sp := range spaces {
		a, i, err := reader.PolicyNamesInSpace(ctx, sp, agentNames[sp], ipNames[sp])
		answers[sp] = spaceNames{agents: a, integrations: i, err: err}
		if err != nil {
			c.plan.Warnings = append(c.plan.Warnings, fmt.Sprintf("could not read the policy names of Kibana space %q to check the plan's names against them (%v); a name taken there would only show at apply", sp, err))
		}
	}
	for _, chk := range agentChecks {
		if why := agentNameClash(doc, c, own, chk, answers); why != "" {
			chk.s.change.Action, chk.s.change.Reason = plan.Blocked, why
		}
	}
	for _, chk := range ipChecks {
		if why := ipNameClash(c, own, chk, answers); why != "" {
			chk.s.change.Action, chk.s.change.Reason = plan.Blocked, why
		}
	}
}

// spaceAware says whether Fleet is space-aware, reading its settings if
// the plan has not (a repository of the default space).
func (r *Reconciler) spaceAware(ctx context.Context, c *computed) bool {
	sa := c.obs.spaces
	if !sa.read {
		sr, ok := r.cfg.Fleet.(SpaceAwarenessReader)
		if !ok {
			return false
		}
		sa.read = true
		sa.status, sa.err = sr.SpaceAwarenessStatus(ctx)
	}
	return sa.err == nil && sa.status == "success"
}

// policySpaces is where agent policy p is once the plan applies: its
// declared space_ids, else the observed ones, else the repository's space.
func (r *Reconciler) policySpaces(p *schema.AgentPolicy, c *computed) []string {
	if len(p.SpaceIDs) > 0 {
		return sortedUnique(p.SpaceIDs)
	}
	if have, ok := c.obs.policies[p.ID]; ok {
		if ids := stringList(have.Raw["space_ids"]); len(ids) > 0 {
			return sortedUnique(ids)
		}
	}
	return []string{cmpOr(r.cfg.Space, "default")}
}

// agentPolicySpaces is policySpaces of agent policy id, declared or only observed.
func (r *Reconciler) agentPolicySpaces(doc *schema.Document, c *computed, id string) []string {
	for i := range doc.AgentPolicies {
		if doc.AgentPolicies[i].ID == id {
			return r.policySpaces(&doc.AgentPolicies[i], c)
		}
	}
	return r.policySpaces(&schema.AgentPolicy{ID: id}, c)
}

// agentNameClash is Kibana's refusal of chk, or "": requireUniqueName in
// its spaces, then, for a move, validatePackagePoliciesUniqueNameAcrossSpaces.
func agentNameClash(doc *schema.Document, c *computed, own string, chk agentNameCheck, answers map[string]spaceNames) string {
	p := chk.p
	var ids []string
	add := func(id string) {
		if id != p.ID && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	var where []string
	for _, sp := range chk.target {
		if sp == own {
			for _, id := range sortedKeys(c.obs.policies) {
				if c.obs.policies[id].Name == p.Name && id != p.ID && !agentRenamedAway(doc, id, p.Name) {
					add(id)
					if !slices.Contains(where, sp) {
						where = append(where, sp)
					}
				}
			}
			continue
		}
		for _, o := range answers[sp].agents {
			if o.Name == p.Name && o.ID != p.ID && !agentRenamedAway(doc, o.ID, p.Name) {
				add(o.ID)
				if !slices.Contains(where, sp) {
					where = append(where, sp)
				}
			}
		}
	}
	if len(ids) > 0 {
		slices.Sort(ids)
		msg := fmt.Sprintf("Agent Policy '%s' already exists with name '%s'", ids[0], p.Name)
		if len(ids) > 1 {
			msg = fmt.Sprintf("Agent Policies '%s' already exist with name '%s'", strings.Join(ids, ","), p.Name)
		}
		return fmt.Sprintf("agent policy %s: the name %q is taken in Kibana space %s, where it goes; Kibana would refuse it (%s): rename one of them, or leave that space out", p.ID, p.Name, quoteJoin(where), msg)
	}
	if !chk.moved {
		return ""
	}
	for _, pp := range chk.pps {
		for _, sp := range chk.target {
			if sp == allSpaces || sp == unknownSpace {
				continue
			}
			var taken []kibana.NamedPolicy
			if sp == own && c.obs.ip != nil {
				for _, id := range sortedKeys(c.obs.ip.policies) {
					o := c.obs.ip.policies[id]
					taken = append(taken, kibana.NamedPolicy{ID: o.ID, Name: o.Name, SpaceIDs: stringList(o.Raw["spaceIds"])})
				}
			} else {
				taken = answers[sp].integrations
			}
			for _, o := range taken {
				spaces := o.SpaceIDs
				if spaces == nil {
					spaces = []string{sp} // answered from sp, its spaces not said
				}
				if o.ID != pp.ID && o.Name == pp.Name && slices.Contains(spaces, sp) {
					return fmt.Sprintf("agent policy %s: its integration policy %s is named %q, which integration policy %s has in Kibana space %q; moving it there, Kibana would refuse it (An integration policy with the name %s already exists in space \"%s\". Please rename it or choose a different name.)", p.ID, pp.ID, pp.Name, o.ID, sp, pp.Name, sp)
				}
			}
		}
	}
	return ""
}

// ipNameClash is Kibana's refusal of an integration policy create or
// rename into agent policies of several spaces, for the spaces other than
// the repository's (package_policies_rules.go checks that one), or "".
func ipNameClash(c *computed, own string, chk ipNameCheck, answers map[string]spaceNames) string {
	for _, sp := range chk.target {
		if sp == own {
			continue
		}
		for _, o := range answers[sp].integrations {
			if o.ID == chk.p.ID || o.Name != chk.p.Name {
				continue
			}
			spaces := o.SpaceIDs
			if spaces == nil {
				spaces = []string{sp}
			}
			// A create is refused by any policy of the name; a rename by
			// one sharing a space (literally).
			if chk.create || slices.ContainsFunc(spaces, func(s string) bool { return slices.Contains(chk.target, s) }) {
				return fmt.Sprintf("integration policy %s: integration policy %s in Kibana space %q already has the name %q, and its agent policies are in spaces %s; Kibana would refuse it (An integration policy with the name %s already exists. Please rename it or choose a different name.)", chk.p.ID, o.ID, sp, chk.p.Name, quoteJoin(chk.target), chk.p.Name)
			}
		}
	}
	return ""
}

// agentRenamedAway reports whether the document renames agent policy id
// away from name.
func agentRenamedAway(doc *schema.Document, id, name string) bool {
	for _, p := range doc.AgentPolicies {
		if p.ID == id {
			return p.Name != "" && p.Name != name
		}
	}
	return false
}

func quoteJoin(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

func sortedUnique(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// integrationPolicyLister lists integration policies
// (kibana.Client.ListIntegrationPolicies).
type integrationPolicyLister interface {
	ListIntegrationPolicies(ctx context.Context, opts kibana.IntegrationPolicyListOptions) ([]kibana.IntegrationPolicy, error)
}

// integrationPoliciesOf is the integration policies of agent policy id in
// the repository's space: observed when the plan read them, else one
// GET /package_policies?kuery=…policy_ids:"<id>" (only for a move).
func (r *Reconciler) integrationPoliciesOf(ctx context.Context, c *computed, id string) map[string]kibana.IntegrationPolicy {
	if c.obs.ip != nil {
		return c.obs.ip.policies
	}
	l, ok := r.cfg.Fleet.(integrationPolicyLister)
	if !ok {
		return nil
	}
	ips, err := l.ListIntegrationPolicies(ctx, kibana.IntegrationPolicyListOptions{Kuery: `fleet-package-policies.policy_ids:"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(id) + `"`})
	if err != nil {
		c.plan.Warnings = append(c.plan.Warnings, fmt.Sprintf("agent policy %s: could not list its integration policies to check their names in the spaces it moves to (%v)", id, err))
		return nil
	}
	out := map[string]kibana.IntegrationPolicy{}
	for _, ip := range ips {
		out[ip.ID] = ip
	}
	return out
}
