package fleetsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

// An install in progress, as Kibana has it: the package reads as installing
// (createInstallableFrom, services/epm/packages/index.ts, answers the saved
// object's install_status; soToInstallationInfo, routes/epm/handlers.ts, its
// version — the installed one during an update), GET /epm/packages/installed
// leaves it out (getInstalledPackageSavedObjects filters install_status
// installed), and another install within MAX_TIME_COMPLETE_INSTALL (30 min,
// common/constants/epm.ts) is refused with 409 "Concurrent installation or
// upgrade of <name>-<requested version> detected, aborting."
// (install_state_machine/steps/step_create_restart_installation.ts;
// errors/handlers.ts maps ConcurrentInstallOperationError to 409) — after the
// out-of-date check (install.ts installPackageFromRegistry), and unless
// force, which restarts it. An older one is stuck and is restarted; the API
// integration test apis/epm/package_install_complete.ts pins the 30-minute
// rule ("should have reinstalled if package installing did not complete in
// elapsed time") and that an update in progress keeps version at the old
// one.
func TestEPM_InstallInProgress(t *testing.T) {
	const msg210 = "Concurrent installation or upgrade of nginx-2.1.0 detected, aborting."
	tests := []struct {
		name        string
		installed   string        // nginx before the slow install; "" none
		advance     time.Duration // simulated time after the slow install started
		method      string
		path        string
		body        any
		wantStatus  int
		wantMessage string
		// the package afterwards
		wantStatusAfter, wantVersionAfter string
	}{
		{name: "same version: 409", path: "/api/fleet/epm/packages/nginx/2.1.0",
			wantStatus: 409, wantMessage: msg210, wantStatusAfter: "installing", wantVersionAfter: "2.1.0"},
		{name: "no version (the latest): 409 naming it", path: "/api/fleet/epm/packages/nginx",
			wantStatus: 409, wantMessage: msg210, wantStatusAfter: "installing", wantVersionAfter: "2.1.0"},
		{name: "update in progress: version stays the installed one, 409", installed: "2.0.0", path: "/api/fleet/epm/packages/nginx/2.1.0",
			wantStatus: 409, wantMessage: msg210, wantStatusAfter: "installing", wantVersionAfter: "2.0.0"},
		{name: "update in progress: the installed version back (rollback) is refused too", installed: "2.0.0", path: "/api/fleet/epm/packages/nginx/2.0.0",
			wantStatus: 409, wantMessage: "Concurrent installation or upgrade of nginx-2.0.0 detected, aborting.", wantStatusAfter: "installing", wantVersionAfter: "2.0.0"},
		{name: "out of date is checked first", path: "/api/fleet/epm/packages/nginx/1.25.1",
			wantStatus: 400, wantMessage: "nginx-1.25.1 is out-of-date and cannot be installed or updated", wantStatusAfter: "installing", wantVersionAfter: "2.1.0"},
		{name: "29 minutes on: still refused", advance: 29 * time.Minute, path: "/api/fleet/epm/packages/nginx/2.1.0",
			wantStatus: 409, wantMessage: msg210, wantStatusAfter: "installing", wantVersionAfter: "2.1.0"},
		{name: "30 minutes on: stuck, taken over", advance: 30 * time.Minute, path: "/api/fleet/epm/packages/nginx/2.1.0",
			wantStatus: 200, wantStatusAfter: "installed", wantVersionAfter: "2.1.0"},
		{name: "force restarts it at once", path: "/api/fleet/epm/packages/nginx/2.1.0", body: map[string]any{"force": true},
			wantStatus: 200, wantStatusAfter: "installed", wantVersionAfter: "2.1.0"},
		{name: "the delay over: installed", advance: time.Hour, method: "GET", path: "/api/fleet/epm/packages/nginx",
			wantStatus: 200, wantStatusAfter: "installed", wantVersionAfter: "2.1.0"},
		{name: "bulk: update in progress to another version: 409 item", installed: "2.0.0", path: "/api/fleet/epm/packages/_bulk",
			body:       map[string]any{"packages": []any{map[string]any{"name": "nginx", "version": "2.1.0"}}},
			wantStatus: 200, wantMessage: msg210, wantStatusAfter: "installing", wantVersionAfter: "2.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
			s, kb := startClock(t, clock)
			if tt.installed != "" {
				kb.do("POST", "/api/fleet/epm/packages/nginx/"+tt.installed, map[string]any{"force": true}).must(t, 200)
			}
			s.Cluster("main").SetInstallDelay("nginx", time.Hour)
			abandon(t, kb, "/api/fleet/epm/packages/nginx/2.1.0")
			wantPackage(t, kb, "installing", cmpOr(tt.installed, "2.1.0"))
			clock.Advance(tt.advance)
			if tt.wantStatus == 200 && tt.method == "" {
				s.Cluster("main").SetInstallDelay("nginx", 0) // the take-over or restart ends at once
			}
			r := within(t, kb, cmpOr(tt.method, "POST"), tt.path, tt.body)
			switch {
			case tt.path == "/api/fleet/epm/packages/_bulk":
				r.must(t, 200)
				items := r.items()
				if len(items) != 1 || items[0].(map[string]any)["statusCode"] != 409.0 || items[0].(map[string]any)["error"] != tt.wantMessage {
					t.Errorf("bulk items = %s, want one 409 item %q", r.Raw, tt.wantMessage)
				}
			case tt.wantMessage != "":
				r.wantError(t, tt.wantStatus, tt.wantMessage)
			default:
				r.must(t, tt.wantStatus)
			}
			wantPackage(t, kb, tt.wantStatusAfter, tt.wantVersionAfter)
		})
	}
}

// The list and the installed list while installing, then after.
func TestEPM_InstallInProgress_Lists(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	s, kb := startClock(t, clock)
	s.Cluster("main").SetInstallDelay("nginx", time.Minute)
	abandon(t, kb, "/api/fleet/epm/packages/nginx/2.1.0")
	listed := func() (string, bool) {
		status := ""
		for _, it := range kb.do("GET", "/api/fleet/epm/packages", nil).must(t, 200).items() {
			if m := it.(map[string]any); m["name"] == "nginx" {
				status, _ = m["status"].(string)
			}
		}
		inInstalled := false
		for _, it := range kb.do("GET", "/api/fleet/epm/packages/installed", nil).must(t, 200).items() {
			inInstalled = inInstalled || it.(map[string]any)["name"] == "nginx"
		}
		return status, inInstalled
	}
	if status, in := listed(); status != "installing" || in {
		t.Errorf("while installing: list status %q, in the installed list %v; want installing, false", status, in)
	}
	clock.Advance(time.Minute)
	if status, in := listed(); status != "installed" || !in {
		t.Errorf("after the delay: list status %q, in the installed list %v; want installed, true", status, in)
	}
}

// bulk_install_packages.ts: without force, isPackageVersionOrLaterInstalled
// retries while the saved object (at the requested version) is installing,
// for up to MAX_ENSURE_INSTALL_TIME (60 s, install.ts): an install that ends
// meanwhile answers already_installed, one that outlasts it goes on to the
// install, which answers the 409 in the item.
func TestEPM_BulkInstall_WaitsForInstallInProgress(t *testing.T) {
	for _, tc := range []struct {
		name        string
		delay       time.Duration
		wantStatus  string
		wantCode    float64
		wantMessage string
	}{
		{name: "ends within 60 s", delay: 30 * time.Second, wantStatus: "already_installed"},
		{name: "outlasts 60 s", delay: 5 * time.Minute, wantCode: 409, wantMessage: "Concurrent installation or upgrade of nginx-2.1.0 detected, aborting."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
			s, kb := startClock(t, clock)
			s.Cluster("main").SetInstallDelay("nginx", tc.delay)
			abandon(t, kb, "/api/fleet/epm/packages/nginx/2.1.0")
			done := make(chan result, 1)
			go func() {
				done <- within(t, kb, "POST", "/api/fleet/epm/packages/_bulk", map[string]any{"packages": []any{"nginx"}})
			}()
			// The bulk request waits on the simulated clock: move it on
			// until the request answers.
			var r result
		wait:
			for {
				select {
				case r = <-done:
					break wait
				case <-time.After(20 * time.Millisecond):
					clock.Advance(10 * time.Second)
				}
			}
			items := r.items()
			if len(items) != 1 {
				t.Fatalf("bulk = %s", r.Raw)
			}
			item := items[0].(map[string]any)
			if tc.wantCode != 0 {
				if item["statusCode"] != tc.wantCode || item["error"] != tc.wantMessage {
					t.Errorf("item = %v, want %v %q", item, tc.wantCode, tc.wantMessage)
				}
				return
			}
			if got := getPathT(item, "result", "status"); got != tc.wantStatus {
				t.Errorf("item = %v, want result.status %s", item, tc.wantStatus)
			}
		})
	}
}

// With the real clock: the install request answers once the install has
// ended; meanwhile the package reads as installing. A client that gives up
// leaves the install running (docs/fleetsim-inferred.md 62, 64).
func TestEPM_InstallDelay_RealClock(t *testing.T) {
	s, kb := startMain(t)
	s.Cluster("main").SetInstallDelay("nginx", 300*time.Millisecond)
	start := time.Now()
	answered := make(chan result, 1)
	go func() { answered <- kb.do("POST", "/api/fleet/epm/packages/nginx/2.1.0", nil) }()
	time.Sleep(50 * time.Millisecond)
	wantPackage(t, kb, "installing", "2.1.0")
	(<-answered).must(t, 200)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("install answered after %v, before its 300ms delay", d)
	}
	wantPackage(t, kb, "installed", "2.1.0")

	s.Cluster("main").SetInstallDelay("apache", 200*time.Millisecond)
	abandon(t, kb, "/api/fleet/epm/packages/apache/2.0.0")
	wantPackageNamed(t, kb, "apache", "installing", "2.0.0")
	time.Sleep(250 * time.Millisecond)
	wantPackageNamed(t, kb, "apache", "installed", "2.0.0")
}

// POST/DELETE /_sim/install_delay (control.go).
func TestControl_InstallDelay(t *testing.T) {
	s := StartTest(t, Options{}, ClusterConfig{Name: "main"}, ClusterConfig{Name: "west"})
	post := func(method, body string) (int, string) {
		req, _ := http.NewRequest(method, s.Cluster("main").KibanaURL()+"/_sim/install_delay", bytes.NewBufferString(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		e, _ := out["error"].(string)
		return resp.StatusCode, e
	}
	for _, tc := range []struct {
		method, body string
		status       int
		err          string
	}{
		{"POST", `{"package":"nginx","delay":"90s"}`, 200, ""},
		{"POST", `{"package":"nginx","delay":"2m","cluster":"west"}`, 200, ""},
		{"POST", `{"delay":"90s"}`, 400, "invalid install delay: package is required"},
		{"POST", `{"package":"nginx","delay":"soon"}`, 400, `invalid install delay: delay "soon" is not a duration such as "90s"`},
		{"POST", `{"package":"nginx","delay":"1s","cluster":"east"}`, 404, "unknown cluster east"},
		{"POST", `{"package":"nginx","wait":"1s"}`, 400, `invalid install delay: json: unknown field "wait"`},
	} {
		if status, e := post(tc.method, tc.body); status != tc.status || e != tc.err {
			t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.body, status, e, tc.status, tc.err)
		}
	}
	main, west := s.Cluster("main"), s.Cluster("west")
	if main.installDelays["nginx"] != 90*time.Second || west.installDelays["nginx"] != 2*time.Minute {
		t.Errorf("delays: main %v, west %v", main.installDelays, west.installDelays)
	}
	if status, _ := post("DELETE", ""); status != 200 || len(main.installDelays)+len(west.installDelays) != 0 {
		t.Errorf("DELETE: %d, delays left main %v, west %v", status, main.installDelays, west.installDelays)
	}
}

func startClock(t *testing.T, clock *fakeClock) (*Sim, *client) {
	t.Helper()
	s := StartTest(t, Options{Now: clock.Now}, ClusterConfig{Name: "main"})
	return s, kibana(t, s, "main")
}

// abandon posts an install and gives up on it, as a client whose
// connection dropped: the answer never comes, the install goes on.
func abandon(t *testing.T, kb *client, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", kb.base+path, bytes.NewBufferString(`{}`))
	req.Header.Set("Authorization", kb.auth)
	req.Header.Set("kbn-xsrf", "true")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("POST %s answered %d before its install delay", path, resp.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("POST %s: %v", path, err)
	}
}

func wantPackage(t *testing.T, kb *client, status, version string) {
	t.Helper()
	wantPackageNamed(t, kb, "nginx", status, version)
}

func wantPackageNamed(t *testing.T, kb *client, name, status, version string) {
	t.Helper()
	item := kb.do("GET", "/api/fleet/epm/packages/"+name, nil).must(t, 200).item()
	info, _ := item["installationInfo"].(map[string]any)
	if item["status"] != status || info["install_status"] != status || info["version"] != version {
		t.Errorf("%s: status %v, installationInfo %v/%v; want %s at %s", name, item["status"], info["install_status"], info["version"], status, version)
	}
}

// within sends a request that must be answered within 5 seconds: an install
// that waits on a simulated clock nobody moves fails the test instead of
// hanging it.
func within(t *testing.T, kb *client, method, path string, body any) result {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Error(err)
		return result{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, kb.base+path, bytes.NewReader(raw))
	if body == nil {
		req, _ = http.NewRequestWithContext(ctx, method, kb.base+path, nil)
	}
	req.Header.Set("Authorization", kb.auth)
	req.Header.Set("kbn-xsrf", "true")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return result{}
	}
	defer resp.Body.Close()
	out := result{Status: resp.StatusCode, Header: resp.Header}
	out.Raw, _ = io.ReadAll(resp.Body)
	_ = json.Unmarshal(out.Raw, &out.Body)
	return out
}
