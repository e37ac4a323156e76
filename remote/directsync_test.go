package remote

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDecideSync(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	installed := func(name, v string) Package { return Package{Name: name, Version: v, Status: StatusInstalled} }
	type want struct {
		pkg, version string
		action       SyncAction
		reason       string // substring
		deleted      []string
		agents       int
		wait         bool
	}
	tests := []struct {
		name string
		in   SyncInput
		want []want
	}{
		{
			name: "install missing package at main's version",
			in:   SyncInput{Main: []Package{installed("nginx", "2.0.0")}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncInstall, reason: "absent on the remote"}},
		},
		{
			name: "upgrade older remote",
			in:   SyncInput{Main: []Package{installed("nginx", "2.0.0")}, Remote: []Package{installed("nginx", "1.9.0")}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncInstall, reason: "from 1.9.0 to 2.0.0"}},
		},
		{
			name: "never downgrade",
			in:   SyncInput{Main: []Package{installed("nginx", "2.0.0")}, Remote: []Package{installed("nginx", "2.0.1")}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncSkip, reason: "never downgrades"}},
		},
		{
			name: "prerelease on remote is older than the release",
			in:   SyncInput{Main: []Package{installed("nginx", "2.0.0")}, Remote: []Package{installed("nginx", "2.0.0-beta.1")}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncInstall, reason: "upgrade"}},
		},
		{
			name: "same version is a skip",
			in:   SyncInput{Main: []Package{installed("nginx", "2.0.0")}, Remote: []Package{installed("nginx", "2.0.0")}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncSkip, reason: "same version"}},
		},
		{
			// step_create_restart_installation.ts: Kibana refuses another
			// install meanwhile (409) and force restarts the running one.
			name: "installing on the remote: an install that waits",
			in: SyncInput{Main: []Package{installed("nginx", "2.0.0")},
				Remote: []Package{{Name: "nginx", Version: "1.9.0", Status: StatusInstalling}}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncInstall, wait: true,
				reason: "an install is in progress on the remote (install_status installing, installed version 1.9.0); apply waits for it to end, then installs 2.0.0 only if the remote has neither it nor a newer version"}},
		},
		{
			name: "installing on the remote below its latest: force only after the wait",
			in: SyncInput{Main: []Package{installed("nginx", "2.0.0")}, RemoteLatest: map[string]string{"nginx": "2.1.0"},
				Remote: []Package{{Name: "nginx", Version: "2.0.0", Status: StatusInstalling}}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncInstall, wait: true, reason: "pinned below latest 2.1.0: installed with force"}},
		},
		{
			name: "failed install without recorded attempts is retried now",
			in: SyncInput{Now: now, Main: []Package{installed("nginx", "2.0.0")},
				Remote: []Package{{Name: "nginx", Version: "2.0.0", Status: StatusInstallFailed}}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncInstall, reason: "attempt 1 of 5"}},
		},
		{
			name: "failed install waits 5 minutes after the first failure",
			in: SyncInput{Now: now, Main: []Package{installed("nginx", "2.0.0")},
				Remote: []Package{{Name: "nginx", Version: "2.0.0", Status: StatusInstallFailed,
					FailedAttempts: []time.Time{now.Add(-4 * time.Minute)}}}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncSkip, reason: "next retry after 2026-11-27T12:01:00Z"}},
		},
		{
			name: "failed install retried after its backoff",
			in: SyncInput{Now: now, Main: []Package{installed("nginx", "2.0.0")},
				Remote: []Package{{Name: "nginx", Version: "2.0.0", Status: StatusInstallFailed,
					FailedAttempts: []time.Time{now.Add(-21 * time.Minute), now.Add(-40 * time.Minute), now.Add(-50 * time.Minute)}}}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncInstall, reason: "attempt 4 of 5"}},
		},
		{
			name: "third failure waits 20 minutes",
			in: SyncInput{Now: now, Main: []Package{installed("nginx", "2.0.0")},
				Remote: []Package{{Name: "nginx", Version: "2.0.0", Status: StatusInstallFailed,
					FailedAttempts: []time.Time{now.Add(-19 * time.Minute), now.Add(-40 * time.Minute), now.Add(-50 * time.Minute)}}}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncSkip, reason: "failed 3 time(s)"}},
		},
		{
			name: "gives up after five failures",
			in: SyncInput{Now: now, Main: []Package{installed("nginx", "2.0.0")},
				Remote: []Package{{Name: "nginx", Version: "2.0.0", Status: StatusInstallFailed,
					FailedAttempts: make([]time.Time, 5)}}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncBlocked, reason: "giving up"}},
		},
		{
			name: "uploaded package is never retried",
			in: SyncInput{Now: now, Main: []Package{installed("nginx", "2.0.0")},
				Remote: []Package{{Name: "nginx", Version: "2.0.0", Status: StatusInstallFailed, InstallSource: "upload"}}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncBlocked, reason: `"upload"`}},
		},
		{
			name: "uninstall allowed: seen on main, same version, no policies",
			in: SyncInput{SyncUninstalled: true, Seen: map[string]string{"nginx": "2.0.0"},
				Remote: []Package{installed("nginx", "2.0.0")}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncUninstall, reason: "same version 2.0.0"}},
		},
		{
			name: "uninstall blocked by agents, even with force",
			in: SyncInput{SyncUninstalled: true, ForceUninstall: true, Seen: map[string]string{"nginx": "2.0.0"},
				Remote: []Package{installed("nginx", "2.0.0")},
				RemotePolicies: []PackagePolicy{
					{ID: "p1", Name: "nginx-1", Package: "nginx", Agents: 3},
					{ID: "p2", Name: "nginx-2", Package: "nginx", Agents: 2},
					{ID: "p3", Name: "nginx-3", Package: "nginx"},
					{ID: "p4", Name: "apache-1", Package: "apache", Agents: 9},
				}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncBlocked, agents: 5,
				reason: "2 package policies on the remote are in use by 5 agent(s): nginx-1 (3 agents), nginx-2 (2 agents)"}},
		},
		{
			name: "uninstall with agent-less policies blocked without force",
			in: SyncInput{SyncUninstalled: true, Seen: map[string]string{"nginx": "2.0.0"},
				Remote:         []Package{installed("nginx", "2.0.0")},
				RemotePolicies: []PackagePolicy{{ID: "p3", Name: "nginx-3", Package: "nginx"}}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncBlocked, reason: "--force-uninstall",
				deleted: []string{"nginx-3"}}},
		},
		{
			name: "force uninstall deletes policies without agents, with a note",
			in: SyncInput{SyncUninstalled: true, ForceUninstall: true, Seen: map[string]string{"nginx": "2.0.0"},
				Remote: []Package{installed("nginx", "2.0.0")},
				RemotePolicies: []PackagePolicy{
					{ID: "p3", Name: "nginx-3", Package: "nginx"},
					{ID: "p5", Name: "nginx-cloud", Package: "nginx", Agentless: true},
				}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncUninstall, reason: "same version",
				deleted: []string{"nginx-3", "nginx-cloud"}}},
		},
		{
			name: "uninstall skipped on version mismatch",
			in: SyncInput{SyncUninstalled: true, Seen: map[string]string{"nginx": "2.0.0"},
				Remote: []Package{installed("nginx", "2.1.0")}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncSkip, reason: "the remote has 2.1.0"}},
		},
		{
			name: "never seen on main: never uninstalled",
			in: SyncInput{SyncUninstalled: true, Seen: map[string]string{},
				Remote: []Package{installed("nginx", "2.0.0")}},
			want: nil,
		},
		{
			name: "flag off: no uninstall",
			in: SyncInput{SyncUninstalled: false, Seen: map[string]string{"nginx": "2.0.0"},
				Remote: []Package{installed("nginx", "2.0.0")}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncSkip, reason: "sync_uninstalled_integrations is off"}},
		},
		{
			name: "seen and still on main is not uninstalled",
			in: SyncInput{SyncUninstalled: true, Seen: map[string]string{"nginx": "2.0.0"},
				Main: []Package{installed("nginx", "2.0.0")}, Remote: []Package{installed("nginx", "2.0.0")}},
			want: []want{{pkg: "nginx", version: "2.0.0", action: SyncSkip, reason: "same version"}},
		},
		{
			name: "seen but already gone from the remote",
			in:   SyncInput{SyncUninstalled: true, Seen: map[string]string{"nginx": "2.0.0"}},
			want: nil,
		},
		{
			name: "sorted by package",
			in: SyncInput{SyncUninstalled: true, Seen: map[string]string{"apache": "1.0.0"},
				Main:   []Package{installed("system", "1.5.0"), installed("nginx", "2.0.0")},
				Remote: []Package{installed("apache", "1.0.0")}},
			want: []want{
				{pkg: "apache", version: "1.0.0", action: SyncUninstall, reason: "same version"},
				{pkg: "nginx", version: "2.0.0", action: SyncInstall, reason: "absent"},
				{pkg: "system", version: "1.5.0", action: SyncInstall, reason: "absent"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DecideSync(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d decisions, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Package != w.pkg || g.Version != w.version || g.Action != w.action || g.Agents != w.agents {
					t.Errorf("decision %d = %s %s@%s agents=%d, want %s %s@%s agents=%d (%s)",
						i, g.Action, g.Package, g.Version, g.Agents, w.action, w.pkg, w.version, w.agents, g.Reason)
				}
				if g.Wait != w.wait {
					t.Errorf("decision %d wait = %v, want %v", i, g.Wait, w.wait)
				}
				if !strings.Contains(g.Reason, w.reason) {
					t.Errorf("decision %d reason %q does not contain %q", i, g.Reason, w.reason)
				}
				if d := cmp.Diff(w.deleted, g.DeletedPolicies); d != "" {
					t.Errorf("deleted policies (-want +got):\n%s", d)
				}
			}
		})
	}
}

func TestDecideSync_AgentlessNote(t *testing.T) {
	got := DecideSync(SyncInput{SyncUninstalled: true, ForceUninstall: true, Seen: map[string]string{"cspm": "1.0.0"},
		Remote:         []Package{{Name: "cspm", Version: "1.0.0", Status: StatusInstalled}},
		RemotePolicies: []PackagePolicy{{Name: "cspm-cloud", Package: "cspm", Agentless: true}}})
	if len(got) != 1 || got[0].Action != SyncUninstall {
		t.Fatalf("got %+v", got)
	}
	want := []string{
		"Kibana silently deletes the package policies without agents on uninstall: cspm-cloud (agentless)",
		`Kibana will delete the agentless package policy "cspm-cloud" with the package`,
	}
	if d := cmp.Diff(want, got[0].Notes); d != "" {
		t.Errorf("notes (-want +got):\n%s", d)
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0.0", "1.0.0", 0},
		{"1.0.0", "1.0.1", -1},
		{"1.10.0", "1.9.0", 1},
		{"2.0.0-beta.1", "2.0.0", -1},
		{"2.0.0-beta.2", "2.0.0-beta.10", -1},
		{"2.0.0-alpha", "2.0.0-1", 1},
		{"2.0.0-rc.1", "2.0.0-rc.1.1", -1},
		{"1.0.0+build.5", "1.0.0", 0},
		{"v1.2.3", "1.2.3", 0},
		{"junk", "1.0.0", 1},
		{"1.0", "1.0.0", 1},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := compareVersions(tt.b, tt.a); got != -tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestNormalizeHost(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "https://ES.West.Example", want: "https://es.west.example:443"},
		{in: "http://es:9200", want: "http://es:9200"},
		{in: "http://es", want: "http://es:80"},
		{in: "https://es.example/", want: "https://es.example:443"},
		{in: "https://es.example/prefix?x=1", want: "https://es.example:443/prefix"},
		{in: "https://[::1]:9200", want: "https://[::1]:9200"},
		{in: "ftp://es", err: "expected URI with scheme [http|https]"},
		{in: "es:9200", err: "expected URI with scheme"},
	}
	for _, tt := range tests {
		got, err := NormalizeHost(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("NormalizeHost(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestInstallTS_DirectSyncForcesBelowRemoteLatest follows Kibana's
// services/epm/packages/install.ts: a version below the registry's latest
// is refused without force (400 "<name>-<version> is out-of-date and cannot
// be installed or updated"). Direct sync installs main's version on the
// remote, so it forces exactly when that version is below the remote's
// latest, and says so.
func TestInstallTS_DirectSyncForcesBelowRemoteLatest(t *testing.T) {
	main := []Package{{Name: "nginx", Version: "2.0.0", Status: StatusInstalled}}
	tests := []struct {
		name      string
		latest    map[string]string
		remote    []Package
		wantForce bool
		wantNote  bool
	}{
		{name: "absent, remote latest newer", latest: map[string]string{"nginx": "2.1.0"}, wantForce: true, wantNote: true},
		{name: "upgrade, remote latest newer", latest: map[string]string{"nginx": "2.1.0"},
			remote: []Package{{Name: "nginx", Version: "1.25.1", Status: StatusInstalled}}, wantForce: true, wantNote: true},
		{name: "main's version is the remote's latest", latest: map[string]string{"nginx": "2.0.0"}},
		{name: "remote registry lags behind main", latest: map[string]string{"nginx": "1.25.1"}},
		{name: "latest unknown", latest: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DecideSync(SyncInput{Main: main, Remote: tt.remote, RemoteLatest: tt.latest})
			if len(got) != 1 || got[0].Action != SyncInstall {
				t.Fatalf("decisions = %+v", got)
			}
			if got[0].Force != tt.wantForce {
				t.Errorf("force = %v, want %v", got[0].Force, tt.wantForce)
			}
			if has := strings.Contains(got[0].Reason, "pinned below latest 2.1.0: installed with force"); has != tt.wantNote {
				t.Errorf("reason %q: note present = %v, want %v", got[0].Reason, has, tt.wantNote)
			}
		})
	}
}
