package fleetsim

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fleetform/fleetform/fleetsim/esim"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// syncPair is a main and a remote cluster wired for integration sync as the
// Kibana E2E test does (5.7).
type syncPair struct {
	s            *Sim
	clock        *fakeClock
	main, remote *client
	remoteHost   string
}

type pairOpts struct {
	remoteLicense string
	uninstall     bool
	remoteOwnHost string // host of the remote's own ES output; "" = the same as main's remote output
	mainHost      string // hosts of main's remote output; "" = the remote's ES URL
	skipFollower  bool
}

func newSyncPair(t *testing.T, o pairOpts) *syncPair {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	s := StartTest(t, Options{Now: clock.Now}, ClusterConfig{Name: "main"}, ClusterConfig{Name: "west", License: cmpOr(o.remoteLicense, "enterprise")})
	p := &syncPair{s: s, clock: clock, main: kibana(t, s, "main"), remote: kibana(t, s, "west")}
	p.remoteHost = wireRemote(t, s, "west", "remote-west", o)
	return p
}

// wireRemote connects a remote cluster to main for integration sync: a
// remote output on main with a service token and a read-only Kibana API key,
// the remote's own elasticsearch output, the remote-cluster link and the
// follower index. It returns the host main's output names.
func wireRemote(t *testing.T, s *Sim, remote, outputID string, o pairOpts) string {
	t.Helper()
	rc := s.Cluster(remote)
	host := normalizeHost(cmpOr(o.mainHost, rc.ESURL()))
	key, err := rc.ES().CreateAPIKey(esim.Principal{Username: "elastic", Superuser: true}, esim.APIKeyRequest{Name: "sync-status",
		RoleDescriptors: map[string]esim.RoleDescriptor{"integration_writer": {Applications: []esim.ApplicationPrivilege{{Application: "kibana-.kibana", Privileges: []string{"feature_fleet.read", "feature_fleetv2.read"}, Resources: []string{"*"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := rc.ES().CreateServiceToken("elastic", "fleet-server-remote", "fleetform")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{"id": outputID, "name": outputID, "type": "remote_elasticsearch", "hosts": []any{host},
		"sync_integrations": true, "sync_uninstalled_integrations": o.uninstall, "kibana_url": rc.KibanaURL(),
		"kibana_api_key": key.Encoded, "secrets": map[string]any{"service_token": tok.Value}}
	kibana(t, s, "main").do("POST", "/api/fleet/outputs", out).must(t, 200)
	own := cmpOr(o.remoteOwnHost, normalizeHost(rc.ESURL()))
	kibana(t, s, remote).do("POST", "/api/fleet/outputs", map[string]any{"id": "es", "name": "Local ES Output", "type": "elasticsearch", "hosts": []any{own}}).must(t, 200)
	if !o.skipFollower {
		mainAddr := strings.TrimPrefix(s.Cluster("main").ESURL(), "http://")
		if _, _, err := rc.ES().PutClusterSettings(json.RawMessage(`{"persistent":{"cluster":{"remote":{"main":{"seeds":["` + mainAddr + `"]}}}}}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := rc.ES().Follow("fleet-synced-integrations-ccr-main", esim.FollowRequest{RemoteCluster: "main", LeaderIndex: "fleet-synced-integrations"}, "all"); err != nil {
			t.Fatal(err)
		}
	}
	return host
}

func (p *syncPair) mustRun(t *testing.T) {
	t.Helper()
	if err := p.run(t); err != nil {
		t.Fatalf("sync task: %v", err)
	}
}

func (p *syncPair) run(t *testing.T) error {
	t.Helper()
	return p.s.RunSyncOnce(context.Background())
}

func (p *syncPair) remoteVersion(t *testing.T, pkg string) string {
	t.Helper()
	r := p.remote.do("GET", "/api/fleet/epm/packages/"+pkg, nil).must(t, 200)
	info, _ := r.item()["installationInfo"].(map[string]any)
	v, _ := info["version"].(string)
	return v
}

func statusOf(t *testing.T, r result, pkg string) map[string]any {
	t.Helper()
	for _, it := range r.Body["integrations"].([]any) {
		m := it.(map[string]any)
		if m["package_name"] == pkg {
			return m
		}
	}
	t.Fatalf("no status for %s in %s", pkg, r.Raw)
	return nil
}

// 5.3–5.6 end to end, and trap 19 (lower-case sync_status).
func TestSync_InstalledOnMainReachesRemote_StatusCompletedLowerCase(t *testing.T) {
	p := newSyncPair(t, pairOpts{})
	p.main.do("POST", "/api/fleet/epm/packages/nginx/2.0.0", forceInstall).must(t, 200)
	if err := p.run(t); err != nil {
		t.Fatal(err)
	}
	doc, found := p.s.Cluster("main").ES().GetDoc("fleet-synced-integrations", "fleet-synced-integrations")
	if !found {
		t.Fatal("no leader doc")
	}
	var sd syncDoc
	if err := json.Unmarshal(doc.Source, &sd); err != nil {
		t.Fatal(err)
	}
	if len(sd.RemoteESHosts) != 1 || sd.RemoteESHosts[0].Hosts[0] != p.remoteHost || len(sd.Integrations) != 1 || sd.Integrations[0].PackageName != "nginx" {
		t.Errorf("leader doc = %s", doc.Source)
	}
	if v := p.remoteVersion(t, "nginx"); v != "2.0.0" {
		t.Errorf("remote nginx = %q", v)
	}
	st := p.main.do("GET", "/api/fleet/remote_synced_integrations/remote-west/remote_status", nil).must(t, 200)
	got := statusOf(t, st, "nginx")
	if got["sync_status"] != "completed" || cmp.Diff(map[string]any{"main": "installed", "remote": "installed"}, got["install_status"]) != "" {
		t.Errorf("status = %v", got)
	}
}

// Trap 17/5.3: packages without index templates are never synced.
func TestSync_ContentOnlyPackagesNeverSynced(t *testing.T) {
	p := newSyncPair(t, pairOpts{})
	p.main.do("POST", "/api/fleet/epm/packages/security_detection_engine", nil).must(t, 200)
	if err := p.run(t); err != nil {
		t.Fatal(err)
	}
	if v := p.remoteVersion(t, "security_detection_engine"); v != "" {
		t.Errorf("content-only package synced: %s", v)
	}
}

// Trap 20.
func TestSync_RemoteHostMustStringEqualOwnESOutput(t *testing.T) {
	// The remote's own outputs (its default and "es") point at its local URL;
	// main's output names it differently (a load balancer, say).
	p := newSyncPair(t, pairOpts{mainHost: "https://es-west.example.com"})
	p.main.do("POST", "/api/fleet/epm/packages/nginx/2.0.0", forceInstall).must(t, 200)
	if err := p.run(t); err != nil {
		t.Fatalf("a host mismatch must be silent, got %v", err)
	}
	if v := p.remoteVersion(t, "nginx"); v != "" {
		t.Errorf("synced despite host mismatch: %s", v)
	}
}

// Trap 21.
func TestSync_SecondFollowerBreaksSync(t *testing.T) {
	p := newSyncPair(t, pairOpts{})
	if err := p.s.Cluster("west").ES().CreateIndex("fleet-synced-integrations-ccr-other", nil); err != nil {
		t.Fatal(err)
	}
	p.main.do("POST", "/api/fleet/epm/packages/nginx/2.0.0", forceInstall).must(t, 200)
	err := p.run(t)
	if err == nil || !strings.Contains(err.Error(), "Not supported to sync multiple indices with prefix fleet-synced-integrations-ccr-*") {
		t.Errorf("run error = %v", err)
	}
	if v := p.remoteVersion(t, "nginx"); v != "" {
		t.Errorf("synced with two followers")
	}
	st := p.remote.do("GET", "/api/fleet/remote_synced_integrations/status", nil).must(t, 200)
	if st.Body["error"] != "Not supported to sync multiple indices with prefix fleet-synced-integrations-ccr-*" {
		t.Errorf("status error = %v", st.Body["error"])
	}
}

// Trap 23.
func TestSync_NeverDowngrades_StatusReportsFailed(t *testing.T) {
	p := newSyncPair(t, pairOpts{})
	p.remote.do("POST", "/api/fleet/epm/packages/nginx/2.1.0", nil).must(t, 200)
	p.main.do("POST", "/api/fleet/epm/packages/nginx/2.0.0", forceInstall).must(t, 200)
	if err := p.run(t); err != nil {
		t.Fatal(err)
	}
	if v := p.remoteVersion(t, "nginx"); v != "2.1.0" {
		t.Errorf("remote downgraded to %s", v)
	}
	got := statusOf(t, p.remote.do("GET", "/api/fleet/remote_synced_integrations/status", nil).must(t, 200), "nginx")
	if got["sync_status"] != "failed" || got["error"] != "Found incorrect installed version 2.1.0" {
		t.Errorf("status = %v", got)
	}
	// An older remote is upgraded.
	p.remote.do("POST", "/api/fleet/epm/packages/apache/1.22.0", forceInstall).must(t, 200)
	p.main.do("POST", "/api/fleet/epm/packages/apache/2.0.0", nil).must(t, 200)
	p.mustRun(t)
	if v := p.remoteVersion(t, "apache"); v != "2.0.0" {
		t.Errorf("remote apache = %s, want upgraded to 2.0.0", v)
	}
}

// Traps 22 and 24.
func TestSync_UninstallOnlyOnEqualVersion_NotInstalledEntriesSticky(t *testing.T) {
	p := newSyncPair(t, pairOpts{uninstall: true})
	p.main.do("POST", "/api/fleet/epm/packages/nginx/2.0.0", forceInstall).must(t, 200)
	p.main.do("POST", "/api/fleet/epm/packages/apache/2.0.0", nil).must(t, 200)
	if err := p.run(t); err != nil {
		t.Fatal(err)
	}
	// The remote moves apache ahead: its uninstall must be skipped.
	p.remote.do("POST", "/api/fleet/epm/packages/apache/2.0.0", map[string]any{"force": true}).must(t, 200)
	p.s.Cluster("west").mu.Lock()
	p.s.Cluster("west").st.Packages["apache"].Version = "1.24.0"
	p.s.Cluster("west").mu.Unlock()
	p.main.do("DELETE", "/api/fleet/epm/packages/nginx", nil).must(t, 200)
	p.main.do("DELETE", "/api/fleet/epm/packages/apache", nil).must(t, 200)
	for range 2 {
		if err := p.run(t); err != nil {
			t.Fatal(err)
		}
	}
	if v := p.remoteVersion(t, "nginx"); v != "" {
		t.Errorf("nginx still on the remote: %s", v)
	}
	if v := p.remoteVersion(t, "apache"); v != "1.24.0" {
		t.Errorf("apache with a different version was uninstalled (or changed): %q", v)
	}
	doc, _ := p.s.Cluster("main").ES().GetDoc("fleet-synced-integrations", "fleet-synced-integrations")
	var sd syncDoc
	if err := json.Unmarshal(doc.Source, &sd); err != nil {
		t.Fatal(err)
	}
	var notInstalled []string
	for _, e := range sd.Integrations {
		if e.InstallStatus == "not_installed" {
			notInstalled = append(notInstalled, e.PackageName+"@"+e.PackageVersion)
		}
	}
	if d := cmp.Diff([]string{"apache@2.0.0", "nginx@2.0.0"}, notInstalled); d != "" {
		t.Errorf("sticky not_installed entries (-want +got):\n%s", d)
	}
	got := statusOf(t, p.main.do("GET", "/api/fleet/remote_synced_integrations/remote-west/remote_status", nil).must(t, 200), "nginx")
	if got["sync_status"] != "completed" || cmp.Diff(map[string]any{"main": "not_installed", "remote": "not_installed"}, got["install_status"]) != "" {
		t.Errorf("nginx status = %v", got)
	}
}

func TestSync_UninstallOnRemoteBlockedByAgents_WarningStatus(t *testing.T) {
	p := newSyncPair(t, pairOpts{uninstall: true})
	p.main.do("POST", "/api/fleet/epm/packages/nginx/2.0.0", forceInstall).must(t, 200)
	p.mustRun(t)
	if err := p.s.Seed(&SeedFile{Clusters: map[string]*ClusterSeed{"west": {
		AgentPolicies:   []SeedAgentPolicy{{ID: "p", Name: "P"}},
		PackagePolicies: []SeedPackagePolicy{{Name: "nginx-1", PolicyIDs: []string{"p"}, Package: pkgRef("nginx", "2.0.0"), Agents: 3}},
	}}}); err != nil {
		t.Fatal(err)
	}
	p.main.do("DELETE", "/api/fleet/epm/packages/nginx", nil).must(t, 200)
	p.mustRun(t)
	if v := p.remoteVersion(t, "nginx"); v != "2.0.0" {
		t.Errorf("in-use package uninstalled on the remote")
	}
	got := statusOf(t, p.remote.do("GET", "/api/fleet/remote_synced_integrations/status", nil).must(t, 200), "nginx")
	w, _ := got["warning"].(map[string]any)
	if got["sync_status"] != "warning" || w["title"] != "Integration was uninstalled, but removal from remote cluster failed." ||
		!strings.HasPrefix(w["message"].(string), "Unable to remove package nginx:2.0.0 with existing package policy(s) in use by agent(s) at ") {
		t.Errorf("status = %v", got)
	}
}

// Trap 25.
func TestSync_InstallRetryBackoff(t *testing.T) {
	p := newSyncPair(t, pairOpts{})
	yes := true
	if err := p.s.Seed(&SeedFile{Clusters: map[string]*ClusterSeed{"main": {Packages: []SeedPackage{{Name: "acme", Version: "1.0.0", Source: "registry", HasIndexTemplates: &yes}}}}}); err != nil {
		t.Fatal(err)
	}
	attempts := func() int {
		c := p.s.Cluster("west")
		c.mu.Lock()
		defer c.mu.Unlock()
		if inst := c.st.Packages["acme"]; inst != nil {
			return len(inst.FailedInstall)
		}
		return 0
	}
	steps := []struct {
		advance time.Duration
		want    int
	}{{0, 1}, {time.Minute, 1}, {5 * time.Minute, 2}, {9 * time.Minute, 2}, {2 * time.Minute, 3}, {21 * time.Minute, 4}, {41 * time.Minute, 5}, {61 * time.Minute, 5}, {24 * time.Hour, 5}}
	for i, st := range steps {
		p.clock.Advance(st.advance)
		if err := p.run(t); err != nil {
			t.Fatal(err)
		}
		if got := attempts(); got != st.want {
			t.Fatalf("step %d (+%s): %d attempts, want %d", i, st.advance, got, st.want)
		}
	}
	got := statusOf(t, p.remote.do("GET", "/api/fleet/remote_synced_integrations/status", nil).must(t, 200), "acme")
	w, _ := got["warning"].(map[string]any)
	if got["sync_status"] != "warning" || w["title"] != "Integration can't be automatically synced" {
		t.Errorf("status = %v", got)
	}
}

func TestSync_LicenceGate(t *testing.T) {
	p := newSyncPair(t, pairOpts{remoteLicense: "platinum"})
	p.main.do("POST", "/api/fleet/epm/packages/nginx/2.0.0", forceInstall).must(t, 200)
	p.mustRun(t)
	if v := p.remoteVersion(t, "nginx"); v != "" {
		t.Errorf("a platinum remote synced")
	}
	st := p.remote.do("GET", "/api/fleet/remote_synced_integrations/status", nil).must(t, 200)
	if d := cmp.Diff(map[string]any{"integrations": []any{}}, st.Body); d != "" {
		t.Errorf("status without enterprise: %s", d)
	}
}

// 5.3: once sync is turned off one more doc with everything false is written, then writes stop.
func TestSync_MainWritesOneFinalDocAfterSyncTurnedOff(t *testing.T) {
	p := newSyncPair(t, pairOpts{})
	p.mustRun(t)
	p.main.do("PUT", "/api/fleet/outputs/remote-west", map[string]any{"sync_integrations": false, "secrets": map[string]any{"service_token": "x"}}).must(t, 200)
	node := p.s.Cluster("main").ES()
	p.mustRun(t)
	d1, _ := node.GetDoc("fleet-synced-integrations", "fleet-synced-integrations")
	if !strings.Contains(string(d1.Source), `"sync_integrations":false`) {
		t.Errorf("final doc = %s", d1.Source)
	}
	p.mustRun(t)
	d2, _ := node.GetDoc("fleet-synced-integrations", "fleet-synced-integrations")
	if d2.SeqNo != d1.SeqNo {
		t.Errorf("doc written again after the final one")
	}
}

// 5.5: follower errors.
func TestRemoteSyncedStatus_FollowerErrors(t *testing.T) {
	p := newSyncPair(t, pairOpts{skipFollower: true})
	want := func(msg string) {
		t.Helper()
		st := p.remote.do("GET", "/api/fleet/remote_synced_integrations/status", nil).must(t, 200)
		if d := cmp.Diff(map[string]any{"integrations": []any{}, "error": msg}, st.Body); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	}
	want("Follower index not found")
	west := p.s.Cluster("west").ES()
	if err := west.CreateIndex("fleet-synced-integrations-ccr-main", nil); err != nil {
		t.Fatal(err)
	}
	want("Follower index fleet-synced-integrations-ccr-main not available")
	west.DeleteIndex("fleet-synced-integrations-ccr-main")
	mainAddr := strings.TrimPrefix(p.s.Cluster("main").ESURL(), "http://")
	if _, _, err := west.PutClusterSettings(json.RawMessage(`{"persistent":{"cluster.remote.main.seeds":["` + mainAddr + `"]}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := west.Follow("fleet-synced-integrations-ccr-main", esim.FollowRequest{RemoteCluster: "main", LeaderIndex: "fleet-synced-integrations"}, "all"); err != nil {
		t.Fatal(err)
	}
	want("No integrations found on fleet-synced-integrations-ccr-main")
	if err := west.PauseFollow("fleet-synced-integrations-ccr-main"); err != nil {
		t.Fatal(err)
	}
	want("Follower index fleet-synced-integrations-ccr-main paused")
}

// Trap 26 / 5.6.
func TestRemoteStatus_ErrorsAndMessages(t *testing.T) {
	p := newSyncPair(t, pairOpts{})
	kb := p.main
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "nosync", "name": "nosync", "type": "remote_elasticsearch", "hosts": []any{"https://x"}}).must(t, 200)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "nourl", "name": "nourl", "type": "remote_elasticsearch", "hosts": []any{"https://x"}, "sync_integrations": true}).must(t, 200)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "nokey", "name": "nokey", "type": "remote_elasticsearch", "hosts": []any{"https://x"}, "sync_integrations": true, "kibana_url": "https://kb.west"}).must(t, 200)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "badkey", "name": "badkey", "type": "remote_elasticsearch", "hosts": []any{"https://x"}, "sync_integrations": true,
		"kibana_url": p.s.Cluster("west").KibanaURL(), "kibana_api_key": "bm9wZTpub3Bl"}).must(t, 200)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "down", "name": "down", "type": "remote_elasticsearch", "hosts": []any{"https://x"}, "sync_integrations": true,
		"kibana_url": "http://127.0.0.1:1", "kibana_api_key": "k"}).must(t, 200)
	base := "/api/fleet/remote_synced_integrations/"
	kb.do("GET", base+"fleet-default-output/remote_status", nil).wantError(t, 400, "Output fleet-default-output is not a remote elasticsearch output")
	kb.do("GET", base+"nosync/remote_status", nil).wantError(t, 400, "Synced integrations not enabled")
	kb.do("GET", base+"nourl/remote_status", nil).wantError(t, 404, "Remote Kibana URL not set on the output.")
	kb.do("GET", base+"nokey/remote_status", nil).wantError(t, 404, "Remote Kibana API key for https://kb.west not found")
	r := kb.do("GET", base+"missing/remote_status", nil).must(t, 200)
	if d := cmp.Diff(map[string]any{"integrations": []any{}, "error": "No output found with id missing"}, r.Body); d != "" {
		t.Errorf("missing output: %s", d)
	}
	u := p.s.Cluster("west").KibanaURL() + "/api/fleet/remote_synced_integrations/status"
	r = kb.do("GET", base+"badkey/remote_status", nil).must(t, 200)
	if msg, _ := r.Body["error"].(string); !strings.HasPrefix(msg, "GET "+u+" failed with status 401. [security_exception") {
		t.Errorf("bad key error = %q", msg)
	}
	r = kb.do("GET", base+"down/remote_status", nil).must(t, 200)
	if msg, _ := r.Body["error"].(string); !strings.HasPrefix(msg, "GET http://127.0.0.1:1/api/fleet/remote_synced_integrations/status failed with error: ") {
		t.Errorf("unreachable error = %q", msg)
	}
}

// The task runs by itself every Options.SyncInterval (Kibana's 5m by
// default). In a synctest bubble the ticker runs on virtual time, so the
// test waits the real interval without sleeping. The bubble holds no
// sockets: the Kibana handler is called in memory.
func TestSync_TaskRunsEverySyncInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Options{})
		c, err := s.AddCluster(ClusterConfig{Name: "main"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		s.startBackground(ctx)
		defer func() { cancel(); s.wg.Wait() }()

		out := remoteOutput("r")
		out["sync_integrations"] = true
		raw, _ := json.Marshal(out)
		req := httptest.NewRequest("POST", "/api/fleet/outputs", bytes.NewReader(raw))
		req.Header.Set("Authorization", basic("elastic", "changeme"))
		req.Header.Set("kbn-xsrf", "true")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		c.KibanaHandler().ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("create output: %d %s", rec.Code, rec.Body)
		}
		written := func() bool {
			_, found := c.ES().GetDoc(leaderIndex, leaderDocID)
			return found
		}
		start := time.Now()
		time.Sleep(DefaultSyncInterval - time.Nanosecond)
		synctest.Wait()
		if written() {
			t.Fatalf("leader doc written after %v, before the first tick", time.Since(start))
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if !written() {
			t.Fatalf("no leader doc after %v", time.Since(start))
		}
		// Each tick runs the task again: the doc follows a change within one interval.
		if err := c.ES().PutPipeline("logs-nginx.access@custom", json.RawMessage(`{"processors":[]}`)); err != nil {
			t.Fatal(err)
		}
		c.mu.Lock()
		c.st.Packages["nginx"] = &installation{Name: "nginx", Version: "2.0.0", Status: "installed", Source: "registry", UpdatedAt: time.Now()}
		c.mu.Unlock()
		time.Sleep(DefaultSyncInterval)
		synctest.Wait()
		d, _ := c.ES().GetDoc(leaderIndex, leaderDocID)
		if !bytes.Contains(d.Source, []byte(`"ingest_pipeline:logs-nginx.access@custom"`)) {
			t.Errorf("second tick did not update the doc: %s", d.Source)
		}
	})
}

// Trap 22: sync_uninstalled_integrations on any output makes every syncing
// remote uninstall — the remote never checks its own output's flag.
func TestSync_UninstallFlagIsGlobalAcrossRemotes(t *testing.T) {
	s := StartTest(t, Options{}, ClusterConfig{Name: "main"}, ClusterConfig{Name: "west"}, ClusterConfig{Name: "east"})
	wireRemote(t, s, "west", "remote-west", pairOpts{uninstall: true})
	wireRemote(t, s, "east", "remote-east", pairOpts{uninstall: false})
	kb := kibana(t, s, "main")
	kb.do("POST", "/api/fleet/epm/packages/nginx/2.0.0", forceInstall).must(t, 200)
	ctx := context.Background()
	if err := s.RunSyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"west", "east"} {
		if kibana(t, s, r).do("GET", "/api/fleet/epm/packages/nginx", nil).must(t, 200).item()["status"] != "installed" {
			t.Fatalf("%s did not install nginx", r)
		}
	}
	kb.do("DELETE", "/api/fleet/epm/packages/nginx", nil).must(t, 200)
	for range 2 {
		if err := s.RunSyncOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []string{"west", "east"} {
		if st := kibana(t, s, r).do("GET", "/api/fleet/epm/packages/nginx", nil).must(t, 200).item()["status"]; st != "not_installed" {
			t.Errorf("%s: nginx %v, want uninstalled", r, st)
		}
	}
}

func TestRemoteSyncedStatus_FollowerFatalException(t *testing.T) {
	p := newSyncPair(t, pairOpts{})
	p.mustRun(t)
	if err := p.s.Cluster("west").ES().FailFollower("fleet-synced-integrations-ccr-main"); err != nil {
		t.Fatal(err)
	}
	st := p.remote.do("GET", "/api/fleet/remote_synced_integrations/status", nil).must(t, 200)
	if msg, _ := st.Body["error"].(string); !strings.HasPrefix(msg, "Follower index fleet-synced-integrations-ccr-main fatal exception: ") {
		t.Errorf("error = %q", msg)
	}
}
