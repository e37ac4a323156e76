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

// directSyncForKibana returns doc as Kibana version v can take it. An
// output with sync_via: direct reaches the reconciler with
// sync_integrations and sync_uninstalled_integrations false
// (remote.fleetView), which keeps Kibana's own sync off; a Kibana before
// those keys (featSyncIntegrations, featSyncUninstalled: 9.1.0) has no
// sync of its own and refuses an unknown key with 400, so there both are
// left out instead of blocking the output for keys the YAML's sync_via
// put there. An unknown version ("") changes nothing.
func directSyncForKibana(doc *schema.Document, v string) *schema.Document {
	old := func(o schema.Output) bool {
		return o.SyncVia == syncViaDirect && (o.SyncIntegrations != nil && !kibanaAtLeast(v, featSyncIntegrations.since) ||
			o.SyncUninstalledIntegrations != nil && !kibanaAtLeast(v, featSyncUninstalled.since))
	}
	if v == "" || !slices.ContainsFunc(doc.Outputs, old) {
		return doc
	}
	cp := *doc
	cp.Outputs = slices.Clone(doc.Outputs)
	for i := range cp.Outputs {
		if o := &cp.Outputs[i]; o.SyncVia == syncViaDirect {
			if !kibanaAtLeast(v, featSyncIntegrations.since) {
				o.SyncIntegrations = nil
			}
			if !kibanaAtLeast(v, featSyncUninstalled.since) {
				o.SyncUninstalledIntegrations = nil
			}
		}
	}
	return &cp
}
