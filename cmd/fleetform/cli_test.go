package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// fleetform help CMD and CMD --help print the command's flags, long and
// short forms, on stdout.
func TestHelp_Command(t *testing.T) {
	for _, args := range [][]string{{"help", "plan"}, {"plan", "--help"}, {"plan", "-h"}} {
		out, errOut, code := runCLI(t, args...)
		if code != 0 || errOut != "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
		for _, want := range []string{"fleetform plan [flags]", "-c, --config DIR", "-f, --format", "-o, --out FILE", "-v, --verbose", "--detailed-exitcode"} {
			if !strings.Contains(out, want) {
				t.Errorf("%q: no %q in\n%s", args, want, out)
			}
		}
	}
}

// Every command has the shared flags with the same spelling.
func TestFlags_ConsistentAcrossCommands(t *testing.T) {
	for _, c := range []struct {
		cmd   string
		flags []string
	}{
		{"validate", []string{"-c, --config", "-f, --format"}},
		{"plan", []string{"-c, --config", "-f, --format", "-o, --out", "-v, --verbose", "--prune", "--force-uninstall", "--show-unmanaged", "--detailed-exitcode"}},
		{"apply", []string{"-c, --config", "-v, --verbose", "--auto-approve", "--prune", "--force-uninstall", "--wait", "--wait-timeout", "--lock-timeout"}},
		{"status", []string{"-c, --config", "-f, --format", "-v, --verbose"}},
		{"rotate", []string{"-c, --config", "-v, --verbose", "--timeout"}},
		{"render", []string{"-c, --config", "-o, --out", "--revision"}},
		{"import", []string{"-c, --config", "-v, --verbose", "--kinds", "--select", "--adopt"}},
		{"serve", []string{"--repo", "--dir", "--listen", "--lock-timeout", "--lease", "--interval", "--drift", "--suspend-file"}},
	} {
		out, _, code := runCLI(t, "help", c.cmd)
		for _, f := range c.flags {
			if code != 0 || !strings.Contains(out, f) {
				t.Errorf("fleetform help %s: exit %d, no %q", c.cmd, code, f)
			}
		}
	}
}

// Shell completion for bash, zsh and fish; completion of --format values.
func TestCompletion(t *testing.T) {
	for shell, marker := range map[string]string{"bash": "__start_fleetform", "zsh": "#compdef fleetform", "fish": "complete -c fleetform"} {
		out, _, code := runCLI(t, "completion", shell)
		if code != 0 || !strings.Contains(out, marker) {
			t.Errorf("completion %s: exit %d, no %q", shell, code, marker)
		}
	}
	out, _, code := runCLI(t, "__complete", "plan", "--format", "")
	if code != 0 || !strings.Contains(out, "markdown\n") || !strings.Contains(out, "github\n") {
		t.Errorf("--format completion: exit %d\n%s", code, out)
	}
	out, _, _ = runCLI(t, "__complete", "ap")
	if !strings.HasPrefix(out, "apply\t") {
		t.Errorf("command completion:\n%s", out)
	}
}

// fleetform version prints what the build stamped: version, commit, date.
func TestVersion_Stamped(t *testing.T) {
	saved := [3]string{version, commit, date}
	t.Cleanup(func() { version, commit, date = saved[0], saved[1], saved[2] })
	version, commit, date = "v1.2.3", "0123456789abcdef0123", "2026-12-07T04:00:00Z"
	out, _, code := runCLI(t, "version")
	want := regexp.MustCompile(`^fleetform v1\.2\.3 \(commit 0123456789ab, built 2026-12-07T04:00:00Z\) go\S+ \S+/\S+\n$`)
	if code != 0 || !want.MatchString(out) {
		t.Errorf("exit %d, %q", code, out)
	}
	if alias, _, _ := runCLI(t, "--version"); alias != out {
		t.Errorf("--version = %q, want %q", alias, out)
	}
	// -v is --verbose everywhere (README), never the version.
	if stdout, stderr, code := runCLI(t, "-v"); code == 0 || stdout == out || !strings.Contains(stderr, "-v") {
		t.Errorf("fleetform -v: exit %d, stdout %q, stderr %q; want a flag error", code, stdout, stderr)
	}
}

// make build and the container build stamp the same three variables.
func TestVersion_BuildsStampIt(t *testing.T) {
	for _, file := range []string{"../../Makefile", "../../examples/deploy/Dockerfile", "../../scripts/demo.sh"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"-X main.version=", "-X main.commit=", "-X main.date="} {
			if !strings.Contains(string(b), v) {
				t.Errorf("%s does not pass %s", file, v)
			}
		}
	}
}
