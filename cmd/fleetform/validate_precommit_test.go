package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// preCommitHook is the part of a pre-commit hook definition
// (https://pre-commit.com/#creating-new-hooks) the test relies on.
type preCommitHook struct {
	ID            string   `yaml:"id"`
	Entry         string   `yaml:"entry"`
	Language      string   `yaml:"language"`
	Types         []string `yaml:"types"`
	PassFilenames *bool    `yaml:"pass_filenames"`
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Every hook of .pre-commit-hooks.yaml, run the way pre-commit runs it
// (entry, then the hook's args, then the changed files), validates a split
// repository as a whole.
func TestPreCommitHooks_ValidateSplitRepository(t *testing.T) {
	b, err := os.ReadFile("../../.pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var hooks []preCommitHook
	if err := yaml.Unmarshal(b, &hooks); err != nil {
		t.Fatal(err)
	}
	if len(hooks) == 0 {
		t.Fatal("no hooks")
	}
	for _, h := range hooks {
		entry := strings.Fields(h.Entry)
		if len(entry) < 2 || entry[0] != "fleetform" || h.PassFilenames == nil || !*h.PassFilenames || len(h.Types) != 1 || h.Types[0] != "yaml" {
			t.Fatalf("hook %s: want entry \"fleetform …\", pass_filenames: true, types: [yaml]; got %+v", h.ID, h)
		}
		t.Run(h.ID, func(t *testing.T) {
			repo := t.TempDir()
			fleet := filepath.Join(repo, "fleet")
			copyTree(t, "../../testdata/multi/split.good", fleet)
			// pre-commit runs from the repository root with paths relative to it.
			t.Chdir(repo)
			hookArgs := []string{"-c", "fleet"}
			run := func(files ...string) (string, string, int) {
				args := append(append(append([]string{}, entry[1:]...), hookArgs...), files...)
				return runCLI(t, args...)
			}

			// One changed file of a split repository: the whole repository is valid.
			out, errOut, code := run("fleet/policies/prod.yaml", "docs/other.yaml")
			if code != 0 || !strings.Contains(out, "fleet: valid (2 outputs, 1 agent policy") {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}

			// Changed files outside the repository: nothing to validate.
			out, _, code = run(".github/workflows/ci.yml")
			if code != 0 || !strings.Contains(out, "no fleetform file among the changed files") {
				t.Fatalf("exit %d, stdout %q", code, out)
			}

			// A change that breaks a reference in another, unchanged file.
			if err := os.WriteFile("fleet/outputs.yml", []byte("outputs:\n  - {id: b, name: B, type: elasticsearch, hosts: [\"https://es:9200\"]}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			out, _, code = run("fleet/outputs.yml")
			if code != 1 || !strings.Contains(out, filepath.Join("fleet", "policies", "prod.yaml")+":") || !strings.Contains(out, `output "a" is not declared`) {
				t.Fatalf("exit %d, stdout:\n%s", code, out)
			}
		})
	}
}
