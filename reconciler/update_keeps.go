package reconciler

import (
	"fmt"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
)

// clearedWhenOmitted are the fields Kibana's output update nulls when a PUT
// body that names the type leaves them out (and fleetform always names the
// type). From x-pack/platform/plugins/shared/fleet/server/services/output.ts,
// update():
//
//	if (data.type === outputType.Kafka) {
//	  if (!data.password) { kafkaUpdateData.password = null; }
//	  if (!data.username) { kafkaUpdateData.username = null; }
//	  if (!data.sasl) { kafkaUpdateData.sasl = null; }
//	  if (!data.ssl) { kafkaUpdateData.ssl = null; }
//	}
//	if (data.type === outputType.RemoteElasticsearch) {
//	  if (!data.service_token) { remoteUpdateData.service_token = null; }
//	  if (!data.kibana_api_key) { remoteUpdateData.kibana_api_key = null; }
//	}
//
// Everything else of an update is a partial saved-object update: omitted
// keys keep their stored values (ssl of the other types: "absent →
// untouched"), except on a type change, where every declared field is sent.
var clearedWhenOmitted = map[string][]string{
	"kafka":                {"password", "sasl", "ssl", "username"},
	"remote_elasticsearch": {"kibana_api_key", "service_token"},
}

// keepClearedFields adds to an update body every field Kibana would clear
// because the body omits it: the declared value merged over the observed
// one, or the observed value of a field fleetform does not manage (so an
// update never loses what it did not mean to change). A plain secret
// (password, service_token, kibana_api_key) goes back as observed unless
// the step writes a new value, which outputUpdateBody sets afterwards.
//
// It also keeps shipper: Kibana nulls a shipper sent without a config_yaml
// in the same body that enables it (output.ts: "Remove the shipper data if
// the shipper is not enabled from the yaml config"), so config_yaml goes
// along with it.
func (s *outputStep) keepClearedFields(body map[string]any) {
	haveType, _ := s.outHave["type"].(string)
	if haveType == s.out.Type {
		for _, k := range clearedWhenOmitted[s.out.Type] {
			if _, sent := body[k]; sent {
				continue
			}
			want, declared := s.outWant[k]
			have := s.outHave[k]
			switch {
			case declared && mergeable[k]:
				body[k] = mergeObjects(have, want)
			case declared:
				body[k] = want
			case have != nil && have != "":
				body[k] = have
			}
		}
	}
	if sh, sent := body["shipper"]; sent && sh != nil {
		if _, ok := body["config_yaml"]; !ok {
			if cy, declared := s.outWant["config_yaml"]; declared {
				body["config_yaml"] = cy
			} else if cy := kibana.Output(s.outHave).Field("config_yaml"); cy != nil {
				body["config_yaml"] = cy
			}
		}
	}
}

// dropKafkaProxy removes proxy_id from the managed fields of a kafka output
// and returns a warning, or "" when there is none to drop. Kibana accepts
// proxy_id on a kafka output but stores null on every create and update
// (output.ts: "Kafka does not support proxies — clear any proxy_id silently
// (#267281)"), so a declared one would be an update on every apply that
// never converges.
func dropKafkaProxy(o *schema.Output, want map[string]any) string {
	if o.Type != "kafka" {
		return ""
	}
	if _, declared := want["proxy_id"]; !declared {
		return ""
	}
	delete(want, "proxy_id")
	return fmt.Sprintf("output %s declares proxy_id, which Kibana clears on kafka outputs (Kafka does not support proxies); fleetform ignores it, remove it from the configuration", o.ID)
}

// kafkaUpdateSiblings completes a kafka PUT body with the fields Kibana's
// request schema needs next to the ones sent. In
// x-pack/platform/plugins/shared/fleet/server/types/models/output.ts,
// KafkaUpdateSchema is {...UpdateSchema, ...KafkaSchema, …}: KafkaSchema
// spreads BaseSchema after UpdateSchema, so on a kafka PUT `name` is
// required (not maybe, as for the other types) and `is_default` /
// `is_default_monitoring` default to false — a PUT without them would try
// to unset the default output. KafkaSchema's conditionals read siblings in
// the same body: connection_type and username only with auth_type (none,
// user_pass), password only with username, compression_level only with
// compression gzip. Values are the declared ones, else the observed ones.
func (s *outputStep) kafkaUpdateSiblings(body map[string]any) {
	if s.out.Type != "kafka" {
		return
	}
	value := func(k string) any {
		if v, ok := s.outWant[k]; ok {
			return v
		}
		return s.outHave[k]
	}
	ensure := func(k string) {
		if _, ok := body[k]; !ok {
			if v := value(k); v != nil {
				body[k] = v
			}
		}
	}
	ensure("name")
	for _, k := range []string{"is_default", "is_default_monitoring"} {
		if _, ok := body[k]; !ok {
			v, _ := value(k).(bool)
			body[k] = v
		}
	}
	if _, ok := body["password"]; ok {
		ensure("username")
	}
	for _, k := range []string{"username", "connection_type"} {
		if v, ok := body[k]; ok && v != nil {
			ensure("auth_type")
		}
	}
	if _, ok := body["compression_level"]; ok {
		ensure("compression")
	}
}
