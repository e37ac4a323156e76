package main

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/daemon"
	"github.com/fleetform/fleetform/source"
)

// Issue 11 #6: the daemon shows, per remote output, the integration sync
// table in Kibana's vocabulary (remote_synced_integrations status): here a
// ccr-synced output with nginx synced to west, served by a daemon over the
// plan/apply engine and fleetsim.
func TestServeStatusShowsIntegrationSync(t *testing.T) {
	dir := twoClusterDir(t)
	rec := newEngineReconciler(ReconcilerOptions{Instance: "default"})
	l, err := daemon.New(daemon.DefaultConfig(), source.NewDir(dir), rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Once(t.Context(), "startup"); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	l.Handler(daemon.HandlerOptions{}).ServeHTTP(w, httptest.NewRequest("GET", "/status", nil))
	var st struct {
		Outputs []struct {
			ID           string `json:"id"`
			SyncVia      string `json:"sync_via"`
			State        string `json:"state"`
			Integrations []struct {
				PackageName    string `json:"package_name"`
				PackageVersion string `json:"package_version"`
				SyncStatus     string `json:"sync_status"`
				InstallStatus  struct {
					Main   string `json:"main"`
					Remote string `json:"remote"`
				} `json:"install_status"`
			} `json:"integrations"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, o := range st.Outputs {
		if o.ID != "remote-west" {
			continue
		}
		if o.SyncVia != "ccr" || o.State != "completed" {
			t.Errorf("remote-west: sync_via %q, state %q; want ccr, completed", o.SyncVia, o.State)
		}
		for _, i := range o.Integrations {
			rows = append(rows, strings.Join([]string{i.PackageName, i.PackageVersion, i.SyncStatus, i.InstallStatus.Main, i.InstallStatus.Remote}, " "))
		}
	}
	if got := strings.Join(rows, "; "); got != "nginx 2.0.0 completed installed installed" {
		t.Errorf("integration rows %q, want nginx 2.0.0 completed installed installed\n%s", got, w.Body.String())
	}
	w = httptest.NewRecorder()
	l.Handler(daemon.HandlerOptions{}).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(w.Body.String(), "Integration sync: output <code>remote-west</code> → remote <code>west</code> (sync via ccr)") {
		t.Errorf("the page has no sync table for remote-west")
	}
}
