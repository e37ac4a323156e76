package schema_test

import (
	"context"
	"errors"
	"fmt"
	"testing/fstest"

	"github.com/fleetform/fleetform/schema"
)

func ExampleLoad() {
	repo := fstest.MapFS{
		"fleet/clusters.yaml": {Data: []byte(`
clusters:
  main:
    kibana: {url: https://kb.example:5601, auth: {api_key: {env: KB_API_KEY}}}
    elasticsearch: {url: https://es.example:9200, auth: {api_key: {env: ES_API_KEY}}}
`)},
		"fleet/outputs.yaml": {Data: []byte(`
outputs:
  - id: logstash
    name: logstash
    type: logstash
    hosts: [https://ls.example:5044]
    secrets: {ssl: {key: "-----BEGIN PRIVATE KEY-----"}}
agent_policies:
  - {id: dmz, name: DMZ, namespace: dmz, data_output_id: logstsh}
`)},
	}
	_, err := schema.Load(context.Background(), repo, "fleet")
	var issues schema.Issues
	if errors.As(err, &issues) {
		for _, i := range issues {
			fmt.Println(i)
		}
	}
	// Output:
	// fleet/outputs.yaml:6:13: /outputs/0/hosts/0: Host address must begin with a domain name or IP address
	// fleet/outputs.yaml:7:26: /outputs/0/secrets/ssl/key: secret values must be references: use {env: NAME}, {file: PATH} or {generate: true}
	// fleet/outputs.yaml:9:58: /agent_policies/0/data_output_id: output "logstsh" is not declared in outputs (nor a Kibana well-known output such as fleet-default-output) (did you mean "logstash"?)
}

func ExampleSecretRef_Describe() {
	for _, r := range []schema.SecretRef{{Env: "WEST_TOKEN"}, {File: "/run/secrets/token"}, {Generate: true}} {
		fmt.Println(r.Describe())
	}
	// Output:
	// env:WEST_TOKEN
	// file:/run/secrets/token
	// generate
}
