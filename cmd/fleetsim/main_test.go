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

func TestRun_BadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--cluster", "main"},
		{"--cluster", "main,kibana=127.0.0.1:0,es=127.0.0.1:0,license=gold-plated"},
		{"--cluster", "main,kibana=127.0.0.1:0,es=127.0.0.1:0,colour=blue"},
		{"extra"},
	} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%v) succeeded", args)
		}
	}
}
