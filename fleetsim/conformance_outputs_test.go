package fleetsim

import (
	"testing"
)

const crudTS = "apis/outputs/crud.ts"

// outputsFixture is the before() of crud.ts's fleet_outputs_crud: the
// fleet_server package force-installed, "Fleet Server policy 1" (has_fleet_server),
// "Agent policy 1", the default output, "ESoutput" and a Fleet Server policy
// whose data output is ESoutput.
type outputsFixture struct {
	kb                                  *client
	defaultOutputID, esOutputID         string
	fleetServerPolicyID, customOutputFS string
}

func newOutputsFixture(t *testing.T) *outputsFixture {
	t.Helper()
	_, kb := startMain(t)
	f := &outputsFixture{kb: kb}
	pkgVersion := kb.do("GET", "/api/fleet/epm/packages/fleet_server", nil).must(t, 200).item()["version"].(string)
	kb.do("POST", "/api/fleet/epm/packages/fleet_server/"+pkgVersion, forceInstall).must(t, 200)
	f.fleetServerPolicyID = kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Fleet Server policy 1", "namespace": "default", "has_fleet_server": true}).must(t, 200).item()["id"].(string)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Agent policy 1", "namespace": "default"}).must(t, 200)
	for _, it := range kb.do("GET", "/api/fleet/outputs", nil).must(t, 200).items() {
		if m := it.(map[string]any); m["is_default"] == true {
			f.defaultOutputID = m["id"].(string)
		}
	}
	if f.defaultOutputID == "" {
		t.Fatal("default output not set")
	}
	f.esOutputID = kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "ESoutput", "type": "elasticsearch", "hosts": []any{"https://test.fr"}}).must(t, 200).item()["id"].(string)
	f.customOutputFS = kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Preconfigured Fleet Server policy", "namespace": "default", "has_fleet_server": true, "data_output_id": f.esOutputID}).must(t, 200).item()["id"].(string)
	return f
}

var logstashSSL = map[string]any{"certificate": "CERTIFICATE", "key": "KEY", "certificate_authorities": []any{"CA1", "CA2"}}

func TestConformance_Outputs_Shipper(t *testing.T) {
	kibanaTest(t, crudTS, "PUT /outputs/{outputId}", "should allow to update a logstash output with the shipper values", func(t *testing.T) {
		f := newOutputsFixture(t)
		id := f.kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "My Logstash Output", "type": "logstash", "hosts": []any{"test.fr:443"}, "ssl": logstashSSL}).must(t, 200).item()["id"].(string)
		f.kb.do("PUT", "/api/fleet/outputs/"+id, map[string]any{"name": "My Logstash Output", "type": "logstash", "hosts": []any{"test.fr:443"}, "ssl": logstashSSL,
			"config_yaml": "shipper: {}",
			"shipper":     map[string]any{"disk_queue_enabled": true, "disk_queue_path": "path/to/disk/queue", "disk_queue_encryption_enabled": true}}).wantStatus(t, 200)
		got := findByID(f.kb.do("GET", "/api/fleet/outputs", nil).must(t, 200).items(), id)
		wantEql(t, "shipper", map[string]any{
			"compression_level": nil, "disk_queue_compression_enabled": nil, "disk_queue_enabled": true, "disk_queue_encryption_enabled": true,
			"disk_queue_max_size": nil, "disk_queue_path": "path/to/disk/queue", "loadbalance": nil, "max_batch_bytes": nil,
			"mem_queue_events": nil, "queue_flush_timeout": nil,
		}, got["shipper"])
	})
	kibanaTest(t, crudTS, "PUT /outputs/{outputId}", "should discard the shipper values when shipper is disabled", func(t *testing.T) {
		f := newOutputsFixture(t)
		f.kb.do("PUT", "/api/fleet/outputs/"+f.defaultOutputID, map[string]any{"name": "default monitoring output 1", "type": "elasticsearch", "hosts": []any{"https://test.fr"}, "is_default_monitoring": true,
			"shipper": map[string]any{"disk_queue_enabled": true, "disk_queue_path": "path/to/disk/queue", "disk_queue_encryption_enabled": true}}).wantStatus(t, 200)
		got := findByID(f.kb.do("GET", "/api/fleet/outputs", nil).must(t, 200).items(), f.defaultOutputID)
		if v, has := got["shipper"]; !has || v != nil {
			t.Errorf("shipper = %v (present %v), want null", v, has)
		}
	})
}
