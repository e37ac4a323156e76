package importer

import (
	"reflect"
	"testing"

	"github.com/fleetform/fleetform/plan"
)

// TestSecretRef_RecordedOrNew: a reference the state index records for the
// object's secret path is written as it was recorded; anything else (no
// record, another path, another object, an unusable description, generate
// where the document cannot declare it) gets a new env reference.
func TestSecretRef_RecordedOrNew(t *testing.T) {
	b := &builder{kind: plan.KindOutput, opts: Options{Cluster: "main", Recorded: map[string]map[string]string{
		plan.Key("main", plan.KindOutput, "kafka-1"): {
			"secrets.password": "env:MY_KAFKA_PW", "secrets.ssl.key": "file:/run/keys/kafka.key",
			"secrets.service_token": "generate", "password": "none", "ssl.key": "env:",
		},
	}}}
	for _, tc := range []struct {
		id, path string
		wantRef  map[string]any
		wantEV   EnvVar
	}{
		{"kafka-1", "secrets.password", map[string]any{"env": "MY_KAFKA_PW"},
			EnvVar{Name: "MY_KAFKA_PW", Path: "secrets.password", Ref: "env:MY_KAFKA_PW", Reused: true}},
		{"kafka-1", "secrets.ssl.key", map[string]any{"file": "/run/keys/kafka.key"},
			EnvVar{Path: "secrets.ssl.key", Ref: "file:/run/keys/kafka.key", Reused: true}},
		{id: "kafka-1", path: "secrets.service_token"}, // generate: only where the caller allows it
		{id: "kafka-1", path: "password"},              // "none": nothing was referenced
		{id: "kafka-1", path: "ssl.key"},               // an empty env name
		{id: "kafka-1", path: "kibana_api_key"},        // not recorded
		{id: "kafka-2", path: "secrets.password"},      // another object
	} {
		ref, ev := b.secretRef(tc.id, tc.path)
		if tc.wantRef == nil {
			name := EnvName(plan.KindOutput, tc.id, tc.path)
			tc.wantRef, tc.wantEV = map[string]any{"env": name}, EnvVar{Name: name, Path: tc.path, Ref: "env:" + name}
		}
		if !reflect.DeepEqual(ref, tc.wantRef) || ev != tc.wantEV {
			t.Errorf("%s %s: got %v %+v, want %v %+v", tc.id, tc.path, ref, ev, tc.wantRef, tc.wantEV)
		}
	}
	if ref, _, ok := b.recordedRef("kafka-1", "secrets.service_token", true); !ok || !reflect.DeepEqual(ref, map[string]any{"generate": true}) {
		t.Errorf("recorded generate where allowed: got %v %v", ref, ok)
	}
}
