package fleetsim

var outputTypes = []string{typeES, typeRemoteES, typeLogstash, typeKafka}

// maxHosts is MAX_HOSTS of newest main.
const maxHosts = 100

// reservedPresetKeys make a config_yaml incompatible with preset balanced.
var reservedPresetKeys = []string{"bulk_max_size", "compression_level", "connection_idle_timeout", "queue.mem.events", "queue.mem.flush.min_events", "queue.mem.flush.timeout", "worker"}

var (
	// maybe(oneOf([literal(null), string])), the base output fields (types/models/output.ts).
	nullableString = tNullOr{tString{}}
	sslSchema      = tNullOr{tObject{fields: []field{
		{name: "certificate_authorities", t: tArray{elem: tString{}, max: 10}},
		{name: "certificate", t: tString{}},
		{name: "key", t: tString{}},
		{name: "verification_mode", t: tEnum{"full", "none", "certificate", "strict"}},
	}}}
	// The shipper fields are bare schema.nullable: those not sent come back null
	// (apis/outputs/crud.ts "should allow to update a logstash output with the shipper values").
	shipperSchema = tNullOr{tObject{fields: []field{
		{name: "disk_queue_enabled", t: tNullable{inner: tBool{}, fill: true}},
		{name: "disk_queue_path", t: tNullable{inner: tString{}, fill: true}},
		{name: "disk_queue_max_size", t: tNullable{inner: tNumber{}, fill: true}},
		{name: "disk_queue_encryption_enabled", t: tNullable{inner: tBool{}, fill: true}},
		{name: "disk_queue_compression_enabled", t: tNullable{inner: tBool{}, fill: true}},
		{name: "compression_level", t: tNullable{inner: tNumber{}, fill: true}},
		{name: "loadbalance", t: tNullable{inner: tBool{}, fill: true}},
		{name: "mem_queue_events", t: tNullable{inner: tNumber{}, fill: true}},
		{name: "queue_flush_timeout", t: tNullable{inner: tNumber{}, fill: true}},
		{name: "max_batch_bytes", t: tNullable{inner: tNumber{}, fill: true}},
	}}}
	sslKeySecrets = tObject{fields: []field{{name: "ssl", t: tObject{fields: []field{{name: "key", t: tSecretRef{}}}}}}}

	baseOutput = tObject{fields: []field{
		{name: "id", t: tString{}},
		{name: "name", t: tString{}, required: true},
		{name: "is_default", t: tBool{}, def: false},
		{name: "is_default_monitoring", t: tBool{}, def: false},
		{name: "is_internal", t: tBool{}},
		{name: "is_preconfigured", t: tBool{}},
		{name: "ca_sha256", t: nullableString},
		{name: "ca_trusted_fingerprint", t: nullableString},
		{name: "config_yaml", t: nullableString},
		{name: "ssl", t: sslSchema},
		{name: "proxy_id", t: nullableString},
		{name: "shipper", t: shipperSchema},
		{name: "allow_edit", t: tArray{elem: tString{}, max: 1000}},
	}}
	esOutput = baseOutput.with(
		field{name: "type", t: tEnum{typeES}, required: true},
		field{name: "hosts", t: tArray{elem: tURI{}, min: 1, max: maxHosts}, required: true},
		field{name: "preset", t: tEnum{"balanced", "custom", "throughput", "scale", "latency"}},
		field{name: "write_to_logs_streams", t: tNullOr{tBool{}}},
		field{name: "secrets", t: sslKeySecrets},
	)
	remoteESOutput = esOutput.with(
		field{name: "type", t: tEnum{typeRemoteES}, required: true},
		field{name: "service_token", t: nullableString},
		field{name: "secrets", t: tObject{fields: []field{
			{name: "service_token", t: tSecretRef{}},
			{name: "ssl", t: tObject{fields: []field{{name: "key", t: tSecretRef{}}}}},
		}}},
		field{name: "sync_integrations", t: tBool{}},
		field{name: "sync_uninstalled_integrations", t: tBool{}},
		field{name: "kibana_url", t: nullableString},
		field{name: "kibana_api_key", t: nullableString},
	)
	logstashOutput = baseOutput.with(
		field{name: "type", t: tEnum{typeLogstash}, required: true},
		field{name: "hosts", t: tArray{elem: tLogstashHost{}, min: 1, max: maxHosts}, required: true},
		field{name: "secrets", t: sslKeySecrets},
	)
	// kafkaOutput is KafkaSchema (types/models/output.ts).
	kafkaOutput = baseOutput.with(
		field{name: "type", t: tEnum{typeKafka}, required: true},
		field{name: "hosts", t: tArray{elem: tKafkaHost{}, min: 1, max: maxHosts}, required: true},
		field{name: "version", t: tString{}},
		field{name: "key", t: tString{}},
		field{name: "compression", t: tEnum{"gzip", "snappy", "lz4", "none"}},
		// conditional(siblingRef('compression') is gzip, number, never)
		field{name: "compression_level", t: tAny{}, sibling: func(m map[string]any) vtype {
			if m["compression"] == "gzip" {
				return tNumber{}
			}
			return tNever{}
		}},
		field{name: "client_id", t: tString{}},
		field{name: "auth_type", t: tEnum{"none", "user_pass", "ssl", "kerberos"}, required: true},
		// conditional(siblingRef('auth_type') is none, oneOf(plaintext, encryption), never)
		field{name: "connection_type", t: tAny{}, sibling: func(m map[string]any) vtype {
			if m["auth_type"] == "none" {
				return tEnum{"plaintext", "encryption"}
			}
			return tNever{}
		}},
		// nullable(conditional(siblingRef('auth_type') is user_pass, string, never))
		field{name: "username", t: tNullable{inner: tAny{}, fill: true}, sibling: func(m map[string]any) vtype {
			if m["auth_type"] == "user_pass" {
				return tNullable{inner: tString{}, fill: true}
			}
			return tNullable{inner: tNever{}, fill: true}
		}},
		// nullable(conditional(siblingRef('secrets.password'), secretRef, never,
		//   conditional(siblingRef('username'), string, string, never)))
		field{name: "password", t: tNullable{inner: tAny{}, fill: false}, sibling: func(m map[string]any) vtype {
			if getPath(m, []string{"secrets", "password"}) != nil {
				return tNullable{inner: tNever{}, fill: false}
			}
			if _, ok := m["username"].(string); ok {
				return tNullable{inner: tString{}, fill: false}
			}
			return tNullable{inner: tNever{}, fill: false}
		}},
		field{name: "sasl", t: tNullOr{tObject{fields: []field{{name: "mechanism", t: tEnum{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}}}}}},
		field{name: "partition", t: tEnum{"random", "round_robin", "hash"}},
		field{name: "random", t: tObject{fields: []field{{name: "group_events", t: tNumber{}}}}},
		field{name: "round_robin", t: tObject{fields: []field{{name: "group_events", t: tNumber{}}}}},
		field{name: "hash", t: tObject{fields: []field{{name: "hash", t: tString{}}, {name: "random", t: tBool{}}}}},
		field{name: "topic", t: tString{}},
		field{name: "headers", t: tArray{elem: tObject{fields: []field{{name: "key", t: tString{}, required: true}, {name: "value", t: tString{}, required: true}}}, max: 100}},
		field{name: "timeout", t: tNumber{}},
		field{name: "broker_timeout", t: tNumber{}},
		field{name: "required_acks", t: tNumLiterals{1, 0, -1}},
		field{name: "secrets", t: tObject{fields: []field{
			{name: "password", t: tSecretRef{}},
			{name: "ssl", t: tObject{fields: []field{{name: "key", t: tSecretRef{}, required: true}}}},
		}}},
	)
)

// kafkaUpdate is KafkaUpdateSchema: every key optional, auth_type included.
func kafkaUpdate(kafka tObject) tObject { return kafka.optional() }

// secretPaths are the secret-capable paths and the plain field each one
// replaces when secret storage is off.
var secretPaths = []struct{ secret, plain []string }{
	{[]string{"secrets", "service_token"}, []string{"service_token"}},
	{[]string{"secrets", "ssl", "key"}, []string{"ssl", "key"}},
	{[]string{"secrets", "password"}, []string{"password"}},
}
