package remote

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fleetform/fleetform/kibana"
)

// Install statuses of an integration package (Kibana's epm-packages
// install_status), plus StatusNotInstalled for a package that is absent.
const (
	StatusInstalled     = "installed"
	StatusInstalling    = "installing"
	StatusInstallFailed = "install_failed"
	StatusNotInstalled  = "not_installed"
)

// InstallRetryBackoff is how long after the latest failed install the next
// attempt may start, indexed by the number of failed attempts minus one:
// Kibana's sync task schedule. After len(InstallRetryBackoff) failures the
// package is given up on until someone installs it by hand.
var InstallRetryBackoff = [...]time.Duration{
	5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 40 * time.Minute, 60 * time.Minute,
}

// Package is an integration package as observed on one cluster.
type Package struct {
	Name    string
	Version string
	Status  string // StatusInstalled, StatusInstalling or StatusInstallFailed
	// InstallSource is Kibana's install_source: registry, bundled, upload or
	// custom. Empty means registry (the source of every direct-sync install).
	InstallSource string
	// FailedAttempts are the times of the latest failed installs, newest
	// first: Kibana's latest_install_failed_attempts, or fleetform's own
	// record of its direct-sync failures.
	FailedAttempts []time.Time
	// InstallError is the latest failed install, if any (status).
	InstallError *Failure
	// UninstallError is the latest failed or blocked uninstall (status).
	UninstallError *Failure
	UpdatedAt      time.Time
}

// Failure is a recorded failed attempt: the error's class name (for
// example PackageNotFoundError), its message and when it happened.
type Failure struct {
	Name    string
	Message string
	At      time.Time
}

// PackagePolicy is a package policy on a remote cluster.
type PackagePolicy struct {
	ID        string
	Name      string
	Package   string
	Agents    int  // agents enrolled in the agent policies that use it
	Agentless bool // runs on Elastic's agentless infrastructure
}

// SyncInput is everything the direct-sync decision looks at for one remote.
type SyncInput struct {
	Main           []Package       // packages installed on the main cluster
	Remote         []Package       // packages present on the remote, any status
	RemotePolicies []PackagePolicy // package policies on the remote
	// Seen maps a package name to the version fleetform last saw installed
	// on the main cluster (the state index). Only these are ever uninstalled.
	Seen map[string]string
	// SyncUninstalled is the output's sync_uninstalled_integrations flag.
	SyncUninstalled bool
	// ForceUninstall (--force-uninstall) lets an uninstall go ahead when the
	// remote has package policies for the package, none of them used by
	// agents. Kibana deletes those policies with the package. Policies in
	// use by agents always block.
	ForceUninstall bool
	// RemoteLatest maps a package to the newest version the remote's Kibana
	// lists (GET /api/fleet/epm/packages item version: the registry's
	// latest). Installing below it needs force (see withForce).
	RemoteLatest map[string]string
	Now          time.Time
}

// SyncAction is what direct sync does with one package on one remote.
type SyncAction string

const (
	SyncInstall   SyncAction = "install"
	SyncUninstall SyncAction = "uninstall"
	SyncBlocked   SyncAction = "blocked" // should happen, but a rule forbids it; Reason says which
	SyncSkip      SyncAction = "skip"    // nothing to do now; Reason says why
)

// SyncDecision is the outcome for one package.
type SyncDecision struct {
	Package string
	Version string // the version to install, or the version to uninstall
	Action  SyncAction
	Reason  string
	// DeletedPolicies are the remote package policies Kibana deletes (or, when
	// blocked, would delete)
	// together with the package on this uninstall (all without agents).
	DeletedPolicies []string
	// Notes warn about side effects, e.g. agentless policies deleted.
	Notes []string
	// Agents counts the agents using the package's remote policies (blocked uninstalls).
	Agents int
	// RetryAt is when a failed install may be retried (skip while waiting).
	RetryAt time.Time
	// Force is sent with the install: the version is below the remote's
	// latest, which Kibana refuses without it.
	Force bool
	// Wait: the remote's Kibana is running an install of the package; the
	// install waits for it to end and is sent only if the remote then lacks
	// Version (kibana.InstallAfterWait). Kibana refuses a second install
	// meanwhile (409) and force would restart the running one
	// (step_create_restart_installation.ts).
	Wait bool
}

// DecideSync computes the direct-sync decision for one remote, sorted by
// package name: installs for every package installed on the main cluster
// (same version, never a downgrade, failed installs retried on
// InstallRetryBackoff) and, when SyncUninstalled is set, uninstalls of the
// packages fleetform saw installed on the main cluster that are gone there,
// only where the remote has exactly the version fleetform saw and no package
// policy in use by agents.
func DecideSync(in SyncInput) []SyncDecision {
	remote := make(map[string]Package, len(in.Remote))
	for _, p := range in.Remote {
		remote[p.Name] = p
	}
	onMain := make(map[string]bool, len(in.Main))
	var out []SyncDecision
	for _, m := range in.Main {
		if m.Status != "" && m.Status != StatusInstalled {
			continue
		}
		onMain[m.Name] = true
		out = append(out, withForce(decideInstall(m, remote, in.Now), in.RemoteLatest))
	}
	for name, seen := range in.Seen {
		if onMain[name] {
			continue
		}
		if d, ok := decideUninstall(name, seen, remote, in); ok {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b SyncDecision) int {
		return cmp.Or(cmp.Compare(a.Package, b.Package), cmp.Compare(a.Action, b.Action))
	})
	return out
}

func decideInstall(m Package, remote map[string]Package, now time.Time) SyncDecision {
	d := SyncDecision{Package: m.Name, Version: m.Version, Action: SyncInstall}
	r, ok := remote[m.Name]
	if !ok {
		d.Reason = fmt.Sprintf("installed on main at %s, absent on the remote", m.Version)
		return d
	}
	switch r.Status {
	case StatusInstalling:
		d.Wait = true
		d.Reason = fmt.Sprintf("an install is in progress on the remote (install_status installing, installed version %s); apply waits for it to end, then installs %s only if the remote has neither it nor a newer version",
			r.Version, m.Version)
		return d
	case StatusInstallFailed:
		return decideRetry(d, r, now)
	}
	switch c := compareVersions(r.Version, m.Version); {
	case c == 0:
		d.Action = SyncSkip
		d.Reason = "same version installed on the remote"
	case c > 0:
		d.Action = SyncSkip
		d.Reason = fmt.Sprintf("the remote has a newer version %s; fleetform never downgrades", r.Version)
	default:
		d.Reason = fmt.Sprintf("upgrade on the remote from %s to %s", r.Version, m.Version)
	}
	return d
}

// withForce marks an install of a version below the remote's latest to be
// sent with force, and says so. Kibana refuses such an install otherwise:
// 400 "<name>-<version> is out-of-date and cannot be installed or updated"
// (x-pack/platform/plugins/shared/fleet/server/services/epm/packages/install.ts).
// Kibana's own sync task (tasks/sync_integrations/sync_integrations_on_remote.ts)
// always forces; fleetform forces only when needed, because force also makes
// Kibana accept a package whose signature verification failed.
func withForce(d SyncDecision, latest map[string]string) SyncDecision {
	l := latest[d.Package]
	if d.Action != SyncInstall || d.Version == "" || l == "" || compareVersions(d.Version, l) >= 0 {
		return d
	}
	d.Force = true
	d.Reason += fmt.Sprintf("; pinned below latest %s: installed with force", l)
	return d
}

// decideRetry applies Kibana's retry rule to a failed install on the remote.
func decideRetry(d SyncDecision, r Package, now time.Time) SyncDecision {
	attempt := len(r.FailedAttempts)
	if src := r.InstallSource; src != "" && src != "registry" && src != "bundled" {
		d.Action = SyncBlocked
		d.Reason = fmt.Sprintf("the failed install on the remote came from %q, which is never retried; install it by hand", src)
		return d
	}
	if attempt >= len(InstallRetryBackoff) {
		d.Action = SyncBlocked
		d.Reason = fmt.Sprintf("install failed %d times on the remote; giving up until it is installed by hand", attempt)
		return d
	}
	if attempt > 0 {
		next := r.FailedAttempts[0].Add(InstallRetryBackoff[attempt-1])
		if !now.After(next) {
			d.Action = SyncSkip
			d.RetryAt = next
			d.Reason = fmt.Sprintf("install failed %d time(s) on the remote; next retry after %s",
				attempt, next.UTC().Format(time.RFC3339))
			return d
		}
	}
	d.Reason = fmt.Sprintf("retry the failed install on the remote (attempt %d of %d)", attempt+1, len(InstallRetryBackoff))
	return d
}

func decideUninstall(name, seen string, remote map[string]Package, in SyncInput) (SyncDecision, bool) {
	r, ok := remote[name]
	if !ok || r.Status != StatusInstalled {
		return SyncDecision{}, false // nothing on the remote: nothing to propagate
	}
	d := SyncDecision{Package: name, Version: seen, Action: SyncUninstall}
	if !in.SyncUninstalled {
		d.Action = SyncSkip
		d.Reason = "uninstalled on main; sync_uninstalled_integrations is off"
		return d, true
	}
	if compareVersions(r.Version, seen) != 0 {
		d.Action = SyncSkip
		d.Reason = fmt.Sprintf("uninstalled on main at %s, but the remote has %s; only an equal version is uninstalled", seen, r.Version)
		return d, true
	}
	var inUse, idle []PackagePolicy
	for _, p := range in.RemotePolicies {
		if p.Package != name {
			continue
		}
		if p.Agents > 0 {
			inUse = append(inUse, p)
			d.Agents += p.Agents
		} else {
			idle = append(idle, p)
		}
	}
	slices.SortFunc(inUse, func(a, b PackagePolicy) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(idle, func(a, b PackagePolicy) int { return cmp.Compare(a.Name, b.Name) })
	if len(inUse) > 0 {
		d.Action = SyncBlocked
		d.Reason = fmt.Sprintf("uninstalled on main, but %d package polic%s on the remote %s in use by %d agent(s): %s",
			len(inUse), plural(len(inUse), "y", "ies"), plural(len(inUse), "is", "are"), d.Agents, policyNames(inUse))
		return d, true
	}
	for _, p := range idle {
		d.DeletedPolicies = append(d.DeletedPolicies, p.Name)
		if p.Agentless {
			d.Notes = append(d.Notes, fmt.Sprintf("Kibana will delete the agentless package policy %q with the package", p.Name))
		}
	}
	if len(idle) > 0 {
		note := fmt.Sprintf("Kibana silently deletes the package policies without agents on uninstall: %s", policyNames(idle))
		if !in.ForceUninstall {
			d.Action = SyncBlocked
			d.Reason = "uninstalled on main; the remote still has package policies without agents. " + note +
				"; rerun with --force-uninstall to accept that"
			return d, true
		}
		d.Notes = append([]string{note}, d.Notes...)
	}
	d.Reason = fmt.Sprintf("uninstalled on main; the remote has the same version %s", seen)
	return d, true
}

func policyNames(ps []PackagePolicy) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = fmt.Sprintf("%s (%d agents)", p.Name, p.Agents)
		if p.Agents == 0 && p.Agentless {
			names[i] = p.Name + " (agentless)"
		}
	}
	return strings.Join(names, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// latestVersions maps each package Kibana lists to its list item's version,
// the registry's latest (services/epm/packages/get.ts getPackages).
func latestVersions(pkgs []kibana.Package) map[string]string {
	out := make(map[string]string, len(pkgs))
	for _, p := range pkgs {
		if p.Version != "" {
			out[p.Name] = p.Version
		}
	}
	return out
}
