package reconciler

// Remote sync of integrations: Kibana's sync_integrations task installs on a
// remote the packages (and custom assets) installed on the main cluster —
// never integration policies, which stay on main where the agents get them
// (FLEET/server/tasks/sync_integrations/sync_integrations_on_remote.ts syncs
// the fleet-synced-integrations index: installed packages and custom
// assets). What a remote needs is the integrations' packages: their index
// templates and ingest pipelines shape the data the remote output sends.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
)

// RemoteIntegrationUse lists, for each remote_elasticsearch output the
// document declares, the packages of the declared integration policies
// whose data goes to it — by the integration's output_id, its agent
// policy's data_output_id, or as the default output — each with those
// integration policies' ids, sorted.
func RemoteIntegrationUse(doc *schema.Document) map[string]map[string][]string {
	remote := map[string]bool{}
	for _, o := range doc.Outputs {
		if o.Type == "remote_elasticsearch" {
			remote[o.ID] = true
		}
	}
	if len(remote) == 0 || len(doc.PackagePolicies) == 0 {
		return nil
	}
	obs := &observation{outputs: map[string]map[string]any{}, policies: map[string]kibana.AgentPolicy{}}
	out := map[string]map[string][]string{}
	for _, rt := range integrationRoutes(doc, obs, &ipObservation{}) {
		if !remote[rt.OutputID] || rt.Package == "" {
			continue
		}
		if out[rt.OutputID] == nil {
			out[rt.OutputID] = map[string][]string{}
		}
		if ids := out[rt.OutputID][rt.Package]; !slices.Contains(ids, rt.Integration) {
			out[rt.OutputID][rt.Package] = append(ids, rt.Integration)
			slices.Sort(out[rt.OutputID][rt.Package])
		}
	}
	return out
}

// RemoteSyncNote is the plan's note for the packages (with the integration
// policies that use them) whose data goes to remote output output on
// cluster, and which that cluster does not have installed.
func RemoteSyncNote(output, cluster string, missing map[string][]string, syncIntegrations bool) string {
	var parts []string
	for _, pkg := range sortedKeys(missing) {
		parts = append(parts, fmt.Sprintf("%s (integration polic%s %s)", pkg, pick(len(missing[pkg]), "y", "ies"), strings.Join(missing[pkg], ", ")))
	}
	how := "sync_integrations is off on the output, so install them on " + cluster + " (declare them there, or turn sync_integrations on)"
	if syncIntegrations {
		how = "Kibana's sync installs them once they are installed on main and the sync has run; until then the data arrives without their index templates and ingest pipelines"
	}
	return fmt.Sprintf("remote output %s sends the data of integrations whose packages are not installed on %s: %s. Kibana does not sync integration policies to a remote (only packages and custom assets); %s",
		output, cluster, strings.Join(parts, "; "), how)
}
