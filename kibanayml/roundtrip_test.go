package kibanayml_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/fleetform/fleetform/schema"
)

// preconfig is the part of kibana.yml the renderer writes, in Kibana's
// shapes (server/config.ts: agentPolicies, fleetServerHosts, proxies).
type preconfig struct {
	AgentPolicies    []map[string]any `yaml:"xpack.fleet.agentPolicies"`
	FleetServerHosts []map[string]any `yaml:"xpack.fleet.fleetServerHosts"`
	Proxies          []map[string]any `yaml:"xpack.fleet.proxies"`
}

// convert turns a value read from YAML into a fleetform type through JSON,
// refusing fields the type does not know.
func convert(t *testing.T, from, to any) {
	t.Helper()
	b, err := json.Marshal(from)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(to); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}

// placeholders replaces the {env: X} secret references among vars with the
// ${X} kibana.yml carries instead.
func placeholders(v schema.Vars) schema.Vars {
	for name, ref := range v.SecretRefs() {
		v[name] = "${" + ref.Env + "}"
	}
	return v
}

// The new kinds survive kibana.yml: read back from Kibana's preconfiguration
// shape (integration policies nested under their agent policy), they are the
// declared objects, less what the header says was left out.
func TestRoundTrip_NewKinds(t *testing.T) {
	doc, err := schema.LoadDir(t.Context(), "testdata/whole-fleet")
	if err != nil {
		t.Fatal(err)
	}
	var y preconfig
	if err := yaml.Unmarshal(render(t, "testdata/whole-fleet"), &y); err != nil {
		t.Fatal(err)
	}

	var gotPolicies []schema.AgentPolicy
	var gotPackagePolicies []schema.PackagePolicy
	for _, raw := range y.AgentPolicies {
		nested, _ := raw["package_policies"].([]any)
		delete(raw, "package_policies")
		spaceID, hasSpaceID := raw["space_id"]
		delete(raw, "space_id") // preconfiguration-only: the space the policy is created in
		var ap schema.AgentPolicy
		convert(t, raw, &ap)
		if len(ap.SpaceIDs) > 0 && ap.SpaceIDs[0] != "*" && (!hasSpaceID || spaceID != ap.SpaceIDs[0]) {
			t.Errorf("agent policy %s: space_id = %v, want space_ids[0] %s", ap.ID, spaceID, ap.SpaceIDs[0])
		}
		gotPolicies = append(gotPolicies, ap)
		for _, n := range nested {
			var pp schema.PackagePolicy
			convert(t, n, &pp)
			pp.PolicyIDs = []string{ap.ID}
			gotPackagePolicies = append(gotPackagePolicies, pp)
		}
	}
	var wantPolicies []schema.AgentPolicy
	for _, ap := range doc.AgentPolicies {
		if !ap.Adopt {
			wantPolicies = append(wantPolicies, ap)
		}
	}
	if d := cmp.Diff(wantPolicies, gotPolicies); d != "" {
		t.Errorf("agent policies (-declared +kibana.yml):\n%s", d)
	}

	var wantPackagePolicies []schema.PackagePolicy
	for _, pp := range doc.PackagePolicies {
		if pp.Adopt {
			continue
		}
		pp.PolicyIDs = pp.PolicyIDs[:1] // kibana.yml attaches it to one agent policy
		pp.Package = &schema.PackagePolicyPackage{Name: pp.Package.Name}
		pp.Vars = placeholders(pp.Vars)
		for _, in := range pp.Inputs {
			placeholders(in.Vars)
			for _, st := range in.Streams {
				placeholders(st.Vars)
			}
		}
		wantPackagePolicies = append(wantPackagePolicies, pp)
	}
	if len(wantPackagePolicies) == 0 {
		t.Fatal("the test document declares no integration policy")
	}
	if d := cmp.Diff(wantPackagePolicies, gotPackagePolicies); d != "" {
		t.Errorf("integration policies (-declared +kibana.yml):\n%s", d)
	}

	var gotHosts []schema.FleetServerHost
	convert(t, y.FleetServerHosts, &gotHosts)
	wantHosts := doc.FleetServerHosts
	for i := range wantHosts {
		wantHosts[i].SSL, wantHosts[i].Secrets = nil, nil // left out, named in the header
	}
	if d := cmp.Diff(wantHosts, gotHosts); d != "" {
		t.Errorf("Fleet Server hosts (-declared +kibana.yml):\n%s", d)
	}

	var gotProxies []struct {
		schema.Proxy
		CertificateKey string `json:"certificate_key"`
	}
	for _, raw := range y.Proxies {
		var p struct {
			schema.Proxy
			CertificateKey string `json:"certificate_key"`
		}
		key, _ := raw["certificate_key"].(string)
		delete(raw, "certificate_key")
		convert(t, raw, &p.Proxy)
		p.CertificateKey = key
		gotProxies = append(gotProxies, p)
	}
	if len(gotProxies) != len(doc.Proxies) {
		t.Fatalf("%d proxies in kibana.yml, %d declared", len(gotProxies), len(doc.Proxies))
	}
	for i, want := range doc.Proxies {
		got := gotProxies[i]
		if want.CertificateKey != nil && !strings.HasPrefix(got.CertificateKey, "${FLEETFORM_PROXY_") {
			t.Errorf("proxy %s certificate_key = %q, want a ${FLEETFORM_PROXY_…} placeholder", want.ID, got.CertificateKey)
		}
		want.CertificateKey = nil
		// proxy_headers values come back as YAML scalars; compare as JSON.
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got.Proxy)
		if string(wj) != string(gj) {
			t.Errorf("proxy %s:\ndeclared   %s\nkibana.yml %s", want.ID, wj, gj)
		}
	}
}
