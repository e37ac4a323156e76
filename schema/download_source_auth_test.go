package schema

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

// TestDownloadSourceAuth_KibanaRules mirrors validateDownloadSource in
// Kibana's x-pack/platform/plugins/shared/fleet/server/routes/download_source/handler.ts,
// which refuses the POST and the PUT (400) of a download source whose auth
// mixes username/password with an api_key, or holds one of username and
// password without the other (password or secrets.auth.password, api_key or
// secrets.auth.api_key). fleetsim refuses the same (download_sources.go);
// validate says so before any apply.
func TestDownloadSourceAuth_KibanaRules(t *testing.T) {
	tests := []struct {
		auth string // the download source's auth and secrets
		want string // "" when Kibana accepts it
	}{
		{"auth: {username: u, api_key: {env: K}}", "Cannot specify both username/password and api_key authentication"},
		{"auth: {username: u}, secrets: {auth: {password: {env: P}, api_key: {env: K}}}", "Cannot specify both username/password and api_key authentication"},
		{"auth: {username: u}", "Username and password must be provided together"},
		{"auth: {password: {env: P}}", "Username and password must be provided together"},
		{"secrets: {auth: {password: {env: P}}}", "Username and password must be provided together"},
		{"auth: {username: u, password: {env: P}}", ""},
		{"auth: {username: u}, secrets: {auth: {password: {env: P}}}", ""},
		{"auth: {api_key: {env: K}, headers: [{key: X-A, value: b}]}", ""},
		{"secrets: {auth: {api_key: {env: K}}}", ""},
		{"auth: {headers: [{key: X-A, value: b}]}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.auth, func(t *testing.T) {
			y := "download_sources:\n  - {id: d, name: d, host: 'https://m.example/', " + tt.auth + "}\n"
			_, err := LoadFiles(t.Context(), fstest.MapFS{"f.yaml": {Data: []byte(clustersYAML + y)}}, "f.yaml")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Kibana accepts it, validate refuses: %v", err)
				}
				return
			}
			var issues Issues
			if !errors.As(err, &issues) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an issue containing %q, got %v", tt.want, err)
			}
			if !strings.Contains(err.Error(), "/download_sources/0/auth") {
				t.Errorf("the issue does not point at the auth: %v", err)
			}
		})
	}
}
