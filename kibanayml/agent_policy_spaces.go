package kibanayml

import (
	"gopkg.in/yaml.v3"

	"github.com/fleetform/fleetform/schema"
)

const spaceIDNote = "space_id is the space Kibana's preconfiguration creates the policy in (services/preconfiguration.ts picks the saved-objects client by space_id, the default space without it); it is space_ids[0]."

// addSpaceID gives a kibana.yml agent policy that declares space_ids the
// preconfiguration-only key space_id (PreconfiguredAgentPoliciesSchema in
// server/types/models/preconfiguration.ts): ensurePreconfiguredPackagesAndPolicies
// creates the policy through a saved-objects client for space_id, or for
// the default space when it is absent, and never reads space_ids for
// that. Without it a policy declared only in space team-a would be
// created in the default space.
func addSpaceID(m *yaml.Node, p schema.AgentPolicy) {
	if len(p.SpaceIDs) == 0 {
		return
	}
	if k, _ := lookup(m, "space_id"); k != nil {
		return
	}
	addPair(m, "space_id", str(p.SpaceIDs[0]), spaceIDNote)
}
