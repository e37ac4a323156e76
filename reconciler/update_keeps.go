package reconciler

import "github.com/fleetform/fleetform/kibana"

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
func (s *step) keepClearedFields(body map[string]any) {
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
