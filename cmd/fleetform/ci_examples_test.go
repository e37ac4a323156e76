package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// fleetformCommandRE finds a fleetform command at a command position of a
// shell script: the start of a line, or after ; && || | or $(.
var fleetformCommandRE = regexp.MustCompile(`(?m)(?:^|[;&|]\s*|\$\(\s*)fleetform\s+([^\n;&|>)]*)`)

var shellVarRE = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)

// scriptStrings returns every string of a YAML document (run: steps,
// script: lists, …), where shell commands live.
func scriptStrings(n *yaml.Node) []string {
	var out []string
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		out = append(out, n.Value)
	}
	for _, c := range n.Content {
		out = append(out, scriptStrings(c)...)
	}
	return out
}

// shellWords splits a command line into words, dropping quotes; the example
// workflows use no quoting this does not cover.
func shellWords(s string) []string {
	var words []string
	for _, w := range strings.Fields(s) {
		words = append(words, strings.Trim(w, `"'`))
	}
	return words
}

// Every fleetform command line in the CI examples parses with fleetform's
// real flag sets, and each workflow validates, plans and applies. validate
// lines are run for real against an example repository (they are offline).
func TestCIExamples_CommandsParseWithTheRealFlags(t *testing.T) {
	files, err := filepath.Glob("../../examples/ci/*.yml")
	if err != nil || len(files) < 2 {
		t.Fatalf("want the GitHub Actions and GitLab CI examples, got %v (%v)", files, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(b, &doc); err != nil {
				t.Fatalf("not YAML: %v", err)
			}
			seen := map[string]bool{}
			for _, s := range scriptStrings(&doc) {
				for _, m := range fleetformCommandRE.FindAllStringSubmatch(s, -1) {
					line := "fleetform " + strings.TrimSpace(m[1])
					args := shellWords(shellVarRE.ReplaceAllString(m[1], "../../examples/two-cluster"))
					if len(args) == 0 {
						t.Errorf("%q: no subcommand", line)
						continue
					}
					seen[args[0]] = true
					if args[0] == "validate" {
						if out, errOut, code := runCLI(t, args...); code != 0 {
							t.Errorf("%q: exit %d\n%s%s", line, code, out, errOut)
						}
						continue
					}
					// -h after every other flag: parsing stops with usage only
					// when all flags before it exist.
					_, errOut, code := runCLI(t, append(args, "-h")...)
					if code != 0 || strings.Contains(errOut, "unknown flag") {
						t.Errorf("%q does not parse: exit %d\n%s", line, code, errOut)
					}
				}
			}
			for _, cmd := range []string{"validate", "plan", "apply"} {
				if !seen[cmd] {
					t.Errorf("no fleetform %s command in %s", cmd, file)
				}
			}
		})
	}
}

// The check above must catch a flag fleetform does not have.
func TestCIExamples_UnknownFlagIsCaught(t *testing.T) {
	_, errOut, code := runCLI(t, "plan", "--no-such-flag", "-h")
	if code == 0 || !strings.Contains(errOut, "unknown flag") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}
