package schema

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/fleetform/fleetform/internal/golden"

	"github.com/google/go-cmp/cmp"
)

const corpusDir = "../testdata/fleets"

func corpus(t testing.TB, suffix string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(corpusDir, "*"+suffix))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatalf("no %s files in %s", suffix, corpusDir)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

func TestCorpus_GoodDocumentsLoad(t *testing.T) {
	for _, name := range corpus(t, ".good.yaml") {
		t.Run(name, func(t *testing.T) {
			doc, err := LoadFiles(t.Context(), os.DirFS(corpusDir), name)
			if err != nil {
				t.Fatalf("want valid, got:\n%v", err)
			}
			if doc.Clusters.Main.Kibana.URL == "" {
				t.Errorf("clusters.main.kibana.url not decoded")
			}
		})
	}
}

// Every bad document fails with exactly the messages in its golden file,
// each located by line and column.
func TestCorpus_BadDocumentsFailWithGoldenMessages(t *testing.T) {
	for _, name := range corpus(t, ".bad.yaml") {
		t.Run(name, func(t *testing.T) {
			_, err := LoadFiles(t.Context(), os.DirFS(corpusDir), name)
			var issues Issues
			if !errors.As(err, &issues) {
				t.Fatalf("want Issues, got %v", err)
			}
			for _, i := range issues {
				if i.File != name || i.Line < 1 || i.Col < 1 || i.Message == "" {
					t.Errorf("issue not located: %#v", i)
				}
			}
			golden.Check(t, filepath.Join(corpusDir, strings.TrimSuffix(name, ".yaml")+".golden"), []byte(issues.Error()+"\n"))
		})
	}
}

func TestMultiFile(t *testing.T) {
	dirs, err := filepath.Glob("../testdata/multi/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no multi-file cases: %v", err)
	}
	for _, dir := range dirs {
		st, err := os.Stat(dir)
		if err != nil || !st.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			doc, err := Load(t.Context(), os.DirFS(dir), ".")
			if strings.HasSuffix(dir, ".good") {
				if err != nil {
					t.Fatalf("want valid, got:\n%v", err)
				}
				if len(doc.Outputs) == 0 {
					t.Errorf("outputs not merged: %+v", doc)
				}
				return
			}
			var issues Issues
			if !errors.As(err, &issues) {
				t.Fatalf("want Issues, got %v", err)
			}
			golden.Check(t, dir+".golden", []byte(issues.Error()+"\n"))
		})
	}
}

func TestLoad_MergesListsInFileOrder(t *testing.T) {
	doc, err := LoadDir(t.Context(), "../testdata/multi/split.good")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range doc.Outputs {
		ids = append(ids, o.ID)
	}
	// outputs.yml sorts before policies/prod.yaml.
	if d := cmp.Diff([]string{"a", "b"}, ids); d != "" {
		t.Errorf("output order (-want +got):\n%s", d)
	}
	if len(doc.AgentPolicies) != 1 || *doc.AgentPolicies[0].DataOutputID != "a" {
		t.Errorf("agent policies = %+v", doc.AgentPolicies)
	}
}

func TestLoadDir_IssueFileIncludesDir(t *testing.T) {
	dir := "../testdata/multi/two-clusters.bad"
	_, err := LoadDir(t.Context(), dir)
	var issues Issues
	if !errors.As(err, &issues) {
		t.Fatalf("want Issues, got %v", err)
	}
	want := filepath.Join(dir, "b.yaml")
	for _, i := range issues {
		if i.File != want {
			t.Errorf("issue file = %q, want %q", i.File, want)
		}
	}
	if !strings.Contains(issues.Error(), "clusters is defined in both "+filepath.Join(dir, "a.yaml")+" and "+want) {
		t.Errorf("the two-clusters issue must name both files:\n%v", issues)
	}
}

func TestLoad_Errors(t *testing.T) {
	tests := []struct {
		name string
		fsys fstest.MapFS
		want error
	}{
		{"no yaml files", fstest.MapFS{"README.md": {Data: []byte("# hi")}}, ErrNoFiles},
		{"only hidden yaml", fstest.MapFS{".hidden.yaml": {Data: []byte("clusters: {}")}}, ErrNoFiles},
		{"missing root", fstest.MapFS{}, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := "."
			if tt.name == "missing root" {
				root = "nope"
			}
			_, err := Load(t.Context(), tt.fsys, root)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestLoad_CanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := LoadDir(ctx, "../testdata/multi/split.good")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestLoad_TooLarge(t *testing.T) {
	big := "# " + strings.Repeat("x", MaxFileSize) + "\n"
	_, err := Load(t.Context(), fstest.MapFS{"big.yaml": {Data: []byte(big)}}, ".")
	var issues Issues
	if !errors.As(err, &issues) || !strings.Contains(issues.Error(), "big.yaml:1:1: /: file larger than") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoad_AliasBombIsRefusedCheaply(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		prev := "*a" + string(rune('0'+i-1))
		if i >= 10 {
			prev = "*a" + string(rune('a'+i-10))
		}
		name := string(rune('0' + i))
		if i >= 10 {
			name = string(rune('a' + i - 10))
		}
		b.WriteString("a" + name + ": &a" + name + " [" + strings.Repeat(prev+", ", 9) + prev + "]\n")
	}
	_, err := Load(t.Context(), fstest.MapFS{"bomb.yaml": {Data: []byte(b.String())}}, ".")
	var issues Issues
	if !errors.As(err, &issues) || !strings.Contains(issues.Error(), "document too large") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoad_TwoFilesWithClusters(t *testing.T) {
	_, err := LoadFiles(t.Context(), os.DirFS(corpusDir), "design-sketch.good.yaml", "minimal.good.yaml")
	var issues Issues
	if !errors.As(err, &issues) {
		t.Fatalf("want Issues, got %v", err)
	}
	want := "minimal.good.yaml:2:1: /clusters: clusters is defined in both design-sketch.good.yaml and minimal.good.yaml: define it in exactly one file"
	if issues.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", issues, want)
	}
}

func TestLoad_Defaults(t *testing.T) {
	doc, err := LoadFiles(t.Context(), fstest.MapFS{"f.yaml": {Data: []byte(`
clusters:
  main:
    kibana: {url: https://kb:5601, auth: {api_key: {env: K}}}
    elasticsearch: {url: https://es:9200, auth: {api_key: {env: E}}}
outputs:
  - {id: r, name: r, type: remote_elasticsearch, hosts: ["https://r:9200"]}
  - {id: e, name: e, type: elasticsearch, hosts: ["https://e:9200"]}
`)}}, "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Outputs[0].SyncVia; got != SyncViaCCR {
		t.Errorf("remote_elasticsearch sync_via = %q, want ccr", got)
	}
	if got := doc.Outputs[1].SyncVia; got != "" {
		t.Errorf("elasticsearch sync_via = %q, want empty", got)
	}
	if got := doc.Outputs[1].EffectiveSyncVia(); got != "" {
		t.Errorf("elasticsearch EffectiveSyncVia = %q", got)
	}
}

// Every example repository under examples/ validates, so none can rot.
func TestExamplesValidate(t *testing.T) {
	dirs, err := os.ReadDir("../examples")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "deploy" || d.Name() == "ci" { // deploy/ holds container and Kubernetes files, ci/ CI pipelines
			continue
		}
		n++
		dir := filepath.Join("../examples", d.Name())
		t.Run(d.Name(), func(t *testing.T) {
			if _, err := LoadDir(t.Context(), dir); err != nil {
				t.Fatalf("example does not validate:\n%v", err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*.y*ml"))
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(string(b), "# yaml-language-server: $schema=../../fleet.schema.json\n") {
					t.Errorf("%s does not start with the yaml-language-server schema comment", f)
				}
			}
		})
	}
	if n < 3 {
		t.Errorf("%d example repositories, want at least 3", n)
	}
}

func TestDocument_Lookups(t *testing.T) {
	doc, err := LoadDir(t.Context(), "../examples/multi-output")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := doc.Output("kafka"); !ok || o.Type != OutputTypeKafka {
		t.Errorf("Output(kafka) = %+v, %v", o, ok)
	}
	if _, ok := doc.Output("nope"); ok {
		t.Error("Output(nope) found")
	}
	if r, ok := doc.Remote("west"); !ok || r.Elasticsearch.URL != "http://127.0.0.1:9201" {
		t.Errorf("Remote(west) = %+v, %v", r, ok)
	}
	if p, ok := doc.AgentPolicy("fleet-server-policy"); !ok || !p.Adopt {
		t.Errorf("AgentPolicy = %+v, %v", p, ok)
	}
}

func TestDocument_LookupsOfTheNewKinds(t *testing.T) {
	doc, err := LoadFiles(t.Context(), os.DirFS(corpusDir), "whole-fleet.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := doc.PackagePolicy("nginx-web"); !ok || p.Package.Name != "nginx" || p.OutputID != Some("es-west") {
		t.Errorf("PackagePolicy(nginx-web) = %+v, %v", p, ok)
	}
	if h, ok := doc.FleetServerHost("fleet-server-eu"); !ok || *h.ProxyID != "corp-proxy" {
		t.Errorf("FleetServerHost = %+v, %v", h, ok)
	}
	if p, ok := doc.Proxy("corp-proxy"); !ok || p.CertificateKey.File != "/run/secrets/proxy-client.key" {
		t.Errorf("Proxy = %+v, %v", p, ok)
	}
	if s, ok := doc.DownloadSource("mirror"); !ok || s.Secrets.Auth.Password.Env != "MIRROR_PASSWORD" {
		t.Errorf("DownloadSource = %+v, %v", s, ok)
	}
	if _, ok := doc.Proxy("nope"); ok {
		t.Error("Proxy(nope) found")
	}
	// Secret references of the new kinds are listed, in document order.
	var ptrs []string
	for _, f := range doc.SecretFields() {
		if !strings.HasPrefix(f.Pointer, "/clusters") && !strings.HasPrefix(f.Pointer, "/outputs") {
			ptrs = append(ptrs, f.Pointer+"="+f.Ref.Describe())
		}
	}
	want := []string{
		"/package_policies/0/inputs/nginx-nginx~1metrics/vars/password=env:NGINX_STATUS_PASSWORD",
		"/fleet_server_hosts/0/secrets/ssl/key=env:FLEET_SERVER_KEY",
		"/proxies/0/certificate_key=file:/run/secrets/proxy-client.key",
		"/download_sources/0/secrets/auth/password=env:MIRROR_PASSWORD",
	}
	if d := cmp.Diff(want, ptrs); d != "" {
		t.Errorf("secret fields (-want +got):\n%s", d)
	}
}
