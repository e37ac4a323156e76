package kibana_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
)

// PackageInfo reads getInfoHandler's {item: PackageInfo}
// (FLEET/server/routes/epm/handlers.ts; getPackageInfo,
// FLEET/server/services/epm/packages/get.ts) with full=true: the package
// archive's definitions, whose vars carry secret: true (the registry's
// info, answered without full, has no secret field:
// elastic/package-registry packages/datastream.go, type Variable). A
// version Kibana does not know is a 404.
func TestPackageInfo_DefinitionsWithSecretFlags(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	c := simClient(t, sim, "main", &waits{})
	ctx := context.Background()

	az, err := c.PackageInfo(ctx, "azure", "1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	secret := map[string]bool{}
	for _, v := range az.Vars {
		secret[v.Name] = v.Secret
	}
	if !secret["connection_string"] || !secret["storage_account_key"] || secret["eventhub"] {
		t.Errorf("azure package vars secret flags = %v", secret)
	}
	if len(az.PolicyTemplates) != 1 || az.PolicyTemplates[0].Name != "activitylogs" || len(az.PolicyTemplates[0].Inputs) != 1 ||
		az.PolicyTemplates[0].Inputs[0].Type != "azure-eventhub" {
		t.Errorf("azure policy templates = %+v", az.PolicyTemplates)
	}
	if len(az.DataStreams) != 1 || az.DataStreams[0].Dataset != "azure.activitylogs" || az.DataStreams[0].Path != "activitylogs" ||
		len(az.DataStreams[0].Streams) != 1 || az.DataStreams[0].Streams[0].Input != "azure-eventhub" {
		t.Errorf("azure data streams = %+v", az.DataStreams)
	}

	ng, err := c.PackageInfo(ctx, "nginx", "2.1.0")
	if err != nil {
		t.Fatal(err)
	}
	var httpjson *kibana.PackageInput
	for i, in := range ng.PolicyTemplates[0].Inputs {
		if in.Type == "httpjson" {
			httpjson = &ng.PolicyTemplates[0].Inputs[i]
		}
	}
	if httpjson == nil {
		t.Fatalf("nginx inputs = %+v", ng.PolicyTemplates[0].Inputs)
	}
	for _, v := range httpjson.Vars {
		if want := v.Name == "password" || v.Name == "token"; v.Secret != want {
			t.Errorf("nginx httpjson var %s secret = %v, want %v", v.Name, v.Secret, want)
		}
	}
	var q string
	for _, r := range sim.Requests() {
		if r.Path == "/api/fleet/epm/packages/nginx/2.1.0" {
			q = r.Query
		}
	}
	if q != "full=true" {
		t.Errorf("package info query = %q, want full=true", q)
	}

	_, err = c.PackageInfo(ctx, "nginx", "9.9.9")
	if !kibana.IsNotFound(err) || !strings.Contains(err.Error(), "[nginx-9.9.9] package not found in registry") {
		t.Errorf("unknown version: %v, want 404", err)
	}
}

// A RegistryVarsEntry (FLEET/common/types/models/epm.ts) as the package
// info answers it: what the plan checks a value against — title, default,
// options of a select, show_user, min_duration/max_duration of a duration,
// url_allowed_schemes of a url — and a stream's enabled: false.
func TestPackageInfo_VarDefinitionFields(t *testing.T) {
	const item = `{"name":"x","version":"1.0.0","data_streams":[{"dataset":"x.a","streams":[{"input":"logfile","enabled":false,"vars":[
	 {"name":"mode","type":"select","title":"Mode","required":true,"show_user":false,"default":"fast","options":[{"value":"fast","text":"Fast"},{"value":"slow","text":"Slow"}]},
	 {"name":"period","type":"duration","min_duration":"10s","max_duration":"1h","default":"1m"},
	 {"name":"endpoint","type":"url","url_allowed_schemes":["https"]},
	 {"name":"hosts","type":"text","multi":true,"default":["a","b"]}]}]}]}`
	var info kibana.PackageInfo
	if err := json.Unmarshal([]byte(item), &info); err != nil {
		t.Fatal(err)
	}
	st := info.DataStreams[0].Streams[0]
	if st.Enabled == nil || *st.Enabled {
		t.Errorf("stream enabled = %v, want false", st.Enabled)
	}
	mode, period, endpoint, hosts := st.Vars[0], st.Vars[1], st.Vars[2], st.Vars[3]
	if mode.Label() != "Mode" || !mode.Required || mode.ShowUser || mode.Default != "fast" || len(mode.Options) != 2 || mode.Options[1].Value != "slow" {
		t.Errorf("select = %+v", mode)
	}
	if period.Label() != "period" || period.MinDuration != "10s" || period.MaxDuration != "1h" {
		t.Errorf("duration = %+v", period)
	}
	if len(endpoint.URLAllowedSchemes) != 1 || endpoint.URLAllowedSchemes[0] != "https" {
		t.Errorf("url = %+v", endpoint)
	}
	if d, _ := hosts.Default.([]any); len(d) != 2 || !hosts.Multi {
		t.Errorf("multi default = %+v", hosts)
	}
}

// required_vars (RegistryRequiredVars) decode as the ordered groups of the
// JSON object — Object.entries order: array-index keys ascending first —
// and var_groups as RegistryVarGroup[]; fleetsim answers elastic_security
// 0.4.0's alert stream with its three groups in the manifest's order.
func TestPackageInfo_RequiredVarsAndVarGroups(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	c := simClient(t, sim, "main", &waits{})
	sec, err := c.PackageInfo(context.Background(), "elastic_security", "0.4.0")
	if err != nil {
		t.Fatal(err)
	}
	if len(sec.DataStreams) != 1 || len(sec.DataStreams[0].Streams) != 1 {
		t.Fatalf("data streams %+v", sec.DataStreams)
	}
	rv := sec.DataStreams[0].Streams[0].RequiredVars
	var names []string
	for _, g := range rv {
		names = append(names, g.Name)
	}
	if strings.Join(names, ",") != "api_auth,basic_auth,bearer_auth" || len(rv[1].Vars) != 3 || rv[1].Vars[0] != (kibana.RequiredVar{Name: "auth_type", Value: "basic_auth"}) ||
		rv[1].Vars[1] != (kibana.RequiredVar{Name: "username"}) {
		t.Errorf("required_vars %+v", rv)
	}

	var in kibana.PackageInput
	raw := `{"type":"cel","required_vars":{"z":[{"name":"a"}],"10":[{"name":"b","value":1}],"2":[{"name":"c"}],"y":[{"name":"d"}]}}`
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		t.Fatal(err)
	}
	names = names[:0]
	for _, g := range in.RequiredVars {
		names = append(names, g.Name)
	}
	if strings.Join(names, ",") != "2,10,z,y" {
		t.Errorf("order %v, want 2,10,z,y", names)
	}
	var info kibana.PackageInfo
	if err := json.Unmarshal([]byte(`{"var_groups":[{"name":"auth","required":true,"options":[{"name":"key","vars":["k1","k2"]}]}]}`), &info); err != nil {
		t.Fatal(err)
	}
	if len(info.VarGroups) != 1 || !info.VarGroups[0].Required || strings.Join(info.VarGroups[0].Options[0].Vars, ",") != "k1,k2" {
		t.Errorf("var_groups %+v", info.VarGroups)
	}
	if err := json.Unmarshal([]byte(`{"type":"cel","required_vars":[1]}`), &in); err == nil {
		t.Error("an array decoded as required_vars")
	}
}
