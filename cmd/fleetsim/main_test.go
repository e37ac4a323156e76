package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/fleetsim"
)

// startRun runs the command in the background and returns its ready lines.
func startRun(t *testing.T, args ...string) ([]fleetsim.Listener, context.CancelFunc, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	var ls []fleetsim.Listener
	sc := bufio.NewScanner(pr)
	for len(ls) < 2*strings.Count(strings.Join(args, " "), "--cluster") && sc.Scan() {
		var l fleetsim.Listener
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("ready line %q: %v", sc.Text(), err)
		}
		ls = append(ls, l)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(cancel)
	return ls, cancel, done
}

func TestRun_PrintsOneJSONLinePerListenerAndShutsDown(t *testing.T) {
	ls, cancel, done := startRun(t,
		"--cluster", "main,kibana=127.0.0.1:0,es=127.0.0.1:0,license=enterprise",
		"--cluster", "west,kibana=127.0.0.1:0,es=127.0.0.1:0,license=basic")
	if len(ls) != 4 {
		t.Fatalf("listeners = %+v", ls)
	}
	for _, l := range ls {
		if !strings.HasPrefix(l.URL, "http://127.0.0.1:") || l.URL == "http://127.0.0.1:0" {
			t.Errorf("listener %+v", l)
		}
	}
	req, _ := http.NewRequest("GET", ls[0].URL+"/api/fleet/outputs", nil)
	req.SetBasicAuth("elastic", "changeme")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET outputs = %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown")
	}
}

func TestRun_DataDirSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--cluster", "main,kibana=127.0.0.1:0,es=127.0.0.1:0", "--data", dir}
	ls, cancel, done := startRun(t, args...)
	req, _ := http.NewRequest("POST", ls[0].URL+"/api/fleet/outputs", strings.NewReader(`{"id":"kept","name":"kept","type":"elasticsearch","hosts":["https://kept"]}`))
	req.SetBasicAuth("elastic", "changeme")
	req.Header.Set("kbn-xsrf", "true")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err != nil {
		t.Fatal(err)
	}
	ls, cancel, done = startRun(t, args...)
	req, _ = http.NewRequest("GET", ls[0].URL+"/api/fleet/outputs/kept", nil)
	req.SetBasicAuth("elastic", "changeme")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("output lost across restart: %d", resp.StatusCode)
	}
	cancel()
	<-done
}

// space-awareness=off: GET /api/fleet/settings has no
// use_space_awareness_migration_status until the internal migration route
// runs (fleetsim/spaces_migration.go), as on an upgraded 9.1 deployment.
func TestRun_SpaceAwarenessOff(t *testing.T) {
	ls, cancel, done := startRun(t, "--cluster", "main,kibana=127.0.0.1:0,es=127.0.0.1:0,version=9.1.0,space-awareness=off")
	if len(ls) != 2 {
		t.Fatalf("listeners = %+v", ls)
	}
	status := func() any {
		t.Helper()
		req, _ := http.NewRequest("GET", ls[0].URL+"/api/fleet/settings", nil)
		req.SetBasicAuth("elastic", "changeme")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Item map[string]any }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET settings: %d %v", resp.StatusCode, err)
		}
		return body.Item["use_space_awareness_migration_status"]
	}
	if got := status(); got != nil {
		t.Errorf("space-awareness=off: migration status %v, want none", got)
	}
	req, _ := http.NewRequest("POST", ls[0].URL+"/internal/fleet/enable_space_awareness", nil)
	req.SetBasicAuth("elastic", "changeme")
	req.Header.Set("kbn-xsrf", "true")
	req.Header.Set("elastic-api-version", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("enable_space_awareness = %d", resp.StatusCode)
	}
	if got := status(); got != "success" {
		t.Errorf("after the migration: status %v, want success", got)
	}
	cancel()
	<-done
}

func TestRun_BadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--cluster", "main"},
		{"--cluster", "main,kibana=127.0.0.1:0,es=127.0.0.1:0,version=9.0.0,space-awareness=off"},
		{"--cluster", "main,kibana=127.0.0.1:0,es=127.0.0.1:0,space-awareness=sometimes"},
		{"--cluster", "main,kibana=127.0.0.1:0,es=127.0.0.1:0,license=gold-plated"},
		{"--cluster", "main,kibana=127.0.0.1:0,es=127.0.0.1:0,colour=blue"},
		{"extra"},
	} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%v) succeeded", args)
		}
	}
}
