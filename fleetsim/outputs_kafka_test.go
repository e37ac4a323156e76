package fleetsim

import "testing"

// types/models/output.ts KafkaSchema: the rules of a Kafka output body.
func TestOutputTS_KafkaSchemaRules(t *testing.T) {
	_, kb := startMain(t)
	base := func(extra map[string]any) map[string]any {
		b := map[string]any{"name": "k", "type": "kafka", "hosts": []any{"kafka.example:9092"}, "auth_type": "none", "topic": "t"}
		for k, v := range extra {
			if v == nil {
				delete(b, k)
				continue
			}
			b[k] = v
		}
		return b
	}
	for _, tc := range []struct {
		name    string
		body    map[string]any
		message string // "" = accepted
	}{
		{"host without port", base(map[string]any{"hosts": []any{"kafka.example"}}), `[request body.hosts.0]: Invalid format. Expected "host:port" without protocol`},
		{"host with protocol", base(map[string]any{"hosts": []any{"kafka://x:9092"}}), `[request body.hosts.0]: Invalid format. Expected "host:port" without protocol`},
		{"port out of range", base(map[string]any{"hosts": []any{"x:70000"}}), "[request body.hosts.0]: Invalid port number. Expected a number between 1 and 65535"},
		{"port not a number", base(map[string]any{"hosts": []any{"x:abc"}}), "[request body.hosts.0]: Invalid port number. Expected a number between 1 and 65535"},
		{"auth_type required", base(map[string]any{"auth_type": nil}), "[request body.auth_type]: types that failed validation:\n- [request body.auth_type.0]: expected value to equal [none]\n- [request body.auth_type.1]: expected value to equal [user_pass]\n- [request body.auth_type.2]: expected value to equal [ssl]\n- [request body.auth_type.3]: expected value to equal [kerberos]"},
		{"required_acks 2", base(map[string]any{"required_acks": 2}), "[request body.required_acks]: types that failed validation:\n- [request body.required_acks.0]: expected value to equal [1]\n- [request body.required_acks.1]: expected value to equal [0]\n- [request body.required_acks.2]: expected value to equal [-1]"},
		{"required_acks -1", base(map[string]any{"required_acks": -1}), ""},
		{"sasl mechanism", base(map[string]any{"sasl": map[string]any{"mechanism": "GSSAPI"}}), "[request body.sasl]: types that failed validation:\n- [request body.sasl.0]: expected value to equal [null]\n- [request body.sasl.1.mechanism]: types that failed validation:\n- [request body.sasl.1.mechanism.0]: expected value to equal [PLAIN]\n- [request body.sasl.1.mechanism.1]: expected value to equal [SCRAM-SHA-256]\n- [request body.sasl.1.mechanism.2]: expected value to equal [SCRAM-SHA-512]"},
		{"headers need key and value", base(map[string]any{"headers": []any{map[string]any{"key": "a"}}}), "[request body.headers.0.value]: expected value of type [string] but got [undefined]"},
		{"headers ok", base(map[string]any{"headers": []any{map[string]any{"key": "a", "value": "b"}}}), ""},
		{"username needs user_pass", base(map[string]any{"username": "u"}), "[request body.username]: types that failed validation:\n- [request body.username.0]: a value wasn't expected to be present\n- [request body.username.1]: expected value to equal [null]"},
		{"password needs username", base(map[string]any{"auth_type": "user_pass", "password": "p"}), "[request body.password]: types that failed validation:\n- [request body.password.0]: a value wasn't expected to be present\n- [request body.password.1]: expected value to equal [null]"},
		{"password and secrets.password", base(map[string]any{"auth_type": "user_pass", "username": "u", "password": "p", "secrets": map[string]any{"password": "s"}}), "[request body.password]: types that failed validation:\n- [request body.password.0]: a value wasn't expected to be present\n- [request body.password.1]: expected value to equal [null]"},
		{"user_pass ok", base(map[string]any{"auth_type": "user_pass", "username": "u", "password": "p"}), ""},
		{"connection_type needs auth_type none", base(map[string]any{"auth_type": "ssl", "connection_type": "plaintext"}), "[request body.connection_type]: a value wasn't expected to be present"},
		{"connection_type with none", base(map[string]any{"connection_type": "encryption"}), ""},
		{"compression_level needs gzip", base(map[string]any{"compression": "lz4", "compression_level": 4}), "[request body.compression_level]: a value wasn't expected to be present"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := kb.do("POST", "/api/fleet/outputs", tc.body)
			if tc.message == "" {
				r.must(t, 200)
				return
			}
			r.wantError(t, 400, tc.message)
		})
	}
}

// outputSavedObjectToOutput (services/output.ts) omits a falsy proxy_id and
// ssl for every output type; apis/outputs/crud.ts "should allow to create a
// new kafka output" expects no proxy_id key.
func TestOutputTS_KafkaResponseOmitsFalsyProxyID(t *testing.T) {
	_, kb := startMain(t)
	item := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "k", "type": "kafka", "hosts": []any{"k.example:9092"}, "auth_type": "none", "topic": "t"}).must(t, 200).item()
	if v, has := item["proxy_id"]; has {
		t.Errorf("proxy_id = %v, want absent", v)
	}
	id := item["id"].(string)
	item = kb.do("PUT", "/api/fleet/outputs/"+id, map[string]any{"name": "k2"}).must(t, 200).item()
	if v, has := item["proxy_id"]; has {
		t.Errorf("after PUT: proxy_id = %v, want absent", v)
	}
}
