package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/schema"
)

func TestFormatError(t *testing.T) {
	tests := []struct {
		cmd  string
		err  error
		want string
	}{
		{"fleetform apply", fmt.Errorf("apply: %w", fmt.Errorf("apply: %w", errors.New("boom"))), "fleetform apply: boom"},
		{"fleetform plan", errors.New("GET /api/fleet/outputs?perPage=100&token=abc: 500 Internal Server Error"), "fleetform plan: GET /api/fleet/outputs: 500 Internal Server Error"},
		{"fleetform plan", errors.New("dial https://kb.example:5601/api/status?x=1 failed"), "fleetform plan: dial https://kb.example:5601/api/status failed"},
		{"fleetform plan", errors.New("for REST request [/_cluster/settings?flat_settings=true] (x?)"), "fleetform plan: for REST request [/_cluster/settings] (x?)"},
		{"fleetform plan", errors.New(`unknown key "hostz" (did you mean "hosts"?)`), `fleetform plan: unknown key "hostz" (did you mean "hosts"?)`},
		{"fleetform plan", schema.Issues{
			{File: "f.yaml", Line: 2, Col: 5, Pointer: "/outputs/0", Message: `missing required key "hosts"`},
			{File: "f.yaml", Line: 5, Col: 5, Pointer: "/outputs/0/hostz", Message: `unknown key "hostz" (did you mean "hosts"?)`},
		}, `fleetform plan: f.yaml:5:5: /outputs/0/hostz: unknown key "hostz" (did you mean "hosts"?)`},
		{"fleetform plan", schema.Issues{
			{File: "f.yaml", Line: 2, Col: 5, Pointer: "/outputs/0", Message: `missing required key "hosts"`},
			{File: "f.yaml", Line: 9, Col: 5, Pointer: "/outputs/1/type", Message: `value must be one of 'logstash', 'kafka', got "kafak"`},
		}, "fleetform plan: 2 problems in the configuration (fleetform validate lists them too):\n" +
			"  f.yaml:2:5: /outputs/0: missing required key \"hosts\"\n" +
			"  f.yaml:9:5: /outputs/1/type: value must be one of 'logstash', 'kafka', got \"kafak\" (did you mean \"kafka\"?)"},
	}
	for _, tt := range tests {
		if got := formatError(tt.cmd, tt.err); got != tt.want {
			t.Errorf("formatError(%q) =\n%s\nwant\n%s", tt.err, got, tt.want)
		}
	}
}

func TestLoadError_NamesTheDirectoryOnce(t *testing.T) {
	if got := loadError(".", errors.New(".: not a fleetform repository")).Error(); got != ".: not a fleetform repository" {
		t.Errorf("got %q", got)
	}
	if got := loadError("conf", errors.New("permission denied")).Error(); got != "conf: permission denied" {
		t.Errorf("got %q", got)
	}
}

// A Kibana behind a certificate fleetform does not trust: the message says
// so and names the settings that fix it.
func TestDiagnose_TLSUnknownAuthority(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	t.Setenv("DIAG_PW", "pw")
	body := fmt.Sprintf("clusters:\n  main:\n    kibana:\n      url: %s\n      auth: {basic: {username: u, password: {env: DIAG_PW}}}\n    elasticsearch:\n      url: %s\n      auth: {basic: {username: u, password: {env: DIAG_PW}}}\n", srv.URL, srv.URL)
	if err := os.WriteFile(filepath.Join(dir, "clusters.yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	err := diagnose(t.Context(), dir, errors.New("GET /api/status: x509: certificate signed by unknown authority"))
	want := fmt.Sprintf("cluster main: Kibana %[1]s (%[2]s:3) and Elasticsearch %[1]s (%[2]s:6): its TLS certificate is signed by an unknown authority\n"+
		"  hint: set ca_file (the CA's PEM file) or ca_fingerprint (its SHA-256) on this endpoint", srv.URL, filepath.Join(dir, "clusters.yaml"))
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

// When every endpoint answers as it should, the command's own error stands.
func TestDiagnose_KeepsTheErrorWhenTheEndpointsAreFine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	t.Setenv("DIAG_PW", "pw")
	body := fmt.Sprintf("clusters:\n  main:\n    kibana: {url: %s, auth: {basic: {username: u, password: {env: DIAG_PW}}}}\n    elasticsearch: {url: %s, auth: {basic: {username: u, password: {env: DIAG_PW}}}}\n", srv.URL, srv.URL)
	if err := os.WriteFile(filepath.Join(dir, "clusters.yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	orig := errors.New("PUT /api/fleet/outputs/x: 400 Bad Request: invalid")
	if err := diagnose(t.Context(), dir, orig); err != orig {
		t.Errorf("got %v", err)
	}
	if !strings.Contains(formatError("fleetform apply", orig), "400 Bad Request") {
		t.Error("lost the message")
	}
}

// validate, too, reports a misspelt key once: not also the key it meant as
// missing.
func TestValidate_MisspeltKeyIsOneProblem(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("V_PW", "x")
	body := "clusters:\n  main:\n    kibana: {url: http://k:5601, auth: {basic: {username: u, password: {env: V_PW}}}}\n" +
		"    elasticsearch: {url: http://e:9200, auth: {basic: {username: u, password: {env: V_PW}}}}\n" +
		"outputs:\n  - id: o\n    name: o\n    type: elasticsearch\n    hostz: [http://e:9200]\n"
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := runCLI(t, "validate", dir)
	if code != 1 || strings.Contains(out, "missing required key") || !strings.Contains(out, `unknown key "hostz" (did you mean "hosts"?)`) || !strings.Contains(out, "1 problem") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
