package schema

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
)

// FuzzLoad feeds arbitrary bytes to the loader as one file. It must never
// panic; a failure must be Issues, sorted and located; a success must
// survive a round trip (the decoded document, written back as JSON, loads
// to the same document).
func FuzzLoad(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"../testdata/fleets/*.yaml", "../testdata/multi/*/*.yaml", "../examples/*/*.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, m...)
	}
	if len(seeds) < 20 {
		f.Fatalf("only %d seed files", len(seeds))
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) == 0 {
			f.Fatalf("%s: empty seed", s)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := LoadFiles(t.Context(), fstest.MapFS{"f.yaml": {Data: data}}, "f.yaml")
		if err != nil {
			var issues Issues
			if !errors.As(err, &issues) {
				t.Fatalf("error is not Issues: %v", err)
			}
			if len(issues) == 0 || err.Error() == "" {
				t.Fatal("empty Issues returned as an error")
			}
			if !slices.IsSortedFunc(issues, compareIssues) {
				t.Errorf("issues not sorted:\n%v", issues)
			}
			for _, i := range issues {
				if i.File != "f.yaml" || i.Line < 1 || i.Col < 1 || i.Message == "" {
					t.Errorf("issue not located: %#v", i)
				}
			}
			return
		}
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("marshal a valid document: %v", err)
		}
		again, err := LoadFiles(t.Context(), fstest.MapFS{"f.json.yaml": {Data: b}}, "f.json.yaml")
		if err != nil {
			t.Fatalf("a valid document written back as JSON does not load:\n%s\n%v", b, err)
		}
		b2, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != string(b2) {
			t.Errorf("round trip changed the document:\n%s\n%s", b, b2)
		}
	})
}
