package importer_test

import (
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/importer"
)

// TestImport_SettingsKinds: proxies, Fleet Server hosts and download
// sources export with their secrets as references (the clear-text values
// Kibana returns for plain secret fields never reach a file), and the
// repository plans empty after adoption.
func TestImport_SettingsKinds(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	c := sim.Cluster("main")
	kb := newKibana(t, c)
	ctx := t.Context()
	const proxyKey, hostKey = "proxy-private-key-value", "fleet-server-es-key-value"
	if _, err := kb.CreateProxy(ctx, map[string]any{"id": "corp", "name": "Corp proxy", "url": "https://proxy.corp:3128",
		"certificate": "-----BEGIN CERTIFICATE-----\nMIIP\n-----END CERTIFICATE-----", "certificate_key": proxyKey}); err != nil {
		t.Fatal(err)
	}
	if _, err := kb.CreateFleetServerHost(ctx, map[string]any{"id": "fs-eu", "name": "Fleet Server EU", "host_urls": []any{"https://fleet.eu:8220"},
		"proxy_id": "corp", "is_default": true, "secrets": map[string]any{"ssl": map[string]any{"es_key": hostKey}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := kb.CreateDownloadSource(ctx, map[string]any{"id": "mirror", "name": "Mirror", "host": "https://mirror.corp/downloads/", "proxy_id": "corp"}); err != nil {
		t.Fatal(err)
	}
	res, err := importer.Import(ctx, kb, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range res.Files {
		files[f.Name] = string(f.Content)
	}
	for name, wants := range map[string][]string{
		"proxies.yaml": {"  - id: corp\n    name: Corp proxy\n    url: https://proxy.corp:3128\n", "    certificate_key:\n      env: PROXY_CORP_CERTIFICATE_KEY\n"},
		"fleet_server_hosts.yaml": {"  - id: fs-eu\n    name: Fleet Server EU\n    host_urls:\n      - https://fleet.eu:8220\n    is_default: true\n",
			"    proxy_id: corp\n", "    secrets:\n      ssl:\n        es_key:\n          env: FLEET_SERVER_HOST_FS_EU_SSL_ES_KEY\n"},
		"download_sources.yaml": {"  - id: mirror\n    name: Mirror\n    host: https://mirror.corp/downloads/\n", "    proxy_id: corp\n"},
	} {
		for _, want := range wants {
			if !strings.Contains(files[name], want) {
				t.Errorf("%s lacks %q:\n%s", name, want, files[name])
			}
		}
	}
	for name, body := range files {
		if strings.Contains(body, proxyKey) || strings.Contains(body, hostKey) {
			t.Errorf("%s holds a secret value", name)
		}
	}
	_, p := roundTrip(t, c, kb)
	if !p.Empty() {
		t.Errorf("plan after import has %d changes: %+v", len(p.Changes), p.Changes)
	}
}

// The output fleetform's remote provisioning creates on a remote for
// Kibana's sync task belongs to the repository that declares the remote
// output: importing that remote's Fleet leaves it out, saying why.
func TestImport_LeavesOutTheRemoteSyncOutput(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	kb := newKibana(t, sim.Cluster("main"))
	if _, err := kb.CreateOutput(t.Context(), map[string]any{"id": "fleetform-sync-remote-west", "name": "remote-west (fleetform sync target)",
		"type": "elasticsearch", "hosts": []any{"https://es.west.example:9200"}}); err != nil {
		t.Fatal(err)
	}
	res, err := importer.Import(t.Context(), kb, importer.Options{Kinds: []string{"output"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].ID != "fleetform-sync-remote-west" || !strings.Contains(res.Skipped[0].Reason, "remote provisioning") {
		t.Errorf("skipped = %+v", res.Skipped)
	}
}
