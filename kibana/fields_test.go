package kibana

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOutputFields(t *testing.T) {
	o := Output{"type": "remote_elasticsearch", "secrets": map[string]any{
		"service_token": map[string]any{"id": "tok-1"},
		"ssl":           map[string]any{"key": map[string]any{"id": "key-1", "hash": "aa:bb"}},
	}}
	if got := o.Field("secrets.ssl.key.id"); got != "key-1" {
		t.Errorf("Field(secrets.ssl.key.id) = %v", got)
	}
	for _, missing := range []string{"secrets.password.id", "type.x", "nope"} {
		if got := o.Field(missing); got != nil {
			t.Errorf("Field(%s) = %v, want nil", missing, got)
		}
	}
	want := map[string]any{
		"secrets.service_token": map[string]any{"id": "tok-1"},
		"secrets.ssl.key":       map[string]any{"id": "key-1", "hash": "aa:bb"},
	}
	if d := cmp.Diff(want, o.SecretRefs()); d != "" {
		t.Errorf("SecretRefs (-want +got):\n%s", d)
	}
	body := Output{}
	body.SetField("secrets.ssl.key", "v")
	body.SetField("secrets.service_token", map[string]any{"id": "tok-1"})
	if d := cmp.Diff(map[string]any{"secrets": map[string]any{"ssl": map[string]any{"key": "v"}, "service_token": map[string]any{"id": "tok-1"}}}, map[string]any(body)); d != "" {
		t.Errorf("SetField (-want +got):\n%s", d)
	}
}
