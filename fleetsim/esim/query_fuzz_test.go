package esim

import (
	"encoding/json"
	"testing"
)

// FuzzCompileQuery feeds compileQuery, which reads the query of any
// client's _search or _count body, arbitrary bytes: it must answer a
// matcher or an Elasticsearch parsing error, never panic, and a matcher
// must run on any document.
func FuzzCompileQuery(f *testing.F) {
	for _, s := range []string{
		`{"match_all":{}}`,
		`{"term":{"kind":"output"}}`,
		`{"terms":{"id":["a","b"]}}`,
		`{"bool":{"must":[{"term":{"a":1}}],"should":[{"prefix":{"b":"x"}}],"minimum_should_match":1}}`,
		`{"range":{"n":{"gte":1,"lt":"5"}}}`,
		`{"exists":{"field":"a.b"}}`,
		`{"ids":{"values":["x"]}}`,
		`{"match":{"name":{"query":"x y"}}}`,
		`{"bool":{"must_not":{"match_none":{}}}}`,
		`{}`, `null`, `[]`, `{"a":1,"b":2}`,
	} {
		f.Add([]byte(s))
	}
	var src map[string]any
	if err := json.Unmarshal([]byte(`{"kind":"output","a":{"b":[1,"x",null]},"n":3,"name":"x y","id":"a"}`), &src); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, e := compileQuery(json.RawMessage(raw))
		if e != nil {
			if e.Type == "" {
				t.Fatalf("compileQuery(%q): an error without a type: %+v", raw, e)
			}
			return
		}
		if m == nil {
			t.Fatalf("compileQuery(%q): neither a matcher nor an error", raw)
		}
		m(&searchDoc{Doc: Doc{ID: "a"}, src: src})
	})
}
