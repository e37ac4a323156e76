package schema

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// ErrNotRepository is returned (wrapped) by Load and LoadDir when a directory
// is not a fleetform repository: none of its YAML files declares anything
// fleetform knows, or files in different directories under it each define
// clusters (several repositories side by side, such as a checkout holding
// many examples). One error, instead of an issue for every foreign file.
var ErrNotRepository = errors.New("not a fleetform repository")

// topLevelKeys are the keys of a desired-state document (Document's fields).
var topLevelKeys = func() []string {
	var keys []string
	t := reflect.TypeFor[Document]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		keys = append(keys, name)
	}
	return keys
}()

// topLevelKeyRE finds a top-level fleetform key in the text of a file that
// could not be parsed.
var topLevelKeyRE = regexp.MustCompile(`(?m)^(?:` + strings.Join(topLevelKeys, "|") + `)[ \t]*:`)

var clustersKeyRE = regexp.MustCompile(`(?m)^clusters[ \t]*:`)

// repoFile is what the repository check needs to know of one file.
type repoFile struct {
	name     string // as displayed
	ours     bool   // declares a top-level key of Document
	clusters bool   // defines clusters
}

// classify looks at one file: its parsed documents, or its text when some of
// it could not be parsed.
func classify(name string, data []byte, units []*unit, lost loss) repoFile {
	f := repoFile{name: name}
	for _, u := range units {
		for _, k := range topLevelKeys {
			if _, ok := u.value[k]; ok {
				f.ours = true
			}
		}
		if _, ok := u.value["clusters"]; ok {
			f.clusters = true
		}
	}
	switch lost {
	case lostBudget:
		// Refused for its size: what it holds is unknown, and the refusal
		// is the message the operator needs.
		f.ours = true
	case lostSyntax:
		f.ours = f.ours || topLevelKeyRE.Match(data)
		f.clusters = f.clusters || clustersKeyRE.Match(data)
	}
	return f
}

// checkRepository decides whether the files listed under dir make one
// fleetform repository.
func checkRepository(dir string, files []repoFile) error {
	var withClusters []string
	ours := 0
	for _, f := range files {
		if f.ours {
			ours++
		}
		if f.clusters {
			withClusters = append(withClusters, f.name)
		}
	}
	if ours == 0 {
		names := make([]string, len(files))
		for i, f := range files {
			names[i] = f.name
		}
		return fmt.Errorf("%s: %w: none of its %d YAML %s (%s) declares %s; run fleetform in the directory that holds your fleet's YAML, or name it with -c DIR",
			dir, ErrNotRepository, len(files), plural(len(files), "file", "files"), shortList(names, 3), orList(topLevelKeys))
	}
	dirs := map[string]bool{}
	for _, f := range withClusters {
		dirs[filepath.Dir(f)] = true
	}
	if len(dirs) > 1 {
		return fmt.Errorf("%s: %w: %d files in different directories define clusters (%s), so it holds several fleetform repositories; name one of their directories with -c DIR",
			dir, ErrNotRepository, len(withClusters), shortList(withClusters, 4))
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

func shortList(names []string, n int) string {
	names = slices.Clone(names)
	slices.Sort(names)
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(" and %d more", len(names)-n)
}
