package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/fleetform/fleetform/schema"
)

// formatError is what run prints for a command's error: the command once,
// then the error. A message that already starts with the command's name
// (an "apply: …" from deeper down) does not repeat it; query strings are
// left out (they can carry tokens and add nothing to the cause); problems
// in the configuration are listed one per line, each at its file:line:col.
func formatError(cmdPath string, err error) string {
	var issues schema.Issues
	if errors.As(err, &issues) {
		issues = withoutCascades(issues)
		if len(issues) == 1 {
			return cmdPath + ": " + withHint(issues[0], "  ")
		}
		lines := []string{fmt.Sprintf("%s: %d problems in the configuration (fleetform validate lists them too):", cmdPath, len(issues))}
		for _, is := range issues {
			lines = append(lines, "  "+withHint(is, "    "))
		}
		return strings.Join(lines, "\n")
	}
	msg := stripQuery(err.Error())
	name := cmdPath[strings.LastIndex(cmdPath, " ")+1:]
	for strings.HasPrefix(msg, name+": ") {
		msg = strings.TrimPrefix(msg, name+": ")
	}
	return cmdPath + ": " + msg
}

// queryRE finds the query string of a URL or request path in a message.
var queryRE = regexp.MustCompile(`([\w/\-.])\?([^\s"\]):]|:[^\s\]):])+`)

// stripQuery removes query strings from msg.
func stripQuery(msg string) string { return queryRE.ReplaceAllString(msg, "$1") }

// missingKeyRE and suggestionRE read the loader's messages for a required
// key that is missing and for an unknown key with a suggestion.
var (
	missingKeyRE = regexp.MustCompile(`^missing required key "([^"]+)"$`)
	suggestionRE = regexp.MustCompile(`\(did you mean "([^"]+)"\?\)`)
)

// withoutCascades drops the issues another one explains: a misspelt key
// ("hostz", did you mean "hosts"?) also leaves "hosts" missing — one cause,
// one message.
func withoutCascades(issues schema.Issues) schema.Issues {
	suggested := map[string]bool{} // file + object pointer + key
	for _, is := range issues {
		if m := suggestionRE.FindStringSubmatch(is.Message); m != nil {
			parent := is.Pointer[:max(strings.LastIndexByte(is.Pointer, '/'), 0)]
			suggested[is.File+"\x00"+parent+"\x00"+m[1]] = true
		}
	}
	var out schema.Issues
	for _, is := range issues {
		if m := missingKeyRE.FindStringSubmatch(is.Message); m != nil && suggested[is.File+"\x00"+is.Pointer+"\x00"+m[1]] {
			continue
		}
		out = append(out, is)
	}
	return out
}

// loadError is the error of loading the repository dir: the loader's
// problems as they are (each names its file), any other error naming dir
// once.
func loadError(dir string, err error) error {
	var issues schema.Issues
	if errors.As(err, &issues) || strings.HasPrefix(err.Error(), dir+":") {
		return err
	}
	return fmt.Errorf("%s: %w", dir, err)
}

// withHint is the issue, with a suggestion for an enum value that is a
// near miss and a "hint:" line saying what to do for the mistakes that
// need more than the message.
func withHint(is schema.Issue, indent string) string {
	line := is.String()
	if m := enumRE.FindStringSubmatch(is.Message); m != nil {
		if s := closest(m[2], enumValueRE.FindAllStringSubmatch(m[1], -1)); s != "" {
			line += fmt.Sprintf(" (did you mean %q?)", s)
		}
	}
	for _, h := range issueHints {
		if m := h.re.FindStringSubmatch(is.Message); m != nil {
			hint := h.hint
			for i, g := range m[1:] {
				hint = strings.ReplaceAll(hint, fmt.Sprintf("$%d", i+1), g)
			}
			return line + "\n" + indent + "hint: " + hint
		}
	}
	return line
}

var (
	enumRE      = regexp.MustCompile(`^value must be one of (.*), got "([^"]*)"$`)
	enumValueRE = regexp.MustCompile(`'([^']*)'`)
)

// issueHints say what to do about a loader message ($1… are its groups).
var issueHints = []struct {
	re   *regexp.Regexp
	hint string
}{
	{regexp.MustCompile(`^output "([^"]+)" is not declared in outputs`),
		"declare an output with id: $1 under outputs, or use the id of a declared output"},
	{regexp.MustCompile(`^duplicate \S+ id "[^"]+" \(also at`),
		"ids are unique across all the files of the repository: rename one of the two, or delete the copy"},
	{regexp.MustCompile(`^remote "([^"]+)" is not declared in clusters\.remotes`),
		"declare it under clusters.remotes (name: $1, with its elasticsearch url and auth), or remove remote: from the output"},
}

// closest is the allowed value within edit distance 2 of got, if exactly
// one is nearest.
func closest(got string, allowed [][]string) string {
	best, bestD, tie := "", 3, false
	for _, a := range allowed {
		d := editDistance(got, a[1])
		switch {
		case d < bestD:
			best, bestD, tie = a[1], d, false
		case d == bestD:
			tie = true
		}
	}
	if tie {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
