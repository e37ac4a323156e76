package kibana

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// policyServer pages n agent policies like Kibana: page, perPage, total.
func policyServer(n int, moved func(page int) []map[string]any) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		q := r.URL.Query()
		page, _ := strconv.Atoi(q.Get("page"))
		per, _ := strconv.Atoi(q.Get("perPage"))
		if per > 100 && (q.Get("withAgentCount") == "true" || q.Get("noAgentCount") == "false") {
			kibanaError(w, 400, "perPage should be less or equal to 100 when fetching full policies or agent count.", nil)
			return
		}
		var items []map[string]any
		if moved != nil {
			items = moved(page)
		}
		if items == nil {
			for i := (page - 1) * per; i < min(page*per, n); i++ {
				items = append(items, map[string]any{"id": fmt.Sprintf("p%04d", i), "name": fmt.Sprintf("Policy %d", i), "namespace": "default", "revision": 1})
			}
		}
		writeJSON(w, 200, map[string]any{"items": items, "total": n, "page": page, "perPage": per})
	}
}

func TestListAgentPolicies_Paging(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		opts      ListOptions
		wantQuery []string
	}{
		{"2000 policies in 2 pages of 1000", 2000, ListOptions{},
			[]string{"page=1&perPage=1000", "page=2&perPage=1000"}},
		{"perPage above 1000 is capped", 1500, ListOptions{PerPage: 5000},
			[]string{"page=1&perPage=1000", "page=2&perPage=1000"}},
		{"agent counts need pages of 100", 250, ListOptions{WithAgentCount: true},
			[]string{"noAgentCount=false&page=1&perPage=100", "noAgentCount=false&page=2&perPage=100", "noAgentCount=false&page=3&perPage=100"}},
		{"kuery passed through", 3, ListOptions{Kuery: `ingest-agent-policies.data_output_id:"x"`, PerPage: 2},
			[]string{"kuery=ingest-agent-policies.data_output_id%3A%22x%22&page=1&perPage=2", "kuery=ingest-agent-policies.data_output_id%3A%22x%22&page=2&perPage=2"}},
		{"empty", 0, ListOptions{}, []string{"page=1&perPage=1000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, policyServer(tt.n, nil), apiKeyAuth())
			got, err := e.c.ListAgentPolicies(context.Background(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.n {
				t.Errorf("got %d policies, want %d", len(got), tt.n)
			}
			for i, p := range got {
				if want := fmt.Sprintf("p%04d", i); p.ID != want {
					t.Fatalf("policy %d = %s, want %s", i, p.ID, want)
				}
			}
			var queries []string
			for _, r := range e.f.requests() {
				if r.Path != "/api/fleet/agent_policies" {
					t.Errorf("path %s", r.Path)
				}
				queries = append(queries, r.Query)
			}
			if d := cmp.Diff(tt.wantQuery, queries); d != "" {
				t.Errorf("queries (-want +got):\n%s", d)
			}
		})
	}
}

func TestListAgentPolicies_ListMovedWhilePaging(t *testing.T) {
	walks := 0
	e := newEnv(t, policyServer(4, func(page int) []map[string]any {
		if page == 1 {
			walks++
		}
		if walks == 1 && page == 2 { // p0001 moved to page 2 after an update: p0002 was skipped
			return []map[string]any{{"id": "p0001"}, {"id": "p0003"}}
		}
		return nil
	}), apiKeyAuth())
	got, err := e.c.ListAgentPolicies(context.Background(), ListOptions{PerPage: 2})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range got {
		ids = append(ids, p.ID)
	}
	if d := cmp.Diff([]string{"p0000", "p0001", "p0002", "p0003"}, ids); d != "" {
		t.Errorf("ids (-want +got):\n%s", d)
	}
	if walks != 2 {
		t.Errorf("walks = %d, want 2 (the first walk saw 3 of 4)", walks)
	}
}

func TestListAgentPolicies_ServerIgnoringPageDoesNotLoop(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 200, map[string]any{"items": []any{map[string]any{"id": "a"}}, "total": 5})
	}, apiKeyAuth())
	_, err := e.c.ListAgentPolicies(context.Background(), ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "kept changing while paging (1 of 5 items)") {
		t.Errorf("err = %v", err)
	}
	if n := len(e.f.requests()); n != 6 {
		t.Errorf("requests = %d, want 3 walks of 2", n)
	}
}

// installedServer serves n installed packages with searchAfter paging,
// sorted by name, never more than limit per page (Kibana's default is 15).
func installedServer(t *testing.T, n, limit int) func(http.ResponseWriter, *http.Request, int) {
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("pkg%03d", i))
	}
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		q := r.URL.Query()
		per, _ := strconv.Atoi(q.Get("perPage"))
		if per == 0 {
			per = 15
		}
		per = min(per, limit)
		start := 0
		if after := q["searchAfter"]; len(after) > 0 {
			if len(after) != 2 || after[1] != "1732700000000" {
				t.Errorf("searchAfter = %v, want [name 1732700000000]", after)
			}
			start, _ = slices.BinarySearch(names, after[0])
			start++
		}
		end := min(start+per, n)
		var items []any
		for _, nm := range names[start:end] {
			items = append(items, map[string]any{"name": nm, "version": "1.0.0", "status": "installed", "dataStreams": []any{}})
		}
		resp := map[string]any{"items": items, "total": n}
		if end > start {
			// a numeric sort value as Kibana returns it: must come back verbatim, not as 1.7327e+12
			resp["searchAfter"] = []any{names[end-1], 1732700000000}
		}
		writeJSON(w, 200, resp)
	}
}

func TestListInstalledPackages_SearchAfter(t *testing.T) {
	tests := []struct {
		name     string
		n, limit int
		wantReqs int
	}{
		{"40 packages, server caps pages at 15", 40, 15, 3},
		{"40 packages in one page of 100", 40, 1000, 1},
		{"250 packages in pages of 100", 250, 1000, 3},
		{"none", 0, 1000, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, installedServer(t, tt.n, tt.limit), apiKeyAuth())
			got, err := e.c.ListInstalledPackages(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.n {
				t.Errorf("got %d packages, want %d", len(got), tt.n)
			}
			for i, p := range got {
				if want := fmt.Sprintf("pkg%03d", i); p.Name != want || p.Version != "1.0.0" || p.Status != "installed" {
					t.Fatalf("package %d = %+v, want %s", i, p, want)
				}
			}
			reqs := e.f.requests()
			if len(reqs) != tt.wantReqs {
				t.Errorf("requests = %d, want %d", len(reqs), tt.wantReqs)
			}
			for _, r := range reqs {
				q, _ := url.ParseQuery(r.Query)
				if r.Path != "/api/fleet/epm/packages/installed" || q.Get("perPage") != "100" {
					t.Errorf("request %s?%s", r.Path, r.Query)
				}
			}
		})
	}
}

func TestListInstalledPackages_StuckCursorIsAnError(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 200, map[string]any{"items": []any{map[string]any{"name": "a"}}, "total": 3, "searchAfter": []any{"a"}})
	}, apiKeyAuth())
	if _, err := e.c.ListInstalledPackages(context.Background()); err == nil || !strings.Contains(err.Error(), "did not advance") {
		t.Errorf("err = %v", err)
	}
}

func TestDecoding(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		switch r.URL.Path {
		case "/api/fleet/package_policies":
			writeJSON(w, 200, map[string]any{"total": 2, "items": []any{
				map[string]any{"id": "pp1", "name": "nginx-1", "policy_id": "p1", "policy_ids": []any{"p1", "p2"}, "package": map[string]any{"name": "nginx", "version": "2.0.0"}, "output_id": "o1", "agents": 3},
				map[string]any{"id": "pp2", "name": "sys", "policy_ids": []any{"p3"}, "package": map[string]any{"name": "system", "version": "1.5.0"}, "output_id": nil},
			}})
		case "/api/fleet/epm/packages":
			writeJSON(w, 200, map[string]any{"items": []any{
				map[string]any{"name": "nginx", "version": "2.1.0", "status": "installed", "installationInfo": map[string]any{"version": "2.0.0", "install_status": "installed"}},
				map[string]any{"name": "apache", "version": "1.0.0", "status": "not_installed"},
			}})
		case "/api/fleet/agent_policies":
			writeJSON(w, 200, map[string]any{"total": 2, "items": []any{
				map[string]any{"id": "a", "name": "A", "namespace": "default", "revision": 4, "data_output_id": "o1", "is_managed": true, "inactivity_timeout": 1209600, "agents": 2, "supports_agentless": true},
				map[string]any{"id": "b", "name": "B", "namespace": "prod", "data_output_id": nil, "has_fleet_server": true, "is_preconfigured": true},
			}})
		}
	}, apiKeyAuth())
	ctx := context.Background()
	pps, err := e.c.ListPackagePolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o1 := "o1"
	for _, p := range pps {
		p.Raw = nil
	}
	wantPP := []PackagePolicy{
		{ID: "pp1", Name: "nginx-1", PolicyID: "p1", PolicyIDs: []string{"p1", "p2"}, Package: PackageRef{"nginx", "2.0.0"}, OutputID: &o1, Agents: 3},
		{ID: "pp2", Name: "sys", PolicyID: "p3", PolicyIDs: []string{"p3"}, Package: PackageRef{"system", "1.5.0"}},
	}
	if d := cmp.Diff(wantPP, pps, cmpIgnoreRaw()); d != "" {
		t.Errorf("package policies (-want +got):\n%s", d)
	}
	pkgs, err := e.c.ListPackages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantPkgs := []Package{
		{Name: "nginx", Version: "2.1.0", Status: "installed", InstalledVersion: "2.0.0", InstallStatus: "installed"},
		{Name: "apache", Version: "1.0.0", Status: "not_installed"},
	}
	if d := cmp.Diff(wantPkgs, pkgs); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
	pols, err := e.c.ListAgentPolicies(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	timeout := 1209600
	wantPols := []AgentPolicy{
		{ID: "a", Name: "A", Namespace: "default", Revision: 4, DataOutputID: &o1, IsManaged: true, InactivityTimeout: &timeout, Agents: 2, SupportsAgentless: true},
		{ID: "b", Name: "B", Namespace: "prod", HasFleetServer: true, IsPreconfigured: true},
	}
	if d := cmp.Diff(wantPols, pols, cmpIgnoreRaw()); d != "" {
		t.Errorf("agent policies (-want +got):\n%s", d)
	}
	if v, present := pols[1].Raw["data_output_id"]; !present || v != nil {
		t.Errorf("Raw keeps explicit null: %v %v", v, present)
	}
	if _, present := pols[0].Raw["monitoring_output_id"]; present {
		t.Error("Raw invents absent keys")
	}
	gotQ := e.f.requests()[0].Query
	if gotQ != "page=1&perPage=1000&withAgentCount=true" {
		t.Errorf("package policy query = %s", gotQ)
	}
}

func cmpIgnoreRaw() cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Raw" }, cmp.Ignore())
}

func TestOutputAccessors(t *testing.T) {
	o := Output{"id": "remote-west", "type": "remote_elasticsearch", "name": "West", "is_default": true,
		"is_preconfigured": true, "secrets": map[string]any{"service_token": map[string]any{"id": "sec-1"}, "ssl": map[string]any{"key": map[string]any{"id": "sec-2"}}}}
	if o.ID() != "remote-west" || o.Type() != "remote_elasticsearch" || o.Name() != "West" || !o.IsDefault() || o.IsDefaultMonitoring() || !o.IsPreconfigured() {
		t.Errorf("accessors wrong for %v", o)
	}
	if got := o.SecretID("service_token"); got != "sec-1" {
		t.Errorf("SecretID(service_token) = %q", got)
	}
	if got := o.SecretID("ssl", "key"); got != "sec-2" {
		t.Errorf("SecretID(ssl.key) = %q", got)
	}
	if got := (Output{}).SecretID("service_token"); got != "" {
		t.Errorf("SecretID on output without secrets = %q", got)
	}
}

func TestPackageCalls(t *testing.T) {
	e := newEnv(t, ok, apiKeyAuth())
	ctx := context.Background()
	if err := e.c.InstallPackage(ctx, "nginx", "2.0.0", true); err != nil {
		t.Fatal(err)
	}
	if err := e.c.UninstallPackage(ctx, "nginx", "2.0.0", true); err != nil {
		t.Fatal(err)
	}
	if err := e.c.UninstallPackage(ctx, "apache", "", false); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range e.f.requests() {
		got = append(got, strings.TrimSpace(r.Method+" "+r.Path+"?"+r.Query+" "+r.Body))
	}
	want := []string{
		`POST /api/fleet/epm/packages/nginx/2.0.0? {"force":true}`,
		`DELETE /api/fleet/epm/packages/nginx/2.0.0?force=true`,
		`DELETE /api/fleet/epm/packages/apache?`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}

func TestOutputPrintingRedactsPlainCredentials(t *testing.T) {
	const token, apiKey, key = "plain-service-token-value", "kibana-api-key-value", "-----BEGIN PRIVATE KEY-----abc"
	o := Output{"id": "r", "type": "remote_elasticsearch", "service_token": token, "kibana_api_key": apiKey,
		"ssl": map[string]any{"key": key, "certificate": "cert"}, "password": nil,
		"secrets": map[string]any{"service_token": map[string]any{"id": "sec-1"}}}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("observed", "output", o)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("observed", "output", o)
	printed := fmt.Sprintf("%v %+v %#v %s %q", o, o, o, o, o) + fmt.Sprint(o) + fmt.Sprint([]Output{o}) + logs.String()
	for _, s := range []string{token, apiKey, key} {
		if strings.Contains(printed, s) {
			t.Errorf("%q printed:\n%s", s, printed)
		}
	}
	for _, s := range []string{"sec-1", "cert", `"id":"r"`} {
		if !strings.Contains(fmt.Sprint(o), s) {
			t.Errorf("redacted form lost %q: %s", s, o)
		}
	}
	if o["service_token"] != token || o["ssl"].(map[string]any)["key"] != key {
		t.Error("Redacted modified the original output")
	}
	b, _ := json.Marshal(o)
	if !strings.Contains(string(b), token) {
		t.Error("JSON encoding must keep the data (the reconciler compares it)")
	}
}
