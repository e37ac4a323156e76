package reconciler

import "github.com/fleetform/fleetform/kibana"

// Kibana refuses to install a package version lower than the registry's
// latest unless the request says force (x-pack/platform/plugins/shared/fleet/
// server/services/epm/packages/install.ts, installPackageFromRegistry: 400
// "<name>-<version> is out-of-date and cannot be installed or updated";
// reinstalling the installed version is exempt). A declared pin below the
// latest is what GitOps asks for, so fleetform installs it with force and
// says so in the plan.

// latestVersions maps each package of GET /api/fleet/epm/packages to its
// list item's version: the registry's newest version (services/epm/packages/
// get.ts getPackages spreads the registry item and adds the installation),
// or, for a package outside the registry, the installed one.
func latestVersions(pkgs []kibana.Package) map[string]string {
	out := make(map[string]string, len(pkgs))
	for _, p := range pkgs {
		if p.Version != "" {
			out[p.Name] = p.Version
		}
	}
	return out
}

// pinnedBelowLatest reports whether installing version needs force because
// the registry knows a newer one. An empty version (Kibana picks the latest)
// or an unknown latest never does.
func pinnedBelowLatest(version, latest string) bool {
	return version != "" && latest != "" && compareVersions(version, latest) < 0
}

// belowLatestNote is the plan's note on such an install.
func belowLatestNote(latest string) string {
	return "pinned below latest " + latest + ": installed with force"
}
