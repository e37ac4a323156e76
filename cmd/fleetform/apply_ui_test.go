package main

import (
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
)

// onTerminal makes apply believe it talks to a person who types answer.
func onTerminal(t *testing.T, answer string) {
	t.Helper()
	savedTerm, savedOut, savedIn := terminal, stdoutTerminal, stdin
	t.Cleanup(func() { terminal, stdoutTerminal, stdin = savedTerm, savedOut, savedIn })
	terminal = func() bool { return true }
	stdoutTerminal = func() bool { return true }
	stdin = strings.NewReader(answer)
}

const approvalQuestion = "Do you want to perform these actions?"

// Apply like Terraform: on a terminal it shows the plan and asks; only
// "yes" writes. --auto-approve skips the question; without a terminal (CI)
// it never asks.
func TestApply_AsksOnATerminal(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	t.Setenv("NO_COLOR", "1")
	tests := []struct {
		name     string
		terminal bool
		answer   string
		flags    []string
		asks     bool
		applies  bool
	}{
		{"terminal, yes", true, "yes\n", nil, true, true},
		{"terminal, y is not yes", true, "y\n", nil, true, false},
		{"terminal, no answer (EOF)", true, "", nil, true, false},
		{"terminal, --auto-approve", true, "", []string{"--auto-approve"}, false, true},
		{"no terminal (CI)", false, "", nil, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := fleetsim.StartTest(t, fleetsim.Options{})
			dir := waitDir(t, sim.Cluster("main").KibanaURL(), sim.Cluster("main").ESURL(), waitOutputs)
			if tt.terminal {
				onTerminal(t, tt.answer)
			}
			out, errOut, code := runCLI(t, append([]string{"apply", "-c", dir}, tt.flags...)...)
			if got := strings.Contains(out, approvalQuestion); got != tt.asks {
				t.Errorf("asked = %v, want %v:\n%s", got, tt.asks, out)
			}
			if tt.asks && strings.Index(out, `+ output "boot-es"`) > strings.Index(out, approvalQuestion) {
				t.Errorf("the plan comes after the question:\n%s", out)
			}
			wrote := len(writesOf(sim)) > 0
			switch {
			case tt.applies && (code != 0 || !wrote || !strings.Contains(out, "Apply complete: 1 applied, 0 failed, 0 skipped, 0 blocked; 1 ownership record written.")):
				t.Errorf("want applied: exit %d, writes %v\n%s%s", code, writesOf(sim), out, errOut)
			case !tt.applies && (code != 1 || wrote || !strings.Contains(out, "Apply cancelled: nothing was changed.")):
				t.Errorf("want cancelled without a write: exit %d, writes %v\n%s%s", code, writesOf(sim), out, errOut)
			}
		})
	}
}

// Each change prints a line as it starts and one as it ends.
func TestApply_StreamsOneLinePerChange(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	dir := waitDir(t, sim.Cluster("main").KibanaURL(), sim.Cluster("main").ESURL(), waitOutputs+`packages:
  - {name: system, version: latest}
`)
	out, errOut, code := runCLI(t, "apply", "-c", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{`+ output "boot-es": creating…`, `+ output "boot-es": created [`,
		`+ package "system": installing…`, `+ package "system": installed [`} {
		if !strings.Contains(out, want) {
			t.Errorf("no line %q:\n%s", want, out)
		}
	}
	if strings.Index(out, `"boot-es": creating…`) > strings.Index(out, `"boot-es": created`) {
		t.Errorf("end before start:\n%s", out)
	}
}

// A long change says every stillRunningEvery that it is still running,
// with the time elapsed.
func TestProgress_StillRunning(t *testing.T) {
	saved := stillRunningEvery
	t.Cleanup(func() { stillRunningEvery = saved })
	stillRunningEvery = 20 * time.Millisecond
	var buf syncBuffer
	p := newProgress(&buf, false)
	ch := plan.Change{Cluster: "main", Kind: "package", ID: "system", Action: plan.Create}
	p.report(ch, reconciler.StatusStarted, nil)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), `+ package "system": still installing… [`) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	p.report(ch, reconciler.StatusApplied, nil)
	p.finish(nil)
	out := buf.String()
	if !strings.Contains(out, `+ package "system": still installing… [`) || !strings.Contains(out, "elapsed]\n") {
		t.Fatalf("no still-installing line:\n%s", out)
	}
	n := strings.Count(out, "still installing")
	time.Sleep(60 * time.Millisecond)
	if strings.Count(buf.String(), "still installing") != n {
		t.Errorf("still-running lines after the change ended:\n%s", buf.String())
	}
}

// A failed (or blocked) apply never says "Apply complete".
func TestApply_FailedApplySaysSo(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	dir := waitDir(t, sim.Cluster("main").KibanaURL(), sim.Cluster("main").ESURL(), `outputs:
  - {id: fleet-default-output, name: default, type: elasticsearch, hosts: ["`+sim.Cluster("main").ESURL()+`"], is_default: false}
`)
	out, _, code := runCLI(t, "apply", "-c", dir)
	if code != 1 || strings.Contains(out, "Apply complete") || !strings.Contains(out, "Apply failed: 0 applied, 0 failed, 0 skipped, 1 blocked") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// On a terminal the markers are coloured, unless NO_COLOR is set.
func TestApply_Colour(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	for _, noColour := range []bool{false, true} {
		sim := fleetsim.StartTest(t, fleetsim.Options{})
		dir := waitDir(t, sim.Cluster("main").KibanaURL(), sim.Cluster("main").ESURL(), waitOutputs)
		onTerminal(t, "yes\n")
		if noColour {
			t.Setenv("NO_COLOR", "")
		}
		out, _, code := runCLI(t, "apply", "-c", dir)
		green := "\033[32m+\033[0m output \"boot-es\""
		if code != 0 || strings.Contains(out, green) == noColour || strings.Contains(out, "\033[") == noColour {
			t.Errorf("NO_COLOR set %v: exit %d, coloured %v:\n%q", noColour, code, strings.Contains(out, green), out)
		}
	}
}

func TestColourLines(t *testing.T) {
	in := "  + output \"a\" {\n      ~ hosts = 1 -> 2\n    }\n  - output \"b\"\n  ! output \"c\"\nPlan: 1 to create.\n"
	want := "  \033[32m+\033[0m output \"a\" {\n      \033[33m~\033[0m hosts = 1 -> 2\n    }\n  \033[31m-\033[0m output \"b\"\n  \033[1;31m!\033[0m output \"c\"\nPlan: 1 to create.\n"
	if got := colourLines(in); got != want {
		t.Errorf("colourLines =\n%q\nwant\n%q", got, want)
	}
}

// A long operation without changes of its own (a rotation waiting for the
// output's health) says it is still running, and stops saying it when done.
func TestStillRunning(t *testing.T) {
	saved := stillRunningEvery
	t.Cleanup(func() { stillRunningEvery = saved })
	stillRunningEvery = 10 * time.Millisecond
	var buf syncBuffer
	stop := stillRunning(&buf, "rotating the credentials of output remote-west")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "still rotating the credentials of output remote-west… [") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	n := buf.String()
	if !strings.Contains(n, " elapsed]\n") {
		t.Fatalf("no still-running line: %q", n)
	}
	time.Sleep(40 * time.Millisecond)
	if buf.String() != n {
		t.Errorf("lines after stop: %q", buf.String())
	}
}

// On two clusters, "yes" applies the plan shown, remote changes included.
func TestApply_AsksOnATerminal_TwoClusters(t *testing.T) {
	dir, _ := twoClusterRepo(t, "")
	t.Setenv("NO_COLOR", "1")
	onTerminal(t, "yes\n")
	out, errOut, code := runCLI(t, "apply", "-c", dir)
	if code != 0 || !strings.Contains(out, approvalQuestion) || !strings.Contains(out, `west: + service_token "fleetform-remote-west-1": created`) ||
		!strings.Contains(out, "Apply complete:") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	// Remote changes stream as they start and end, in the plan's order,
	// which is the apply order: the main output, the link west replicates
	// through, the follower last.
	link, output, follower := strings.Index(out, `west: + remote_cluster "main": creating…`),
		strings.Index(out, `+ output "remote-west": creating…`), strings.Index(out, `west: + follower_index "fleet-synced-integrations-ccr-remote-west": created [`)
	if link < 0 || output < 0 || follower < 0 || !(output < link && link < follower) {
		t.Errorf("remote changes do not stream in apply order:\n%s", out)
	}
	out, _, code = runCLI(t, "plan", "-c", dir, "--detailed-exitcode")
	if code != 0 {
		t.Errorf("plan after apply: exit %d\n%s", code, out)
	}
}
