package fleetsim

// Kibana spaces and Fleet's space awareness.
//
// From 9.1 Fleet is space-aware (useSpaceAwareness defaults to true in
// FLEET/common/experimental_features.ts, elastic/kibana#220083, and a new
// deployment's settings are created with use_space_awareness_migration_status
// "success", server/services/settings.ts createDefaultSettings;
// isSpaceAwarenessEnabled in server/services/spaces/helpers.ts needs both;
// an upgraded deployment stays global until migrated, spaces_migration.go).
// Agent policies and package policies are then multi-namespace saved
// objects: /s/{space}/api/fleet/... sees only the objects whose space_ids
// hold that space (or "*"), creates put them in the URL's space unless the
// body names space_ids, and space_ids on an update moves the policy and its
// package policies (server/services/spaces/agent_policy.ts
// updateAgentPolicySpaces). How answers show it: spaces_policies.go.
//
// Every other Fleet kind is global, from any space and any version:
// server/saved_objects/index.ts registers ingest-outputs,
// fleet-fleet-server-host, fleet-proxy, fleet-agent-download-sources,
// epm-packages (and its assets) and the global settings object with
// namespaceType 'agnostic'; only fleet-agent-policies and
// fleet-package-policies are 'multiple' (fleet-space-settings, the
// per-space allowed namespace prefixes, is 'single' and not simulated). A
// package's Kibana assets are installed per space
// (installed_kibana_space_id), the package itself once.
// TestSpaces_GlobalKindsAreSeenFromEverySpace holds fleetsim to it.
//
// The Spaces API (GET and POST /api/spaces/space) holds which spaces exist;
// Fleet itself does not check that the URL's space exists (the spaces
// onPostAuth interceptor only checks /app routes:
// spaces/server/lib/request_interceptors/on_post_auth_interceptor.ts).

import (
	"slices"

	"github.com/fleetform/fleetform/fleetsim/esim"
)

// defaultSpace is DEFAULT_SPACE_ID; allSpaces is ALL_SPACES_ID.
const (
	defaultSpace = "default"
	allSpaces    = "*"
)

// spaceAware is isSpaceAwarenessEnabled: from 9.1, unless the deployment
// was upgraded and never migrated (spaces_migration.go).
func (c *Cluster) spaceAware() bool {
	return versionAtLeast(c.cfg.Version, versionSpaceAwareness) && c.st.SpaceMigration == ""
}

// agentPolicyType and packagePolicyType are the saved-object types Fleet
// reads and writes, named in Kibana's not-found and conflict messages:
// fleet-agent-policies and fleet-package-policies once space-aware,
// ingest-agent-policies and ingest-package-policies before
// (getAgentPolicySavedObjectType and getPackagePolicySavedObjectType in
// server/services; common/constants/package_policy.ts; the saved-objects
// client's not-found error names the type). A synthetics API-test helper in
// elastic/kibana quotes the 404 "Saved object [fleet-agent-policies/<id>]
// not found".
func (c *Cluster) agentPolicyType() string {
	if c.spaceAware() {
		return "fleet-agent-policies"
	}
	return "ingest-agent-policies"
}

func (c *Cluster) packagePolicyType() string {
	if c.spaceAware() {
		return "fleet-package-policies"
	}
	return "ingest-package-policies"
}

// spaceIDs is the saved object's namespaces: ["default"] when never set.
func (p *agentPolicy) spaceIDs() []string {
	if len(p.Spaces) == 0 {
		return []string{defaultSpace}
	}
	return p.Spaces
}

func (pp *packagePolicy) spaceIDs() []string {
	if len(pp.Spaces) == 0 {
		return []string{defaultSpace}
	}
	return pp.Spaces
}

// inSpace says whether an object in spaces is visible from space.
func inSpace(spaces []string, space string) bool {
	return slices.Contains(spaces, space) || slices.Contains(spaces, allSpaces)
}

// sharesSpace says whether two objects have a space in common (name
// uniqueness is scoped to the policy's space_ids: space_awareness/
// agent_policies.ts "should allow creating a policy assigned to a different
// space even when URL space has a policy with the same name").
func sharesSpace(a, b []string) bool {
	for _, s := range a {
		if inSpace(b, s) || s == allSpaces {
			return true
		}
	}
	return false
}

// policyVisible says whether an agent policy is seen from the request's space.
func (c *Cluster) policyVisible(p *agentPolicy, r *kreq) bool {
	return !c.spaceAware() || inSpace(p.spaceIDs(), r.spaceID())
}

// packagePolicyVisible says whether a package policy is seen from the
// request's space.
func (c *Cluster) packagePolicyVisible(pp *packagePolicy, r *kreq) bool {
	return !c.spaceAware() || inSpace(pp.spaceIDs(), r.spaceID())
}

// spaceID is the request's space: the /s/{space} prefix, else default.
func (r *kreq) spaceID() string {
	if r == nil || r.space == "" {
		return defaultSpace
	}
	return r.space
}

// authorizedSpaces are the spaces where the principal may write agent
// policies (the handlers' getAuthorizedSpaces): every space for a superuser
// or a "*" resource, else the spaces of its Fleet "all" application
// privileges (resources "space:<id>").
func authorizedSpace(p esim.Principal, space string) bool {
	if p.Superuser {
		return true
	}
	for _, a := range p.Applications {
		if a.Application != "kibana-.kibana" && a.Application != "*" {
			continue
		}
		write := false
		for _, priv := range a.Privileges {
			switch priv {
			case "all", "*", "feature_fleetv2.all":
				write = true
			}
		}
		if !write {
			continue
		}
		for _, res := range a.Resources {
			if res == "*" || res == "space:*" || res == "space:"+space {
				return true
			}
		}
	}
	return false
}

// newPolicySpaces is where a created policy goes: the body's space_ids,
// else the URL's space; every space added must be authorised. The create
// handler's own check (createAgentPolicyHandler, server/routes/
// agent_policy/handlers.ts) says "No enough permissions to create policies
// in space <id>" — sic, a 400 FleetError; space_awareness/
// agent_policies.ts "should not allow to create a policy in another space
// when user do not have permissions from default space" expects it —,
// unlike updateAgentPolicySpaces' "Not enough permissions …" on an update.
func (c *Cluster) newPolicySpaces(r *kreq, body map[string]any) ([]string, *kresp) {
	spaces := []string{r.spaceID()}
	if ids := stringList(body["space_ids"]); len(ids) > 0 {
		spaces = ids
	}
	_, named := body["space_ids"]
	for _, s := range spaces {
		if !authorizedSpace(r.principal, s) || named && !c.listedSpace(s) {
			return nil, badRequest("No enough permissions to create policies in space %s", s)
		}
	}
	return spaces, nil
}

// listedSpace says whether a space id is one the handlers' authorised
// spaces can hold: getAuthorizedSpacesWithAgentPoliciesAllPrivileges
// (server/routes/agent_policy/handlers.ts) checks privileges at the
// existing spaces (getAllSpaces) and "*" only, so space_ids naming a space
// that does not exist — or "?", what Kibana answers for an unreadable one —
// are refused even for a superuser. The URL's own space is not checked
// (only body space_ids are).
func (c *Cluster) listedSpace(s string) bool { return s == allSpaces || c.space(s) != nil }

// moveSpaces is updateAgentPolicySpaces (server/services/spaces/agent_policy.ts),
// its refusals in its order, each a 400: nothing to do when space_ids is
// absent or empty; a hosted (is_managed) policy without force refuses,
// even with its spaces unchanged (the check precedes the comparison), with
// HostedAgentPolicyRestrictionRelatedError, whose constructor
// (server/errors/index.ts) appends the "… external orchestration solution
// …" sentences to "Cannot update hosted agent policy <id> space " (two
// spaces); nothing more when the spaces are unchanged (compared sorted);
// a package policy of the agent policy with more than one policy_ids
// refuses ("Agent policies using reusable integration policies cannot be
// moved to a different space.") — findAllForAgentPolicy reads them
// through the request space's client, so only those the request's space
// sees count, each with all its policy_ids; the principal must be
// authorised in every space added and removed; then the names. The agent
// policy and those package policies move together.
// spaces/agent_policy.test.ts "throw when trying to change a managed
// policies space", "throw when trying to change space to a policy with
// reusable package policies"; fleetsim's tests: TestSpaces_MoveRefusals.
func (c *Cluster) moveSpaces(p *agentPolicy, r *kreq, force bool) *kresp {
	next := stringList(r.body["space_ids"])
	if !c.spaceAware() || len(next) == 0 {
		return nil
	}
	cur := p.spaceIDs()
	if p.flag("is_managed") && !force {
		return hostedMoveRefused(p.ID)
	}
	a, b := slices.Clone(cur), slices.Clone(next)
	slices.Sort(a)
	slices.Sort(b)
	if slices.Equal(a, b) {
		return nil
	}
	var pps []*packagePolicy
	for _, pp := range c.packagePoliciesOf(p.ID) {
		if inSpace(pp.spaceIDs(), r.spaceID()) {
			pps = append(pps, pp)
		}
	}
	for _, pp := range pps {
		if len(pp.PolicyIDs) > 1 {
			return badRequest("Agent policies using reusable integration policies cannot be moved to a different space.")
		}
	}
	for _, s := range next {
		if !slices.Contains(cur, s) && (!authorizedSpace(r.principal, s) || !c.listedSpace(s)) {
			return badRequest("Not enough permissions to create policies in space %s", s)
		}
	}
	for _, s := range cur {
		if !slices.Contains(next, s) && (!authorizedSpace(r.principal, s) || !c.listedSpace(s)) {
			return badRequest("Not enough permissions to remove policies from space %s", s)
		}
	}
	// updateAgentPolicySpaces gets the request body ({...data, id}: the
	// handler, server/routes/agent_policy/handlers.ts), so the name checked
	// in the new spaces is the new one when the update renames.
	name := cmpOr(str(r.body["name"]), p.str("name"))
	if ids := c.nameTakenIn(name, p.ID, next); len(ids) > 0 {
		return nameExists(ids, name)
	}
	if resp := c.packagePolicyNamesFree(pps, next); resp != nil {
		return resp
	}
	p.Spaces = slices.Clone(next)
	for _, pp := range pps {
		pp.Spaces = slices.Clone(next)
	}
	return nil
}

// hostedMoveRefused is updateAgentPolicySpaces' refusal of a hosted policy.
func hostedMoveRefused(id string) *kresp {
	return badRequest("Cannot update hosted agent policy %s space %s", id, hostedAgentPolicyRestriction)
}

// hostedCreateMoveRefused says whether the create handler
// (createAgentPolicyHandler, server/routes/agent_policy/handlers.ts)
// refuses a new policy after creating it: agentPolicyService.create writes
// it in the request's space, then, whenever the body has space_ids (the
// handler's condition `spaceIds.length > 1 || (spaceIds.length === 0 &&
// spaceIds[0]) !== spaceId` holds for every non-empty list),
// updateAgentPolicySpaces moves it — and refuses a hosted (is_managed)
// policy without force, leaving it created in the request's space (no
// rollback) and answering hostedMoveRefused. Its other refusals cannot
// apply to a new policy: the package policies the create adds (Fleet
// Server, system) are its own.
func (c *Cluster) hostedCreateMoveRefused(r *kreq, body map[string]any, force bool) bool {
	return c.spaceAware() && body["is_managed"] == true && !force && len(stringList(body["space_ids"])) > 0
}

// spaceOf splits the /s/{space} prefix off a request path.
func spaceOf(path string) (space, rest string) {
	if m := spacePrefix.FindStringSubmatch(path); m != nil {
		return m[1], m[2]
	}
	return "", path
}

// fleetServerPolicyID is the id a Fleet Server policy created without one
// gets: fleet-server-policy, prefixed by the space outside the default one
// (space_awareness/agent_policies.ts "should create fleet-server-policy in
// the test space": `${TEST_SPACE_1}-fleet-server-policy`).
func (c *Cluster) fleetServerPolicyID(r *kreq) string {
	if c.spaceAware() && r.spaceID() != defaultSpace {
		return r.spaceID() + "-fleet-server-policy"
	}
	return "fleet-server-policy"
}

// principalAtSpace keeps the Kibana application privileges that apply in
// space: Kibana checks a route's privileges at the request's space
// (checkPrivilegesWithRequest(...).atSpace), so privileges granted on
// "space:default" only do not open /s/test1/api/fleet/... . Resources "*"
// and "space:*" apply everywhere; a grant without resources is kept.
func principalAtSpace(p esim.Principal, space string) esim.Principal {
	if space == "" {
		space = defaultSpace
	}
	apps := make([]esim.ApplicationPrivilege, 0, len(p.Applications))
	for _, a := range p.Applications {
		if len(a.Resources) == 0 || slices.ContainsFunc(a.Resources, func(r string) bool {
			return r == "*" || r == "space:*" || r == "space:"+space
		}) {
			apps = append(apps, a)
		}
	}
	p.Applications = apps
	return p
}
