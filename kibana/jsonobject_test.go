package kibana

import (
	"bytes"
	"encoding/json"
	"testing"
)

var objectMemberSeeds = []string{
	`{}`, ` { } `, `{"a":1}`, `{"a":{"b":[1,{"c":"}]"}]},"d":"x"}`,
	`{"a":1,"a":{"x":2}}`, `{"a\u0062":true,"ab":null}`, `{"\"q\"":"\\","a":[]}`,
	"{\n\t\"nginx-logfile\" : {\"enabled\": true, \"streams\": {\"nginx.access\": {\"vars\": {\"paths\": [\"/x{[\"]}}}} ,\r\n \"b\":-1.5e3}",
	`{"a":"\\\"","b":"}"}`, `{"é":1,"a":false}`, "{\"\xff\":1}", `[1]`, `"a"`, `null`, `{"a":1`,
}

// TestObjectMember: a member read without decoding the object is the value
// a decoded map[string]json.RawMessage holds, for every key.
func TestObjectMember(t *testing.T) {
	for _, obj := range objectMemberSeeds {
		checkObjectMember(t, []byte(obj))
	}
}

func FuzzObjectMember(f *testing.F) {
	for _, obj := range objectMemberSeeds {
		f.Add([]byte(obj))
	}
	f.Fuzz(func(t *testing.T, obj []byte) { checkObjectMember(t, obj) })
}

func checkObjectMember(t *testing.T, obj []byte) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil || m == nil {
		return // not an object: Input never sees one
	}
	for key, want := range m {
		got, ok, err := objectMember(obj, key)
		if err != nil || !ok || !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
			t.Errorf("objectMember(%q, %q) = %q %v %v, decoded %q", obj, key, got, ok, err, want)
		}
	}
	if _, ok, err := objectMember(obj, "not-a-member\x00"); ok || err != nil {
		t.Errorf("objectMember(%q) found an absent key: %v %v", obj, ok, err)
	}
}
