package fleetsim

import (
	"slices"
	"testing"
)

// With SSL secret storage off, an update sending secrets.ssl.key without
// ssl stores ssl = {...body.ssl, ...body.secrets.ssl}: the stored
// certificate and authorities are replaced (FLEET/server/services/
// download_source.ts update); with ssl sent, the key joins it; with storage
// on, an update without ssl keeps the stored ssl.
func TestDownloadSources_SSLKeyWithStorageOffReplacesSSL(t *testing.T) {
	for _, tc := range []struct {
		name    string
		storage string
		body    map[string]any
		want    []string // keys of the stored ssl
	}{
		{"off, secret alone", "off", map[string]any{"secrets": map[string]any{"ssl": map[string]any{"key": "K2"}}}, []string{"key"}},
		{"off, with ssl", "off", map[string]any{"ssl": map[string]any{"certificate": "C"}, "secrets": map[string]any{"ssl": map[string]any{"key": "K2"}}}, []string{"certificate", "key"}},
		{"on, secret alone", "on", map[string]any{"secrets": map[string]any{"ssl": map[string]any{"key": "K2"}}}, []string{"certificate", "certificate_authorities"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, kb := startMain(t, ClusterConfig{Name: "main", Version: "9.4.0", SecretStorage: tc.storage})
			kb.do("POST", "/api/fleet/agent_download_sources", map[string]any{"id": "m", "name": "m", "host": "https://m/",
				"ssl":     map[string]any{"certificate": "C", "certificate_authorities": []any{"CA"}},
				"secrets": map[string]any{"ssl": map[string]any{"key": "K1"}}}).must(t, 200)
			body := map[string]any{"name": "m", "host": "https://m/"}
			for k, v := range tc.body {
				body[k] = v
			}
			kb.do("PUT", "/api/fleet/agent_download_sources/m", body).must(t, 200)
			ssl, _ := kb.do("GET", "/api/fleet/agent_download_sources/m", nil).must(t, 200).item()["ssl"].(map[string]any)
			var got []string
			for k := range ssl {
				got = append(got, k)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("stored ssl keys %v, want %v", got, tc.want)
			}
		})
	}
}
