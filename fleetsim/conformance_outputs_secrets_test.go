package fleetsim

import (
	"slices"
	"testing"
	"time"
)

func TestConformance_Outputs_Health(t *testing.T) {
	const d = "GET /outputs/{outputId}/health"
	index := func(t *testing.T, s *Sim, state, msg, ts, output string) {
		t.Helper()
		if _, err := s.Cluster("main").ES().IndexDoc("logs-fleet_server.output_health-default", "", []byte(`{"state":"`+state+`","message":"`+msg+`","@timestamp":"`+ts+`","output":"`+output+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	kibanaTest(t, crudTS, d, "should allow return the latest output health", func(t *testing.T) {
		s, kb := startMain(t)
		now := s.Cluster("main").now().Add(time.Second)
		index(t, s, "HEALTHY", "", now.Add(-time.Millisecond).Format(time.RFC3339Nano), "fleet-default-output")
		index(t, s, "DEGRADED", "connection error", now.Format(time.RFC3339Nano), "fleet-default-output")
		r := kb.do("GET", "/api/fleet/outputs/fleet-default-output/health", nil).wantStatus(t, 200)
		wantEql(t, "state", "DEGRADED", r.Body["state"])
		wantEql(t, "message", "connection error", r.Body["message"])
		if ts, _ := r.Body["timestamp"].(string); ts == "" {
			t.Errorf("timestamp empty")
		}
	})
	kibanaTest(t, crudTS, d, "should not return output health if older than output last updated time", func(t *testing.T) {
		s, kb := startMain(t)
		id := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "ESoutput", "type": "elasticsearch", "hosts": []any{"https://test.fr"}}).wantStatus(t, 200).item()["id"].(string)
		// '' + Date.parse('2023-11-31T14:25:31Z'): epoch millis as a string, long before the output.
		index(t, s, "HEALTHY", "", "1701441931000", id)
		wantEql(t, "state", "UNKNOWN", kb.do("GET", "/api/fleet/outputs/"+id+"/health", nil).wantStatus(t, 200).Body["state"])
	})
}

func TestConformance_Outputs_Secrets(t *testing.T) {
	const d = "POST /outputs"
	on := ClusterConfig{Name: "main", SecretStorage: "on"}
	shipper := map[string]any{"disk_queue_enabled": true, "disk_queue_path": "path/to/disk/queue", "disk_queue_encryption_enabled": true}
	secret := func(t *testing.T, s *Sim, id any) string {
		t.Helper()
		sid, _ := id.(string)
		v, ok := s.Cluster("main").ES().GetFleetSecret(sid)
		if !ok {
			t.Fatalf("secret %v not found", id)
		}
		return v
	}
	kibanaTest(t, crudTS, "PUT /outputs/{outputId}", "should allow secrets to be updated + delete unused secret", func(t *testing.T) {
		s, kb := startMain(t, on)
		body := map[string]any{"name": "Kafka Output With Secret", "type": "kafka", "hosts": []any{"test.fr:2000"}, "auth_type": "ssl", "config_yaml": "shipper: {}", "shipper": shipper,
			"ssl": map[string]any{"certificate": "CERTIFICATE", "certificate_authorities": []any{"CA1", "CA2"}}, "secrets": map[string]any{"ssl": map[string]any{"key": "KEY"}}}
		item := kb.do("POST", "/api/fleet/outputs", body).wantStatus(t, 200).item()
		id := item["id"].(string)
		secretID := getPathT(item, "secrets", "ssl", "key", "id")
		wantEql(t, "secret", "KEY", secret(t, s, secretID))
		body["secrets"] = map[string]any{"ssl": map[string]any{"key": "NEW_KEY"}}
		updated := kb.do("PUT", "/api/fleet/outputs/"+id, body).wantStatus(t, 200).item()
		newID := getPathT(updated, "secrets", "ssl", "key", "id")
		if newID == secretID {
			t.Errorf("secret id unchanged")
		}
		wantEql(t, "new secret", "NEW_KEY", secret(t, s, newID))
		if _, ok := s.Cluster("main").ES().GetFleetSecret(secretID.(string)); ok {
			t.Errorf("old secret not deleted")
		}
	})
	kibanaTest(t, crudTS, d, "should not allow ssl.key and secrets.ssl.key to be set for logstash output ", func(t *testing.T) {
		_, kb := startMain(t, on)
		kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Logstash Output", "type": "logstash", "hosts": []any{"test.fr:443"}, "ssl": logstashSSL,
			"config_yaml": "shipper: {}", "secrets": map[string]any{"ssl": map[string]any{"key": "KEY"}}}).wantStatus(t, 400).wantMessage(t, "Cannot specify both ssl.key and secrets.ssl.key")
	})
	kibanaTest(t, crudTS, d, "should not allow password and secrets.password to be set for kafka output ", func(t *testing.T) {
		_, kb := startMain(t, on)
		kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Kafka Output", "type": "kafka", "hosts": []any{"test.fr:2000"}, "auth_type": "user_pass", "username": "user", "password": "pass",
			"config_yaml": "shipper: {}", "shipper": shipper, "secrets": map[string]any{"password": "pass"}}).wantStatus(t, 400)
	})
	kibanaTest(t, crudTS, d, "should not allow ssl.key and secrets.ssl.key to be set for kafka output ", func(t *testing.T) {
		_, kb := startMain(t, on)
		kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Kafka Output", "type": "kafka", "hosts": []any{"test.fr:2000"}, "auth_type": "ssl",
			"config_yaml": "shipper: {}", "shipper": shipper, "ssl": logstashSSL, "secrets": map[string]any{"ssl": map[string]any{"key": "KEY"}}}).
			wantStatus(t, 400).wantMessage(t, "Cannot specify both ssl.key and secrets.ssl.key")
	})
	kibanaTest(t, crudTS, d, "should create ssl.key secret correctly", func(t *testing.T) {
		s, kb := startMain(t, on)
		item := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Kafka Output With Secret", "type": "kafka", "hosts": []any{"test.fr:2000"}, "auth_type": "ssl",
			"config_yaml": "shipper: {}", "shipper": shipper, "ssl": map[string]any{"certificate": "CERTIFICATE", "certificate_authorities": []any{"CA1", "CA2"}},
			"secrets": map[string]any{"ssl": map[string]any{"key": "KEY"}}}).wantStatus(t, 200).item()
		wantEql(t, "secret", "KEY", secret(t, s, getPathT(item, "secrets", "ssl", "key", "id")))
	})
	kibanaTest(t, crudTS, d, "should create ssl.password secret correctly", func(t *testing.T) {
		s, kb := startMain(t, on)
		item := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Kafka Output With Password Secret", "type": "kafka", "hosts": []any{"test.fr:2000"}, "auth_type": "user_pass",
			"username": "user", "config_yaml": "shipper: {}", "shipper": shipper, "secrets": map[string]any{"password": "pass"}}).item()
		wantEql(t, "secret", "pass", secret(t, s, getPathT(item, "secrets", "password", "id")))
	})
	kibanaTest(t, crudTS, d, "should create service_token secret correctly", func(t *testing.T) {
		s, kb := startMain(t, on)
		item := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Remote Elasticsearch With Service Token Secret", "type": "remote_elasticsearch",
			"hosts": []any{"https://remote-es:9200"}, "secrets": map[string]any{"service_token": "token"}}).item()
		wantEql(t, "secret", "token", secret(t, s, getPathT(item, "secrets", "service_token", "id")))
	})
	lsBody := func() map[string]any {
		return map[string]any{"name": "Logstash Output", "type": "logstash", "hosts": []any{"test.fr:443"},
			"ssl": map[string]any{"certificate": "CERTIFICATE", "certificate_authorities": []any{"CA1", "CA2"}}, "config_yaml": "shipper: {}",
			"secrets": map[string]any{"ssl": map[string]any{"key": "KEY"}}}
	}
	keys := func(m any) []string {
		mm, _ := m.(map[string]any)
		return sortedKeys(mm)
	}
	kibanaTest(t, crudTS, d, "should store secrets if fleet server meets minimum version", func(t *testing.T) {
		s, kb := startMain(t)
		seedFleetServers(t, s, "8.12.0")
		item := kb.do("POST", "/api/fleet/outputs", lsBody()).wantStatus(t, 200).item()
		if !slices.Contains(keys(item), "ssl") || slices.Contains(keys(item["ssl"]), "key") || !slices.Contains(keys(item), "secrets") ||
			!slices.Contains(keys(item["secrets"]), "ssl") || !slices.Contains(keys(getPathT(item, "secrets", "ssl")), "key") {
			t.Errorf("item = %v", item)
		}
		wantEql(t, "secret", "KEY", secret(t, s, getPathT(item, "secrets", "ssl", "key", "id")))
	})
	kibanaTest(t, crudTS, d, "should not store secrets if fleet server does not meet minimum version", func(t *testing.T) {
		s, kb := startMain(t)
		seedFleetServers(t, s, "7.0.0")
		item := kb.do("POST", "/api/fleet/outputs", lsBody()).wantStatus(t, 200).item()
		if slices.Contains(keys(item), "secrets") || !slices.Contains(keys(item), "ssl") {
			t.Errorf("item = %v", item)
		}
		wantEql(t, "ssl.key", "KEY", getPathT(item, "ssl", "key"))
	})
	kibanaTest(t, crudTS, d, "should not store secrets if there is no fleet server", func(t *testing.T) {
		// Adapted: run on 9.2.0. fleetsim follows fleet-api.md §2.7, where a 9.3 stack
		// with no Fleet Server stores secrets (docs/fleetsim-inferred.md).
		_, kb := startMain(t, ClusterConfig{Name: "main", Version: "9.2.0"})
		item := kb.do("POST", "/api/fleet/outputs", lsBody()).wantStatus(t, 200).item()
		if slices.Contains(keys(item), "secrets") || !slices.Contains(keys(item), "ssl") {
			t.Errorf("item = %v", item)
		}
		wantEql(t, "ssl.key", "KEY", getPathT(item, "ssl", "key"))
	})
}

func TestConformance_Outputs_Delete(t *testing.T) {
	const d = "DELETE /outputs/{outputId} › Elasticsearch output"
	setup := func(t *testing.T) (*client, string, string, string) {
		_, kb := startMain(t)
		id := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Output to delete test", "type": "elasticsearch", "hosts": []any{"https://test.fr"}}).wantStatus(t, 200).item()["id"].(string)
		def := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Default Output to delete test", "type": "elasticsearch", "hosts": []any{"https://test.fr"}, "is_default": true}).wantStatus(t, 200).item()["id"].(string)
		mon := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Default Output to delete test", "type": "elasticsearch", "hosts": []any{"https://test.fr"}, "is_default_monitoring": true}).wantStatus(t, 200).item()["id"].(string)
		return kb, id, def, mon
	}
	kibanaTest(t, crudTS, d, "should return a 400 when deleting a default output  (is_default)", func(t *testing.T) {
		kb, _, def, _ := setup(t)
		kb.do("DELETE", "/api/fleet/outputs/"+def, nil).wantStatus(t, 400)
	})
	kibanaTest(t, crudTS, d, "should return a 400 when deleting a default output  (is_default_monitoring)", func(t *testing.T) {
		kb, _, _, mon := setup(t)
		kb.do("DELETE", "/api/fleet/outputs/"+mon, nil).wantStatus(t, 400)
	})
	kibanaTest(t, crudTS, d, "should return a 404 when deleting a non existing output ", func(t *testing.T) {
		kb, _, _, _ := setup(t)
		kb.do("DELETE", "/api/fleet/outputs/idonotexists", nil).wantStatus(t, 404)
	})
	kibanaTest(t, crudTS, d, "should allow to delete an output ", func(t *testing.T) {
		kb, id, _, _ := setup(t)
		wantEql(t, "id", id, kb.do("DELETE", "/api/fleet/outputs/"+id, nil).wantStatus(t, 200).Body["id"])
	})
	kibanaTest(t, crudTS, d, "should not modify agent policies when cannot delete an output due to default logstash", func(t *testing.T) {
		_, kb := startMain(t)
		es := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Elastic output", "type": "elasticsearch", "hosts": []any{"http://localhost"}}).wantStatus(t, 200).item()["id"].(string)
		kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "0000-agent-policy", "name": "Agent policy 2", "namespace": "default", "data_output_id": es, "monitoring_output_id": es}).wantStatus(t, 200)
		kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "1111-fleet-policy", "name": "Fleet Server policy 2", "namespace": "default", "has_fleet_server": true, "data_output_id": es}).wantStatus(t, 200)
		kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Default logstash", "type": "logstash", "hosts": []any{"logstash"},
			"ssl": map[string]any{"certificate": "CERTIFICATE", "key": "KEY", "certificate_authorities": []any{}}, "is_default": true, "is_default_monitoring": true}).wantStatus(t, 200)
		kb.do("DELETE", "/api/fleet/outputs/"+es, nil).wantStatus(t, 400).wantMessage(t, `Output of type "logstash" is not usable with policy "Fleet Server policy 2".`)
		p := kb.do("GET", "/api/fleet/agent_policies/0000-agent-policy", nil).item()
		wantEql(t, "data_output_id", es, p["data_output_id"])
		wantEql(t, "monitoring_output_id", es, p["monitoring_output_id"])
		wantEql(t, "fleet server data_output_id", es, kb.do("GET", "/api/fleet/agent_policies/1111-fleet-policy", nil).item()["data_output_id"])
	})

	const k = "DELETE /outputs/{outputId} › Kafka output"
	kafka := func(name string) map[string]any {
		// Adapted: topics dropped (not in the newest KafkaSchema).
		return map[string]any{"name": name, "type": "kafka", "hosts": []any{"test.fr:2000"}, "auth_type": "user_pass", "username": "user", "password": "pass", "is_default": true}
	}
	kibanaTest(t, crudTS, k, "should return a 400 when deleting a default output  / should allow to delete an output ", func(t *testing.T) {
		// The Kafka block's before() creates two default outputs; the second
		// takes is_default from the first, which can then be deleted.
		_, kb := startMain(t)
		id := kb.do("POST", "/api/fleet/outputs", kafka("Output to delete test")).wantStatus(t, 200).item()["id"].(string)
		def := kb.do("POST", "/api/fleet/outputs", kafka("Default Output to delete test")).wantStatus(t, 200).item()["id"].(string)
		kb.do("DELETE", "/api/fleet/outputs/"+def, nil).wantStatus(t, 400)
		wantEql(t, "id", id, kb.do("DELETE", "/api/fleet/outputs/"+id, nil).wantStatus(t, 200).Body["id"])
	})
	kibanaTest(t, crudTS, k, "should delete secrets when deleting an output", func(t *testing.T) {
		// The Kibana test's expect().fail sits inside the try whose catch swallows
		// it, so there it cannot fail; here the secret's absence is asserted.
		s, kb := startMain(t)
		seedFleetServers(t, s, "8.12.0")
		item := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Kafka Output With Secret", "type": "kafka", "hosts": []any{"test.fr:2000"}, "auth_type": "ssl",
			"config_yaml": "shipper: {}", "ssl": map[string]any{"certificate": "CERTIFICATE", "certificate_authorities": []any{"CA1", "CA2"}},
			"secrets": map[string]any{"ssl": map[string]any{"key": "KEY"}}}).wantStatus(t, 200).item()
		sid, _ := getPathT(item, "secrets", "ssl", "key", "id").(string)
		kb.do("DELETE", "/api/fleet/outputs/"+item["id"].(string), nil).wantStatus(t, 200)
		if _, ok := s.Cluster("main").ES().GetFleetSecret(sid); ok || sid == "" {
			t.Errorf("secret %q still there (or never created)", sid)
		}
	})
}
