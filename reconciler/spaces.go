package reconciler

import "fmt"

// spaceAwareSince is the first Kibana whose Fleet scopes agent and
// integration policies by space: useSpaceAwareness defaults to true there and
// a new deployment's Fleet settings start with
// use_space_awareness_migration_status "success" (elastic/kibana fleet
// common/experimental_features.ts, server/services/settings.ts;
// isSpaceAwarenessEnabled in server/services/spaces/helpers.ts needs both).
const spaceAwareSince = "9.1.0"

// spaceWarning says, for a repository that names a space, when the
// cluster's Fleet is not space-aware: every Fleet object is then global, so
// the space scopes nothing and two repositories naming two spaces see (and
// may prune) each other's policies. "" when there is nothing to say.
func spaceWarning(space, kibanaVersion string) string {
	if space == "" || kibanaVersion == "" || kibanaAtLeast(kibanaVersion, spaceAwareSince) {
		return ""
	}
	return fmt.Sprintf("clusters.main.kibana.space is %q, but Kibana %s's Fleet is not space-aware (from %s): its agent and integration policies are global, seen from every space", space, kibanaVersion, spaceAwareSince)
}
