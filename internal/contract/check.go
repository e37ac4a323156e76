package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

var spacePrefix = regexp.MustCompile(`^/s/[^/]+(/api/.*)$`)

// Check validates each request against the contract: the route and method
// exist, every query parameter is declared (Kibana's config-schema objects
// refuse unknown keys: "[request query.<key>]: definition for this key is
// missing"), and parameters, headers and the JSON body match their
// schemas. Identical violations are reported once, with how often they
// occurred. Requests to a Kibana older than the extract (KibanaVersion)
// are left out.
func (s *Spec) Check(reqs []Request) []error {
	type key struct{ route, msg string }
	count := map[key]int{}
	var order []key
	add := func(route, msg string) {
		k := key{route, msg}
		if count[k] == 0 {
			order = append(order, k)
		}
		count[k]++
	}
	for _, r := range reqs {
		if r.Older {
			continue
		}
		path := r.Path
		if m := spacePrefix.FindStringSubmatch(path); m != nil {
			path = m[1]
		}
		u := &url.URL{Path: path, RawQuery: r.RawQuery}
		hr, err := http.NewRequestWithContext(context.Background(), r.Method, u.String(), bytes.NewReader(r.Body))
		if err != nil {
			add(r.Method+" "+path, err.Error())
			continue
		}
		hr.Header = r.Header.Clone()
		route, params, err := s.Router.FindRoute(hr)
		if err != nil {
			add(r.Method+" "+path, "no such route in Kibana's contract: "+err.Error())
			continue
		}
		name := r.Method + " " + route.Path
		q, _ := url.ParseQuery(r.RawQuery)
		for k := range q {
			if !declaresQuery(route.Operation, k) {
				add(name, fmt.Sprintf("[request query.%s]: definition for this key is missing", k))
			}
		}
		opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}
		opts.WithCustomSchemaErrorFunc(func(e *openapi3.SchemaError) string {
			return fmt.Sprintf("at /%s: %s", strings.Join(e.JSONPointer(), "/"), e.Reason)
		})
		hr.Body = io.NopCloser(bytes.NewReader(r.Body))
		in := &openapi3filter.RequestValidationInput{Request: hr, PathParams: params, Route: route, Options: opts}
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			var me openapi3.MultiError
			if !errors.As(err, &me) {
				me = openapi3.MultiError{err}
			}
			for _, e := range me {
				msg := e.Error()
				if d := typedBodyDetail(route.Operation, r.Body); d != "" && strings.Contains(msg, `any schema from "anyOf"`) {
					msg += ": " + d
				}
				add(name, msg)
			}
		}
	}
	var out []error
	for _, k := range order {
		out = append(out, fmt.Errorf("%s (%d request(s)): %s", k.route, count[k], k.msg))
	}
	return out
}

func declaresQuery(op *openapi3.Operation, name string) bool {
	return slices.ContainsFunc(op.Parameters, func(p *openapi3.ParameterRef) bool {
		return p.Value != nil && p.Value.In == "query" && p.Value.Name == name
	})
}

// Routes lists the distinct "METHOD /route" of reqs that the contract
// knows, sorted (to show what a test covered).
func (s *Spec) Routes(reqs []Request) []string {
	seen := map[string]bool{}
	for _, r := range reqs {
		path := r.Path
		if m := spacePrefix.FindStringSubmatch(path); m != nil {
			path = m[1]
		}
		hr, err := http.NewRequest(r.Method, (&url.URL{Path: path}).String(), nil)
		if err != nil {
			continue
		}
		if route, _, err := s.Router.FindRoute(hr); err == nil {
			seen[r.Method+" "+route.Path] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Require loads the spec for a test: under CI (CI=true) a missing spec
// fails the test, locally it skips with how to get the spec.
func Require(tb testing.TB) *Spec {
	tb.Helper()
	s, err := LoadKibana()
	switch {
	case errors.Is(err, ErrNoSpec) && os.Getenv("CI") != "true":
		tb.Skipf("skipping the Kibana request contract: %v", err)
	case err != nil:
		tb.Fatal(err)
	}
	return s
}

// CheckKibana fails tb with every request of reqs the contract refuses.
func CheckKibana(tb testing.TB, reqs []Request) {
	tb.Helper()
	s := Require(tb)
	for _, err := range s.Check(reqs) {
		tb.Errorf("request contract: %v", err)
	}
}

// Main runs a package's tests with every Kibana request recorded and, when
// they pass, checks all the requests against the contract; violations fail
// the run (exit 1). Use it from TestMain: os.Exit(contract.Main(m)). A
// missing spec fails under CI=true and is reported and skipped otherwise.
func Main(m *testing.M) int {
	rec, done := Install()
	code := m.Run()
	done()
	if code != 0 {
		return code
	}
	s, err := LoadKibana()
	if err != nil {
		if errors.Is(err, ErrNoSpec) && os.Getenv("CI") != "true" {
			fmt.Fprintf(os.Stderr, "request contract skipped: %v\n", err)
			return 0
		}
		fmt.Fprintf(os.Stderr, "request contract: %v\n", err)
		return 1
	}
	reqs := rec.Requests()
	errs := s.Check(reqs)
	for _, e := range errs {
		fmt.Fprintf(os.Stderr, "request contract: %v\n", e)
	}
	if len(errs) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d violation(s) of Kibana's request contract in %d recorded requests\n", len(errs), len(reqs))
		return 1
	}
	if testing.Verbose() {
		routes := s.Routes(reqs)
		fmt.Fprintf(os.Stderr, "request contract: %d requests over %d routes match Kibana's contract: %s\n", len(reqs), len(routes), strings.Join(routes, ", "))
	}
	return 0
}

// typedBodyDetail explains an anyOf failure of a body with a "type" (the
// output routes): it validates the body against the alternative of that
// type alone, whose errors name the offending field.
func typedBodyDetail(op *openapi3.Operation, body []byte) string {
	var v map[string]any
	if op.RequestBody == nil || op.RequestBody.Value == nil || json.Unmarshal(body, &v) != nil {
		return ""
	}
	typ, _ := v["type"].(string)
	media := op.RequestBody.Value.Content.Get("application/json")
	if typ == "" || media == nil || media.Schema == nil || media.Schema.Value == nil {
		return ""
	}
	for _, alt := range media.Schema.Value.AnyOf {
		if alt.Value == nil || outputType(alt.Value) != typ {
			continue
		}
		var doc any
		_ = json.Unmarshal(body, &doc)
		if err := alt.Value.VisitJSON(doc, openapi3.MultiErrors()); err != nil {
			return "as type " + typ + ": " + err.Error()
		}
	}
	return ""
}
