package fleetsim

import (
	"strings"
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

func TestConformance_Outputs_GetAndPut(t *testing.T) {
	kibanaTest(t, crudTS, "GET /outputs", "should list all the outputs", func(t *testing.T) {
		f := newOutputsFixture(t)
		items := f.kb.do("GET", "/api/fleet/outputs", nil).wantStatus(t, 200).items()
		wantEql(t, "items.length", 2, len(items))
		for _, it := range items {
			if m := it.(map[string]any); m["is_default"] == true {
				wantEql(t, "default id", f.defaultOutputID, m["id"])
			}
		}
	})
	kibanaTest(t, crudTS, "GET /outputs/{outputId}", "should allow return the default output", func(t *testing.T) {
		f := newOutputsFixture(t)
		item := f.kb.do("GET", "/api/fleet/outputs/"+f.defaultOutputID, nil).wantStatus(t, 200).item()
		for _, k := range []string{"id", "name", "type", "is_default", "hosts"} {
			if _, ok := item[k]; !ok {
				t.Errorf("item has no key %s: %v", k, item)
			}
		}
	})
	kibanaTest(t, crudTS, "PUT /outputs/{outputId}", "should explicitly set port on ES hosts", func(t *testing.T) {
		f := newOutputsFixture(t)
		f.kb.do("PUT", "/api/fleet/outputs/"+f.defaultOutputID, map[string]any{"hosts": []any{"https://test.fr"}}).wantStatus(t, 200)
		wantEql(t, "hosts", []any{"https://test.fr:443"}, f.kb.do("GET", "/api/fleet/outputs/"+f.defaultOutputID, nil).item()["hosts"])
	})
	kibanaTest(t, crudTS, "PUT /outputs/{outputId}", "should return a 404 when updating a non existing output", func(t *testing.T) {
		f := newOutputsFixture(t)
		f.kb.do("PUT", "/api/fleet/outputs/idonotexists", map[string]any{"hosts": []any{"https://test.fr"}}).wantStatus(t, 404)
	})
	kibanaTest(t, crudTS, "PUT /outputs/{outputId}", "should not allow to update a default ES output to logstash", func(t *testing.T) {
		f := newOutputsFixture(t)
		f.kb.do("PUT", "/api/fleet/outputs/"+f.defaultOutputID, map[string]any{"name": "My Logstash Output", "type": "logstash", "hosts": []any{"test.fr:443"}, "ssl": logstashSSL}).
			wantStatus(t, 400).wantMessage(t, "Logstash output cannot be used with Fleet Server integration in Fleet Server policy 1. Please create a new Elasticsearch output.")
	})
	kibanaTest(t, crudTS, "PUT /outputs/{outputId}", "should not allow to update a default ES output to Kafka", func(t *testing.T) {
		// Adapted: the Kibana body also sends topics, which the newest
		// KafkaSchema (types/models/output.ts) no longer defines.
		f := newOutputsFixture(t)
		f.kb.do("PUT", "/api/fleet/outputs/"+f.defaultOutputID, map[string]any{"name": "My Kafka Output", "type": "kafka", "hosts": []any{"test.fr:2000"}, "auth_type": "user_pass", "username": "user", "password": "pass", "is_default": true, "is_default_monitoring": true}).
			wantStatus(t, 400).wantMessage(t, "Kafka output cannot be used with Fleet Server integration in Fleet Server policy 1. Please create a new Elasticsearch output.")
	})
	kibanaTest(t, crudTS, "PUT /outputs/{outputId}", "should allow to update a default ES output if keeping it ES", func(t *testing.T) {
		f := newOutputsFixture(t)
		f.kb.do("PUT", "/api/fleet/outputs/"+f.defaultOutputID, map[string]any{"name": "Updated Default ES Output", "type": "elasticsearch", "hosts": []any{"http://test.fr:443"}}).wantStatus(t, 200)
	})
	kibanaTest(t, crudTS, "PUT /outputs/{outputId}", "should respond 400 when setting an unknown preset", func(t *testing.T) {
		f := newOutputsFixture(t)
		f.kb.do("PUT", "/api/fleet/outputs/"+f.esOutputID, map[string]any{"name": "Updated Default ES Output", "type": "elasticsearch", "hosts": []any{"http://test.fr:443"}, "preset": "some_unknown_preset"}).wantStatus(t, 400)
	})
	kibanaTest(t, crudTS, "PUT /outputs/{outputId}", "should allow changing the preset from balanced to custom and back", func(t *testing.T) {
		f := newOutputsFixture(t)
		for _, preset := range []string{"custom", "balanced"} {
			f.kb.do("PUT", "/api/fleet/outputs/"+f.esOutputID, map[string]any{"name": "Updated Default ES Output", "type": "elasticsearch", "hosts": []any{"http://test.fr:443"}, "preset": preset, "config_yaml": "some_random_field: foo"}).wantStatus(t, 200)
		}
	})
	kibanaTest(t, crudTS, "PUT /outputs/{outputId}", "should respond 400 when changing the preset from custom to balanced with reserved key", func(t *testing.T) {
		f := newOutputsFixture(t)
		f.kb.do("PUT", "/api/fleet/outputs/"+f.esOutputID, map[string]any{"name": "Updated Default ES Output", "type": "elasticsearch", "hosts": []any{"http://test.fr:443"}, "preset": "balanced", "config_yaml": "bulk_max_size: 1000"}).wantStatus(t, 400)
	})
	kibanaTest(t, crudTS, "PUT /outputs/{outputId}", "should allow to update a non-default ES output to logstash", func(t *testing.T) {
		f := newOutputsFixture(t)
		id := f.kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "A Logstash Output", "type": "logstash", "hosts": []any{"test.fr:443"}, "ssl": logstashSSL}).wantStatus(t, 200).item()["id"].(string)
		f.kb.do("PUT", "/api/fleet/outputs/"+id, map[string]any{"name": "A Logstash Output", "type": "logstash", "hosts": []any{"test.fr:443"}, "ssl": logstashSSL}).wantStatus(t, 200)
	})
	kibanaTest(t, crudTS, "PUT /outputs/{outputId}", "should allow to update a non-default ES output to kafka", func(t *testing.T) {
		f := newOutputsFixture(t)
		id := f.kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Elasticsearch output", "type": "elasticsearch", "hosts": []any{"https://test.fr:443"}}).wantStatus(t, 200).item()["id"].(string)
		f.kb.do("PUT", "/api/fleet/outputs/"+id, map[string]any{"name": "A Kafka Output", "type": "kafka"}).wantStatus(t, 200)
	})
	kibanaTest(t, crudTS, "PUT /outputs/{outputId}", "should allow to update a default logstash output to logstash and fleet server policies should be updated", func(t *testing.T) {
		f := newOutputsFixture(t)
		id := f.kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Logstash Output 1", "type": "logstash", "hosts": []any{"test.fr:443"}, "ssl": logstashSSL}).wantStatus(t, 200).item()["id"].(string)
		f.kb.do("PUT", "/api/fleet/outputs/"+id, map[string]any{"name": "My Logstash Output", "type": "logstash", "hosts": []any{"test.fr:443", "test.com:443"}, "ssl": logstashSSL}).wantStatus(t, 200)
		f.kb.do("GET", "/api/fleet/outputs", nil).wantStatus(t, 200)
	})
}

func TestConformance_Outputs_Post(t *testing.T) {
	post := func(t *testing.T, f *outputsFixture, body map[string]any, status int) map[string]any {
		t.Helper()
		item := f.kb.do("POST", "/api/fleet/outputs", body).wantStatus(t, status).item()
		delete(item, "id")
		return item
	}
	kibanaTest(t, crudTS, "POST /outputs", "should allow to create an ES output ", func(t *testing.T) {
		f := newOutputsFixture(t)
		wantEql(t, "item", map[string]any{"name": "My output", "type": "elasticsearch", "hosts": []any{"https://test.fr:443"}, "is_default": false, "is_default_monitoring": false, "preset": "balanced"},
			post(t, f, map[string]any{"name": "My output", "type": "elasticsearch", "hosts": []any{"https://test.fr"}}, 200))
	})
	kibanaTest(t, crudTS, "POST /outputs", "should allow creating a new ES output with preset: custom", func(t *testing.T) {
		f := newOutputsFixture(t)
		wantEql(t, "item", map[string]any{"name": "My output", "type": "elasticsearch", "hosts": []any{"https://test.fr:443"}, "is_default": false, "is_default_monitoring": false, "preset": "custom", "config_yaml": "some_random_key: foo"},
			post(t, f, map[string]any{"name": "My output", "type": "elasticsearch", "hosts": []any{"https://test.fr"}, "preset": "custom", "config_yaml": "some_random_key: foo"}, 200))
	})
	kibanaTest(t, crudTS, "POST /outputs", "should respond with 400 when creating a new ES output with preset: balanced and a reserved key in config_yaml", func(t *testing.T) {
		f := newOutputsFixture(t)
		post(t, f, map[string]any{"name": "My output", "type": "elasticsearch", "hosts": []any{"https://test.fr"}, "preset": "balanced", "config_yaml": "bulk_max_size: 1000"}, 400)
	})
	kibanaTest(t, crudTS, "POST /outputs", "should respond with 400 when creating a new ES output with an unknown preset", func(t *testing.T) {
		f := newOutputsFixture(t)
		post(t, f, map[string]any{"name": "My output", "type": "elasticsearch", "hosts": []any{"https://test.fr"}, "preset": "some_unknown_preset"}, 400)
	})
	kibanaTest(t, crudTS, "POST /outputs", "should allow to create a new default ES output ", func(t *testing.T) {
		f := newOutputsFixture(t)
		wantEql(t, "item", map[string]any{"name": "Default ES output", "type": "elasticsearch", "hosts": []any{"https://test.fr:443"}, "is_default": true, "is_default_monitoring": false, "preset": "balanced"},
			post(t, f, map[string]any{"name": "Default ES output", "type": "elasticsearch", "hosts": []any{"https://test.fr"}, "is_default": true}, 200))
	})
	kibanaTest(t, crudTS, "POST /outputs", "should allow to create a new logstash output", func(t *testing.T) {
		f := newOutputsFixture(t)
		wantEql(t, "item", map[string]any{"name": "My Logstash Output", "type": "logstash", "hosts": []any{"test.fr:443"}, "is_default": false, "is_default_monitoring": false,
			"ssl": map[string]any{"certificate": "CERTIFICATE", "key": "KEY", "certificate_authorities": []any{"CA1", "CA2"}}},
			post(t, f, map[string]any{"name": "My Logstash Output", "type": "logstash", "hosts": []any{"test.fr:443"}, "ssl": logstashSSL}, 200))
	})
	kibanaTest(t, crudTS, "POST /outputs", "should allow to create a new logstash default output and fleet server policies should not change", func(t *testing.T) {
		f := newOutputsFixture(t)
		wantEql(t, "item", map[string]any{"name": "Default Logstash Output", "type": "logstash", "hosts": []any{"test.fr:443"}, "is_default": true, "is_default_monitoring": false,
			"ssl": map[string]any{"certificate": "CERTIFICATE", "key": "KEY", "certificate_authorities": []any{"CA1", "CA2"}}},
			post(t, f, map[string]any{"name": "Default Logstash Output", "type": "logstash", "hosts": []any{"test.fr:443"}, "is_default": true, "ssl": logstashSSL}, 200))
	})
	kibanaTest(t, crudTS, "POST /outputs", "should not allow to create a logstash output with http hosts ", func(t *testing.T) {
		f := newOutputsFixture(t)
		r := f.kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "My Logstash Output", "type": "logstash", "hosts": []any{"https://test.fr:443"}, "ssl": logstashSSL}).wantStatus(t, 400)
		if !strings.Contains(r.msg(), "Host address must begin with a domain name or IP address") {
			t.Errorf("message %q", r.msg())
		}
	})
	kafkaWant := func(name string, isDefault bool) map[string]any {
		return map[string]any{"is_default": isDefault, "is_default_monitoring": false, "name": name, "type": "kafka", "hosts": []any{"test.fr:2000"},
			"auth_type": "user_pass", "username": "user", "password": "pass", "broker_timeout": 10.0, "required_acks": 1.0, "client_id": "Elastic",
			"compression": "gzip", "compression_level": 4.0, "sasl": map[string]any{"mechanism": "PLAIN"}, "timeout": 30.0, "partition": "hash", "version": "1.0.0"}
	}
	kibanaTest(t, crudTS, "POST /outputs", "should allow to create a new kafka output", func(t *testing.T) {
		// Adapted: topics (sent and expected by the Kibana test) is not in the newest KafkaSchema.
		f := newOutputsFixture(t)
		wantEql(t, "item", kafkaWant("My Kafka Output", false),
			post(t, f, map[string]any{"name": "My Kafka Output", "type": "kafka", "hosts": []any{"test.fr:2000"}, "auth_type": "user_pass", "username": "user", "password": "pass"}, 200))
	})
	kibanaTest(t, crudTS, "POST /outputs", "should allow to create a new kafka default output and fleet server policies should not change", func(t *testing.T) {
		f := newOutputsFixture(t)
		wantEql(t, "item", kafkaWant("Default Kafka Output", true),
			post(t, f, map[string]any{"name": "Default Kafka Output", "type": "kafka", "hosts": []any{"test.fr:2000"}, "auth_type": "user_pass", "username": "user", "password": "pass", "is_default": true}, 200))
	})
	kibanaTest(t, crudTS, "POST /outputs", "should toggle the default output when creating a new one", func(t *testing.T) {
		f := newOutputsFixture(t)
		post(t, f, map[string]any{"name": "default output 1", "type": "elasticsearch", "hosts": []any{"https://test.fr"}, "is_default": true}, 200)
		id2 := f.kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "default output 2", "type": "elasticsearch", "hosts": []any{"https://test.fr"}, "is_default": true}).wantStatus(t, 200).item()["id"]
		var defaults []any
		for _, it := range f.kb.do("GET", "/api/fleet/outputs", nil).wantStatus(t, 200).items() {
			if m := it.(map[string]any); m["is_default"] == true {
				defaults = append(defaults, m["id"])
			}
		}
		wantEql(t, "default outputs", []any{id2}, defaults)
	})
	kibanaTest(t, crudTS, "POST /outputs", "should toggle default monitoring output when creating a new default monitoring output ", func(t *testing.T) {
		f := newOutputsFixture(t)
		post(t, f, map[string]any{"name": "default monitoring output 1", "type": "elasticsearch", "hosts": []any{"https://test.fr"}, "is_default_monitoring": true}, 200)
		id2 := f.kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "default monitoring output 2", "type": "elasticsearch", "hosts": []any{"https://test.fr"}, "is_default_monitoring": true}).wantStatus(t, 200).item()["id"]
		var defaults []any
		for _, it := range f.kb.do("GET", "/api/fleet/outputs", nil).wantStatus(t, 200).items() {
			if m := it.(map[string]any); m["is_default_monitoring"] == true {
				defaults = append(defaults, m["id"])
			}
		}
		wantEql(t, "default monitoring outputs", []any{id2}, defaults)
	})
	shipperSent := map[string]any{"disk_queue_enabled": true, "disk_queue_path": "path/to/disk/queue", "disk_queue_encryption_enabled": true}
	shipperWant := map[string]any{"compression_level": nil, "disk_queue_compression_enabled": nil, "disk_queue_enabled": true, "disk_queue_encryption_enabled": true,
		"disk_queue_max_size": nil, "disk_queue_path": "path/to/disk/queue", "loadbalance": nil, "max_batch_bytes": nil, "mem_queue_events": nil, "queue_flush_timeout": nil}
	byName := func(t *testing.T, f *outputsFixture, name string) map[string]any {
		for _, it := range f.kb.do("GET", "/api/fleet/outputs", nil).wantStatus(t, 200).items() {
			if m := it.(map[string]any); m["name"] == name {
				return m
			}
		}
		t.Fatalf("no output %q", name)
		return nil
	}
	for _, tc := range []struct {
		it   string
		body map[string]any
	}{
		{"should allow to create an ES output with the shipper values when shipper is enabled", map[string]any{"name": "output 1", "type": "elasticsearch", "hosts": []any{"https://test.fr"}, "is_default_monitoring": true}},
		{"should allow to create a logstash output with the shipper values", map[string]any{"name": "output 1", "type": "logstash", "hosts": []any{"test.fr:443"}, "ssl": logstashSSL}},
		{"should allow to create a kafka output with the shipper values", map[string]any{"name": "output 1", "type": "kafka", "hosts": []any{"test.fr:2000"}, "auth_type": "user_pass", "username": "user", "password": "pass"}},
	} {
		kibanaTest(t, crudTS, "POST /outputs", tc.it, func(t *testing.T) {
			f := newOutputsFixture(t)
			tc.body["config_yaml"] = "shipper: {}"
			tc.body["shipper"] = shipperSent
			post(t, f, tc.body, 200)
			wantEql(t, "shipper", shipperWant, byName(t, f, "output 1")["shipper"])
		})
	}
	kibanaTest(t, crudTS, "POST /outputs", "should discard the shipper values when shipper is disabled", func(t *testing.T) {
		f := newOutputsFixture(t)
		post(t, f, map[string]any{"name": "default monitoring output 1", "type": "elasticsearch", "hosts": []any{"https://test.fr"}, "is_default_monitoring": true, "shipper": shipperSent}, 200)
		if v, has := byName(t, f, "default monitoring output 1")["shipper"]; !has || v != nil {
			t.Errorf("shipper = %v (present %v), want null", v, has)
		}
	})
}
