package kibana

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestDecodeIntegrationPolicyPage: a list page decoded in one pass
// (decodeIntegrationPolicyPage) is what decoding it item by item with
// IntegrationPolicy.UnmarshalJSON gives, value and error, also for the
// answers the one pass cannot read (an inputs array, as in the full format).
// fast says whether the one-pass parser (fastIntegrationPolicyPage) must
// read the page itself rather than leave it to encoding/json.
func TestDecodeIntegrationPolicyPage(t *testing.T) {
	const simplified = `{"id":"p%d","name":"n%d","namespace":"default","revision":2,"supports_agentless":true,"is_managed":false,
	  "description":"d","enabled":false,"additional_datastreams_permissions":["logs-x"],
	  "package":{"name":"nginx","version":"2.1.0","title":"Nginx"},"policy_ids":["a","b"],"output_id":"o",
	  "created_at":"2026-01-01T00:00:00Z","vars":{"v":1},
	  "inputs":{"nginx-logfile":{"enabled":true,"streams":{"nginx.access":{"enabled":false,"vars":{"paths":["/x"]}}}},"nginx-httpjson":{"enabled":false}},
	  "secret_references":[{"id":"s1"},{"id":"s2"}]}`
	item := func(i int) string { return fmt.Sprintf(simplified, i, i) }
	tests := []struct {
		name    string
		page    string
		wantErr bool
		fast    bool
	}{
		{"simplified items", `{"items":[` + item(1) + `,` + item(2) + `],"total":2,"page":1,"perPage":1000}`, false, true},
		{"bare item", `{"items":[{"id":"p"}],"total":1}`, false, true},
		{"null inputs and vars", `{"items":[{"id":"p","inputs":null,"vars":null}],"total":1}`, false, true},
		{"empty inputs", `{"items":[{"id":"p","inputs":{},"vars":[]}],"total":1}`, false, true},
		{"full-format inputs array", `{"items":[` + item(1) + `,{"id":"p2","inputs":[{"type":"logfile","enabled":true}]}],"total":2}`, false, true},
		{"inputs a string", `{"items":[{"id":"p","inputs":"x"}],"total":1}`, false, true},
		{"no items", `{"items":[],"total":0}`, false, true},
		{"null items", `{"items":null,"total":0}`, false, true},
		{"empty page", ` { } `, false, true},
		{"revision a string", `{"items":[` + item(1) + `,{"id":"p2","revision":"2"}],"total":2}`, true, false},
		{"revision a fraction", `{"items":[{"id":"p","revision":2.0}],"total":1}`, true, false},
		{"revision out of int range", `{"items":[{"id":"p","revision":99999999999999999999}],"total":1}`, true, false},
		{"total a fraction", `{"items":[],"total":1.5}`, true, false},
		{"an input not an object", `{"items":[{"id":"p","inputs":{"a":1}}],"total":1}`, false, true},
		{"inputs with a huge number and escapes", `{"items":[{"id":"p\u00e9\n","name":"caf\u00e9","inputs":{"a\"b":{"vars":{"n":1e400,"s":"\ud800x"}}}}],"total":1}`, false, true},
		{"bad escape in inputs", `{"items":[{"id":"p","inputs":{"a":"\x"}}],"total":1}`, true, false},
		{"control byte in vars", "{\"items\":[{\"id\":\"p\",\"vars\":{\"a\":\"\x01\"}}],\"total\":1}", true, false},
		{"unknown members skipped", `{"items":[{"id":"p","created_by":{"x":[1,2,{"y":null}]},"elasticsearch":{"privileges":{}},"revision":-0}],"total":1,"perPage":1000,"page":1}`, false, true},
		{"nulls everywhere", `{"items":[{"id":null,"name":null,"description":null,"enabled":null,"policy_ids":null,"output_id":null,"package":null,"revision":null,"supports_agentless":null,"is_managed":null,"additional_datastreams_permissions":null,"secret_references":null}],"total":null}`, false, true},
		{"package with other members", `{"items":[{"id":"p","package":{"name":"nginx","version":null,"title":"Nginx","requires_root":true}}],"total":1}`, false, true},
		{"secret reference keys folded", `{"items":[{"id":"p","secret_references":[{"id":"a"},{"ID":"b"},{"Id":"c","other":1},{}]}],"total":1}`, false, true},
		{"secret reference with two folded keys", `{"items":[{"id":"p","secret_references":[{"id":"a","ID":"b"}]}],"total":1}`, false, false},
		{"secret reference null", `{"items":[{"id":"p","secret_references":[null]}],"total":1}`, false, false},
		{"a key folded onto a field", `{"items":[{"ID":"p","Name":"n"}],"total":1}`, false, false},
		{"a page key folded", `{"Items":[{"id":"p"}],"total":1}`, false, false},
		{"a repeated field", `{"items":[{"id":"p","package":{"name":"a"},"package":{"version":"1"}}],"total":1}`, false, false},
		{"a repeated package member", `{"items":[{"id":"p","package":{"name":"a","name":"b"}}],"total":1}`, false, false},
		{"a repeated items", `{"items":[{"id":"p"}],"items":[{"id":"q"}],"total":1}`, false, false},
		{"a null item", `{"items":[null],"total":1}`, false, false},
		{"a policy id null", `{"items":[{"id":"p","policy_ids":["a",null]}],"total":1}`, false, false},
		{"enabled a string", `{"items":[{"id":"p","enabled":"yes"}],"total":1}`, true, false},
		{"trailing bytes", `{"items":[],"total":0} x`, true, false},
		{"deep unknown member", `{"items":[{"id":"p","x":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}],"total":1}`, false, false},
		{"not JSON", `{"items":[`, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want itemsResponse[IntegrationPolicy]
			wantErr := json.Unmarshal([]byte(tt.page), &want)
			var fast itemsResponse[IntegrationPolicy]
			if ok := fastIntegrationPolicyPage([]byte(tt.page), &fast); ok != tt.fast {
				t.Errorf("read by the one-pass parser: %v, want %v", ok, tt.fast)
			}
			var got itemsResponse[IntegrationPolicy]
			err := decodeIntegrationPolicyPage([]byte(tt.page), &got)
			if (err != nil) != tt.wantErr || fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("err = %v, item by item %v (want an error: %v)", err, wantErr, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("one pass:\n%#v\nitem by item:\n%#v", got, want)
			}
			for i := range got.Items {
				gp, wp := got.Items[i], want.Items[i]
				if gerr, werr := gp.Decode(), wp.Decode(); fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(gp, wp) {
					t.Errorf("item %d decoded: %v %#v\nitem by item: %v %#v", i, gerr, gp, werr, wp)
				}
			}
		})
	}
}

// FuzzDecodeIntegrationPolicyPage holds the one-pass page decoder to
// encoding/json: whatever page it reads, encoding/json reads item by item
// (IntegrationPolicy.UnmarshalJSON) to the same policies.
func FuzzDecodeIntegrationPolicyPage(f *testing.F) {
	f.Add([]byte(`{"items":[{"id":"p","name":"n","revision":3,"package":{"name":"x","version":"1"},"policy_ids":["a"],"inputs":{"i":{"enabled":true}},"vars":{"v":[1]},"secret_references":[{"id":"s"}]}],"total":1}`))
	f.Add([]byte(`{"items":[{"id":"p","description":null,"output_id":"o","enabled":false,"is_managed":true,"supports_agentless":false,"additional_datastreams_permissions":["a"]}],"total":2,"page":1}`))
	f.Add([]byte(`{"items":[],"total":0}`))
	f.Fuzz(func(t *testing.T, page []byte) {
		var got itemsResponse[IntegrationPolicy]
		if !fastIntegrationPolicyPage(page, &got) {
			return
		}
		var want itemsResponse[IntegrationPolicy]
		if err := json.Unmarshal(page, &want); err != nil {
			t.Fatalf("one pass read %q, encoding/json refuses it: %v", page, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\none pass:\n%#v\nencoding/json:\n%#v", page, got, want)
		}
	})
}

// FuzzSkipJSON holds valueParser.skip to json.Valid (within its depth).
func FuzzSkipJSON(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := valueParser{b: b}
		j, ok := p.skip(skipSpace(b, 0))
		ok = ok && skipSpace(b, j) == len(b)
		if valid := json.Valid(b); ok != valid && (valid && p.depth <= maxParseDepth || !valid) {
			t.Fatalf("%q: skip accepts: %v, json.Valid: %v", b, ok, valid)
		}
	})
}

// inputCases are simplified inputs (and other values) for
// decodeSimplifiedInput; fast says the one pass must read them itself.
var inputCases = []struct {
	in   string
	fast bool
}{
	{`{"enabled":true,"vars":{"a":1,"b":["x"]},"streams":{"nginx.access":{"enabled":false,"vars":{"paths":["/x"]}},"nginx.error":null,"nginx.other":{}}}`, true},
	{`{}`, true},
	{`null`, true},
	{`{"enabled":null,"vars":null,"streams":null,"other":{"Vars":1}}`, true},
	{`{"streams":{}}`, true},
	{`{"Enabled":true}`, false},
	{`{"streams":{"s":{"VARS":{}}}}`, false},
	{`{"vars":{"a":1},"vars":{"b":2}}`, false},
	{`{"streams":{"s":{"enabled":true}},"streams":{"t":{}}}`, false},
	{`{"enabled":"yes"}`, false},
	{`{"vars":[1]}`, false},
	{`{"streams":{"s":1}}`, false},
	{`[1]`, false},
	{`{"vars":{"n":1e400}}`, false},
	{`{"vars":{"a":"caf\u00e9","b":"\ud800"}}`, true},
}

// TestDecodeSimplifiedInput: decodeSimplifiedInput and decodeVars give
// what json.Unmarshal gives, value and error.
func TestDecodeSimplifiedInput(t *testing.T) {
	for _, tc := range inputCases {
		var want SimplifiedInput
		wantErr := json.Unmarshal([]byte(tc.in), &want)
		got, err := decodeSimplifiedInput([]byte(tc.in))
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %#v, %v\nencoding/json: %#v, %v", tc.in, got, err, want, wantErr)
		}
		if _, ok := fastSimplifiedInput([]byte(tc.in)); ok != tc.fast {
			t.Errorf("%s: read in one pass: %v, want %v", tc.in, ok, tc.fast)
		}
		var wantVars map[string]any
		wantErr = json.Unmarshal([]byte(tc.in), &wantVars)
		gotVars, err := decodeVars([]byte(tc.in))
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(gotVars, wantVars) {
			t.Errorf("%s as vars: %#v, %v\nencoding/json: %#v, %v", tc.in, gotVars, err, wantVars, wantErr)
		}
	}
}

// FuzzDecodeSimplifiedInput holds decodeSimplifiedInput and decodeVars to
// json.Unmarshal.
func FuzzDecodeSimplifiedInput(f *testing.F) {
	for _, tc := range inputCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want SimplifiedInput
		wantErr := json.Unmarshal(b, &want)
		got, err := decodeSimplifiedInput(b)
		if (err == nil) != (wantErr == nil) || err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: %#v, %v\nencoding/json: %#v, %v", b, got, err, want, wantErr)
		}
		var wantVars map[string]any
		wantErr = json.Unmarshal(b, &wantVars)
		gotVars, err := decodeVars(b)
		if (err == nil) != (wantErr == nil) || err == nil && !reflect.DeepEqual(gotVars, wantVars) {
			t.Fatalf("%q as vars: %#v, %v\nencoding/json: %#v, %v", b, gotVars, err, wantVars, wantErr)
		}
	})
}

// partCases are inputs for InputPart, beyond inputCases.
var partCases = []struct {
	in   string
	fast bool
}{
	{`{"enabled":true,"vars":{"a":1},"streams":{"keep":{"enabled":true,"vars":{"p":["/x"]}},"drop":{"enabled":false,"vars":{"n":1e300,"m":{"deep":[1,{"x":null}]}},"other":"x"}}}`, true},
	{`{"streams":{"drop":{"Enabled":"yes"}}}`, false},
	{`{"streams":{"drop":{"VARS":[1]}}}`, false},
	{`{"streams":{"drop":{"vars":{"n":1e400}}}}`, false},
	{`{"vars":{"n":1e400},"streams":{}}`, false},
	{`{"vars":{"n":-1.5e-3,"m":123456789012345678}}`, true},
	{`{"streams":{"drop":{"vars":{"a":1},"vars":{"b":2}},"keep":null}}`, true},
	{`{"streams":{"keep":{"vars":{"a":1},"vars":{"b":2}}}}`, false},
	{`{"streams":{"keep":{"vars":{"a":1,"a":2}}}}`, true},
	{`{"streams":{"keep":{},"keep":{"enabled":true}}}`, false},
	{`{"streams":{"drop":5}}`, false},
	{`{"streams":[]}`, false},
	{`{"str\u0065ams":{"k\u0065ep":{"enabled":false}}}`, true},
	{`{"x":{"Streams":1},"streams":null}`, true},
	{`{"vars":"x"}`, false},
	{`{"enabled":true,"enabled":false}`, false},
	{`{"streams":{"drop":{"enabled":1}}}`, false},
}

// TestInputPart: InputPart is Input with the parts it keeps, value and
// error, for a listed policy (one pass) and a decoded one; the cases that
// must be read in one pass are.
func TestInputPart(t *testing.T) {
	keep := func(name string) bool { return name == "keep" || name == "nginx.access" }
	var cases []struct {
		in   string
		fast bool
	}
	cases = append(cases, partCases...)
	for _, c := range inputCases {
		cases = append(cases, struct {
			in   string
			fast bool
		}{c.in, c.fast})
	}
	for _, tc := range cases {
		for _, vars := range []bool{false, true} {
			for _, stream := range []func(string) bool{nil, keep} {
				page := []byte(`{"items":[{"id":"p","inputs":{"other":{},"i":` + tc.in + `}}],"total":1}`)
				var resp itemsResponse[IntegrationPolicy]
				if err := decodeIntegrationPolicyPage(page, &resp); err != nil {
					t.Fatal(err)
				}
				p := resp.Items[0]
				in, there, err := p.Input("i")
				want := inputPart(in, vars, stream)
				got, gotThere, gotErr := p.InputPart("i", vars, stream)
				if fmt.Sprint(gotErr) != fmt.Sprint(err) || gotThere != there || !reflect.DeepEqual(got, want) {
					t.Errorf("%s (vars %v, streams %v): %#v %v %v\nInput: %#v %v %v", tc.in, vars, stream != nil, got, gotThere, gotErr, want, there, err)
				}
				if _, ok := fastInputPart([]byte(tc.in), vars, stream); ok && err != nil {
					t.Errorf("%s: read in one pass, Input fails: %v", tc.in, err)
				}
				if tc.fast && vars && stream != nil {
					if _, ok := fastInputPart([]byte(tc.in), vars, stream); !ok {
						t.Errorf("%s: not read in one pass", tc.in)
					}
				}
			}
		}
	}
	var p IntegrationPolicy
	if _, there, err := p.InputPart("none", true, keep); there || err != nil {
		t.Errorf("a policy without inputs: there=%v err=%v", there, err)
	}
}

// FuzzInputPart holds the one pass of InputPart to decodeSimplifiedInput.
func FuzzInputPart(f *testing.F) {
	for _, tc := range partCases {
		f.Add([]byte(tc.in), true)
	}
	for _, tc := range inputCases {
		f.Add([]byte(tc.in), false)
	}
	keep := func(name string) bool { return name == "keep" }
	f.Fuzz(func(t *testing.T, b []byte, vars bool) {
		got, ok := fastInputPart(b, vars, keep)
		if !ok {
			return
		}
		in, err := decodeSimplifiedInput(b)
		if err != nil {
			t.Fatalf("%q: read in one pass, encoding/json refuses it: %v", b, err)
		}
		if want := inputPart(in, vars, keep); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: %#v\nencoding/json: %#v", b, got, want)
		}
	})
}
