package kibanayml

import (
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/fleetform/fleetform/schema"
)

const spaceIDNote = "space_id is the space Kibana's preconfiguration creates the policy in (services/preconfiguration.ts picks the saved-objects client by space_id, the default space without it); it is the first of space_ids other than *."

// addSpaceID gives a kibana.yml agent policy that declares space_ids the
// preconfiguration-only key space_id (PreconfiguredAgentPoliciesSchema in
// server/types/models/preconfiguration.ts): ensurePreconfiguredPackagesAndPolicies
// creates the policy through a saved-objects client for space_id, or for
// the default space when it is absent, and never reads space_ids for
// that. Without it a policy declared only in space team-a would be
// created in the default space.
// "*" (every space) names no space to create the policy in: the first
// other entry is taken, and with none space_id is left out.
func addSpaceID(m *yaml.Node, p schema.AgentPolicy) {
	i := slices.IndexFunc(p.SpaceIDs, func(id string) bool { return id != "*" })
	if i < 0 {
		return
	}
	if k, _ := lookup(m, "space_id"); k != nil {
		return
	}
	addPair(m, "space_id", str(p.SpaceIDs[i]), spaceIDNote)
}
