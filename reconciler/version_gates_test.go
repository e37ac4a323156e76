package reconciler

import (
	"testing"

	"github.com/fleetform/fleetform/internal/kversion"
)

// Every version gate of the plan is of kversion.Gate's form (ascending,
// one minimum per release line), so a typo cannot silently block a feature
// on every version or none.
func TestVersion_GatesAreWellFormed(t *testing.T) {
	fs := []feature{featRemoteES, featSecrets, featSyncIntegrations, featKibanaURL, featKibanaAPIKey, featSyncUninstalled,
		featIsProtected, featKeepMonitoringAlive, featGlobalDataTags, featPolicySupportsAgentless, featMonitoringHTTP,
		featMonitoringPprof, featMonitoringDiag, featAgentFeatures, featOverrides, featAdvancedSettings, featPolicySpaceIDs,
		featRequiredVersions, featPolicyIDs, featSharedIntegrationPolicy, featIntegrationOutput, featWriteToLogsStreams,
		featOutputShipper, featAdditionalDatastreamsPermissions, featOutputProxy}
	for _, byKind := range objectVersionedFields {
		fs = append(fs, byKind...)
	}
	for _, f := range kindRoutes {
		fs = append(fs, f)
	}
	gates := []kversion.Gate{gateRequiredVersions, gateAutomaticUpgrades, gateRequiredVersionsLicence, gateAgentlessDeleteWithAgents,
		versionListCountsInactive, versionDeleteCountsUnenrolledUntil}
	for _, f := range fs {
		gates = append(gates, f.since)
	}
	for _, g := range gates {
		if err := g.Validate(); err != nil {
			t.Error(err)
		}
	}
}
