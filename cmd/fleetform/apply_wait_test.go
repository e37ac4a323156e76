package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/simhttp"
	"github.com/fleetform/fleetform/kibana"
)

// shortWait makes apply --wait retry in milliseconds for the test.
func shortWait(t *testing.T) {
	t.Helper()
	b, m := waitBackoff, waitBackoffMax
	waitBackoff, waitBackoffMax = time.Millisecond, 5*time.Millisecond
	t.Cleanup(func() { waitBackoff, waitBackoffMax = b, m })
}

func waitDir(t *testing.T, kibanaURL, esURL, outputs string) string {
	t.Helper()
	dir := t.TempDir()
	body := fmt.Sprintf(`clusters:
  main:
    kibana: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_PW}}}}
    elasticsearch: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_PW}}}}
%s`, kibanaURL, esURL, outputs)
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const waitOutputs = `outputs:
  - {id: boot-es, name: boot-es, type: elasticsearch, hosts: ["https://boot.example:9200"]}
`

// TestApplyWait_RetriesUntilKibanaAnswersThenConverges: Kibana answers 503
// (as while it starts) to more requests than the client retries by itself
// (5 attempts); boot mode waits, applies and exits 0 only after a fresh
// plan is empty.
func TestApplyWait_RetriesUntilKibanaAnswersThenConverges(t *testing.T) {
	shortWait(t)
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	if err := sim.AddFault(simhttp.Fault{Listener: "kibana", Method: "GET", PathPattern: "/api/fleet/outputs", Status: 503, Count: 5}); err != nil {
		t.Fatal(err)
	}
	dir := waitDir(t, sim.Cluster("main").KibanaURL(), sim.Cluster("main").ESURL(), waitOutputs)

	stdout, stderr, code := runCLI(t, "apply", "-c", dir, "--wait", "--wait-timeout", "1m")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "retrying in") {
		t.Errorf("no retry was reported; stderr:\n%s", stderr)
	}
	if !strings.Contains(stdout, "a fresh plan is empty") {
		t.Errorf("stdout does not say it converged:\n%s", stdout)
	}
	if _, _, code := runCLI(t, "plan", "-c", dir, "--detailed-exitcode"); code != 0 {
		t.Errorf("plan after apply --wait: exit %d, want 0 (no changes)", code)
	}
}

// TestApplyWait_GivesUpAfterTimeout: a Kibana that never answers ends in an
// error naming the timeout, not a hang.
func TestApplyWait_GivesUpAfterTimeout(t *testing.T) {
	shortWait(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more: connection refused
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	dir := waitDir(t, dead, dead, waitOutputs)

	_, stderr, code := runCLI(t, "apply", "-c", dir, "--wait", "--wait-timeout", "200ms")
	if code != 1 || !strings.Contains(stderr, "gave up after 200ms") {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and a give-up message", code, stderr)
	}
}

// TestApplyWait_BlockedChangeFailsAtOnce: a document that cannot converge
// (a change Kibana would refuse is blocked) fails at once, without retries.
func TestApplyWait_BlockedChangeFailsAtOnce(t *testing.T) {
	shortWait(t)
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	// Unsetting the default on the only default output is refused by Kibana,
	// so the plan blocks it.
	dir := waitDir(t, sim.Cluster("main").KibanaURL(), sim.Cluster("main").ESURL(), `outputs:
  - {id: fleet-default-output, name: default, type: elasticsearch, hosts: ["`+sim.Cluster("main").ESURL()+`"], is_default: false}
`)
	stdout, stderr, code := runCLI(t, "apply", "-c", dir, "--wait", "--wait-timeout", "1m")
	if code != 1 || !strings.Contains(stderr, "blocked") || strings.Contains(stderr, "retrying") {
		t.Fatalf("exit %d, stderr:\n%s\nwant an immediate failure about blocked changes", code, stderr)
	}
	// The result line gives the plan's reason once, not the error chain.
	if want := `! output "fleet-default-output": blocked: output fleet-default-output is the current default output`; !strings.Contains(stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, stdout)
	}
}

func TestUnavailable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"kibana 503", &kibana.APIError{Status: 503}, true},
		{"kibana 429", fmt.Errorf("x: %w", &kibana.APIError{Status: 429}), true},
		{"kibana 400", &kibana.APIError{Status: 400}, false},
		{"es 502", &elastic.Error{Status: 502}, true},
		{"es 404", &elastic.Error{Status: 404}, false},
		{"kibana transport", &kibana.TransportError{Method: "GET", Path: "/api/fleet/outputs", Err: errors.New("connection refused")}, true},
		{"joined 400 then 503", errors.Join(&kibana.APIError{Status: 400}, &kibana.APIError{Status: 503}), true},
		{"plain", errors.New("invalid document"), false},
	}
	for _, tt := range tests {
		if got := unavailable(tt.err); got != tt.want {
			t.Errorf("%s: unavailable = %v, want %v", tt.name, got, tt.want)
		}
	}
}
