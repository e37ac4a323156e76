package fleetsim

import (
	"context"
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

// maxTimeCompleteInstall is MAX_TIME_COMPLETE_INSTALL
// (x-pack/platform/plugins/shared/fleet/common/constants/epm.ts, 30 minutes):
// an install still 'installing' this long after its install_started_at is
// taken to be stuck, and the next install restarts it.
const maxTimeCompleteInstall = 30 * time.Minute

// maxEnsureInstallTime is install.ts's MAX_ENSURE_INSTALL_TIME (60 s): how
// long isPackageVersionOrLaterInstalled, which the bulk install runs first
// without force, retries while the package is installing.
const maxEnsureInstallTime = 60 * time.Second

// concurrentInstallMessage is ConcurrentInstallOperationError's text
// (install_state_machine/steps/step_create_restart_installation.ts), which
// names the requested version, not the one in progress; errors/handlers.ts
// answers it with 409.
func concurrentInstallMessage(name, version string) string {
	return "Concurrent installation or upgrade of " + name + "-" + version + " detected, aborting."
}

// installType is getInstallType (install.ts), from the requested version,
// the saved object's version and its install_version (the version of the
// latest install started).
func installType(version string, inst *installation) string {
	if inst == nil {
		return "install"
	}
	current, last := inst.Version, cmpOr(inst.InstallVersion, inst.Version)
	switch {
	case version == current && version != last:
		return "rollback"
	case version == current:
		return "reinstall"
	case version == last:
		return "reupdate"
	}
	return "update"
}

// installOutcome is a started (or skipped) install.
type installOutcome struct {
	assets      []any
	status      string // installed | already_installed
	installType string
	pending     bool // still installing: it ends at the installation's InstallDoneAt
}

// install is installPackage from the registry, finished at once (the callers
// inside a handler: package policies, monitoring, the sync task).
func (c *Cluster) install(name, version string, force bool) ([]any, *installError) {
	out, ierr := c.startInstall(name, version, force, 0)
	if ierr != nil {
		return nil, ierr
	}
	return out.assets, nil
}

// startInstall is installPackageFromRegistry up to the install itself, which
// takes delay (0: done at once; see settleInstalls). The checks come in
// Kibana's order: the package (404), out of date (400, install.ts), the same
// version installed without force ("already_installed",
// installPackageWithStateMachine), then stepCreateRestartInstallation
// (install_state_machine/steps/step_create_restart_installation.ts): an
// install in progress for less than MAX_TIME_COMPLETE_INSTALL refuses any
// other, whatever its version, with ConcurrentInstallOperationError (409) —
// unless force, which restarts it; an older one is taken to be stuck and
// restarted. A restart (restartInstallation, install.ts) sets install_version,
// install_status 'installing' and install_started_at and keeps version (the
// installed one) until the install ends; a first install
// (createInstallation) sets version too.
func (c *Cluster) startInstall(name, version string, force bool, delay time.Duration) (*installOutcome, *installError) {
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
	typ := installType(p.Version, inst)
	// A version below the registry's latest is refused unless force, or
	// unless the install type is reinstall, reupdate or rollback.
	outOfDateOK := force || typ == "reinstall" || typ == "reupdate" || typ == "rollback"
	if latest := registryLatest(name); compareVersions(p.Version, latest.Version) < 0 && !outOfDateOK {
		return nil, &installError{status: http.StatusBadRequest, name: "PackageOutdatedError", message: outOfDateMessage(p.Name, version, p.Version)}
	}
	if inst != nil && inst.Version == p.Version && inst.Status == "installed" && !force {
		return &installOutcome{assets: assets, status: "already_installed", installType: typ}, nil
	}
	now := c.now()
	if inst != nil && inst.Status == "installing" && !force && inst.InstallStartedAt != nil &&
		now.Sub(*inst.InstallStartedAt) < maxTimeCompleteInstall {
		return nil, &installError{status: http.StatusConflict, name: "ConcurrentInstallOperationError", message: concurrentInstallMessage(name, p.Version)}
	}
	if inst == nil {
		inst = &installation{Name: name, Version: p.Version}
		c.st.Packages[name] = inst
	}
	done := now.Add(delay)
	inst.Status, inst.Source, inst.UpdatedAt = "installing", "registry", now
	inst.InstallVersion, inst.InstallStartedAt, inst.InstallDoneAt = p.Version, &now, &done
	c.settleInstalls(now)
	return &installOutcome{assets: assets, status: "installed", installType: typ, pending: c.st.Packages[name].Status == "installing"}, nil
}

// settleInstalls finishes every install whose time has come: the package is
// installed at its install_version (updateVersion and the last state of
// _stateMachineInstallPackage), as a new saved object (fleetsim keeps no
// failed attempts across a successful install). Every request and the sync
// task call it first, so the clock alone ends an install.
func (c *Cluster) settleInstalls(now time.Time) {
	for name, inst := range c.st.Packages {
		if inst.Status != "installing" || inst.InstallDoneAt == nil || now.Before(*inst.InstallDoneAt) {
			continue
		}
		at := *inst.InstallDoneAt
		c.st.Packages[name] = &installation{Name: name, Version: cmpOr(inst.InstallVersion, inst.Version), Status: "installed",
			Source: inst.Source, UpdatedAt: at, InstallVersion: inst.InstallVersion, InstallStartedAt: inst.InstallStartedAt}
		c.sim.markDirty()
	}
}

// SetInstallDelay makes every later EPM install of pkg through the install
// routes take d (0 removes the delay): the package reads as installing
// until then, and the request answers when it ends — or never, when its
// client went away, as Kibana carries on without it. The delay survives
// /_sim/reset.
func (c *Cluster) SetInstallDelay(pkg string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d <= 0 {
		delete(c.installDelays, pkg)
		return
	}
	if c.installDelays == nil {
		c.installDelays = map[string]time.Duration{}
	}
	c.installDelays[pkg] = d
}

func (c *Cluster) clearInstallDelays() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.installDelays = nil
}

// awaitInstall waits, without c.mu, until name is no longer installing or
// until the simulated clock reaches until (zero: no bound), polling; it
// reports whether the install ended. It gives up when ctx ends (the client
// went away).
func (c *Cluster) awaitInstall(ctx context.Context, name string, until time.Time) bool {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		c.mu.Lock()
		now := c.now()
		c.settleInstalls(now)
		inst := c.st.Packages[name]
		done := inst == nil || inst.Status != "installing"
		c.mu.Unlock()
		if done {
			return true
		}
		if !until.IsZero() && !now.Before(until) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// installPackage is POST /epm/packages/{name}[/{version}]. The route takes
// c.mu itself: an install with a delay answers when it ends, and other
// requests are served meanwhile.
func (c *Cluster) installPackage(r *kreq) *kresp {
	name, version := r.params["pkgName"], r.params["pkgVersion"]
	force := false
	if r.body != nil {
		force, _ = r.body["force"].(bool)
	}
	c.mu.Lock()
	c.settleInstalls(c.now())
	out, ierr := c.startInstall(name, version, force, c.installDelays[name])
	if ierr == nil {
		c.sim.markDirty()
	}
	c.mu.Unlock()
	if ierr != nil {
		return kerr(ierr.status, "%s", ierr.message)
	}
	if out.pending && !c.awaitInstall(r.http.Context(), name, time.Time{}) {
		return kerr(http.StatusRequestTimeout, "the client went away; the install goes on") // read by no one
	}
	return ok(map[string]any{"items": out.assets, "_meta": map[string]any{"install_source": "registry", "name": name}})
}

// bulkInstallPackages is POST /epm/packages/_bulk (bulk_install_packages.ts):
// every package installed as the single install would, each failure reported
// in its item (bulkInstallServiceResponseToHttpEntry: {name, statusCode,
// error: message}). Without force, isPackageVersionOrLaterInstalled runs
// first: when the installed saved object has the requested version or a
// later one and is installing, it retries for up to MAX_ENSURE_INSTALL_TIME
// and then lets the install go ahead (which a still-running install refuses
// with 409).
func (c *Cluster) bulkInstallPackages(r *kreq) *kresp {
	force, _ := r.body["force"].(bool)
	ctx := r.http.Context()
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
		resolved := version
		if resolved == "" {
			if latest := registryLatest(name); latest != nil {
				resolved = latest.Version
			}
		}
		c.mu.Lock()
		c.settleInstalls(c.now())
		before := c.st.Packages[name]
		waitFirst := !force && before != nil && before.Status == "installing" &&
			(before.Version == resolved || compareVersions(resolved, before.Version) < 0)
		until := c.now().Add(maxEnsureInstallTime)
		c.mu.Unlock()
		if waitFirst {
			c.awaitInstall(ctx, name, until)
		}
		c.mu.Lock()
		c.settleInstalls(c.now())
		before = c.st.Packages[name]
		installType := "install"
		if before != nil {
			installType = "update"
		}
		status := "installed"
		if before != nil && before.Version == resolved {
			installType = "reinstall"
			if before.Status == "installed" && !force {
				status = "already_installed"
			}
		}
		out, ierr := c.startInstall(name, version, force, c.installDelays[name])
		if ierr == nil {
			c.sim.markDirty()
		}
		c.mu.Unlock()
		if ierr != nil {
			items = append(items, map[string]any{"name": name, "statusCode": ierr.status, "error": ierr.message})
			continue
		}
		if out.pending {
			c.awaitInstall(ctx, name, time.Time{})
		}
		c.mu.Lock()
		installed := c.st.Packages[name].Version
		c.mu.Unlock()
		items = append(items, map[string]any{"name": name, "version": installed,
			"result": map[string]any{"assets": out.assets, "status": status, "installType": installType, "installSource": "registry"}})
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
