package fleetsim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fleetform/fleetform/fleetsim/simhttp"
)

const (
	nginxTemplate   = "logs-nginx.access@custom"
	nginxPipeline   = "logs-nginx.access@custom"
	templateBody    = `{"template":{"settings":{"number_of_replicas":2},"mappings":{"properties":{"tag":{"type":"keyword"}}}}}`
	pipelineBody    = `{"description":"tag nginx","processors":[{"set":{"field":"tag","value":"x"}}]}`
	pipelineBodyV2  = `{"description":"v2","version":2,"processors":[{"set":{"field":"tag","value":"v2"}}]}`
	ctKey           = "component_template:" + nginxTemplate
	plKey           = "ingest_pipeline:" + nginxPipeline
	statusURL       = "/api/fleet/remote_synced_integrations/status"
	remoteStatusURL = "/api/fleet/remote_synced_integrations/remote-west/remote_status"
)

// leaderDoc reads main's fleet-synced-integrations document.
func (p *syncPair) leaderDoc(t *testing.T) syncDoc {
	t.Helper()
	d, found := p.s.Cluster("main").ES().GetDoc(leaderIndex, leaderDocID)
	if !found {
		t.Fatal("no leader doc")
	}
	var doc syncDoc
	if err := json.Unmarshal(d.Source, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// withNginxAssets installs nginx on main with a custom template and pipeline.
func withNginxAssets(t *testing.T, o pairOpts) *syncPair {
	t.Helper()
	p := newSyncPair(t, o)
	p.main.do("POST", "/api/fleet/epm/packages/nginx/2.0.0", forceInstall).must(t, 200)
	es := p.s.Cluster("main").ES()
	if err := es.PutComponentTemplate(nginxTemplate, json.RawMessage(templateBody), false); err != nil {
		t.Fatal(err)
	}
	if err := es.PutPipeline(nginxPipeline, json.RawMessage(pipelineBody)); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *syncPair) assetStatus(t *testing.T, key string) map[string]any {
	t.Helper()
	r := p.remote.do("GET", statusURL, nil).must(t, 200)
	m, _ := getPathT(r.Body, "custom_assets", key).(map[string]any)
	if m == nil {
		t.Fatalf("no custom asset %s in %s", key, r.Raw)
	}
	return m
}

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCustomAssets_FindIntegrationRegex(t *testing.T) {
	ints := []syncedPackage{{PackageName: "nginx", PackageVersion: "2.0.0"}, {PackageName: "synthetics", PackageVersion: "1.0.0"},
		{PackageName: "system", PackageVersion: "1.6.0"}, {PackageName: "logs", PackageVersion: "9.9.9"}}
	tests := []struct {
		name, want string
	}{
		{"logs-nginx.access@custom", "nginx"},
		{"metrics-system.cpu@custom", "system"},
		{"traces-nginx@custom", "nginx"},
		{"synthetics-tcp@custom", "synthetics"}, // not a data type: the first segment
		{"synthetics@custom", "synthetics"},
		{"logs@custom", ""},                   // data type with no package segment
		{"logs-apache.access@custom", ""},     // not an integration on main
		{"logs-nginx.access@custom-x", ""},    // must end in @custom
		{"logs-nginx.access.v2@custom", ""},   // two dots do not fit the regexp
		{"nginx-my-pipeline@custom", "nginx"}, // trailing segments after a second dash still fit
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := findIntegration(tt.name, ints)
			if got.PackageName != tt.want || ok != (tt.want != "") {
				t.Errorf("findIntegration(%q) = %q, %v; want %q", tt.name, got.PackageName, ok, tt.want)
			}
		})
	}
}

func TestCustomAssets_MainCollectsCustomTemplatesAndPipelinesOfIntegrations(t *testing.T) {
	p := withNginxAssets(t, pairOpts{})
	es := p.s.Cluster("main").ES()
	// Not collected: a package that is not installed, and a name outside the regexp.
	for _, name := range []string{"logs-apache.access@custom", "nginx.v1.v2@custom"} {
		if err := es.PutComponentTemplate(name, json.RawMessage(`{"template":{}}`), false); err != nil {
			t.Fatal(err)
		}
	}
	p.mustRun(t)
	doc := p.leaderDoc(t)
	if doc.CustomErr != nil {
		t.Fatalf("custom_assets_error = %+v", doc.CustomErr)
	}
	want := map[string]*customAsset{
		ctKey: {Type: "component_template", Name: nginxTemplate, PackageName: "nginx", PackageVersion: "2.0.0",
			Template: json.RawMessage(`{"mappings":{"properties":{"tag":{"type":"keyword"}}},"settings":{"index":{"number_of_replicas":"2"}}}`)},
		plKey: {Type: "ingest_pipeline", Name: nginxPipeline, PackageName: "nginx", PackageVersion: "2.0.0", Pipeline: json.RawMessage(`{"description":"tag nginx","processors":[{"set":{"field":"tag","value":"x"}}]}`)},
	}
	if d := cmp.Diff(want, doc.CustomAssets); d != "" {
		t.Errorf("custom_assets (-want +got):\n%s", d)
	}
}

func TestCustomAssets_PipelineNamedByStreamVar(t *testing.T) {
	p := newSyncPair(t, pairOpts{})
	p.main.do("POST", "/api/fleet/epm/packages/nginx/2.0.0", forceInstall).must(t, 200)
	m := p.s.Cluster("main")
	if err := m.ES().PutPipeline("my-nginx-tweaks", json.RawMessage(pipelineBody)); err != nil {
		t.Fatal(err)
	}
	var seed SeedFile
	seedYAML := `{"clusters":{"main":{"agent_policies":[{"id":"p1","name":"P1"}],"package_policies":[{"id":"pp1","name":"nginx-1","policy_ids":["p1"],"package":{"name":"nginx","version":"2.0.0"},
	  "inputs":[{"type":"logfile","enabled":true,"streams":[
	    {"enabled":true,"data_stream":{"type":"logs","dataset":"nginx.access"},"vars":{"pipeline":{"type":"text","value":"my-nginx-tweaks"}}},
	    {"enabled":true,"data_stream":{"type":"logs","dataset":"nginx.error"},"vars":{"pipeline":{"type":"text","value":"missing-pipeline"}}},
	    {"enabled":true,"data_stream":{"type":"logs","dataset":"nginx.other"},"vars":{"pipeline":{"type":"text","value":""}}}]}]}]}}}`
	if err := json.Unmarshal([]byte(seedYAML), &seed); err != nil {
		t.Fatal(err)
	}
	if err := p.s.Seed(&seed); err != nil {
		t.Fatal(err)
	}
	p.mustRun(t)
	doc := p.leaderDoc(t)
	if len(doc.CustomAssets) != 1 {
		t.Fatalf("custom_assets = %v", doc.CustomAssets)
	}
	a := doc.CustomAssets["ingest_pipeline:my-nginx-tweaks"]
	if a == nil || a.PackageName != "nginx" || a.PackageVersion != "2.0.0" || a.IsDeleted {
		t.Fatalf("var pipeline = %+v", a)
	}
	// The remote installs it and the status API finds it by name (it is not *@custom).
	if got := p.s.Cluster("west").ES().Pipelines("my-nginx-tweaks"); len(got) != 1 {
		t.Errorf("remote pipelines = %v", got)
	}
	if st := p.assetStatus(t, "ingest_pipeline:my-nginx-tweaks"); st["sync_status"] != "completed" {
		t.Errorf("status = %v", st)
	}
	// The package policy shows its inputs.
	r := p.main.do("GET", "/api/fleet/package_policies", nil).must(t, 200)
	if v := getPathT(r.items()[0].(map[string]any), "inputs"); len(v.([]any)) != 1 {
		t.Errorf("inputs = %v", v)
	}
}

func TestCustomAssets_DeletedAssetKeptSevenDays(t *testing.T) {
	p := withNginxAssets(t, pairOpts{})
	p.mustRun(t)
	if err := p.s.Cluster("main").ES().DeleteComponentTemplate(nginxTemplate); err != nil {
		t.Fatal(err)
	}
	deletedAt := p.clock.Now()
	p.mustRun(t)
	a := p.leaderDoc(t).CustomAssets[ctKey]
	if a == nil || !a.IsDeleted || a.DeletedAt != deletedAt.Format("2006-01-02T15:04:05.000Z") || a.PackageName != "nginx" || len(a.Template) == 0 {
		t.Fatalf("deleted entry = %+v", a)
	}
	for _, step := range []struct {
		advance time.Duration
		kept    bool
	}{
		{7*24*time.Hour - time.Minute, true}, // deleted_at stays the first time seen
		{2 * time.Minute, false},             // older than 7 days: dropped
	} {
		p.clock.Advance(step.advance)
		p.mustRun(t)
		got := p.leaderDoc(t).CustomAssets[ctKey]
		if step.kept && (got == nil || got.DeletedAt != a.DeletedAt) {
			t.Fatalf("after %v: entry = %+v, want kept with deleted_at %s", p.clock.Now().Sub(deletedAt), got, a.DeletedAt)
		}
		if !step.kept && got != nil {
			t.Fatalf("after %v: entry still there: %+v", p.clock.Now().Sub(deletedAt), got)
		}
	}
	if p.leaderDoc(t).CustomAssets[plKey] == nil {
		t.Error("the live pipeline entry went missing")
	}
}

// lodash keyBy lets the kept deleted entry (appended last) win over the
// re-created asset until its seven days are over — Kibana's behaviour.
func TestCustomAssets_RecreatedWithinTTLStaysDeleted(t *testing.T) {
	p := withNginxAssets(t, pairOpts{})
	p.mustRun(t)
	es := p.s.Cluster("main").ES()
	if err := es.DeletePipeline(nginxPipeline); err != nil {
		t.Fatal(err)
	}
	p.mustRun(t)
	if err := es.PutPipeline(nginxPipeline, json.RawMessage(pipelineBody)); err != nil {
		t.Fatal(err)
	}
	p.clock.Advance(time.Hour)
	p.mustRun(t)
	if a := p.leaderDoc(t).CustomAssets[plKey]; a == nil || !a.IsDeleted {
		t.Fatalf("within the TTL: %+v", a)
	}
	p.clock.Advance(7 * 24 * time.Hour)
	p.mustRun(t)
	if a := p.leaderDoc(t).CustomAssets[plKey]; a == nil || a.IsDeleted {
		t.Fatalf("after the TTL: %+v", a)
	}
}

func TestCustomAssets_CollectionFailureSetsCustomAssetsError(t *testing.T) {
	tests := []struct {
		name    string
		fault   simhttp.Fault
		wantErr string
	}{
		{"503 on the template list", simhttp.Fault{Method: "GET", PathPattern: "/_component_template/*", Status: 503},
			"master_not_discovered_exception\n\tRoot causes:\n\t\tmaster_not_discovered_exception: master not discovered yet (simulated)"},
		// ignore: [404] hands the error envelope to .reduce on component_templates.
		{"404 on the template list", simhttp.Fault{Method: "GET", PathPattern: "/_component_template/*", Status: 404},
			"Cannot read properties of undefined (reading 'reduce')"},
		{"reset on the pipeline list", simhttp.Fault{Method: "GET", PathPattern: "/_ingest/pipeline/*", Reset: true}, "other side closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := withNginxAssets(t, pairOpts{})
			tt.fault.Cluster, tt.fault.Listener = "main", "es"
			if err := p.s.AddFault(tt.fault); err != nil {
				t.Fatal(err)
			}
			p.mustRun(t)
			doc := p.leaderDoc(t)
			want := &customAssetsError{Timestamp: "2026-11-27T10:00:00.000Z", Error: tt.wantErr}
			if d := cmp.Diff(want, doc.CustomErr); d != "" {
				t.Errorf("custom_assets_error (-want +got):\n%s", d)
			}
			if doc.CustomAssets == nil || len(doc.CustomAssets) != 0 || len(doc.Integrations) != 1 {
				t.Errorf("custom_assets = %v, integrations = %v", doc.CustomAssets, doc.Integrations)
			}
		})
	}
	// A 404 on the pipeline list is ignored and its envelope holds no @custom keys.
	p := withNginxAssets(t, pairOpts{})
	if err := p.s.AddFault(simhttp.Fault{Cluster: "main", Listener: "es", Method: "GET", PathPattern: "/_ingest/pipeline/*", Status: 404}); err != nil {
		t.Fatal(err)
	}
	p.mustRun(t)
	doc := p.leaderDoc(t)
	if doc.CustomErr != nil || doc.CustomAssets[ctKey] == nil || doc.CustomAssets[plKey] != nil {
		t.Errorf("404 on pipelines: error %+v, assets %v", doc.CustomErr, doc.CustomAssets)
	}
}

func TestCustomAssets_RemoteInstallsAndConverges(t *testing.T) {
	p := withNginxAssets(t, pairOpts{})
	p.mustRun(t)
	west := p.s.Cluster("west").ES()
	cts, err := west.ComponentTemplates(nginxTemplate)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(mustJSON(t, `{"template":{"settings":{"index":{"number_of_replicas":"2"}},"mappings":{"properties":{"tag":{"type":"keyword"}}}}}`), mustJSON(t, string(cts[0].Body))); d != "" {
		t.Errorf("remote template (-want +got):\n%s", d)
	}
	if d := cmp.Diff(mustJSON(t, pipelineBody), mustJSON(t, string(west.Pipelines(nginxPipeline)[nginxPipeline]))); d != "" {
		t.Errorf("remote pipeline (-want +got):\n%s", d)
	}
	for _, key := range []string{ctKey, plKey} {
		if st := p.assetStatus(t, key); st["sync_status"] != "completed" || st["package_name"] != "nginx" {
			t.Errorf("%s status = %v", key, st)
		}
	}
	// Converged: a second run writes nothing (any write would fail here and be recorded).
	for _, m := range []string{"PUT", "DELETE"} {
		if err := p.s.AddFault(simhttp.Fault{Cluster: "west", Listener: "es", Method: m, PathPattern: "/**", Status: 400}); err != nil {
			t.Fatal(err)
		}
	}
	p.mustRun(t)
	if f := p.s.Cluster("west").st.Packages["nginx"].CustomAssetFailed; len(f) != 0 {
		t.Errorf("second run wrote: %v", f)
	}
	// Through main's remote_status the same custom_assets arrive.
	r := p.main.do("GET", remoteStatusURL, nil).must(t, 200)
	if getPathT(r.Body, "custom_assets", ctKey, "sync_status") != "completed" {
		t.Errorf("remote_status = %s", r.Raw)
	}
}

func TestCustomAssets_RemoteDeletesDeletedAssets(t *testing.T) {
	p := withNginxAssets(t, pairOpts{})
	p.mustRun(t)
	es := p.s.Cluster("main").ES()
	if err := es.DeleteComponentTemplate(nginxTemplate); err != nil {
		t.Fatal(err)
	}
	if err := es.DeletePipeline(nginxPipeline); err != nil {
		t.Fatal(err)
	}
	// Before the run the remote still has both: deleted but present is synchronizing.
	p.clock.Advance(time.Minute)
	if err := p.s.Cluster("main").updateSyncedIntegrationsData(); err != nil {
		t.Fatal(err)
	}
	if st := p.assetStatus(t, ctKey); st["sync_status"] != "synchronizing" || st["is_deleted"] != true {
		t.Errorf("before remote run: %v", st)
	}
	p.mustRun(t)
	west := p.s.Cluster("west").ES()
	if _, err := west.ComponentTemplates(nginxTemplate); err == nil {
		t.Error("remote still has the template")
	}
	if len(west.Pipelines(nginxPipeline)) != 0 {
		t.Error("remote still has the pipeline")
	}
	for _, key := range []string{ctKey, plKey} {
		want := map[string]any{"name": nginxTemplate, "type": strings.Split(key, ":")[0], "package_name": "nginx", "package_version": "2.0.0",
			"is_deleted": true, "sync_status": "completed"}
		if d := cmp.Diff(want, p.assetStatus(t, key)); d != "" {
			t.Errorf("%s (-want +got):\n%s", key, d)
		}
	}
}

func TestCustomAssets_ComponentTemplatePutWhenMissingOrNotDeepEqual(t *testing.T) {
	p := withNginxAssets(t, pairOpts{})
	west := p.s.Cluster("west").ES()
	// The remote has its own version; the template part differs, so it is replaced.
	if err := west.PutComponentTemplate(nginxTemplate, json.RawMessage(`{"template":{"settings":{"number_of_replicas":0}},"version":9}`), false); err != nil {
		t.Fatal(err)
	}
	p.mustRun(t)
	cts, _ := west.ComponentTemplates(nginxTemplate)
	if d := cmp.Diff(mustJSON(t, `{"template":{"settings":{"index":{"number_of_replicas":"2"}},"mappings":{"properties":{"tag":{"type":"keyword"}}}}}`), mustJSON(t, string(cts[0].Body))); d != "" {
		t.Errorf("remote template (-want +got):\n%s", d)
	}
	// Only the template part counts: a remote version/_meta of its own is kept when the template is equal.
	if err := west.PutComponentTemplate(nginxTemplate, json.RawMessage(`{"template":{"settings":{"number_of_replicas":2},"mappings":{"properties":{"tag":{"type":"keyword"}}}},"_meta":{"mine":true}}`), false); err != nil {
		t.Fatal(err)
	}
	p.mustRun(t)
	cts, _ = west.ComponentTemplates(nginxTemplate)
	if getPathT(mustJSON(t, string(cts[0].Body)).(map[string]any), "_meta", "mine") != true {
		t.Errorf("an equal template was rewritten: %s", cts[0].Body)
	}
}

func TestCustomAssets_PipelineVersionRules(t *testing.T) {
	tests := []struct {
		name       string
		remote     string // the remote's pipeline before the run
		main       string
		wantRemote string
		wantStatus string
	}{
		{"missing is put", "", pipelineBody, pipelineBody, "completed"},
		{"older version is replaced", `{"version":1,"processors":[]}`, pipelineBodyV2, pipelineBodyV2, "completed"},
		{"newer version is kept", `{"version":3,"processors":[]}`, pipelineBodyV2, `{"version":3,"processors":[]}`, "synchronizing"},
		{"same version, other body is kept", `{"version":2,"processors":[]}`, pipelineBodyV2, `{"version":2,"processors":[]}`, "synchronizing"},
		{"versioned remote, unversioned main is kept", `{"version":2,"processors":[]}`, pipelineBody, `{"version":2,"processors":[]}`, "synchronizing"},
		{"no version and not equal is replaced", `{"processors":[]}`, pipelineBody, pipelineBody, "completed"},
		{"version 0 counts as none", `{"version":0,"processors":[]}`, pipelineBody, pipelineBody, "completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newSyncPair(t, pairOpts{})
			p.main.do("POST", "/api/fleet/epm/packages/nginx/2.0.0", forceInstall).must(t, 200)
			if err := p.s.Cluster("main").ES().PutPipeline(nginxPipeline, json.RawMessage(tt.main)); err != nil {
				t.Fatal(err)
			}
			west := p.s.Cluster("west").ES()
			if tt.remote != "" {
				if err := west.PutPipeline(nginxPipeline, json.RawMessage(tt.remote)); err != nil {
					t.Fatal(err)
				}
			}
			p.mustRun(t)
			if d := cmp.Diff(mustJSON(t, tt.wantRemote), mustJSON(t, string(west.Pipelines(nginxPipeline)[nginxPipeline]))); d != "" {
				t.Errorf("remote pipeline (-want +got):\n%s", d)
			}
			if st := p.assetStatus(t, plKey); st["sync_status"] != tt.wantStatus {
				t.Errorf("status = %v, want %s", st, tt.wantStatus)
			}
		})
	}
}

func TestCustomAssets_FailureRecordedPerAssetAndClearedNextRun(t *testing.T) {
	p := withNginxAssets(t, pairOpts{})
	if err := p.s.AddFault(simhttp.Fault{Cluster: "west", Listener: "es", Method: "PUT", PathPattern: "/_ingest/pipeline/*", Status: 400}); err != nil {
		t.Fatal(err)
	}
	p.mustRun(t)
	inst := p.s.Cluster("west").st.Packages["nginx"]
	f, ok := inst.CustomAssetFailed[plKey]
	wantMsg := "illegal_argument_exception\n\tRoot causes:\n\t\tillegal_argument_exception: simulated failure of [PUT /_ingest/pipeline/" + nginxPipeline + "]"
	if !ok || len(inst.CustomAssetFailed) != 1 || f.Type != "ingest_pipeline" || f.Name != nginxPipeline || f.Error.Name != "ResponseError" ||
		f.Error.Message != wantMsg || !f.CreatedAt.Equal(p.clock.Now()) {
		t.Fatalf("failed attempts = %+v", inst.CustomAssetFailed)
	}
	want := map[string]any{"name": nginxPipeline, "type": "ingest_pipeline", "package_name": "nginx", "package_version": "2.0.0",
		"sync_status": "failed", "error": "Failed to update ingest pipeline " + nginxPipeline + " - reason: " + wantMsg + " at Fri, 27 Nov 2026 10:00:00 GMT"}
	if d := cmp.Diff(want, p.assetStatus(t, plKey)); d != "" {
		t.Errorf("status (-want +got):\n%s", d)
	}
	if st := p.assetStatus(t, ctKey); st["sync_status"] != "completed" {
		t.Errorf("the template is unaffected: %v", st)
	}
	p.s.ClearFaults()
	p.mustRun(t)
	if f := p.s.Cluster("west").st.Packages["nginx"].CustomAssetFailed; len(f) != 0 {
		t.Errorf("failures not cleared: %v", f)
	}
	if st := p.assetStatus(t, plKey); st["sync_status"] != "completed" {
		t.Errorf("after the fault: %v", st)
	}
}

func TestCustomAssets_TransientErrorsRetried(t *testing.T) {
	tests := []struct {
		name       string
		fault      simhttp.Fault
		wantFailed bool
	}{
		{"503 twice then success", simhttp.Fault{Status: 503, Count: 2}, false},
		{"reset once then success", simhttp.Fault{Reset: true, Count: 1}, false},
		{"503 five times then success (five retries)", simhttp.Fault{Status: 503, Count: 5}, false},
		{"503 beyond five retries fails", simhttp.Fault{Status: 503, Count: 6}, true},
		{"410 is transient too", simhttp.Fault{Status: 410, Count: 1}, false},
		{"500 is not retried", simhttp.Fault{Status: 500, Count: 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := withNginxAssets(t, pairOpts{})
			f := tt.fault
			f.Cluster, f.Listener, f.Method, f.PathPattern = "west", "es", "PUT", "/_component_template/*"
			if err := p.s.AddFault(f); err != nil {
				t.Fatal(err)
			}
			p.mustRun(t)
			_, failed := p.s.Cluster("west").st.Packages["nginx"].CustomAssetFailed[ctKey]
			if failed != tt.wantFailed {
				t.Errorf("failed = %v, want %v", failed, tt.wantFailed)
			}
			_, err := p.s.Cluster("west").ES().ComponentTemplates(nginxTemplate)
			if (err == nil) == tt.wantFailed {
				t.Errorf("template on remote: err %v, want failed %v", err, tt.wantFailed)
			}
		})
	}
}

// clearCustomAssetFailedAttempts updates epm-packages/<pkg>; without that
// saved object the update throws and the remote run ends with the error.
func TestCustomAssets_ClearFailsWithoutPackageSavedObject(t *testing.T) {
	s, _ := startMain(t)
	c := s.Cluster("main")
	c.mu.Lock()
	err := c.syncCustomAssets(map[string]*customAsset{"ingest_pipeline:x@custom": {Type: "ingest_pipeline", Name: "x@custom",
		PackageName: "x", PackageVersion: "1.0.0", Pipeline: json.RawMessage(pipelineBody)}}, c.now())
	c.mu.Unlock()
	if err == nil || err.Error() != "Saved object [epm-packages/x] not found" {
		t.Fatalf("err = %v", err)
	}
	if len(c.ES().Pipelines("x@custom")) != 0 {
		t.Error("asset applied although the clear failed")
	}
}

func TestCustomAssets_StatusRules(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	failure := &customAssetFailure{Error: jsErrorDetails{Name: "ResponseError", Message: "boom"}, CreatedAt: at}
	tmpl := json.RawMessage(`{"settings":{"index":{"number_of_replicas":"2"}}}`)
	pl := json.RawMessage(`{"version":2,"processors":[]}`)
	tests := []struct {
		name      string
		asset     customAsset
		installed any // nil: absent
		failure   *customAssetFailure
		want      map[string]any
	}{
		{"template missing", customAsset{Type: "component_template", Template: tmpl}, nil, nil,
			map[string]any{"sync_status": "synchronizing"}},
		{"template missing with a recorded error", customAsset{Type: "component_template", Template: tmpl}, nil, failure,
			map[string]any{"sync_status": "failed", "error": "Failed to update component template a@custom - reason: boom at Fri, 27 Nov 2026 10:00:00 GMT"}},
		{"deleted and absent", customAsset{Type: "component_template", IsDeleted: true, Template: tmpl}, nil, failure,
			map[string]any{"sync_status": "completed", "is_deleted": true}},
		{"deleted but present", customAsset{Type: "ingest_pipeline", IsDeleted: true, Pipeline: pl}, decodeAny(pl), nil,
			map[string]any{"sync_status": "synchronizing", "is_deleted": true}},
		{"deleted but present with error", customAsset{Type: "ingest_pipeline", IsDeleted: true, Pipeline: pl}, decodeAny(pl), failure,
			map[string]any{"sync_status": "failed", "is_deleted": true, "error": "Failed to update ingest pipeline a@custom - reason: boom at Fri, 27 Nov 2026 10:00:00 GMT"}},
		{"equal template", customAsset{Type: "component_template", Template: tmpl}, decodeAny(tmpl), failure,
			map[string]any{"sync_status": "completed"}},
		{"different template", customAsset{Type: "component_template", Template: tmpl}, map[string]any{}, nil,
			map[string]any{"sync_status": "synchronizing"}},
		{"older pipeline version", customAsset{Type: "ingest_pipeline", Pipeline: pl}, decodeAny([]byte(`{"version":1,"processors":[]}`)), failure,
			map[string]any{"sync_status": "failed", "error": "Failed to update ingest pipeline a@custom - reason: boom at Fri, 27 Nov 2026 10:00:00 GMT"}},
		{"equal pipeline", customAsset{Type: "ingest_pipeline", Pipeline: pl}, decodeAny(pl), nil,
			map[string]any{"sync_status": "completed"}},
		{"error without message or time", customAsset{Type: "ingest_pipeline", Pipeline: pl}, nil, &customAssetFailure{},
			map[string]any{"sync_status": "failed", "error": "Failed to update ingest pipeline a@custom  "}},
	}
	s, _ := startMain(t)
	c := s.Cluster("main")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.asset
			a.Name, a.PackageName, a.PackageVersion = "a@custom", "nginx", "2.0.0"
			c.st.Packages["nginx"] = &installation{Name: "nginx", Version: "2.0.0", Status: "installed"}
			if tt.failure != nil {
				c.st.Packages["nginx"].CustomAssetFailed = map[string]customAssetFailure{a.key(): *tt.failure}
			}
			installed := map[string]any{}
			if tt.installed != nil {
				installed["a@custom"] = tt.installed
			}
			got := c.compareCustomAsset(&a, installed, installed)
			want := map[string]any{"name": "a@custom", "type": a.Type, "package_name": "nginx", "package_version": "2.0.0"}
			for k, v := range tt.want {
				want[k] = v
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
