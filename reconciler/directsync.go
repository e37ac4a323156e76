package reconciler

import (
	"slices"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// syncViaDirect is schema.Output.SyncVia for integrations fleetform installs
// on the remote itself (remote.SyncViaDirect).
const syncViaDirect = "direct"

// directSyncNote explains sync_integrations / sync_uninstalled_integrations
// = false on an output with sync_via: direct. The two-cluster engine turns
// Kibana's own sync off for such an output (remote.fleetView), whatever the
// YAML says, because fleetform installs and uninstalls the integrations on
// the remote itself; the plan must say so rather than show a false the YAML
// does not hold.
const directSyncNote = "sync_via: direct: fleetform syncs the integrations to the remote itself, so Kibana's own sync is off"

// noteDirectSync adds directSyncNote to the sync fields of an output with
// sync_via: direct.
func noteDirectSync(fields []plan.FieldDiff, o *schema.Output) {
	if o.SyncVia != syncViaDirect {
		return
	}
	for i := range fields {
		if slices.Contains([]string{"sync_integrations", "sync_uninstalled_integrations"}, fields[i].Path) && fields[i].Note == "" {
			fields[i].Note = directSyncNote
		}
	}
}
