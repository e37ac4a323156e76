package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docCommandRE finds a fleetform command in a documentation code line: at
// the start (bin/ or not), after && ; | or a YAML "run:", or after a
// VAR=value prefix.
var docCommandRE = regexp.MustCompile(`(?:^|[&;|]\s*|run:\s*|[A-Z_]+=\S+\s+)(?:bin/)?fleetform\s+([^&;|#]*)`)

// docCodeLines returns the lines of the markdown file's code: indented
// blocks and fenced blocks.
func docCodeLines(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fenced := false
	// Shell continuation lines (ending in \) are joined first.
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	for _, l := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasPrefix(trimmed, "```") {
			fenced = !fenced
			continue
		}
		// An indented line is code only when it is a command: list items
		// continue on indented lines too.
		if fenced || strings.HasPrefix(l, "    ") && docCommandRE.MatchString(trimmed) && !strings.HasPrefix(trimmed, "- ") {
			out = append(out, trimmed)
		}
	}
	return out
}

// Every fleetform command line in the README's and docs' code blocks
// parses with fleetform's real commands and flags, so a newcomer who
// copies one gets the command, not "unknown flag". Synopses (with [ ] or
// ( ) alternatives) and lines with placeholders (…) are skipped.
func TestDocs_CommandLinesParse(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool {
		return strings.HasSuffix(f, "fleetsim-inferred.md") || strings.HasSuffix(f, "kinds-coverage.md") // prose, no commands
	})
	files = append(files, "../../README.md", "../../examples/README.md", "../../examples/deploy/README.md", "../../examples/ci/README.md")
	checked := 0
	for _, file := range files {
		for _, line := range docCodeLines(t, file) {
			for _, m := range docCommandRE.FindAllStringSubmatch(line, -1) {
				cmd := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m[1]), "\\"))
				if cmd == "" || strings.ContainsAny(cmd, "[(…") || strings.Contains(cmd, "$(") {
					continue
				}
				args := slices.DeleteFunc(shellWords(cmd), func(w string) bool { return strings.ContainsAny(w, "<>") }) // redirections
				if args[0] == "help" || args[0] == "completion" {
					continue
				}
				checked++
				t.Logf("%s: fleetform %s", filepath.Base(file), cmd)
				if _, errOut, code := runCLI(t, append(args, "-h")...); code != 0 || strings.Contains(errOut, "unknown") {
					t.Errorf("%s: %q does not parse: exit %d\n%s", filepath.Base(file), "fleetform "+cmd, code, errOut)
				}
			}
		}
	}
	if checked < 12 {
		t.Errorf("only %d command lines checked: the extraction is broken", checked)
	}
}
