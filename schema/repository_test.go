package schema

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

const clustersYAML = `clusters:
  main:
    kibana: {url: "https://kb.example:5601", auth: {api_key: {env: KB_KEY}}}
    elasticsearch: {url: "https://es.example:9200", auth: {api_key: {env: ES_KEY}}}
`

// A directory that is not a fleetform repository gives one error naming it,
// not an issue for every foreign YAML file under it (issue 11: "-c must not
// wander").
func TestLoad_NotARepository(t *testing.T) {
	foreign := fstest.MapFS{
		"docker-compose.yml":         {Data: []byte("services:\n  web:\n    image: nginx\n")},
		"deploy/k8s/deployment.yaml": {Data: []byte("apiVersion: apps/v1\nkind: Deployment\n")},
		"charts/values.yaml":         {Data: []byte("replicas: [1\n")}, // broken, and not ours
		"notes/list.yaml":            {Data: []byte("- a\n- b\n")},
	}
	several := fstest.MapFS{
		"a/fleet.yaml":      {Data: []byte(clustersYAML)},
		"b/fleet.yaml":      {Data: []byte(clustersYAML)},
		"b/outputs.yaml":    {Data: []byte("outputs: []\n")},
		"c/d/clusters.yaml": {Data: []byte(clustersYAML)},
	}
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"foreign files", foreign, "none of its 4 YAML files (charts/values.yaml, deploy/k8s/deployment.yaml, docker-compose.yml and 1 more) declares clusters, outputs, agent_policies"},
		{"several repositories", several, "3 files in different directories define clusters (a/fleet.yaml, b/fleet.yaml, c/d/clusters.yaml)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(t.Context(), tc.fsys, ".")
			if !errors.Is(err, ErrNotRepository) {
				t.Fatalf("want ErrNotRepository, got %v", err)
			}
			if strings.Count(err.Error(), "\n") != 0 || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q\nwant one line containing %q", err, tc.want)
			}
		})
	}
}

// A repository stays one even when its only file is broken, or when it has
// a foreign file next to the fleet's: those are reported as issues.
func TestLoad_RepositoryWithProblemsIsStillOne(t *testing.T) {
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"only file broken", fstest.MapFS{"fleet.yaml": {Data: []byte(clustersYAML + "outputs: [\n")}}, "fleet.yaml:5:10: /: invalid YAML: this [ is not closed"},
		{"top-level typo next to clusters", fstest.MapFS{
			"clusters.yaml": {Data: []byte(clustersYAML)},
			"outputs.yaml":  {Data: []byte("output: []\n")},
		}, `outputs.yaml:1:1: /output: unknown key "output"`},
		{"same directory, two clusters", fstest.MapFS{
			"a.yaml": {Data: []byte(clustersYAML)},
			"b.yaml": {Data: []byte(clustersYAML)},
		}, "clusters is defined in both a.yaml and b.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(t.Context(), tc.fsys, ".")
			var issues Issues
			if !errors.As(err, &issues) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want Issues containing %q, got %v", tc.want, err)
			}
		})
	}
}

// fleetform's own source tree holds many example repositories: run there,
// the loader says so in one line.
func TestLoadDir_SourceTreeIsNotOneRepository(t *testing.T) {
	_, err := LoadDir(t.Context(), "..")
	if !errors.Is(err, ErrNotRepository) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("want one-line ErrNotRepository, got %v", err)
	}
}

// A directory with thousands of YAML files (a home directory, a source tree)
// is refused before its files are read.
func TestLoad_TooManyFilesIsNotARepository(t *testing.T) {
	fsys := fstest.MapFS{"fleet.yaml": {Data: []byte(clustersYAML)}}
	for i := range MaxFiles + 1 {
		fsys[fmt.Sprintf("vendor/pkg%d/values.yaml", i)] = &fstest.MapFile{Data: []byte("outputs: [\n")}
	}
	_, err := Load(t.Context(), fsys, ".")
	if !errors.Is(err, ErrNotRepository) || !strings.Contains(err.Error(), "more than 2000 YAML files under .") {
		t.Fatalf("err = %v", err)
	}
}
