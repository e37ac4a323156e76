package fleetsim

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

func remoteOutput(id string) map[string]any {
	return map[string]any{"id": id, "name": id, "type": "remote_elasticsearch", "hosts": []any{"https://remote.example"},
		"secrets": map[string]any{"service_token": "tok-" + id}}
}

// Trap 1 / 2.6.
func TestOutputs_HostsComeBackWithExplicitPorts(t *testing.T) {
	_, kb := startMain(t)
	for _, tc := range []struct{ in, want string }{
		{"https://Test.FR", "https://test.fr:443"},
		{"http://es.local", "http://es.local:80"},
		{"https://es.local:9200/", "https://es.local:9200"},
		{"https://es.local/prefix", "https://es.local:443/prefix"},
	} {
		r := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": tc.in, "type": "elasticsearch", "hosts": []any{tc.in}}).must(t, 200)
		id := r.item()["id"].(string)
		got := kb.do("GET", "/api/fleet/outputs/"+id, nil).must(t, 200).item()["hosts"]
		if d := cmp.Diff([]any{tc.want}, got); d != "" {
			t.Errorf("%s: hosts (-want +got):\n%s", tc.in, d)
		}
	}
	// Logstash hosts are not normalized.
	r := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "ls", "type": "logstash", "hosts": []any{"ls.local:5044"}}).must(t, 200)
	if d := cmp.Diff([]any{"ls.local:5044"}, r.item()["hosts"]); d != "" {
		t.Errorf("logstash hosts changed: %s", d)
	}
}

// 2.2: exact POST response shape from the API test.
func TestOutputs_PostResponseShape(t *testing.T) {
	_, kb := startMain(t)
	r := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "My output", "type": "elasticsearch", "hosts": []any{"https://test.fr"}}).must(t, 200)
	item := r.item()
	if _, err := uuid.Parse(item["id"].(string)); err != nil {
		t.Errorf("id without body id should be a random UUID, got %v", item["id"])
	}
	delete(item, "id")
	want := map[string]any{"name": "My output", "type": "elasticsearch", "hosts": []any{"https://test.fr:443"},
		"is_default": false, "is_default_monitoring": false, "preset": "balanced"}
	if d := cmp.Diff(want, item); d != "" {
		t.Errorf("item (-want +got):\n%s", d)
	}
}

// Trap 32 / 2.4.
func TestOutputs_NonUUIDIDMapsToUUIDv5_BothFormsAddressIt(t *testing.T) {
	s, kb := startMain(t)
	kb.do("POST", "/api/fleet/outputs", remoteOutput("remote-west")).must(t, 200)
	soID := uuid.NewSHA1(uuid.NameSpaceDNS, []byte("remote-west")).String()
	for _, id := range []string{"remote-west", soID} {
		if got := kb.do("GET", "/api/fleet/outputs/"+id, nil).must(t, 200).item()["id"]; got != "remote-west" {
			t.Errorf("GET %s: id %v, want remote-west", id, got)
		}
	}
	if o := s.Cluster("main").st.Outputs[soID]; o == nil {
		t.Errorf("saved object id is not uuidv5(id, DNS)")
	}
	// An id containing a UUID is kept as is (Kibana's isUUID is unanchored).
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "my-0b5b2b4e-62c3-4f52-9f5e-2f0c1c0a7d12", "name": "m", "type": "elasticsearch", "hosts": []any{"https://m"}}).must(t, 200)
	if s.Cluster("main").st.Outputs["my-0b5b2b4e-62c3-4f52-9f5e-2f0c1c0a7d12"] == nil {
		t.Errorf("id containing a UUID was mapped")
	}
	// A UUID id is kept as is.
	u := "0b5b2b4e-62c3-4f52-9f5e-2f0c1c0a7d11"
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": u, "name": "u", "type": "elasticsearch", "hosts": []any{"https://u"}}).must(t, 200)
	if s.Cluster("main").st.Outputs[u] == nil {
		t.Errorf("UUID id was mapped")
	}
}

func TestOutputs_IDValidationOnCreate(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "a/b", "name": "x", "type": "elasticsearch", "hosts": []any{"https://x"}}).
		wantError(t, 400, `id is not valid: must be 1–255 characters and must not contain path separators ("/"), traversal sequences (".."), or reserved keys ("__proto__", "constructor", "prototype").`)
}

// Trap 7 / 2.4.
func TestOutputs_PostExistingID_UnsetsOldDefaultBefore409(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "second", "name": "second", "type": "elasticsearch", "hosts": []any{"https://b"}}).must(t, 200)
	soID := uuid.NewSHA1(uuid.NameSpaceDNS, []byte("second")).String()
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "second", "name": "again", "type": "elasticsearch", "hosts": []any{"https://b"}, "is_default": true}).
		wantError(t, 409, "Saved object [ingest-outputs/"+soID+"] conflict")
	def := kb.do("GET", "/api/fleet/outputs/fleet-default-output", nil).must(t, 200).item()
	if def["is_default"] != false {
		t.Errorf("old default still default after the failed POST: %v", def["is_default"])
	}
	for _, it := range kb.do("GET", "/api/fleet/outputs", nil).must(t, 200).items() {
		if it.(map[string]any)["is_default"] == true {
			t.Errorf("an output is default, want none: %v", it)
		}
	}
}

func TestOutputs_PostExistingID_WritesSecretsBefore409(t *testing.T) {
	s, kb := startMain(t)
	kb.do("POST", "/api/fleet/outputs", remoteOutput("r1")).must(t, 200)
	before := len(s.Cluster("main").ES().FleetSecretIDs())
	kb.do("POST", "/api/fleet/outputs", remoteOutput("r1")).must(t, 409)
	if after := len(s.Cluster("main").ES().FleetSecretIDs()); after != before+1 {
		t.Errorf("secrets after conflicting POST = %d, want %d (an orphan)", after, before+1)
	}
}

// Trap 11 / 2.10.
func TestOutputs_DefaultFlipsInSameRequest_UnsetRefused(t *testing.T) {
	_, kb := startMain(t)
	kb.do("PUT", "/api/fleet/outputs/fleet-default-output", map[string]any{"is_default": false}).
		wantError(t, 400, "Default output fleet-default-output cannot be set to is_default=false or is_default_monitoring=false manually. Make another output the default first.")
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "new", "name": "new", "type": "elasticsearch", "hosts": []any{"https://n"}, "is_default": true, "is_default_monitoring": true}).must(t, 200)
	old := kb.do("GET", "/api/fleet/outputs/fleet-default-output", nil).must(t, 200).item()
	if old["is_default"] != false || old["is_default_monitoring"] != false {
		t.Errorf("old default not flipped: %v", old)
	}
	kb.do("PUT", "/api/fleet/outputs/fleet-default-output", map[string]any{"is_default": true}).must(t, 200)
	if kb.do("GET", "/api/fleet/outputs/new", nil).item()["is_default"] != false {
		t.Errorf("PUT is_default did not flip the other output")
	}
}

// Trap 16 / 2.2.
func TestOutputs_ListHasNoPagination_DefaultFirst(t *testing.T) {
	_, kb := startMain(t)
	for i := range 26 {
		kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "o" + string(rune('a'+i)), "name": "o", "type": "elasticsearch", "hosts": []any{"https://o"}}).must(t, 200)
	}
	kb.do("PUT", "/api/fleet/outputs/oz", map[string]any{"is_default": true}).must(t, 200)
	r := kb.do("GET", "/api/fleet/outputs?perPage=5&page=3", nil).must(t, 200)
	if len(r.items()) != 27 || r.Body["total"] != 27.0 || r.Body["page"] != 1.0 || r.Body["perPage"] != 10000.0 {
		t.Errorf("list: %d items, total %v page %v perPage %v", len(r.items()), r.Body["total"], r.Body["page"], r.Body["perPage"])
	}
	if first := r.items()[0].(map[string]any); first["id"] != "oz" {
		t.Errorf("first item %v, want the default oz", first["id"])
	}
}

// Trap 9 / 2.9.
func TestOutputs_DeleteDefault_Is400NotForbidden(t *testing.T) {
	_, kb := startMain(t)
	kb.do("DELETE", "/api/fleet/outputs/fleet-default-output", nil).wantError(t, 400, "Default output fleet-default-output cannot be deleted.")
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "mon", "name": "mon", "type": "elasticsearch", "hosts": []any{"https://m"}, "is_default_monitoring": true}).must(t, 200)
	kb.do("DELETE", "/api/fleet/outputs/mon", nil).wantError(t, 400, "Default monitoring output mon cannot be deleted.")
	kb.do("DELETE", "/api/fleet/outputs/nope", nil).wantError(t, 404, "Output nope not found")
}

// Trap 3 / 2.7.
func TestOutputs_PutWithoutSecretDeletesStoredSecret(t *testing.T) {
	s, kb := startMain(t)
	node := s.Cluster("main").ES()
	item := kb.do("POST", "/api/fleet/outputs", remoteOutput("r")).must(t, 200).item()
	ref, ok := getPathT(item, "secrets", "service_token").(map[string]any)
	if !ok {
		t.Fatalf("secrets.service_token = %v, want {id}", item["secrets"])
	}
	first := ref["id"].(string)
	if v, ok := node.GetFleetSecret(first); !ok || v != "tok-r" {
		t.Fatalf("secret %s not stored in .fleet-secrets", first)
	}
	// {id} keeps it.
	kb.do("PUT", "/api/fleet/outputs/r", map[string]any{"name": "r2", "secrets": map[string]any{"service_token": map[string]any{"id": first}}}).must(t, 200)
	if _, ok := node.GetFleetSecret(first); !ok {
		t.Fatalf("secret sent back as {id} was deleted")
	}
	// A string rotates: new id, old secret gone.
	item = kb.do("PUT", "/api/fleet/outputs/r", map[string]any{"secrets": map[string]any{"service_token": "rotated"}}).must(t, 200).item()
	second := getPathT(item, "secrets", "service_token", "id").(string)
	if second == first {
		t.Errorf("string secret kept the old id")
	}
	if _, ok := node.GetFleetSecret(first); ok {
		t.Errorf("old secret %s survived rotation", first)
	}
	// Omitting it deletes the stored secret (the reference dangles).
	item = kb.do("PUT", "/api/fleet/outputs/r", map[string]any{"name": "r3"}).must(t, 200).item()
	if _, ok := node.GetFleetSecret(second); ok {
		t.Errorf("secret omitted from PUT still exists")
	}
	if getPathT(item, "secrets", "service_token", "id") != second {
		t.Errorf("stored reference = %v, want the dangling %s", item["secrets"], second)
	}
}

// Trap 4 / 2.8 step 10.
func TestOutputs_PutRepeatingRemoteTypeNullsPlainTokenAndKibanaAPIKey(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "r", "name": "r", "type": "remote_elasticsearch", "hosts": []any{"https://r"},
		"service_token": "plain", "kibana_api_key": "kak", "kibana_url": "https://kb"}).must(t, 200)
	item := kb.do("PUT", "/api/fleet/outputs/r", map[string]any{"type": "remote_elasticsearch", "name": "r"}).must(t, 200).item()
	if item["service_token"] != nil || item["kibana_api_key"] != nil {
		t.Errorf("service_token=%v kibana_api_key=%v, want both null", item["service_token"], item["kibana_api_key"])
	}
	if _, present := item["service_token"]; !present {
		t.Errorf("service_token should be an explicit null")
	}
	// Without type they survive.
	kb.do("PUT", "/api/fleet/outputs/r", map[string]any{"service_token": "p2", "kibana_api_key": "k2"}).must(t, 200)
	item = kb.do("PUT", "/api/fleet/outputs/r", map[string]any{"name": "r"}).must(t, 200).item()
	if item["service_token"] != "p2" || item["kibana_api_key"] != "k2" {
		t.Errorf("PUT without type changed credentials: %v %v", item["service_token"], item["kibana_api_key"])
	}
}

// Trap 5.
func TestOutputs_KibanaAPIKeyAndPlainServiceTokenReturnedInClear(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "r", "name": "r", "type": "remote_elasticsearch", "hosts": []any{"https://r"},
		"service_token": "plain-tok", "kibana_api_key": "bbbb"}).must(t, 200)
	item := kb.do("GET", "/api/fleet/outputs/r", nil).must(t, 200).item()
	if item["kibana_api_key"] != "bbbb" || item["service_token"] != "plain-tok" {
		t.Errorf("GET = %v", item)
	}
}

// Trap 6 / 2.7, and the secret-storage knob.
func TestSecrets_StoredOnlyWhenEveryFleetServerIsAtLeast8_12(t *testing.T) {
	for _, tc := range []struct {
		name     string
		versions []string
		stored   bool
	}{
		{"all new", []string{"8.12.0", "9.1.0"}, true},
		{"one old", []string{"8.11.4", "9.1.0"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, kb := startMain(t)
			seedFleetServers(t, s, tc.versions...)
			item := kb.do("POST", "/api/fleet/outputs", remoteOutput("r")).must(t, 200).item()
			_, hasSecret := item["secrets"]
			if hasSecret != tc.stored {
				t.Errorf("secrets present = %v, want %v (%v)", hasSecret, tc.stored, item)
			}
			if !tc.stored && item["service_token"] != "tok-r" {
				t.Errorf("plain service_token = %v, want the value", item["service_token"])
			}
		})
	}
}

func seedFleetServers(t testing.TB, s *Sim, versions ...string) {
	t.Helper()
	if err := s.Seed(&SeedFile{Clusters: map[string]*ClusterSeed{"main": {FleetServers: versions}}}); err != nil {
		t.Fatal(err)
	}
}

func TestSecrets_LatchIsSticky(t *testing.T) {
	s, kb := startMain(t)
	seedFleetServers(t, s, "8.15.0")
	kb.do("POST", "/api/fleet/outputs", remoteOutput("a")).must(t, 200)
	seedFleetServers(t, s, "8.10.0") // an old Fleet Server enrolls later
	if _, ok := kb.do("POST", "/api/fleet/outputs", remoteOutput("b")).must(t, 200).item()["secrets"]; !ok {
		t.Errorf("secret storage switched off after the latch was set")
	}
}

// The knob: SecretStorage "auto" with zero Fleet Servers follows the stack
// version (newest main stores secrets, older releases keep plain text);
// "on"/"off" force it.
func TestSecrets_KnobAutoZeroFleetServers_StoredFrom9_3_PlainBefore(t *testing.T) {
	for _, tc := range []struct {
		cfg    ClusterConfig
		stored bool
	}{
		{ClusterConfig{Name: "main", Version: "9.3.0"}, true},
		{ClusterConfig{Name: "main", Version: "9.1.0"}, false},
		{ClusterConfig{Name: "main", Version: "9.1.0", SecretStorage: "on"}, true},
		{ClusterConfig{Name: "main", Version: "9.3.0", SecretStorage: "off"}, false},
	} {
		t.Run(tc.cfg.Version+"-"+tc.cfg.SecretStorage, func(t *testing.T) {
			_, kb := startMain(t, tc.cfg)
			_, hasSecret := kb.do("POST", "/api/fleet/outputs", remoteOutput("r")).must(t, 200).item()["secrets"]
			if hasSecret != tc.stored {
				t.Errorf("stored = %v, want %v", hasSecret, tc.stored)
			}
		})
	}
}

func TestOutputs_DuplicateSecretAndPlainRefused(t *testing.T) {
	_, kb := startMain(t)
	body := remoteOutput("r")
	body["service_token"] = "x"
	kb.do("POST", "/api/fleet/outputs", body).wantError(t, 400, "Cannot specify both service_token and secrets.service_token")
}

// Trap 8 / 6.2.
func TestOutputs_IsPreconfiguredFromAPI_ReadOnlyAndDeletedBySetup(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "p", "name": "p", "type": "elasticsearch", "hosts": []any{"https://p"}, "is_preconfigured": true}).must(t, 200)
	kb.do("PUT", "/api/fleet/outputs/p", map[string]any{"name": "q"}).wantError(t, 400, "Preconfigured output p name cannot be updated outside of kibana config file.")
	kb.do("DELETE", "/api/fleet/outputs/p", nil).wantError(t, 400, "Preconfigured output p cannot be deleted outside of kibana config file.")
	kb.do("POST", "/api/fleet/setup", nil).must(t, 200)
	kb.do("GET", "/api/fleet/outputs/p", nil).wantError(t, 404, "Output p not found")
	// The PUT schema accepts it too, with the same effect (trap 2).
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "q", "name": "q", "type": "elasticsearch", "hosts": []any{"https://q"}}).must(t, 200)
	kb.do("PUT", "/api/fleet/outputs/q", map[string]any{"is_preconfigured": true}).must(t, 200)
	kb.do("PUT", "/api/fleet/outputs/q", map[string]any{"name": "r"}).wantError(t, 400, "Preconfigured output q name cannot be updated outside of kibana config file.")
}

func seedPreconfigured(t testing.TB, s *Sim, outputs ...map[string]any) {
	t.Helper()
	if err := s.Seed(&SeedFile{Clusters: map[string]*ClusterSeed{"main": {Outputs: outputs}}}); err != nil {
		t.Fatal(err)
	}
}

// Trap 10 / 2.8 step 2.
func TestOutputs_PreconfiguredIdenticalPutSucceeds_DifferingKeyRefused(t *testing.T) {
	s, kb := startMain(t)
	seedPreconfigured(t, s, map[string]any{"id": "pre", "name": "pre", "type": "elasticsearch", "hosts": []any{"https://pre.example"}, "allow_edit": []any{"ca_sha256"}})
	kb.do("PUT", "/api/fleet/outputs/pre", map[string]any{"name": "pre", "hosts": []any{"https://pre.example:443"}}).must(t, 200)
	kb.do("PUT", "/api/fleet/outputs/pre", map[string]any{"hosts": []any{"https://pre.example"}}).
		wantError(t, 400, "Preconfigured output pre hosts cannot be updated outside of kibana config file.")
	kb.do("PUT", "/api/fleet/outputs/pre", map[string]any{"ca_sha256": "abc"}).must(t, 200)
}

// Trap 33.
func TestOutputs_PreconfiguredDefaultBlocksNewDefault(t *testing.T) {
	s, kb := startMain(t)
	seedPreconfigured(t, s, map[string]any{"id": "pre", "name": "pre", "type": "elasticsearch", "hosts": []any{"https://pre"}, "is_default": true})
	kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "x", "type": "elasticsearch", "hosts": []any{"https://x"}, "is_default": true}).
		wantError(t, 400, "Preconfigured output pre is_default cannot be updated outside of kibana config file.")
	seedPreconfigured(t, s, map[string]any{"id": "pre", "name": "pre", "type": "elasticsearch", "hosts": []any{"https://pre"}, "is_default": true, "allow_edit": []any{"is_default"}})
	kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "x", "type": "elasticsearch", "hosts": []any{"https://x"}, "is_default": true}).must(t, 200)
}

// Trap 34 / 2.5 step 11.
func TestOutputs_ServerAddsPresetAndNullsShipper(t *testing.T) {
	_, kb := startMain(t)
	shipper := map[string]any{"disk_queue_enabled": true}
	item := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "a", "type": "elasticsearch", "hosts": []any{"https://a"}, "shipper": shipper, "config_yaml": "worker: 4"}).must(t, 200).item()
	if item["preset"] != "custom" || item["shipper"] != nil {
		t.Errorf("preset=%v shipper=%v, want custom and null", item["preset"], item["shipper"])
	}
	item = kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "b", "type": "elasticsearch", "hosts": []any{"https://b"}, "shipper": shipper, "config_yaml": "shipper: {}"}).must(t, 200).item()
	if item["shipper"] == nil || item["preset"] != "balanced" {
		t.Errorf("shipper with enabling config_yaml = %v, preset %v", item["shipper"], item["preset"])
	}
}

func TestOutputs_BalancedPresetWithReservedKeyRefused(t *testing.T) {
	_, kb := startMain(t)
	r := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "a", "type": "elasticsearch", "hosts": []any{"https://a"}, "preset": "balanced", "config_yaml": "queue:\n  mem:\n    events: 100\n"})
	r.wantError(t, 400, "preset cannot be balanced when config_yaml contains one of bulk_max_size, compression_level, connection_idle_timeout, queue.mem.events, queue.mem.flush.min_events, queue.mem.flush.timeout, worker")
	r.wantAttrType(t, "OutputInvalidError")
	kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "a", "type": "elasticsearch", "hosts": []any{"https://a"}, "preset": "throughput", "config_yaml": "worker: 2"}).must(t, 200)
}

// Trap 27 / 2.5 step 12.
func TestOutputs_SyncIntegrationsNeedsEnterprise_PutWithoutTypeBypasses(t *testing.T) {
	_, kb := startMain(t, ClusterConfig{Name: "main", License: "platinum"})
	body := remoteOutput("r")
	body["sync_integrations"] = true
	kb.do("POST", "/api/fleet/outputs", body).wantError(t, 400, "Remote sync integrations require at least an Enterprise license.")
	kb.do("POST", "/api/fleet/outputs", remoteOutput("r")).must(t, 200)
	kb.do("PUT", "/api/fleet/outputs/r", map[string]any{"type": "remote_elasticsearch", "sync_integrations": true}).
		wantError(t, 400, "Remote sync integrations require at least an Enterprise license.")
	item := kb.do("PUT", "/api/fleet/outputs/r", map[string]any{"sync_integrations": true, "secrets": map[string]any{"service_token": "t"}}).must(t, 200).item()
	if item["sync_integrations"] != true {
		t.Errorf("sync_integrations = %v", item["sync_integrations"])
	}
}

func TestOutputs_SyncIntegrationsCreatesLeaderIndexRightAway(t *testing.T) {
	s, kb := startMain(t)
	body := remoteOutput("r")
	body["sync_integrations"] = true
	kb.do("POST", "/api/fleet/outputs", body).must(t, 200)
	if !s.Cluster("main").ES().IndexExists("fleet-synced-integrations") {
		t.Errorf("leader index not created on output create")
	}
}

// Trap 12 / 2.5 step 8.
func TestOutputs_RemoteDefault_PinsFleetServerSyntheticsAgentlessNotAPM(t *testing.T) {
	s, kb := startMain(t)
	seedPolicies(t, s, &ClusterSeed{
		AgentPolicies: []SeedAgentPolicy{{ID: "fs", Name: "FS", HasFleetServer: true}, {ID: "syn", Name: "Syn"}, {ID: "al", Name: "AL", SupportsAgentless: true}, {ID: "apm", Name: "APM"}, {ID: "plain", Name: "Plain"}},
		PackagePolicies: []SeedPackagePolicy{
			{Name: "synthetics-1", PolicyIDs: []string{"syn"}, Package: pkgRef("synthetics", "")},
			{Name: "apm-1", PolicyIDs: []string{"apm"}, Package: pkgRef("apm", "")},
		},
	})
	body := remoteOutput("r")
	body["is_default"] = true
	kb.do("POST", "/api/fleet/outputs", body).must(t, 200)
	want := map[string]any{"fs": "fleet-default-output", "syn": "fleet-default-output", "al": "fleet-default-output", "apm": nil, "plain": nil}
	for id, w := range want {
		got := kb.do("GET", "/api/fleet/agent_policies/"+id, nil).must(t, 200).item()["data_output_id"]
		if got != w {
			t.Errorf("policy %s data_output_id = %v, want %v", id, got, w)
		}
	}
}

func pkgRef(name, version string) (p struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}) {
	p.Name, p.Version = name, version
	return p
}

func seedPolicies(t testing.TB, s *Sim, cs *ClusterSeed) {
	t.Helper()
	if err := s.Seed(&SeedFile{Clusters: map[string]*ClusterSeed{"main": cs}}); err != nil {
		t.Fatal(err)
	}
}

// Trap 13 / 2.9.
func TestOutputs_Delete_ResetsPolicies_AllOrNothing(t *testing.T) {
	s, kb := startMain(t)
	ls := "ls"
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "es2", "name": "es2", "type": "elasticsearch", "hosts": []any{"https://es2"}}).must(t, 200)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": ls, "name": "ls", "type": "logstash", "hosts": []any{"ls:5044"}}).must(t, 200)
	es2 := "es2"
	seedPolicies(t, s, &ClusterSeed{AgentPolicies: []SeedAgentPolicy{
		{ID: "p1", Name: "Policy 1", DataOutputID: &es2, MonitoringOutputID: &es2},
		{ID: "fs2", Name: "Fleet Server policy 2", HasFleetServer: true, DataOutputID: &es2},
	}})
	// Make logstash the default: deleting es2 would move the Fleet Server policy onto logstash.
	kb.do("PUT", "/api/fleet/outputs/ls", map[string]any{"is_default": true}).must(t, 200)
	r := kb.do("DELETE", "/api/fleet/outputs/es2", nil)
	r.wantError(t, 400, `Output of type "logstash" is not usable with policy "Fleet Server policy 2".`)
	r.wantAttrType(t, "OutputInvalidError")
	for _, id := range []string{"p1", "fs2"} {
		if got := kb.do("GET", "/api/fleet/agent_policies/"+id, nil).item()["data_output_id"]; got != "es2" {
			t.Errorf("policy %s changed on a failed delete: %v", id, got)
		}
	}
	// Once the default is elasticsearch again the delete resets both fields to null.
	kb.do("PUT", "/api/fleet/outputs/fleet-default-output", map[string]any{"is_default": true}).must(t, 200)
	rev := kb.do("GET", "/api/fleet/agent_policies/p1", nil).item()["revision"].(float64)
	kb.do("DELETE", "/api/fleet/outputs/es2", nil).must(t, 200)
	p1 := kb.do("GET", "/api/fleet/agent_policies/p1", nil).item()
	for _, k := range []string{"data_output_id", "monitoring_output_id"} {
		v, present := p1[k]
		if !present || v != nil {
			t.Errorf("%s = %v (present %v), want explicit null", k, v, present)
		}
	}
	if p1["revision"].(float64) <= rev {
		t.Errorf("revision not bumped")
	}
}

func TestOutputs_TypeChangeBlockedByFleetServerPolicy(t *testing.T) {
	s, kb := startMain(t)
	seedPolicies(t, s, &ClusterSeed{AgentPolicies: []SeedAgentPolicy{{ID: "fs", Name: "Fleet Server policy 1", HasFleetServer: true}}})
	r := kb.do("PUT", "/api/fleet/outputs/fleet-default-output", map[string]any{"type": "logstash", "hosts": []any{"ls:5044"}})
	r.wantError(t, 400, "Logstash output cannot be used with Fleet Server integration in Fleet Server policy 1. Please create a new Elasticsearch output.")
	r.wantAttrType(t, "OutputInvalidError")
}

func TestOutputs_DeleteRemovesSecretsAndAnswersID(t *testing.T) {
	s, kb := startMain(t)
	item := kb.do("POST", "/api/fleet/outputs", remoteOutput("r")).must(t, 200).item()
	sid := getPathT(item, "secrets", "service_token", "id").(string)
	r := kb.do("DELETE", "/api/fleet/outputs/r", nil).must(t, 200)
	if d := cmp.Diff(map[string]any{"id": "r"}, r.Body); d != "" {
		t.Errorf("delete body: %s", d)
	}
	if _, ok := s.Cluster("main").ES().GetFleetSecret(sid); ok {
		t.Errorf("secret survived the delete")
	}
}

// 2.5 step 15 / 2.8 step 14: revision bumps.
func TestOutputs_RevisionBumps(t *testing.T) {
	s, kb := startMain(t)
	es2 := "es2"
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": es2, "name": "es2", "type": "elasticsearch", "hosts": []any{"https://es2"}}).must(t, 200)
	seedPolicies(t, s, &ClusterSeed{AgentPolicies: []SeedAgentPolicy{{ID: "uses", Name: "uses", DataOutputID: &es2}, {ID: "other", Name: "other"}}})
	rev := func(id string) float64 {
		return kb.do("GET", "/api/fleet/agent_policies/"+id, nil).item()["revision"].(float64)
	}
	kb.do("PUT", "/api/fleet/outputs/es2", map[string]any{"name": "renamed"}).must(t, 200)
	if rev("uses") != 2 || rev("other") != 1 {
		t.Errorf("non-default update: revisions uses=%v other=%v, want 2 and 1", rev("uses"), rev("other"))
	}
	kb.do("PUT", "/api/fleet/outputs/fleet-default-output", map[string]any{"name": "default"}).must(t, 200)
	if rev("uses") != 3 || rev("other") != 2 {
		t.Errorf("default update bumps all: uses=%v other=%v", rev("uses"), rev("other"))
	}
}

func TestOutputs_Health(t *testing.T) {
	s, kb := startMain(t)
	r := kb.do("GET", "/api/fleet/outputs/fleet-default-output/health", nil).must(t, 200)
	if d := cmp.Diff(map[string]any{"state": "UNKNOWN", "message": "", "timestamp": ""}, r.Body); d != "" {
		t.Errorf("health without report: %s", d)
	}
	ts := s.Cluster("main").now().Add(1e9).Format("2006-01-02T15:04:05.000Z07:00")
	if _, err := s.Cluster("main").ES().IndexDoc("logs-fleet_server.output_health-default", "", []byte(`{"@timestamp":"`+ts+`","output":"fleet-default-output","state":"HEALTHY","message":""}`)); err != nil {
		t.Fatal(err)
	}
	r = kb.do("GET", "/api/fleet/outputs/fleet-default-output/health", nil).must(t, 200)
	if r.Body["state"] != "HEALTHY" {
		t.Errorf("health = %v", r.Body)
	}
}

// Trap 31 (outputs half).
func TestOutputs_NamesNotUnique(t *testing.T) {
	_, kb := startMain(t)
	for range 2 {
		kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "same", "type": "elasticsearch", "hosts": []any{"https://s"}}).must(t, 200)
	}
}

func TestOutputs_PutIDInBodyChangesReturnedID(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "a", "name": "a", "type": "elasticsearch", "hosts": []any{"https://a"}}).must(t, 200)
	kb.do("PUT", "/api/fleet/outputs/a", map[string]any{"id": "b"}).must(t, 200)
	if got := kb.do("GET", "/api/fleet/outputs/a", nil).must(t, 200).item()["id"]; got != "b" {
		t.Errorf("id after PUT with id = %v, want b (corrupted, as Kibana)", got)
	}
}

func TestOutputs_DefaultOutputPointsAtOwnES(t *testing.T) {
	s, kb := startMain(t)
	item := kb.do("GET", "/api/fleet/outputs/fleet-default-output", nil).must(t, 200).item()
	want := []any{normalizeHost(s.Cluster("main").ESURL())}
	if d := cmp.Diff(want, item["hosts"]); d != "" || item["is_default"] != true || item["is_default_monitoring"] != true {
		t.Errorf("default output %v", item)
	}
	if !slices.Contains([]string{"default"}, item["name"].(string)) {
		t.Errorf("name %v", item["name"])
	}
}

// Trap 32: newest main caps path ids at 50 characters but creates up to 255.
func TestOutputs_IDLongerThan50CreatedButNotAddressable(t *testing.T) {
	_, kb := startMain(t)
	long := strings.Repeat("x", 51)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": long, "name": "long", "type": "elasticsearch", "hosts": []any{"https://l"}}).must(t, 200)
	kb.do("GET", "/api/fleet/outputs/"+long, nil).wantError(t, 400, "[request params.outputId]: value has length [51] but it must have a maximum length of [50].")
	_, old := startMain(t, ClusterConfig{Name: "main", Version: "9.1.0"})
	old.do("POST", "/api/fleet/outputs", map[string]any{"id": long, "name": "long", "type": "elasticsearch", "hosts": []any{"https://l"}}).must(t, 200)
	old.do("GET", "/api/fleet/outputs/"+long, nil).must(t, 200)
}

func TestOutputs_LogstashHostWithSchemeRefused(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "ls", "type": "logstash", "hosts": []any{"https://ls:5044"}}).
		wantError(t, 400, "[request body.hosts.0]: Host address must begin with a domain name or IP address")
}
