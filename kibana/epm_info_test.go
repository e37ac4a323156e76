package kibana_test

import (
	"context"
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
