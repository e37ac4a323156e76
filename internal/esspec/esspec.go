// Package esspec reads Elasticsearch's REST API specification files
// (rest-api-spec/src/main/resources/rest-api-spec/api/*.json in the
// Elasticsearch repository), kept in testdata/es-rest-api-spec, and checks
// requests against them: method, path and query parameters. Contract tests
// of the simulator (fleetsim/esim) and of fleetform's own requests
// (package elastic) use it.
package esspec

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
)

// CommonParams are accepted by every API (rest-api-spec _common.json).
var CommonParams = []string{"pretty", "human", "error_trace", "source", "filter_path"}

// Param is one query parameter of an API.
type Param struct {
	Type     string   `json:"type"` // string, boolean, number, time, enum, list, …
	Options  []string `json:"options"`
	Required bool     `json:"required"`
}

// Path is one URL pattern of an API, e.g. "/{index}/_doc/{id}".
type Path struct {
	Path    string   `json:"path"`
	Methods []string `json:"methods"`
}

// API is one spec file's API.
type API struct {
	Name   string
	File   string
	Params map[string]Param
	Paths  []Path
}

// ParamNames returns the API's parameter names, sorted.
func (a API) ParamNames() []string {
	names := make([]string, 0, len(a.Params))
	for n := range a.Params {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Specs are the APIs of a spec folder, by name.
type Specs struct {
	Dir  string
	APIs map[string]API
}

// Dir is the project's copy of the spec files (SOURCES.tsv there names the
// Elasticsearch commit each was taken from).
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "es-rest-api-spec")
}

// Load reads the spec folder. When it is missing or empty the test fails
// under CI (CI=true) — a moved folder must not switch the contract tests
// off — and is skipped elsewhere with a message saying how to restore it.
func Load(t testing.TB) *Specs {
	t.Helper()
	return load(t, Dir())
}

func load(t testing.TB, dir string) *Specs {
	t.Helper()
	s, err := LoadDir(dir)
	if err != nil {
		msg := fmt.Sprintf("Elasticsearch REST specs not usable at %s: %v. They are part of the repository: restore them with "+
			"`git checkout -- testdata/es-rest-api-spec`, or copy the files SOURCES.tsv lists from Elasticsearch's "+
			"rest-api-spec/src/main/resources/rest-api-spec/api/ (github.com/elastic/elasticsearch)", dir, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
			return nil
		}
		t.Skip(msg)
		return nil
	}
	return s
}

// LoadDir reads every *.json spec file of dir.
func LoadDir(dir string) (*Specs, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no spec files")
	}
	s := &Specs{Dir: dir, APIs: map[string]API{}}
	for _, f := range files {
		if filepath.Base(f) == "_common.json" {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var doc map[string]struct {
			Params map[string]Param `json:"params"`
			URL    struct {
				Paths []Path `json:"paths"`
			} `json:"url"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for name, a := range doc {
			s.APIs[name] = API{Name: name, File: filepath.Base(f), Params: a.Params, Paths: a.URL.Paths}
		}
	}
	return s, nil
}

func segments(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// matchScore reports whether the request segments fit a pattern and how
// specific the fit is: Elasticsearch's router (PathTrie) prefers a literal
// segment to a {placeholder} at each position.
func matchScore(pattern, segs []string) (string, bool) {
	if len(pattern) != len(segs) {
		return "", false
	}
	var score strings.Builder
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return "", false
			}
			score.WriteByte('0')
			continue
		}
		if p != segs[i] {
			return "", false
		}
		score.WriteByte('1')
	}
	return score.String(), true
}

// Route finds the API serving method and path (the request's escaped
// path, without query). It returns the matching pattern.
func (s *Specs) Route(method, path string) (API, string, error) {
	segs := segments(path)
	var best API
	var bestPat, bestScore string
	var otherMethods []string
	for _, a := range s.APIs {
		for _, p := range a.Paths {
			score, ok := matchScore(segments(p.Path), segs)
			if !ok {
				continue
			}
			if !slices.Contains(p.Methods, method) {
				otherMethods = append(otherMethods, p.Methods...)
				continue
			}
			if score > bestScore || bestPat == "" {
				best, bestPat, bestScore = a, p.Path, score
			}
		}
	}
	if bestPat == "" {
		if len(otherMethods) > 0 {
			slices.Sort(otherMethods)
			return API{}, "", fmt.Errorf("%s %s: the spec allows only %v on this path", method, path, slices.Compact(otherMethods))
		}
		return API{}, "", fmt.Errorf("%s %s: no API in %s has this path", method, path, s.Dir)
	}
	return best, bestPat, nil
}

// Check validates one request: the route exists for the method, every
// query parameter is the API's (or common), booleans and enums have
// allowed values, and required parameters are present.
func (s *Specs) Check(method, path string, query map[string][]string) error {
	a, pat, err := s.Route(method, path)
	if err != nil {
		return err
	}
	var errs []error
	for k, vs := range query {
		if slices.Contains(CommonParams, k) {
			continue
		}
		p, ok := a.Params[k]
		if !ok {
			errs = append(errs, fmt.Errorf("%s %s (%s, %s): unknown query parameter %q", method, path, a.Name, pat, k))
			continue
		}
		for _, v := range vs {
			switch p.Type {
			case "boolean":
				if v != "true" && v != "false" && v != "" {
					errs = append(errs, fmt.Errorf("%s %s (%s): %s=%q is not a boolean", method, path, a.Name, k, v))
				}
			case "enum":
				for _, part := range strings.Split(v, ",") {
					if !slices.Contains(p.Options, part) {
						errs = append(errs, fmt.Errorf("%s %s (%s): %s=%q is not one of %v", method, path, a.Name, k, v, p.Options))
					}
				}
			}
		}
	}
	for name, p := range a.Params {
		if _, ok := query[name]; p.Required && !ok {
			errs = append(errs, fmt.Errorf("%s %s (%s): required query parameter %q is missing", method, path, a.Name, name))
		}
	}
	return errors.Join(errs...)
}
