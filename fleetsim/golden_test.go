package fleetsim

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/fleetform/fleetform/internal/golden"
)

// Random ids (UUIDs, Fleet secret ids, service-token values) are masked so the
// goldens pin the response shapes, not the randomness.
var (
	maskUUID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	maskPort = regexp.MustCompile(`127\.0\.0\.1:\d+`)
)

// maskRandom replaces Fleet secret ids (anything under "secrets") and
// generated API keys.
func maskRandom(v any, inSecrets bool) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			switch {
			case k == "kibana_api_key" && val != nil:
				t[k] = "<api-key>"
			case inSecrets && k == "id":
				t[k] = "<secret-id>"
			default:
				t[k] = maskRandom(val, inSecrets || k == "secrets")
			}
		}
	case []any:
		for i := range t {
			t[i] = maskRandom(t[i], inSecrets)
		}
	}
	return v
}

func goldenJSON(t *testing.T, name string, raw []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, raw)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(maskRandom(v, false)); err != nil {
		t.Fatal(err)
	}
	pretty := maskUUID.ReplaceAll(buf.Bytes(), []byte("<uuid>"))
	pretty = maskPort.ReplaceAll(pretty, []byte("127.0.0.1:<port>"))
	golden.Check(t, filepath.Join("testdata", "golden", name+".json"), pretty)
}

// TestGolden_ResponseShapes pins what clients parse: outputs (ES, remote ES
// with a stored secret, logstash, kafka), an agent policy with its package
// policies, the installed list, and both sync status APIs.
func TestGolden_ResponseShapes(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	p := newSyncPairClock(t, clock)
	kb := p.main
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "ls", "name": "Logstash", "type": "logstash", "hosts": []any{"ls.example:5044"}, "ssl": map[string]any{"certificate": "CERT"}, "secrets": map[string]any{"ssl": map[string]any{"key": "KEY"}}}).must(t, 200)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "kafka", "name": "Kafka", "type": "kafka", "hosts": []any{"kafka.example:9092"}, "topic": "logs", "auth_type": "user_pass", "username": "u", "secrets": map[string]any{"password": "p"}}).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies?sys_monitoring=true", map[string]any{"id": "prod", "name": "Prod", "namespace": "default", "description": "production", "data_output_id": "remote-west", "monitoring_output_id": "fleet-default-output"}).must(t, 200)
	kb.do("POST", "/api/fleet/epm/packages/nginx/2.0.0", forceInstall).must(t, 200)
	if err := p.run(t); err != nil {
		t.Fatal(err)
	}
	goldenJSON(t, "outputs", kb.do("GET", "/api/fleet/outputs", nil).must(t, 200).Raw)
	goldenJSON(t, "agent_policy", kb.do("GET", "/api/fleet/agent_policies/prod", nil).must(t, 200).Raw)
	goldenJSON(t, "installed_packages", kb.do("GET", "/api/fleet/epm/packages/installed", nil).must(t, 200).Raw)
	goldenJSON(t, "remote_synced_status", p.remote.do("GET", "/api/fleet/remote_synced_integrations/status", nil).must(t, 200).Raw)
	goldenJSON(t, "remote_status", kb.do("GET", "/api/fleet/remote_synced_integrations/remote-west/remote_status", nil).must(t, 200).Raw)
	goldenJSON(t, "error_delete_default", kb.do("DELETE", "/api/fleet/outputs/fleet-default-output", nil).Raw)
}

func newSyncPairClock(t *testing.T, clock *fakeClock) *syncPair {
	t.Helper()
	s := StartTest(t, Options{Now: clock.Now}, ClusterConfig{Name: "main"}, ClusterConfig{Name: "west"})
	p := &syncPair{s: s, clock: clock, main: kibana(t, s, "main"), remote: kibana(t, s, "west")}
	p.remoteHost = wireRemote(t, s, "west", "remote-west", pairOpts{uninstall: true})
	return p
}
