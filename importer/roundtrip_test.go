package importer_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/importer"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// memInventory is an in-memory ownership record.
type memInventory struct {
	mu   sync.Mutex
	recs map[string]reconciler.Record
}

func (m *memInventory) Load(context.Context) ([]reconciler.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []reconciler.Record
	for _, r := range m.recs {
		out = append(out, r)
	}
	return out, nil
}

func (m *memInventory) Put(_ context.Context, r reconciler.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[plan.Key(r.Cluster, r.Kind, r.ID)] = r
	return nil
}

func (m *memInventory) Delete(_ context.Context, cluster, kind, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, plan.Key(cluster, kind, id))
	return nil
}

// plainHasher is a cheap Hasher for tests (the PBKDF2 one costs ~50ms a call).
type plainHasher struct{}

func (plainHasher) Hash(v secret.Value) string { return "h:" + v.Reveal() }
func (plainHasher) Verify(v secret.Value, h string) bool {
	return h == "h:"+v.Reveal()
}

func newKibana(t testing.TB, c *fleetsim.Cluster) *kibana.Client {
	t.Helper()
	kb, err := kibana.New(c.KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("changeme")}, kibana.WithRetry(4, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return kb
}

// clustersYAML declares the simulator's main cluster.
func clustersYAML(c *fleetsim.Cluster) string {
	return fmt.Sprintf(`clusters:
  main:
    kibana: {url: %q, auth: {basic: {username: elastic, password: {env: FLEETSIM_PASSWORD}}}}
    elasticsearch: {url: %q, auth: {basic: {username: elastic, password: {env: FLEETSIM_PASSWORD}}}}
`, c.KibanaURL(), c.ESURL())
}

// roundTrip imports the simulator's Fleet into a new directory, loads it,
// adopts it and plans it. It returns the directory and the plan.
func roundTrip(t *testing.T, c *fleetsim.Cluster, kb *kibana.Client) (string, *plan.Plan) {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "clusters.yaml"), []byte(clustersYAML(c)), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := importer.Import(ctx, kb, importer.Options{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	for _, f := range res.Files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := schema.LoadDir(ctx, dir)
	if err != nil {
		t.Fatalf("the imported repository does not validate: %v\n%s", err, dump(dir))
	}
	r, err := reconciler.New(reconciler.Config{Fleet: kb, Inventory: &memInventory{recs: map[string]reconciler.Record{}}, Hasher: plainHasher{},
		Resolve: func(context.Context, schema.SecretRef) (secret.Value, error) {
			return secret.Value{}, fmt.Errorf("plan must not read secrets")
		}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	// Before adoption, the plan only adopts: nothing is created, updated
	// (other than recording secrets it never saw) or deleted.
	before, err := r.Plan(ctx, doc, "import")
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range before.Changes {
		if ch.Action == plan.Create || ch.Action == plan.Delete || ch.Action == plan.Blocked {
			t.Errorf("before adoption: %s %s: %s\n%s", ch.Action, ch.Key(), ch.Reason, dump(dir))
		}
		if ch.Action == plan.Update {
			for _, f := range ch.Fields {
				if !f.Sensitive {
					t.Errorf("before adoption: update %s field %s: %v → %v\n%s", ch.Key(), f.Path, f.Before, f.After, dump(dir))
				}
			}
		}
	}
	if _, refused, err := r.Adopt(ctx, doc, "import"); err != nil || len(refused) > 0 {
		t.Fatalf("adopt: refused %v, err %v", refused, err)
	}
	p, err := r.Plan(ctx, doc, "import")
	if err != nil {
		t.Fatal(err)
	}
	return dir, p
}

func dump(dir string) string {
	var sb strings.Builder
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&sb, "--- %s\n%s", e.Name(), b)
	}
	return sb.String()
}

// TestRoundTrip_RandomStates is the import property: for any Fleet state
// fleetsim can hold, import → validate → adopt → plan says "No changes".
// The states are built through Kibana's API (so Kibana's defaults and
// normalisations apply) from fixed seeds.
func TestRoundTrip_RandomStates(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 20
	}
	for seed := range n {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			sim := fleetsim.StartTest(t, fleetsim.Options{})
			c := sim.Cluster("main")
			kb := newKibana(t, c)
			build(t, kb, rand.New(rand.NewPCG(uint64(seed), 7)))
			dir, p := roundTrip(t, c, kb)
			for _, u := range p.Unverified {
				if !u.Adopted {
					t.Errorf("secret %s %s not compared for another reason than adoption: %s", u.Key(), u.Path, u.Reason)
				}
			}
			if !p.Empty() {
				var buf strings.Builder
				plan.WriteText(&buf, p)
				t.Fatalf("plan after import is not empty:\n%s\n%s", buf.String(), dump(dir))
			}
		})
	}
}

// build makes a random Fleet through the API.
func build(t *testing.T, kb *kibana.Client, rng *rand.Rand) {
	t.Helper()
	ctx := t.Context()
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	maybe := func() bool { return rng.IntN(2) == 0 }
	var proxies []string
	for i := range rng.IntN(3) {
		id := fmt.Sprintf("proxy-%d", i)
		body := map[string]any{"id": id, "name": "Proxy " + id, "url": fmt.Sprintf("https://proxy%d.example:3128", i)}
		if maybe() {
			body["proxy_headers"] = map[string]any{"X-Team": pick("a", "b")}
		}
		if maybe() {
			body["certificate"] = "-----BEGIN CERTIFICATE-----\nMIIP\n-----END CERTIFICATE-----"
			body["certificate_key"] = "proxy-key-" + id
		}
		if _, err := kb.CreateProxy(ctx, body); err != nil {
			t.Fatalf("create proxy %v: %v", body, err)
		}
		proxies = append(proxies, id)
	}
	for i := range rng.IntN(3) {
		id := fmt.Sprintf("fsh-%d", i)
		body := map[string]any{"id": id, "name": "Fleet Server " + id, "host_urls": []any{fmt.Sprintf("https://fleet%d.example:8220", i)}}
		if len(proxies) > 0 && maybe() {
			body["proxy_id"] = proxies[rng.IntN(len(proxies))]
		}
		if maybe() {
			body["is_default"] = true
		}
		if _, err := kb.CreateFleetServerHost(ctx, body); err != nil {
			t.Fatalf("create fleet server host %v: %v", body, err)
		}
	}
	for i := range rng.IntN(3) {
		id := fmt.Sprintf("dl-%d", i)
		body := map[string]any{"id": id, "name": "Downloads " + id, "host": fmt.Sprintf("https://artifacts%d.example/downloads/", i)}
		if len(proxies) > 0 && maybe() {
			body["proxy_id"] = proxies[rng.IntN(len(proxies))]
		}
		if _, err := kb.CreateDownloadSource(ctx, body); err != nil {
			t.Fatalf("create download source %v: %v", body, err)
		}
	}
	outputs := []string{"fleet-default-output"}
	nOut := rng.IntN(7)
	for i := range nOut {
		id := fmt.Sprintf("out-%d", i)
		body := map[string]any{"id": id, "name": fmt.Sprintf("Output %d %s", i, pick("eu", "us", "ap"))}
		switch typ := pick("elasticsearch", "remote_elasticsearch", "logstash", "kafka"); typ {
		case "elasticsearch":
			body["type"] = typ
			body["hosts"] = []any{fmt.Sprintf("https://es%d.example:%d", i, 9200+rng.IntN(3))}
			if maybe() {
				body["preset"] = pick("balanced", "throughput", "scale", "latency", "custom")
			}
			if maybe() {
				body["ssl"] = map[string]any{"verification_mode": pick("full", "none", "certificate", "strict"), "certificate_authorities": []any{"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"}}
			}
			if maybe() {
				body["ca_trusted_fingerprint"] = strings.Repeat("ab", 32)
			}
		case "remote_elasticsearch":
			body["type"] = typ
			body["hosts"] = []any{fmt.Sprintf("https://remote%d.example:443", i)}
			body["secrets"] = map[string]any{"service_token": "token-" + id}
			if maybe() {
				body["sync_integrations"] = true
				body["kibana_url"] = fmt.Sprintf("https://kb%d.example:5601", i)
				if maybe() { // Kibana accepts sync without a key; fleetform's import leaves the flag out then
					body["kibana_api_key"] = "key-" + id
				}
			}
		case "logstash":
			body["type"] = typ
			body["hosts"] = []any{fmt.Sprintf("logstash%d.example:5044", i)}
			if maybe() {
				body["ssl"] = map[string]any{"certificate": "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----"}
				body["secrets"] = map[string]any{"ssl": map[string]any{"key": "key-" + id}}
			}
		case "kafka":
			body["type"] = typ
			body["hosts"] = []any{fmt.Sprintf("kafka%d.example:9092", i)}
			body["topic"] = pick("logs", "metrics", "events")
			body["compression"] = pick("gzip", "snappy", "lz4", "none")
			if body["compression"] == "gzip" && maybe() {
				body["compression_level"] = float64(1 + rng.IntN(9))
			}
			body["required_acks"] = []float64{1, 0, -1}[rng.IntN(3)]
			body["partition"] = pick("random", "round_robin", "hash")
			if maybe() {
				body["auth_type"] = "user_pass"
				body["username"] = "fleet"
				body["secrets"] = map[string]any{"password": "pw-" + id}
				body["sasl"] = map[string]any{"mechanism": pick("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")}
			} else {
				body["auth_type"] = "none"
				body["connection_type"] = pick("plaintext", "encryption")
			}
		}
		if _, err := kb.CreateOutput(ctx, body); err != nil {
			t.Fatalf("create output %v: %v", body, err)
		}
		outputs = append(outputs, id)
	}
	nPol := rng.IntN(9)
	for i := range nPol {
		body := map[string]any{"id": fmt.Sprintf("pol-%d", i), "name": fmt.Sprintf("Policy %d", i), "namespace": pick("default", "prod", "staging")}
		if maybe() {
			body["description"] = fmt.Sprintf("policy number %d", i)
		}
		if maybe() {
			body["data_output_id"] = outputs[rng.IntN(len(outputs))]
		}
		if maybe() {
			body["monitoring_output_id"] = outputs[rng.IntN(len(outputs))]
		}
		if maybe() {
			body["monitoring_enabled"] = []any{"logs", "metrics"}[:1+rng.IntN(2)]
		}
		if maybe() {
			body["inactivity_timeout"] = float64(600 * (1 + rng.IntN(10)))
		}
		if maybe() {
			body["global_data_tags"] = []any{map[string]any{"name": "team", "value": pick("red", "blue")}}
		}
		if _, err := kb.CreateAgentPolicy(ctx, body); err != nil {
			if strings.Contains(err.Error(), "not usable") || strings.Contains(err.Error(), "licen") {
				continue // Kibana refuses this output for this policy: not a state Fleet can hold
			}
			t.Fatalf("create agent policy %v: %v", body, err)
		}
	}
	pkgs, err := kb.ListPackages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		if p.InstalledVersion != "" || !maybe() {
			continue
		}
		if err := kb.InstallPackage(ctx, p.Name, p.Version, true); err != nil {
			t.Fatalf("install %s %s: %v", p.Name, p.Version, err)
		}
	}
	if nOut > 0 && maybe() {
		// Make one of the new outputs the default.
		id := outputs[1+rng.IntN(nOut)]
		if _, err := kb.UpdateOutput(ctx, id, map[string]any{"is_default": true}); err != nil && !strings.Contains(err.Error(), "400") {
			t.Fatalf("make %s default: %v", id, err)
		}
	}
}
