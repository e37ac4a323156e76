package reconciler

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Packages (kind "package"): EPM installs. A package's id is its name.

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

// packagesAPI is what the package kind calls on Kibana (EPM).
type packagesAPI interface {
	ListPackages(ctx context.Context) ([]kibana.Package, error)
	// ListPackagePolicies lists package policies with their agent counts.
	ListPackagePolicies(ctx context.Context) ([]kibana.PackagePolicy, error)
	InstallPackage(ctx context.Context, name, version string, force bool) error
	UninstallPackage(ctx context.Context, name, version string, force bool) error
}

// packageStep is a package's install, upgrade, reinstall or uninstall.
type packageStep struct {
	*step
	pkg     *schema.Package
	pkgHave *kibana.Package
	pkgWant string // version to install
	force   bool
	// installing: Kibana was running an install of the package when the
	// plan read it; apply waits for it to end, then installs only if needed.
	installing bool
}

// An install Kibana is running when fleetform reads or writes the package
// (a lost answer on a long install, or anyone else's install) is never
// overlapped: Kibana refuses a second install within
// MAX_TIME_COMPLETE_INSTALL with 409 ConcurrentInstallOperationError, and
// with force it would restart the running one (FLEET/server/services/epm/
// packages/install_state_machine/steps/step_create_restart_installation.ts).
// The plan shows a package that reads as installing as a change that waits;
// apply waits for the install to end (kibana.InstallAfterWait, bounded by
// Config.InstallWait), looks again and installs only what is still missing,
// and a 409 on an install turns into the same wait.

// installingNote is the plan's note on a package Kibana is installing.
func installingNote(want string, wait kibana.InstallWait) string {
	timeout := cmp.Or(wait.Timeout, kibana.DefaultInstallWait)
	return fmt.Sprintf("an install is in progress in Kibana (install_status installing); apply waits for it to end (at most %s), then installs %s only if Kibana has not", timeout, want)
}

// settled decides, once no install runs, whether the package is what s
// wanted and else whether installing it needs force: the plan's force
// (a pin below the latest), a failed install, or a downgrade.
func (s *packageStep) settled(p kibana.Package, found bool) (done, force bool) {
	status := cmp.Or(p.InstallStatus, p.Status)
	if found && status == "installed" && (s.pkgWant == "" || p.InstalledVersion == s.pkgWant) {
		return true, false
	}
	return false, s.force || found && status != "installed" ||
		found && s.pkgWant != "" && compareVersions(s.pkgWant, p.InstalledVersion) < 0
}

type packageKind struct{}

func (packageKind) name() string                                      { return plan.KindPackage }
func (packageKind) observed(*schema.Document, func(string) bool) bool { return true }

// declared: a package's id is its name.
func (packageKind) declared(doc *schema.Document) []string {
	ids := make([]string, len(doc.Packages))
	for i, p := range doc.Packages {
		ids[i] = p.Name
	}
	return ids
}

// observe lists the EPM packages: the installed ones (any install status
// other than not_installed) and every package's latest version.
func (packageKind) observe(ctx context.Context, r *Reconciler) (func(*observation), error) {
	list, err := r.cfg.Fleet.ListPackages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list packages: %w", err)
	}
	return func(obs *observation) {
		obs.packages = map[string]kibana.Package{}
		obs.latest = latestVersions(list)
		for _, p := range list {
			if p.InstalledVersion != "" && p.Status != "not_installed" {
				obs.packages[p.Name] = p
			}
		}
	}, nil
}

// fingerprint: name, installed version and install status of every
// installed package.
func (packageKind) fingerprint(obs *observation) any {
	type pkg struct{ Name, Version, Status string }
	view := make([]pkg, 0, len(obs.packages))
	for _, name := range sortedKeys(obs.packages) {
		p := obs.packages[name]
		view = append(view, pkg{p.Name, p.InstalledVersion, p.InstallStatus})
	}
	return view
}

func (packageKind) references(*schema.Document, string) []ref { return nil }
func (packageKind) secrets(*schema.Document) []declaredSecret { return nil }

// apply installs (with force when the plan says so, never overlapping an
// install Kibana runs) or uninstalls.
func (packageKind) apply(ctx context.Context, r *Reconciler, st *step, _ *secretCache) error {
	s := st.data.(*packageStep)
	if st.change.Action == plan.Delete {
		return r.cfg.Fleet.UninstallPackage(ctx, st.change.ID, s.pkgHave.InstalledVersion, false)
	}
	return kibana.InstallAfterWait(ctx, r.cfg.Fleet, kibana.Install{Cluster: r.cfg.Cluster, Name: s.pkg.Name, Version: s.pkgWant,
		Force: s.force, Installing: s.installing, Settled: s.settled, Wait: r.cfg.InstallWait})
}

// record: a declared package that was installed or that this apply
// installed, at its declared version.
func (packageKind) record(_ context.Context, r *Reconciler, rc *recordCtx) ([]Record, error) {
	var out []Record
	for _, p := range rc.doc.Packages {
		key := plan.Key(r.cfg.Cluster, plan.KindPackage, p.Name)
		_, existed := rc.c.obs.packages[p.Name]
		s := rc.c.steps[key]
		installed := s != nil && s.change.Action != plan.NoOp && rc.applied(key)
		if !(existed || installed) || !rc.ok(key) {
			continue
		}
		out = append(out, packageRecord(r, p))
	}
	return out, nil
}

func (packageKind) gone(rc *recordCtx, rec Record) bool {
	_, there := rc.c.obs.packages[rec.ID]
	return !there || rc.applied(plan.Key(rec.Cluster, rec.Kind, rec.ID))
}

func (packageKind) adopt(r *Reconciler, doc *schema.Document, obs *observation) []Record {
	var out []Record
	for _, p := range doc.Packages {
		if _, exists := obs.packages[p.Name]; exists {
			out = append(out, packageRecord(r, p))
		}
	}
	return out
}

func packageRecord(r *Reconciler, p schema.Package) Record {
	return Record{Cluster: r.cfg.Cluster, Kind: plan.KindPackage, ID: p.Name, DesiredHash: desiredHash(map[string]any{"version": p.Version}, nil)}
}

// plan installs what is missing, upgrades or downgrades to the declared
// version (downgrades and pins below the latest with force) and reinstalls
// a failed install.
func (packageKind) plan(_ context.Context, r *Reconciler, doc *schema.Document, c *computed, _ *secretCache) {
	for i := range doc.Packages {
		p := &doc.Packages[i]
		s := &packageStep{step: &step{change: &plan.Change{Cluster: r.cfg.Cluster, Kind: plan.KindPackage, ID: p.Name}}, pkg: p}
		s.data = s
		have, installed := c.obs.packages[p.Name]
		want := p.Version
		if want == "latest" {
			want = "" // Kibana installs its newest known version
			if installed && have.Version != "" {
				want = have.Version
			}
		}
		s.pkgWant = want
		_, hasRec := c.obs.records[s.change.Key()]
		switch {
		case !installed:
			s.change.Action = plan.Create
			s.change.Fields = []plan.FieldDiff{{Path: "version", After: p.Version}}
			if latest := c.obs.latest[p.Name]; pinnedBelowLatest(want, latest) {
				s.force = true
				s.change.Fields[0].Note = belowLatestNote(latest)
			}
		case have.Installing():
			s.pkgHave, s.installing = &have, true
			s.change.Action = plan.Update
			s.force = pinnedBelowLatest(want, c.obs.latest[p.Name])
			s.change.Fields = []plan.FieldDiff{{Path: "version", Before: have.InstalledVersion, After: cmpOr(want, p.Version),
				Note: installingNote(cmpOr(want, p.Version), r.cfg.InstallWait)}}
		case have.InstallStatus != "" && have.InstallStatus != "installed":
			s.pkgHave = &have
			s.change.Action = plan.Update
			s.force = true
			s.change.Fields = []plan.FieldDiff{{Path: "version", Before: have.InstalledVersion, After: cmpOr(want, p.Version), Note: "install status " + have.InstallStatus + "; reinstall"}}
		case want != "" && have.InstalledVersion != want:
			s.pkgHave = &have
			s.change.Action = plan.Update
			s.force = compareVersions(want, have.InstalledVersion) < 0
			note := ""
			if s.force {
				note = "downgrade (installed with force)"
			} else if latest := c.obs.latest[p.Name]; pinnedBelowLatest(want, latest) {
				s.force, note = true, belowLatestNote(latest)
			}
			s.change.Fields = []plan.FieldDiff{{Path: "version", Before: have.InstalledVersion, After: want, Note: note}}
		case !hasRec:
			s.pkgHave = &have
			s.change.Action = plan.NoOp
			s.change.Reason = "installed at the declared version; apply records it as owned by fleetform"
		default:
			continue
		}
		c.add(s.step)
	}
}

// prune uninstalls an owned package no longer declared, as Kibana would:
// see uninstallEffect.
func (packageKind) prune(_ *Reconciler, _ *schema.Document, c *computed, rec Record, prune bool) *step {
	have, ok := c.obs.packages[rec.ID]
	if !ok {
		return nil
	}
	s := pruneStep(rec, "")
	s.data = &packageStep{step: s, pkgHave: &have}
	s.change.Fields = []plan.FieldDiff{{Path: "version", Before: have.InstalledVersion}}
	if prune {
		s.change.Action, s.change.Reason = uninstallEffect(rec.ID, c.obs.packagePolicies)
	}
	return s
}

// uninstallEffect is what Kibana does on an uninstall of pkg without force,
// given its package policies (trap 18): with none it just uninstalls; when
// none has agents it silently deletes them all first, which the plan says;
// when any has agents it refuses with a 400, so the plan blocks it.
func uninstallEffect(pkg string, pps []kibana.PackagePolicy) (plan.Action, string) {
	const owned = "owned by fleetform and no longer declared"
	var all, inUse []string
	agents := 0
	for _, pp := range pps {
		if pp.Package.Name != pkg {
			continue
		}
		name := cmpOr(pp.Name, pp.ID)
		all = append(all, name)
		if pp.Agents > 0 {
			inUse = append(inUse, fmt.Sprintf("%s (%d agent%s)", name, pp.Agents, plural(pp.Agents)))
			agents += pp.Agents
		}
	}
	slices.Sort(all)
	slices.Sort(inUse)
	switch {
	case len(inUse) > 0:
		return plan.Blocked, fmt.Sprintf("%s, but %d package polic%s of %s %s in use by %d agent%s: %s; Kibana refuses the uninstall (Unable to remove package with existing package policy(s) in use by agent(s)); move the agents or delete those package policies first",
			owned, len(inUse), pick(len(inUse), "y", "ies"), pkg, pick(len(inUse), "is", "are"), agents, plural(agents), strings.Join(inUse, ", "))
	case len(all) > 0:
		return plan.Delete, fmt.Sprintf("%s; Kibana also deletes its package policies, which no agent uses: %s", owned, strings.Join(all, ", "))
	}
	return plan.Delete, owned
}
