package fleetsim

import (
	"net/http"
	"time"
)

// outOfDateMessage is PackageOutdatedError's text: `${pkgkey} is out-of-date
// and cannot be installed or updated`, where pkgkey is the requested key
// (name-version; a request without a version installs the latest, which is
// never out of date).
func outOfDateMessage(name, requested, resolved string) string {
	return name + "-" + cmpOr(requested, resolved) + " is out-of-date and cannot be installed or updated"
}

// installError is what installPackage reports; name is the Fleet error class.
type installError struct {
	status  int
	name    string
	message string
}

// install is installPackage from the registry.
func (c *Cluster) install(name, version string, force bool) ([]any, *installError) {
	var p *registryPackage
	if version == "" {
		p = registryLatest(name)
	} else {
		p = registryFind(name, version)
	}
	if p == nil {
		msg := "[" + name + "] package not found in registry"
		if version != "" {
			msg = "[" + name + "-" + version + "] package not found in registry"
		}
		return nil, &installError{status: http.StatusNotFound, name: "PackageNotFoundError", message: msg}
	}
	assets := assetsOf(p.Name, p.Version, p.DataStreams)
	inst := c.st.Packages[name]
	// installPackageFromRegistry (services/epm/packages/install.ts): a version
	// below the registry's latest is refused unless force, or unless the
	// install type (getInstallType) is reinstall (the installed version again).
	// fleetsim records no install_version, so reupdate and rollback, which
	// need an interrupted install, cannot arise.
	reinstall := inst != nil && inst.Version == p.Version
	if latest := registryLatest(name); compareVersions(p.Version, latest.Version) < 0 && !force && !reinstall {
		return nil, &installError{status: http.StatusBadRequest, name: "PackageOutdatedError", message: outOfDateMessage(p.Name, version, p.Version)}
	}
	// installPackageWithStateMachine: the installed version again without
	// force is "already_installed", the existing assets are returned.
	if reinstall && inst.Status == "installed" && !force {
		return assets, nil
	}
	now := c.now()
	c.st.Packages[name] = &installation{Name: name, Version: p.Version, Status: "installed", Source: "registry", UpdatedAt: now}
	return assets, nil
}

func (c *Cluster) installPackage(r *kreq) *kresp {
	name, version := r.params["pkgName"], r.params["pkgVersion"]
	force := false
	if r.body != nil {
		force, _ = r.body["force"].(bool)
	}
	assets, ierr := c.install(name, version, force)
	if ierr != nil {
		return kerr(ierr.status, "%s", ierr.message)
	}
	return ok(map[string]any{"items": assets, "_meta": map[string]any{"install_source": "registry", "name": name}})
}

// bulkInstallPackages is POST /epm/packages/_bulk: every package installed as
// the single install would, each failure reported in its item
// (bulkInstallServiceResponseToHttpEntry: {name, statusCode, error: message}).
func (c *Cluster) bulkInstallPackages(r *kreq) *kresp {
	force, _ := r.body["force"].(bool)
	items := []any{}
	for _, spec := range r.body["packages"].([]any) {
		name, version := "", ""
		switch p := spec.(type) {
		case string:
			name = p
		case map[string]any:
			name, _ = p["name"].(string)
			version, _ = p["version"].(string)
		}
		before := c.st.Packages[name]
		installType := "install"
		if before != nil {
			installType = "update"
		}
		resolved := version
		if resolved == "" {
			if latest := registryLatest(name); latest != nil {
				resolved = latest.Version
			}
		}
		status := "installed"
		if before != nil && before.Version == resolved {
			installType = "reinstall"
			if before.Status == "installed" && !force {
				status = "already_installed"
			}
		}
		assets, ierr := c.install(name, version, force)
		if ierr != nil {
			items = append(items, map[string]any{"name": name, "statusCode": ierr.status, "error": ierr.message})
			continue
		}
		items = append(items, map[string]any{"name": name, "version": c.st.Packages[name].Version,
			"result": map[string]any{"assets": assets, "status": status, "installType": installType, "installSource": "registry"}})
	}
	return ok(map[string]any{"items": items})
}

// remove is removeInstallation.
func (c *Cluster) remove(name string, force bool) ([]any, *installError) {
	inst := c.st.Packages[name]
	if inst == nil || inst.Status != "installed" {
		return nil, &installError{status: http.StatusBadRequest, name: "PackageRemovalError", message: name + " is not installed"}
	}
	var pps []*packagePolicy
	inUse := false
	for _, id := range sortedKeys(c.st.PackagePolicies) {
		pp := c.st.PackagePolicies[id]
		if pp.PackageName == name {
			pps = append(pps, pp)
			inUse = inUse || pp.Agents > 0
		}
	}
	now := c.now()
	if inUse && !force {
		msg := "Unable to remove package with existing package policy(s) in use by agent(s)"
		if versionAtLeast(c.cfg.Version, "9.3.0") {
			msg = "Unable to remove package " + name + ":" + inst.Version + " with existing package policy(s) in use by agent(s)"
			inst.FailedRemove = append([]failedAttempt{{CreatedAt: now, Target: inst.Version, ErrName: "PackageRemovalError", ErrMsg: msg}}, inst.FailedRemove...)
			if len(inst.FailedRemove) > 5 {
				inst.FailedRemove = inst.FailedRemove[:5]
			}
		}
		return nil, &installError{status: http.StatusBadRequest, name: "PackageRemovalError", message: msg}
	}
	for _, pp := range pps {
		c.deletePackagePolicy(pp, now)
	}
	var streams []string
	if p := registryFind(inst.Name, inst.Version); p != nil {
		streams = p.DataStreams
	}
	delete(c.st.Packages, name)
	return assetsOf(inst.Name, inst.Version, streams), nil
}

func (c *Cluster) deletePackagePolicy(pp *packagePolicy, now time.Time) {
	delete(c.st.PackagePolicies, pp.ID)
	for _, pid := range pp.PolicyIDs {
		if p := c.st.AgentPolicies[pid]; p != nil {
			c.bumpPolicy(p, now)
		}
	}
}

func (c *Cluster) uninstallPackage(r *kreq) *kresp {
	force, _ := r.query["force"].(bool)
	assets, ierr := c.remove(r.params["pkgName"], force)
	if ierr != nil {
		return kerr(ierr.status, "%s", ierr.message)
	}
	return ok(map[string]any{"items": assets})
}
