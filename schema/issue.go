package schema

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Issue is one problem in a desired-state document, located by file, line and
// column (of the YAML node that holds the offending value) and by its JSON
// pointer inside that file.
type Issue struct {
	File    string `json:"file"`    // path as given to the loader, e.g. "fleet/outputs.yaml"
	Line    int    `json:"line"`    // 1-based
	Col     int    `json:"col"`     // 1-based
	Pointer string `json:"pointer"` // JSON pointer within File, e.g. "/outputs/2/hosts/0"; "" is the whole file
	Message string `json:"message"`
}

// String renders the issue as "file:line:col: /json/pointer: message".
func (i Issue) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", i.File, i.Line, i.Col, displayPointer(i.Pointer), i.Message)
}

func displayPointer(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// Issues are all the problems found in a document, sorted by file, line,
// column, pointer and message. Load returns them as its error, so callers
// find them with errors.As.
type Issues []Issue

// Error lists every issue, one per line.
func (is Issues) Error() string {
	lines := make([]string, len(is))
	for i, x := range is {
		lines[i] = x.String()
	}
	return strings.Join(lines, "\n")
}

func compareIssues(a, b Issue) int {
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Col, b.Col),
		cmp.Compare(a.Pointer, b.Pointer),
		cmp.Compare(a.Message, b.Message),
	)
}

// sorted returns the issues sorted, without exact duplicates.
func (is Issues) sorted() Issues {
	out := slices.Clone(is)
	slices.SortFunc(out, compareIssues)
	return slices.Compact(out)
}
