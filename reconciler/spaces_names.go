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
// name in the spaces the policy goes to, or in every space, which may be
// others than the repository's own (elastic/kibana#239631, backported to
// 9.1 and 9.2; x-pack/platform/plugins/shared/fleet/server/; the tests are
// x-pack/platform/test/fleet_api_integration/apis/space_awareness/):
//
//   - agent policy create, rename and move: services/agent_policy.ts
//     requireUniqueName looks for another agent policy of that name in the
//     policy's space_ids (an unscoped find with namespaces: space_ids, which
//     also finds those in "*"; a "*" among them is every space), else in
//     the request's space: 409 "Agent Policy '<id>' already exists with
//     name '<name>'" ("Agent Policies '<a>,<b>' already exist …" for
//     several). create runs it with the body's space_ids;
//     services/spaces/agent_policy.ts updateAgentPolicySpaces runs it with
//     the new space_ids and the body's name; update runs it on a rename
//     with the (new) space_ids. agent_policies.ts "should prevent creating
//     agent policy for multiple spaces with same name as policy in
//     non-current namespace", "should prevent creating a single-space
//     policy with same name as an existing policy in the target space",
//     "should allow creating a policy assigned to a different space even
//     when URL space has a policy with the same name".
//   - the integration policies that move with an agent policy:
//     updateAgentPolicySpaces then runs
//     validatePackagePoliciesUniqueNameAcrossSpaces
//     (services/spaces/policy_namespaces.ts): for each of them, another
//     integration policy of that name, in any space, whose spaces hold one
//     of the new spaces literally (one in "*" clashes only with a move into
//     "*"; checked in sorted order) is a 409 "An integration policy with the
//     name <name> already exists in space "<space>". Please rename it or
//     choose a different name."
//   - integration policy create and rename: services/package_policy.ts
//     create and update hand requireUniqueName the space_ids of the agent
//     policies, flattened (two agent policies of one space make two). More
//     than one: it lists the name in every space; a create is refused by
//     any policy of it, a rename by another whose spaces share one of the
//     agent policies' spaces literally. One (a lone "*" included): the
//     request's space only (package_policies_rules.go). 409 "An integration
//     policy with the name <name> already exists. Please rename it or choose
//     a different name." package_policies.ts "should not allow to add a
//     package policy to a multispace policy that has name conflict with
//     another policy in a different space", "should prevent updating
//     package policy name already in multiple spaces when name conflicts
//     exist".
//
// fleetform reads Fleet through its own space, so the plan asks the other
// spaces for these names — one request per kind and space (up to 20 names
// each), and one GET /api/spaces/space when Kibana looks in every space —
// only when a declared create, rename or move needs it: a converged plan
// asks nothing. The repository's own space is asked too for a move's or a
// multi-space rename's integration policies, whose spaces its observation
// does not hold. Limits: a space the credentials cannot list is not asked
// (Kibana's check runs as its internal user), and whether the credentials
// may write "*" (Fleet All in all spaces) is not visible — planSpaces warns.

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
	every  bool     // target holds "*": requireUniqueName looks in every space
	moved  bool
	pps    []kibana.IntegrationPolicy // its integration policies, by name, when moved
}

// ipNameCheck is one integration policy create or rename into agent
// policies whose space_ids, flattened, are more than one: Kibana then
// looks in every space.
type ipNameCheck struct {
	p      *schema.PackagePolicy
	s      *step
	create bool
	target []string // the agent policies' spaces, sorted, deduplicated
}

// planSpaceNames blocks the creates, renames and moves whose name is
// taken in one of the spaces Kibana looks in, with Kibana's message.
func (r *Reconciler) planSpaceNames(ctx context.Context, doc *schema.Document, c *computed) {
	if c.obs.kibanaVersion == "" || !kibanaAtLeast(c.obs.kibanaVersion, spaceAwareSince) {
		return
	}
	own := cmpOr(r.cfg.Space, "default")
	gone := func(sp string) bool { // blocked by planSpaces: the space does not exist
		chk, named := c.obs.spaces.named[sp]
		return named && chk.err == nil && !chk.exists
	}
	// others are the spaces of target to ask: not the repository's own
	// (observed), "*" (no space to ask: what is there shows in every
	// space) or "?".
	others := func(target []string) []string {
		var out []string
		for _, s := range target {
			if s != own && s != allSpaces && s != unknownSpace && !gone(s) {
				out = append(out, s)
			}
		}
		return out
	}
	// Names to ask per space; everyAgent and everyIP are asked of every
	// space the credentials may list.
	agentNames, ipNames := map[string][]string{}, map[string][]string{}
	var everyAgent, everyIP []string
	askOwnIPs := false
	var agentChecks []agentNameCheck
	for i := range doc.AgentPolicies {
		p := &doc.AgentPolicies[i]
		s, ok := c.steps[plan.Key(r.cfg.Cluster, plan.KindAgentPolicy, p.ID)]
		if !ok || (s.change.Action != plan.Create && s.change.Action != plan.Update) {
			continue
		}
		have, exists := c.obs.policies[p.ID]
		chk := agentNameCheck{p: p, s: s, target: policySpaces(r.cfg.Space, p, c.obs)}
		chk.every = slices.Contains(chk.target, allSpaces)
		chk.moved = exists && slices.ContainsFunc(s.change.Fields, func(f plan.FieldDiff) bool { return f.Path == "space_ids" })
		if exists && have.Name == p.Name && !chk.moved {
			continue
		}
		o := others(chk.target)
		if len(o) == 0 && !chk.every {
			continue
		}
		for _, sp := range o {
			agentNames[sp] = append(agentNames[sp], p.Name)
		}
		if chk.every {
			everyAgent = append(everyAgent, p.Name)
		}
		if chk.moved {
			ips := r.integrationPoliciesOf(ctx, c, p.ID)
			for _, id := range sortedKeys(ips) {
				if ip := ips[id]; slices.Contains(ip.PolicyIDs, p.ID) {
					chk.pps = append(chk.pps, ip)
					for _, sp := range o {
						ipNames[sp] = append(ipNames[sp], ip.Name)
					}
					if chk.every {
						everyIP = append(everyIP, ip.Name)
					}
					// Asked of the repository's space too: its observation
					// does not say the spaces of what it sees.
					ipNames[own] = append(ipNames[own], ip.Name)
					askOwnIPs = true
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
		if have != nil && have.Name == p.Name {
			continue
		}
		flat, target := r.ipNameSpaces(doc, c.obs, ipPolicyIDs(p, have))
		// One space: only the request's space is looked at
		// (package_policies_rules.go).
		if flat <= 1 || have != nil && !renameAcrossSpaces(c.obs, have, flat) {
			continue
		}
		everyIP = append(everyIP, p.Name)
		for _, sp := range others(target) { // asked even when the spaces cannot be listed
			ipNames[sp] = append(ipNames[sp], p.Name)
		}
		if have != nil {
			// A rename: package_policies_rules.go left this space to us.
			ipNames[own] = append(ipNames[own], p.Name)
			askOwnIPs = true
		}
		ipChecks = append(ipChecks, ipNameCheck{p: p, s: s, create: have == nil, target: target})
	}
	if len(agentChecks) == 0 && len(ipChecks) == 0 {
		return
	}
	reader, ok := r.cfg.Fleet.(SpacePolicyNamesReader)
	if !ok || !r.spaceAware(ctx, c) {
		// Not space-aware (or no way to ask): every name is the request's
		// space's, as package_policies_rules.go checks all but these.
		for _, chk := range ipChecks {
			if !chk.create && c.obs.ip != nil {
				if why := ownNameTaken(doc, c.obs.ip, chk.p.ID, chk.p.Name); len(why) > 0 {
					chk.s.change.Action, chk.s.change.Reason = plan.Blocked, strings.Join(why, "\n")
				}
			}
		}
		return
	}
	if len(everyAgent) > 0 || len(everyIP) > 0 {
		spaces, err := r.listSpaces(ctx)
		if err != nil {
			c.plan.Warnings = append(c.plan.Warnings, fmt.Sprintf("could not list Kibana's spaces to check the plan's names in every space, as Kibana does for a policy in \"*\" or an integration policy of agent policies in several spaces (%v); a name taken there would only show at apply", err))
		}
		for _, sp := range spaces {
			if sp == own {
				continue
			}
			agentNames[sp] = append(agentNames[sp], everyAgent...)
			ipNames[sp] = append(ipNames[sp], everyIP...)
		}
	}
	if !askOwnIPs {
		delete(ipNames, own)
	}
	spaces := sortedUnique(append(sortedKeys(agentNames), sortedKeys(ipNames)...))
	answers := map[string]spaceNames{}
	for _, sp := range spaces {
		a, i, err := reader.PolicyNamesInSpace(ctx, sp, agentNames[sp], ipNames[sp])
		answers[sp] = spaceNames{agents: a, integrations: withSpaces(i, sp), err: err}
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
		if why := ipNameClash(doc, own, chk, answers); why != "" {
			chk.s.change.Action, chk.s.change.Reason = plan.Blocked, why
		}
	}
}

// SpaceLister lists the Kibana spaces the credentials may see
// (kibana.Client.ListSpaceIDs).
type SpaceLister interface {
	ListSpaceIDs(ctx context.Context) ([]string, error)
}

// listSpaces is every Kibana space fleetform's credentials may list: one
// GET /api/spaces/space. Kibana's own checks run as its internal user and
// see every space; a space where the credentials hold no Kibana privilege
// is not listed, so a name taken only there shows at apply.
func (r *Reconciler) listSpaces(ctx context.Context) ([]string, error) {
	l, ok := r.cfg.Fleet.(SpaceLister)
	if !ok {
		return nil, fmt.Errorf("the Fleet client cannot list spaces")
	}
	return l.ListSpaceIDs(ctx)
}

// withSpaces fills in the spaces of the integration policies answered from
// space sp when Kibana did not say them (before it answered spaceIds).
func withSpaces(ips []kibana.NamedPolicy, sp string) []kibana.NamedPolicy {
	for i := range ips {
		if ips[i].SpaceIDs == nil {
			ips[i].SpaceIDs = []string{sp}
		}
	}
	return ips
}

// ipPolicyIDs is the agent policies integration policy p is in once the
// plan applies: declared, else observed.
func ipPolicyIDs(p *schema.PackagePolicy, have *kibana.IntegrationPolicy) []string {
	if p.PolicyIDs == nil && have != nil {
		return have.PolicyIDs
	}
	return p.PolicyIDs
}

// ipNameSpaces is what package_policy.ts create and update hand
// requireUniqueName: the space_ids of the agent policies policyIDs,
// flattened — flat is their count (not deduplicated: two agent policies of
// one space make two), target the spaces, sorted and deduplicated.
func (r *Reconciler) ipNameSpaces(doc *schema.Document, obs *observation, policyIDs []string) (flat int, target []string) {
	for _, id := range policyIDs {
		sp := agentPolicySpaces(r.cfg.Space, doc, obs, id)
		flat += len(sp)
		target = append(target, sp...)
	}
	return flat, sortedUnique(target)
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
func policySpaces(space string, p *schema.AgentPolicy, obs *observation) []string {
	if len(p.SpaceIDs) > 0 {
		return sortedUnique(p.SpaceIDs)
	}
	if have, ok := obs.policies[p.ID]; ok {
		if ids := stringList(have.Raw["space_ids"]); len(ids) > 0 {
			return sortedUnique(ids)
		}
	}
	return []string{cmpOr(space, "default")}
}

// agentPolicySpaces is policySpaces of agent policy id, declared or only observed.
func agentPolicySpaces(space string, doc *schema.Document, obs *observation, id string) []string {
	for i := range doc.AgentPolicies {
		if doc.AgentPolicies[i].ID == id {
			return policySpaces(space, &doc.AgentPolicies[i], obs)
		}
	}
	return policySpaces(space, &schema.AgentPolicy{ID: id}, obs)
}

// agentNameClash is Kibana's refusal of chk, or "": requireUniqueName in
// its spaces (every space when they hold "*"), then, for a move,
// validatePackagePoliciesUniqueNameAcrossSpaces.
func agentNameClash(doc *schema.Document, c *computed, own string, chk agentNameCheck, answers map[string]spaceNames) string {
	p := chk.p
	var ids []string
	add := func(id string) {
		if id != p.ID && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	search := slices.DeleteFunc(slices.Clone(chk.target), func(s string) bool { return s == allSpaces || s == unknownSpace })
	if chk.every {
		search = sortedUnique(append(append(search, own), sortedKeys(answers)...))
	}
	var where []string
	for _, sp := range search {
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
	// Kibana lists the integration policies of that name in every space and
	// compares their spaces with the new ones literally: one in "*" clashes
	// only with a move into "*".
	known := knownIntegrationPolicies(answers)
	for _, pp := range chk.pps {
		for _, sp := range chk.target {
			if sp == unknownSpace {
				continue
			}
			for _, o := range known {
				if o.ID != pp.ID && o.Name == pp.Name && slices.Contains(o.SpaceIDs, sp) {
					return fmt.Sprintf("agent policy %s: its integration policy %s is named %q, which integration policy %s has in Kibana space %q; moving it there, Kibana would refuse it (An integration policy with the name %s already exists in space \"%s\". Please rename it or choose a different name.)", p.ID, pp.ID, pp.Name, o.ID, sp, pp.Name, sp)
				}
			}
		}
	}
	return ""
}

// knownIntegrationPolicies is every integration policy of the names asked,
// with its spaces, as the spaces asked answered them.
func knownIntegrationPolicies(answers map[string]spaceNames) []kibana.NamedPolicy {
	var out []kibana.NamedPolicy
	for _, sp := range sortedKeys(answers) {
		out = append(out, answers[sp].integrations...)
	}
	return out
}

// ipNameClash is Kibana's refusal of an integration policy create or
// rename into agent policies of several spaces, or "": requireUniqueName
// lists the policies of that name in every space; a create is refused by
// any (the repository's space is package_policies_rules.go's), a rename by
// another sharing one of the agent policies' spaces, literally.
func ipNameClash(doc *schema.Document, own string, chk ipNameCheck, answers map[string]spaceNames) string {
	for _, sp := range sortedKeys(answers) {
		if sp == own && chk.create {
			continue
		}
		for _, o := range answers[sp].integrations {
			if o.ID == chk.p.ID || o.Name != chk.p.Name || renamedAway(doc, o.ID, o.Name) {
				continue
			}
			if chk.create || sharesSpace(o.SpaceIDs, chk.target) {
				return fmt.Sprintf("integration policy %s: integration policy %s in Kibana space %q already has the name %q, and its agent policies are in spaces %s, so Kibana looks in every space; Kibana would refuse it (An integration policy with the name %s already exists. Please rename it or choose a different name.)", chk.p.ID, o.ID, sp, chk.p.Name, quoteJoin(chk.target), chk.p.Name)
			}
		}
	}
	return ""
}

// renameAcrossSpaces says whether a rename of have is checked here rather
// than by package_policies_rules.go: into agent policies whose space_ids,
// flattened, are more than one (flat), on a Kibana that can be
// space-aware.
func renameAcrossSpaces(obs *observation, have *kibana.IntegrationPolicy, flat int) bool {
	return have != nil && flat > 1 && obs.kibanaVersion != "" && kibanaAtLeast(obs.kibanaVersion, spaceAwareSince)
}

// sharesSpace says whether a and b have a space in common, literally ("*"
// matches only "*"), as package_policy.ts requireUniqueName compares them.
func sharesSpace(a, b []string) bool {
	return slices.ContainsFunc(a, func(s string) bool { return slices.Contains(b, s) })
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
