package reconciler

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// spaceAwareSince is the first Kibana whose Fleet can scope agent and
// integration policies by space: useSpaceAwareness is on by default there
// (elastic/kibana#220083 "Enabled for the 9.1 package"; fleet
// common/experimental_features.ts) and a new deployment's Fleet settings
// start with use_space_awareness_migration_status "success"
// (elastic/kibana#220290; server/services/settings.ts createDefaultSettings).
// isSpaceAwarenessEnabled (server/services/spaces/helpers.ts) needs both,
// so a deployment upgraded from an earlier stack stays global until its
// Fleet is migrated (POST /internal/fleet/enable_space_awareness, the
// opt-in of Fleet's settings page, elastic/kibana#221307;
// fleet_api_integration/apis/space_awareness/space_awareness_migration.ts
// "without opt-in": both spaces list the same policies).
const spaceAwareSince = "9.1.0"

// SpaceAwarenessReader reads Fleet's use_space_awareness_migration_status
// (kibana.Client.SpaceAwarenessStatus).
type SpaceAwarenessReader interface {
	SpaceAwarenessStatus(ctx context.Context) (string, error)
}

// SpaceChecker says whether a Kibana space exists
// (kibana.Client.SpaceExists).
type SpaceChecker interface {
	SpaceExists(ctx context.Context, id string) (bool, error)
}

// spaceAwareness is what a plan knows of Fleet's space awareness migration
// and of the spaces the document's space_ids name.
type spaceAwareness struct {
	read   bool   // the status was asked for
	status string // use_space_awareness_migration_status, "" when absent
	err    error  // why it could not be read
	// named holds, for every space an agent policy's space_ids name (but
	// "*" and the repository's own, checked at connect), whether it exists.
	named map[string]spaceCheck
}

type spaceCheck struct {
	exists bool
	err    error
}

// observeSpaces reads what the plan's space rules need: the migration
// status (observeSpaceAwareness) and, one GET /api/spaces/space/{id} each,
// the spaces named in space_ids.
func (r *Reconciler) observeSpaces(ctx context.Context, doc *schema.Document, kibanaVersion string) spaceAwareness {
	sa := r.observeSpaceAwareness(ctx, kibanaVersion)
	sc, ok := r.cfg.Fleet.(SpaceChecker)
	if !ok {
		return sa
	}
	own := cmpOr(r.cfg.Space, "default")
	for _, p := range doc.AgentPolicies {
		for _, id := range p.SpaceIDs {
			if id == allSpaces || id == own {
				continue
			}
			if _, done := sa.named[id]; done {
				continue
			}
			if sa.named == nil {
				sa.named = map[string]spaceCheck{}
			}
			exists, err := sc.SpaceExists(ctx, id)
			sa.named[id] = spaceCheck{exists: exists, err: err}
		}
	}
	return sa
}

// allSpaces is ALL_SPACES_ID.
const allSpaces = "*"

// planSpaces adds the plan's space remarks: spaceWarning, the moves
// Kibana refuses whatever the spaces (spaces_moves.go), and a block on
// every agent policy create or space_ids update that would put the policy
// in a space Kibana refuses. The create and update handlers authorise
// space_ids against the existing spaces where the caller holds
// fleet-agent-policies-all, plus "*"
// (getAuthorizedSpacesWithAgentPoliciesAllPrivileges,
// server/routes/agent_policy/handlers.ts): a space that does not exist, or
// where the credentials hold no Kibana privilege at all, is refused with
// "Not enough permissions to create policies in space <id>".
func (r *Reconciler) planSpaces(ctx context.Context, doc *schema.Document, c *computed) {
	defer r.planHostedCreates(ctx, doc, c) // spaces_moves.go: after the names, as Kibana creates first
	defer r.planSpaceNames(ctx, doc, c)    // spaces_names.go
	r.planSpaceMoves(ctx, doc, c)          // spaces_moves.go: updateAgentPolicySpaces refuses these first
	if w := spaceWarning(r.cfg.Space, c.obs.kibanaVersion, c.obs.spaces); w != "" {
		c.plan.Warnings = append(c.plan.Warnings, w)
	}
	for _, p := range doc.AgentPolicies {
		s, ok := c.steps[plan.Key(r.cfg.Cluster, plan.KindAgentPolicy, p.ID)]
		if !ok {
			continue
		}
		var adding []string
		hidden := false // an update whose observed space_ids hide a space ("?")
		switch s.change.Action {
		case plan.Create:
			adding = p.SpaceIDs
		case plan.Update:
			for _, f := range s.change.Fields {
				if f.Path == "space_ids" {
					had := stringSet(f.Before)
					hidden = had[unknownSpace]
					for _, id := range stringList(f.After) {
						if !had[id] {
							adding = append(adding, id)
						}
					}
				}
			}
		}
		if slices.Contains(adding, allSpaces) && c.obs.kibanaVersion != "" && kibanaAtLeast(c.obs.kibanaVersion, spaceAwareSince) {
			c.plan.Warnings = append(c.plan.Warnings, allSpacesWarning(p.ID, s.change.Action == plan.Create))
		}
		for _, id := range adding {
			chk, named := c.obs.spaces.named[id]
			if !named {
				continue
			}
			why := ""
			switch {
			case chk.err == nil && !chk.exists:
				why = fmt.Sprintf("space_ids names Kibana space %q, which does not exist", id)
			case kibana.StatusCode(chk.err) == http.StatusForbidden && !hidden:
				// (With a hidden space, this one may be it: already there,
				// not added, so Kibana would not check it.)
				why = fmt.Sprintf("fleetform's credentials hold no Kibana privilege in space %q (%v)", id, chk.err)
			case chk.err != nil:
				c.plan.Warnings = append(c.plan.Warnings, fmt.Sprintf("agent policy %s: could not check space %q of its space_ids: %v", p.ID, id, chk.err))
				continue
			default:
				continue
			}
			// Kibana's create handler says "No enough permissions …" (sic),
			// its update path "Not enough permissions …" (server/routes/agent_policy/handlers.ts,
			// services/spaces/agent_policy.ts; fleetsim/spaces.go).
			msg := "Not enough"
			if s.change.Action == plan.Create {
				msg = "No enough"
			}
			s.change.Action = plan.Blocked
			s.change.Reason = fmt.Sprintf("agent policy %s: %s; Kibana would refuse it (\"%s permissions to create policies in space %s\"): create the space, grant fleetform Fleet privileges there, or fix space_ids", p.ID, why, msg, id)
			break
		}
	}
}

// allSpacesWarning says what fleetform cannot check of an agent policy
// that space_ids put in "*" (every space): Kibana authorises "*" like a
// space — fleet-agent-policies-all checked at the resource "*"
// (getAuthorizedSpacesWithAgentPoliciesAllPrivileges,
// server/routes/agent_policy/handlers.ts), which only a role granting
// Fleet's agent policies All in all spaces holds (or a superuser); a role
// of named spaces, even all of them, is refused. No Kibana API fleetform
// uses answers for "*" (the Spaces API answers per space).
func allSpacesWarning(id string, create bool) string {
	msg := "Not enough"
	if create {
		msg = "No enough" // sic, the create handler's
	}
	return fmt.Sprintf("agent policy %s: space_ids holds \"*\" (every space); Kibana allows that only to credentials holding Fleet's agent policies All privilege in all spaces (a role granted for \"*\", or a superuser) — a role of named spaces is refused (\"%s permissions to create policies in space *\"); fleetform cannot check this privilege", id, msg)
}

// observeSpaceAwareness reads the migration status when it matters: the
// repository names a space and Kibana is 9.1 or later (before that Fleet is
// never space-aware). One GET /api/fleet/settings, only then.
func (r *Reconciler) observeSpaceAwareness(ctx context.Context, kibanaVersion string) spaceAwareness {
	sr, ok := r.cfg.Fleet.(SpaceAwarenessReader)
	if !ok || r.cfg.Space == "" || kibanaVersion == "" || !kibanaAtLeast(kibanaVersion, spaceAwareSince) {
		return spaceAwareness{}
	}
	st, err := sr.SpaceAwarenessStatus(ctx)
	return spaceAwareness{read: true, status: st, err: err}
}

// spaceWarning says, for a repository that names a space, when the
// cluster's Fleet is not space-aware: every Fleet object is then global, so
// the space scopes nothing and two repositories naming two spaces see (and
// may prune) each other's policies. "" when there is nothing to say.
func spaceWarning(space, kibanaVersion string, sa spaceAwareness) string {
	if space == "" || kibanaVersion == "" {
		return ""
	}
	if !kibanaAtLeast(kibanaVersion, spaceAwareSince) {
		return fmt.Sprintf("clusters.main.kibana.space is %q, but Kibana %s's Fleet is not space-aware (from %s): its agent and integration policies are global, seen from every space", space, kibanaVersion, spaceAwareSince)
	}
	const global = "its agent and integration policies are global, seen from every space, until Fleet's space awareness migration has run (Fleet → Settings, or POST /internal/fleet/enable_space_awareness; a deployment upgraded from before " + spaceAwareSince + " is not migrated by the upgrade)"
	switch {
	case !sa.read:
		return ""
	case sa.err != nil:
		return fmt.Sprintf("clusters.main.kibana.space is %q, but fleetform could not read Fleet's settings to tell whether Fleet is space-aware (%v); if it is not, %s", space, sa.err, global)
	case sa.status == "success":
		return ""
	case sa.status == "":
		return fmt.Sprintf("clusters.main.kibana.space is %q, but Fleet on Kibana %s is not space-aware: its settings have no use_space_awareness_migration_status, so %s", space, kibanaVersion, global)
	}
	return fmt.Sprintf("clusters.main.kibana.space is %q, but Fleet on Kibana %s is not space-aware: use_space_awareness_migration_status is %q, so %s", space, kibanaVersion, sa.status, global)
}

// unknownSpace is what Kibana answers, in space_ids, for a space the
// credentials may not read (UNKNOWN_SPACE; the security plugin's
// saved-objects extension redacts it, space_awareness/agent_policies.ts
// "should return only spaces user can access": ["default", "?"]).
const unknownSpace = "?"

// spaceIDsField settles the space_ids difference of one agent policy,
// which diffManaged compares as plain lists. Kibana answers space_ids
// sorted (namespaceComparator), so the order declared does not matter; a
// policy answered without space_ids (Fleet not space-aware: Kibana drops
// space_ids from the update) cannot be compared; and a "?" hides a space
// the credentials cannot read. When the hidden spaces may be exactly the
// declared ones missing from the answer, the field is not compared
// (sending space_ids would make Kibana remove any hidden space not
// declared, which it refuses for a space the caller cannot write); when
// the difference is certain the change stays, noted. Whatever is not
// compared is said in a plan warning.
func (c *computed) spaceIDsField(id string, fields []plan.FieldDiff, have map[string]any) []plan.FieldDiff {
	i := slices.IndexFunc(fields, func(f plan.FieldDiff) bool { return f.Path == "space_ids" })
	if i < 0 {
		return fields
	}
	f := &fields[i]
	drop := func(why string) []plan.FieldDiff {
		c.plan.Warnings = append(c.plan.Warnings, fmt.Sprintf("agent policy %s: space_ids not compared: %s", id, why))
		return slices.Delete(fields, i, i+1)
	}
	if _, answered := have["space_ids"]; !answered {
		return drop("Kibana answers no space_ids (Fleet is not space-aware), and ignores them in an update")
	}
	want, got := stringSet(f.After), stringSet(f.Before)
	hidden := 0
	for _, s := range stringList(f.Before) {
		if s == unknownSpace {
			hidden++
		}
	}
	delete(got, unknownSpace)
	var missing, extra []string
	for s := range want {
		if !got[s] {
			missing = append(missing, s)
		}
	}
	for s := range got {
		if !want[s] {
			extra = append(extra, s)
		}
	}
	slices.Sort(missing)
	switch {
	case hidden == 0 && len(missing) == 0 && len(extra) == 0:
		return slices.Delete(fields, i, i+1) // the same spaces, in another order
	case hidden > 0 && len(extra) == 0 && len(missing) == hidden:
		return drop(fmt.Sprintf("Kibana shows %d of its spaces as %q (not readable with fleetform's credentials); they may be %s", hidden, unknownSpace, strings.Join(missing, ", ")))
	case hidden > 0:
		f.Note = fmt.Sprintf("%d space(s) shown as %q are not readable with fleetform's credentials; Kibana refuses to remove a space the caller may not write (\"Not enough permissions to remove policies from space …\")", hidden, unknownSpace)
	}
	return fields
}

func stringSet(v any) map[string]bool {
	m := map[string]bool{}
	for _, s := range stringList(v) {
		m[s] = true
	}
	return m
}
