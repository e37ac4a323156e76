package contract

import (
	"net/http"
	"strings"
	"testing"
)

func req(method, path, query, body string) Request {
	h := http.Header{}
	h.Set("Elastic-Api-Version", "2023-10-31")
	if method != http.MethodGet {
		h.Set("Kbn-Xsrf", "fleetform")
	}
	var b []byte
	if body != "" {
		h.Set("Content-Type", "application/json")
		b = []byte(body)
	}
	return Request{Method: method, Path: path, RawQuery: query, Header: h, Body: b}
}

// TestCheck holds the contract itself to what it must accept and refuse;
// each refused case is something Kibana answers 400 to.
func TestCheck(t *testing.T) {
	s := Require(t)
	tests := []struct {
		name    string
		r       Request
		wantErr string // substring; "" for valid
	}{
		{name: "list outputs", r: req("GET", "/api/fleet/outputs", "", "")},
		{name: "space-scoped list", r: req("GET", "/s/team-a/api/fleet/outputs", "", "")},
		{name: "status", r: req("GET", "/api/status", "", "")},
		// types/models/output.ts RemoteElasticSearchSchema (9.1+).
		{name: "remote output with the 9.1 sync fields", r: req("POST", "/api/fleet/outputs", "",
			`{"name":"r","type":"remote_elasticsearch","hosts":["https://r:9200"],"secrets":{"service_token":"t","ssl":{"key":{"id":"s1"}}},"sync_integrations":true,"sync_uninstalled_integrations":false,"kibana_url":"https://kb:5601","kibana_api_key":"k"}`)},
		{name: "update of a remote output nulling kibana_api_key", r: req("PUT", "/api/fleet/outputs/r", "",
			`{"type":"remote_elasticsearch","kibana_api_key":null,"sync_integrations":false}`)},
		{name: "secrets.kibana_api_key was removed before 9.1 GA", r: req("POST", "/api/fleet/outputs", "",
			`{"name":"r","type":"remote_elasticsearch","hosts":["https://r:9200"],"secrets":{"kibana_api_key":"k"}}`), wantErr: "POST /api/fleet/outputs"},
		{name: "sync_integrations on an elasticsearch output", r: req("POST", "/api/fleet/outputs", "",
			`{"name":"e","type":"elasticsearch","hosts":["https://e:9200"],"sync_integrations":true}`), wantErr: "POST /api/fleet/outputs"},
		{name: "unknown query parameter", r: req("GET", "/api/fleet/agent_policies", "perPage=10&bogus=1", ""), wantErr: "[request query.bogus]: definition for this key is missing"},
		{name: "install with force in the body", r: req("POST", "/api/fleet/epm/packages/nginx/2.0.0", "", `{"force":true}`)},
		{name: "install of the latest (no version)", r: req("POST", "/api/fleet/epm/packages/nginx", "", `{"force":false}`)},
		{name: "install without kbn-xsrf", r: Request{Method: "POST", Path: "/api/fleet/epm/packages/nginx/2.0.0", Header: http.Header{}}, wantErr: "kbn-xsrf"},
		{name: "uninstall with force query", r: req("DELETE", "/api/fleet/epm/packages/nginx/2.0.0", "force=true", "")},
		// server/routes/remote_synced_integrations/index.ts (9.1).
		{name: "remote synced status", r: req("GET", "/api/fleet/remote_synced_integrations/status", "", "")},
		{name: "remote status of an output", r: req("GET", "/api/fleet/remote_synced_integrations/r/remote_status", "", "")},
		// server/routes/app/index.ts GenerateServiceTokenRequestSchema.
		{name: "remote service token", r: req("POST", "/api/fleet/service_tokens", "", `{"remote":true}`)},
		{name: "service token with an unknown key", r: req("POST", "/api/fleet/service_tokens", "", `{"remote":true,"name":"x"}`), wantErr: "service_tokens"},
		{name: "no such route", r: req("GET", "/api/fleet/nope", "", ""), wantErr: "no such route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := s.Check([]Request{tt.r})
			switch {
			case tt.wantErr == "" && len(errs) > 0:
				t.Errorf("refused: %v", errs)
			case tt.wantErr != "" && len(errs) == 0:
				t.Errorf("accepted, want an error with %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(errs[0].Error(), tt.wantErr):
				t.Errorf("error %v, want %q", errs, tt.wantErr)
			}
		})
	}
}

// TestCheck_NamesTheFieldOfAnOutputBody: a body of a known output type that
// breaks the contract is reported with the field, not only "anyOf".
func TestCheck_NamesTheFieldOfAnOutputBody(t *testing.T) {
	s := Require(t)
	errs := s.Check([]Request{req("POST", "/api/fleet/outputs", "",
		`{"name":"r","type":"remote_elasticsearch","hosts":["https://r:9200"],"secrets":{"kibana_api_key":"k"}}`)})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "kibana_api_key") {
		t.Errorf("errors = %v, want one naming kibana_api_key", errs)
	}
}
