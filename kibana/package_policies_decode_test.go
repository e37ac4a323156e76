package kibana

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// TestDecodeIntegrationPolicyPage: a list page decoded in one pass
// (decodeIntegrationPolicyPage) is what decoding it item by item with
// IntegrationPolicy.UnmarshalJSON gives, value and error, also for the
// answers the one pass cannot read (an inputs array, as in the full format).
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
	}{
		{"simplified items", `{"items":[` + item(1) + `,` + item(2) + `],"total":2,"page":1,"perPage":1000}`, false},
		{"bare item", `{"items":[{"id":"p"}],"total":1}`, false},
		{"null inputs and vars", `{"items":[{"id":"p","inputs":null,"vars":null}],"total":1}`, false},
		{"empty inputs", `{"items":[{"id":"p","inputs":{},"vars":[]}],"total":1}`, false},
		{"full-format inputs array", `{"items":[` + item(1) + `,{"id":"p2","inputs":[{"type":"logfile","enabled":true}]}],"total":2}`, false},
		{"inputs a string", `{"items":[{"id":"p","inputs":"x"}],"total":1}`, false},
		{"no items", `{"items":[],"total":0}`, false},
		{"null items", `{"items":null,"total":0}`, false},
		{"revision a string", `{"items":[` + item(1) + `,{"id":"p2","revision":"2"}],"total":2}`, true},
		{"an input not an object", `{"items":[{"id":"p","inputs":{"a":1}}],"total":1}`, false},
		{"not JSON", `{"items":[`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want itemsResponse[IntegrationPolicy]
			wantErr := json.Unmarshal([]byte(tt.page), &want)
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
