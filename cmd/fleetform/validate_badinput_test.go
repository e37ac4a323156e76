package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// secretMarkerRE finds the values the bad-input corpus writes where a secret
// does not belong (they all start with Hunter2 or Secret).
var secretMarkerRE = regexp.MustCompile(`(?:Hunter2|Secret)[A-Za-z0-9=]*`)

// badRepo copies a bad-input corpus file into a repository directory whose
// clusters point at srv, so that any request would be seen.
func badRepo(t *testing.T, corpusFile, srv string) (dir string, secrets []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/fleets", corpusFile))
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.NewReplacer("https://kb.example:5601", srv, "https://es.example:9200", srv).Replace(string(b))
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, secretMarkerRE.FindAllString(doc, -1)
}

// Bad input of every kind: validate exits 1 in every format, plan exits 1
// before it sends a single request, and neither repeats a secret written in
// the wrong place.
func TestBadInput_RefusedBeforeAnyRequestWithoutSecrets(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "no", http.StatusTeapot)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		file, want string
	}{
		{"url-credentials.bad.yaml", "must not hold credentials; use auth"},
		{"secret-ref-values.bad.yaml", "env must be the name of an environment variable"},
		{"vars.bad.yaml", "says it holds a secret, and it is written in clear text"},
		{"references-unsure.bad.yaml", "expected array, got object"},
		{"package-versions.bad.yaml", "differs from the version packages installs"},
		{"suggestions.bad.yaml", `(did you mean "fleet-main"?)`},
		{"yaml-not-utf8.bad.yaml", "not valid UTF-8"},
		{"yaml-tab-mapping.bad.yaml", "YAML indents with spaces only"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Setenv("KB_KEY", "k")
			t.Setenv("ES_KEY", "e")
			dir, secrets := badRepo(t, tc.file, srv.URL)
			runs := [][]string{
				{"validate", dir},
				{"validate", "-f", "json", dir},
				{"validate", "-f", "github", dir},
				{"plan", "-c", dir},
				{"plan", "-c", dir, "-f", "json"},
			}
			for _, args := range runs {
				out, errOut, code := runCLI(t, args...)
				all := out + errOut
				if code != 1 {
					t.Errorf("%v: exit %d, want 1\n%s", args, code, all)
				}
				if !strings.Contains(strings.ReplaceAll(all, `\"`, `"`), tc.want) {
					t.Errorf("%v: output lacks %q:\n%s", args, tc.want, all)
				}
				for _, s := range secrets {
					if strings.Contains(all, s) {
						t.Errorf("%v: output repeats the secret %q:\n%s", args, s, all)
					}
				}
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("%d requests sent for an invalid repository", n)
			}
		})
	}
}

// validate prints each problem as plan does: with the suggestion for an
// enum value that is a near miss and the hint of the common mistakes.
func TestValidate_TextHasPlansSuggestionsAndHints(t *testing.T) {
	dir := t.TempDir()
	doc := "clusters:\n  main:\n    kibana: {url: \"https://kb:5601\", auth: {api_key: {env: K}}}\n    elasticsearch: {url: \"https://es:9200\", auth: {api_key: {env: E}}}\noutputs:\n  - {id: a, name: a, type: elasticserach, hosts: [\"https://es:9200\"]}\nagent_policies:\n  - {id: p, name: p, namespace: default, data_output_id: b}\n"
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := runCLI(t, "validate", dir)
	for _, want := range []string{
		`got "elasticserach" (did you mean "elasticsearch"?)`,
		"\n  hint: declare an output with id: b under outputs, or use the id of a declared output\n",
	} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("exit %d, want %q in:\n%s", code, want, out)
		}
	}
}
