package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/internal/golden"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/pflag"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(t.Context(), args, &out, &errb)
	return out.String(), errb.String(), exitCode(err)
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errChanges, 2},
		{fmt.Errorf("plan: %w", errChanges), 2},
		{errReported, 1},
		{errors.New("boom"), 1},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestRun_CommandTable(t *testing.T) {
	want := []string{"validate", "plan", "apply", "serve", "render", "status", "rotate", "suspend", "resume", "version"}
	var got []string
	for _, c := range commands {
		got = append(got, c.name)
		if c.setup == nil || c.summary == "" {
			t.Errorf("command %s incomplete", c.name)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("commands (-want +got):\n%s", d)
	}
	stdout, _, code := runCLI(t, "help")
	if code != 0 {
		t.Errorf("help exit %d", code)
	}
	for _, name := range want {
		if !strings.Contains(stdout, "  "+name+" ") {
			t.Errorf("usage does not list %s:\n%s", name, stdout)
		}
	}
}

func TestRegisterCommand(t *testing.T) {
	saved := extraCommands
	t.Cleanup(func() { extraCommands = saved })
	registerCommand("zz-test", "a registered command", "[ARG]", func(fs *pflag.FlagSet) runFunc {
		return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			fmt.Fprintf(stdout, "ran with %q\n", args)
			return nil
		}
	})
	stdout, _, code := runCLI(t, "zz-test", "a")
	if code != 0 || stdout != "ran with [\"a\"]\n" {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
	if help, _, _ := runCLI(t, "help"); !strings.Contains(help, "zz-test") || !strings.Contains(help, "a registered command") {
		t.Errorf("usage does not list the registered command:\n%s", help)
	}
}

func TestRun_Errors(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		stderrHas  string
		stdoutWant string
	}{
		{"no command", nil, 1, "Usage:\n  fleetform [command]", ""},
		{"unknown command", []string{"frobnicate"}, 1, `unknown command "frobnicate"`, ""},
		{"bad flag", []string{"validate", "--nope"}, 1, "fleetform validate: unknown flag: --nope\nRun 'fleetform validate --help' for usage.\n", ""},
		{"mistyped command", []string{"aply"}, 1, "Did you mean this?\n\tapply", ""},
		{"apply without approval on a terminal-less stdin never asks", []string{"apply", "--auto-approve", "-c", "testdata/does-not-exist"}, 1, "does-not-exist", ""},
		{"bad format", []string{"validate", "--format", "xml", "."}, 1, `fleetform validate: unknown --format "xml"`, ""},
		{"command help", []string{"validate", "-h"}, 0, "", ""},
		{"missing path", []string{"validate", "testdata/does-not-exist"}, 1, "no such file or directory", ""},
		{"dir without yaml", []string{"validate", t.TempDir()}, 1, "no *.yaml or *.yml files", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.stderrHas)
			}
			if tt.stdoutWant != "" && stdout != tt.stdoutWant {
				t.Errorf("stdout = %q", stdout)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	stdout, stderr, code := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "fleetform ") || stderr != "" {
		t.Errorf("version: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if alias, _, _ := runCLI(t, "--version"); alias != stdout {
		t.Errorf("--version = %q, want %q", alias, stdout)
	}
}

func TestFlags_LongShortAndInterspersed(t *testing.T) {
	tests := []struct {
		args       []string
		format     string
		dir        string
		positional []string
	}{
		{[]string{"a", "b"}, "text", ".", []string{"a", "b"}},
		{[]string{"--format", "json", "a"}, "json", ".", []string{"a"}},
		{[]string{"-f", "json", "a"}, "json", ".", []string{"a"}},
		{[]string{"a", "--format=github", "b"}, "github", ".", []string{"a", "b"}},
		{[]string{"a", "--", "--format", "b"}, "text", ".", []string{"a", "--format", "b"}},
		{[]string{"-c", "x"}, "text", "x", nil},
		{[]string{"--config", "x"}, "text", "x", nil},
		{[]string{"-c=x"}, "text", "x", nil},
		{[]string{"--config=x", "p"}, "text", "x", []string{"p"}},
		{nil, "text", ".", nil},
	}
	for _, tt := range tests {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		var format, dir string
		bindFormat(fs, &format, "")
		bindConfigDir(fs, &dir)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if got := fs.Args(); format != tt.format || dir != tt.dir || !cmp.Equal(got, tt.positional, cmpopts.EquateEmpty()) {
			t.Errorf("parse(%q) = %q, format %q, dir %q; want %q, %q, %q", tt.args, got, format, dir, tt.positional, tt.format, tt.dir)
		}
	}
}

// Golden output of validate in every format, for valid and invalid input.
func TestValidate_Golden(t *testing.T) {
	examples := filepath.Join("..", "..", "examples")
	fleets := filepath.Join("..", "..", "testdata", "fleets")
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"valid-text", []string{filepath.Join(examples, "two-cluster"), filepath.Join(examples, "multi-output")}, 0},
		{"valid-json", []string{"--format", "json", filepath.Join(examples, "remote-generated-token")}, 0},
		{"valid-github", []string{"--format", "github", filepath.Join(examples, "remote-generated-token")}, 0},
		{"invalid-text", []string{filepath.Join(fleets, "literal-secrets.bad.yaml"), filepath.Join(examples, "direct-sync")}, 1},
		{"invalid-json", []string{filepath.Join(fleets, "preset-balanced.bad.yaml"), "--format", "json"}, 1},
		{"invalid-github", []string{"--format", "github", filepath.Join(fleets, "sync.bad.yaml")}, 1},
		{"multi-file-invalid", []string{filepath.Join("..", "..", "testdata", "multi", "two-clusters.bad")}, 1},
		{"config-flag", []string{"-c", filepath.Join(examples, "direct-sync")}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, append([]string{"validate"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if stderr != "" {
				t.Errorf("stderr = %q, want empty (problems go to stdout)", stderr)
			}
			golden.Check(t, filepath.Join("testdata", "validate-"+tt.name+".golden"), []byte(stdout))
		})
	}
}

func TestValidate_DefaultsToCurrentDirectory(t *testing.T) {
	t.Chdir(filepath.Join("..", "..", "examples", "two-cluster"))
	stdout, stderr, code := runCLI(t, "validate")
	if code != 0 || stdout != ".: valid (1 output, 1 agent policy, 2 packages, 1 remote)\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestGitHubEscaping(t *testing.T) {
	if got := escapeData("50% done\r\nnext"); got != "50%25 done%0D%0Anext" {
		t.Errorf("escapeData = %q", got)
	}
	if got := escapeProperty("a:b,c%"); got != "a%3Ab%2Cc%25" {
		t.Errorf("escapeProperty = %q", got)
	}
}
