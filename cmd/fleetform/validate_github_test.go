package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// On GitHub Actions an annotation's file= is relative to the repository root
// ($GITHUB_WORKSPACE), whatever the working directory, or it does not land on
// the pull request's diff.
func TestValidateGitHub_AnnotationsRelativeToWorkspace(t *testing.T) {
	ws := t.TempDir()
	fleet := filepath.Join(ws, "infra", "fleet")
	if err := os.MkdirAll(fleet, 0o755); err != nil {
		t.Fatal(err)
	}
	doc := "clusters:\n  main:\n    kibana: {url: \"https://kb:5601\", auth: {api_key: {env: K}}}\n    elasticsearch: {url: \"https://es:9200\", auth: {api_key: {env: E}}}\noutputs:\n  - {id: a, name: a, type: elasticsearch, hosts: [\"https://es:9200\"], proxy_id: nowhere}\n"
	if err := os.WriteFile(filepath.Join(fleet, "fleet.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "::error file=infra/fleet/fleet.yaml,line=6,col="
	for _, tc := range []struct {
		name, cwd string
		args      []string
	}{
		{"from the root", ws, []string{"-c", "infra/fleet"}},
		{"working-directory", filepath.Join(ws, "infra"), []string{"-c", "fleet"}},
		{"absolute path", ws, []string{fleet}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GITHUB_WORKSPACE", ws)
			t.Chdir(tc.cwd)
			out, _, code := runCLI(t, append([]string{"validate", "--format", "github"}, tc.args...)...)
			if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, `proxy \"nowhere\" is not declared`) && !strings.Contains(out, `proxy "nowhere" is not declared`) {
				t.Fatalf("exit %d, want an annotation starting %q:\n%s", code, want, out)
			}
		})
	}
}
