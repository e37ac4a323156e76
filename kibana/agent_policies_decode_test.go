package kibana

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// parseCases are documents for the one-pass parser: valid ones it must
// decode as encoding/json does, and invalid ones it must not accept.
var parseCases = []struct {
	in    string
	valid bool
}{
	{`{}`, true},
	{` {"a" : 1 , "b":[ ] ,"c":{}} `, true},
	{`[1, -0, 0.5, -12.5e-3, 1E+2, 123456789012345, 1234567890123456789, 9007199254740993]`, true},
	{`{"a":1,"a":2}`, true},
	{`"plain"`, true},
	{`"caf\u00e9 \"q\" \\ \/ \n\t"`, true},
	{`"\ud83d\ude00 and a lone \ud800"`, true},
	{"\"caf\xc3\xa9\"", true},
	{"\"bad \xff utf8\"", true},
	{`{"caf\u00e9":true,"x":false,"y":null}`, true},
	{`[[[[["deep"]]]]]`, true},
	{"\t\r\n[\n1\n]\n", true},
	{`1e400`, false},
	{`-`, false},
	{`01`, false},
	{`1.`, false},
	{`.5`, false},
	{`1e`, false},
	{`+1`, false},
	{`0x10`, false},
	{`Infinity`, false},
	{`NaN`, false},
	{`tru`, false},
	{`nulll`, false},
	{`{"a":1,}`, false},
	{`[1,]`, false},
	{`{"a" 1}`, false},
	{`{a:1}`, false},
	{`{"a":1}}`, false},
	{`{"a":1} x`, false},
	{"\"ctl \x01\"", false},
	{`"bad escape \x"`, false},
	{`"unterminated`, false},
	{`[1 2]`, false},
	{``, false},
	{strings.Repeat("[", 600) + strings.Repeat("]", 600), true},
}

func TestParseJSONValue_AsEncodingJSON(t *testing.T) {
	for _, tc := range parseCases {
		var want any
		err := json.Unmarshal([]byte(tc.in), &want)
		if (err == nil) != tc.valid {
			t.Fatalf("case %q: encoding/json err = %v, case says valid=%v", tc.in, err, tc.valid)
		}
		got, ok := parseJSONValue([]byte(tc.in))
		switch {
		case ok && err != nil:
			t.Errorf("%q: parsed, but encoding/json refuses it: %v", tc.in, err)
		case ok && !reflect.DeepEqual(got, want):
			t.Errorf("%q: parsed %#v, encoding/json %#v", tc.in, got, want)
		case !ok && tc.valid && len(tc.in) < 2*maxParseDepth:
			t.Errorf("%q: not parsed (left to encoding/json), want parsed", tc.in)
		case ok && len(tc.in) > 2*maxParseDepth:
			t.Errorf("nesting deeper than %d levels parsed, want it left to encoding/json", maxParseDepth)
		}
	}
}

// FuzzParseJSONValue holds the parser to encoding/json: whatever it
// accepts, encoding/json accepts and decodes to the same value.
func FuzzParseJSONValue(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := parseJSONValue(b)
		if !ok {
			return
		}
		var want any
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%q: parsed, but encoding/json refuses it: %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: parsed %#v, encoding/json %#v", b, got, want)
		}
	})
}

// refAgentPolicy decodes as AgentPolicy did before the one-pass parser:
// encoding/json into a map, the typed fields from it.
type refAgentPolicy struct{ AgentPolicy }

func (p *refAgentPolicy) UnmarshalJSON(b []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	p.AgentPolicy = agentPolicyOf(raw)
	return nil
}

// refErr is the reference decode's error as AgentPolicy's reads (the
// message names the type).
func refErr(err error) string {
	return strings.ReplaceAll(err.Error(), "refAgentPolicy", "AgentPolicy")
}

// TestDecodeAgentPolicyPage_AsEncodingJSON: a list page decodes to the
// policies (typed fields and Raw) and total encoding/json gives, and to
// its error where it has one.
func TestDecodeAgentPolicyPage_AsEncodingJSON(t *testing.T) {
	policy := `{"id":"p1","name":"Policy 1","namespace":"default","description":"d","data_output_id":"west",` +
		`"monitoring_output_id":null,"fleet_server_host_id":"fs","revision":7,"is_managed":false,"is_preconfigured":true,` +
		`"has_fleet_server":true,"supports_agentless":false,"inactivity_timeout":1209600,"agents":3,` +
		`"monitoring_enabled":["logs","metrics"],"space_ids":["default"],"advanced_settings":{"agent_logging_level":"debug"},` +
		`"global_data_tags":[{"name":"team","value":"caf\u00e9"},{"name":"n","value":1.5}],"updated_at":"2026-11-27T12:00:00.000Z"}`
	pages := map[string]string{
		"one policy":             `{"items":[` + policy + `],"total":1,"page":1,"perPage":1000}`,
		"two and a repeated key": `{"items":[` + policy + `,{"id":"p2","name":"a","name":"b"}],"total":2,"total":3}`,
		"empty":                  `{"items":[],"total":0}`,
		"an item with a total":   `{"total":1,"items":[{"id":"a","total":9,"x":{"total":8}}]}`,
		"items null":             `{"items":null,"total":0}`,
		"no items":               `{"total":5}`,
		"total null":             `{"items":[],"total":null}`,
		"total not an integer":   `{"items":[],"total":2.5}`,
		"total in exponent form": `{"items":[],"total":1e3}`,
		"total a string":         `{"items":[],"total":"1"}`,
		"keys in another case":   `{"Items":[` + policy + `],"TOTAL":1}`,
		"both cases":             `{"items":[` + policy + `],"Items":[],"total":1}`,
		"a null item":            `{"items":[null,` + policy + `],"total":2}`,
		"an item not an object":  `{"items":[1],"total":1}`,
		"id not a string":        `{"items":[{"id":1,"revision":"x","agents":2.9}],"total":1}`,
		"not an object":          `[]`,
		"invalid":                `{"items":[` + policy + `,],"total":1}`,
		"items an object":        `{"items":{},"total":1}`,
	}
	for name, page := range pages {
		t.Run(name, func(t *testing.T) {
			var want itemsResponse[refAgentPolicy]
			wantErr := json.Unmarshal([]byte(page), &want)
			var got itemsResponse[AgentPolicy]
			gotErr := decodeAgentPolicyPage([]byte(page), &got)
			if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != refErr(wantErr) {
				t.Fatalf("err = %v, encoding/json: %v", gotErr, wantErr)
			}
			if gotErr != nil {
				return
			}
			if got.Total != want.Total || len(got.Items) != len(want.Items) || (got.Items == nil) != (want.Items == nil) {
				t.Fatalf("total %d, %d items (nil %v); encoding/json: total %d, %d items (nil %v)",
					got.Total, len(got.Items), got.Items == nil, want.Total, len(want.Items), want.Items == nil)
			}
			for i := range got.Items {
				if !reflect.DeepEqual(got.Items[i], want.Items[i].AgentPolicy) {
					t.Errorf("item %d:\n got %#v\nwant %#v", i, got.Items[i], want.Items[i].AgentPolicy)
				}
			}
		})
	}
}

// TestAgentPolicyUnmarshalJSON_AsEncodingJSON: a single policy (GET, and
// the create and update answers) decodes as before, null and invalid
// input included.
func TestAgentPolicyUnmarshalJSON_AsEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{"id":"p","name":"n","namespace":"default","revision":2,"inactivity_timeout":60,"overrides":{"a":[1,{"b":null}]}}`,
		`null`, `{}`, `[]`, `1`, `{"id":`, `{"id":"p"} {}`,
	} {
		var want refAgentPolicy
		wantErr := json.Unmarshal([]byte(in), &want)
		var got AgentPolicy
		gotErr := json.Unmarshal([]byte(in), &got)
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != refErr(wantErr) {
			t.Errorf("%s: err = %v, before: %v", in, gotErr, wantErr)
			continue
		}
		if !reflect.DeepEqual(got, want.AgentPolicy) {
			t.Errorf("%s:\n got %#v\nwant %#v", in, got, want.AgentPolicy)
		}
	}
}
