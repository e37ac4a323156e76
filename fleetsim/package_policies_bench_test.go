package fleetsim

import (
	"encoding/json"
	"fmt"
	"testing"
)

// scaleCluster holds 2,000 agent policies, 4,000 package policies (two per
// agent policy, alternately nginx and system), 20 proxies and 20 Fleet
// Server hosts. viaAPI creates the package policies through the API (full
// inputs from the manifests, as the benchmarks need); otherwise they are
// seeded without inputs, which is quicker under -race.
func scaleCluster(tb testing.TB, viaAPI bool) *Cluster {
	tb.Helper()
	s := New(Options{})
	c, err := s.AddCluster(ClusterConfig{Name: "main"})
	if err != nil {
		tb.Fatal(err)
	}
	h := c.KibanaHandler()
	post := func(path, body string) {
		if rec := serve(h, "POST", path, body); rec.Code != 200 {
			tb.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	seed := &ClusterSeed{}
	for i := range 2000 {
		seed.AgentPolicies = append(seed.AgentPolicies, SeedAgentPolicy{ID: fmt.Sprintf("policy-%04d", i), Name: fmt.Sprintf("Policy %d", i)})
	}
	for i := range 4000 {
		pkg, version := "nginx", "2.1.0"
		if i%2 == 1 {
			pkg, version = "system", "2.0.0"
		}
		if viaAPI {
			continue
		}
		pp := SeedPackagePolicy{ID: fmt.Sprintf("pp-%04d", i), Name: fmt.Sprintf("pp-%04d", i), PolicyIDs: []string{fmt.Sprintf("policy-%04d", i/2)}}
		pp.Package.Name, pp.Package.Version = pkg, version
		seed.PackagePolicies = append(seed.PackagePolicies, pp)
	}
	if err := s.Seed(&SeedFile{Clusters: map[string]*ClusterSeed{"main": seed}}); err != nil {
		tb.Fatal(err)
	}
	for i := range 4000 {
		if !viaAPI {
			break
		}
		pkg, version := "nginx", "2.1.0"
		if i%2 == 1 {
			pkg, version = "system", "2.0.0"
		}
		post("/api/fleet/package_policies", fmt.Sprintf(`{"name":"pp-%04d","namespace":"default","policy_ids":["policy-%04d"],"package":{"name":%q,"version":%q}}`, i, i/2, pkg, version))
	}
	for i := range 20 {
		post("/api/fleet/proxies", fmt.Sprintf(`{"id":"proxy-%02d","name":"proxy %d","url":"http://proxy-%d.example:3128"}`, i, i, i))
		post("/api/fleet/fleet_server_hosts", fmt.Sprintf(`{"id":"fsh-%02d","name":"fsh %d","host_urls":["https://fs-%d.example:8220"],"proxy_id":"proxy-%02d"}`, i, i, i, i))
	}
	return c
}

type listPage struct {
	Items []struct {
		ID string `json:"id"`
	} `json:"items"`
	Total int `json:"total"`
}

func getList(tb testing.TB, c *Cluster, path string) listPage {
	tb.Helper()
	rec := serve(c.KibanaHandler(), "GET", path, "")
	if rec.Code != 200 {
		tb.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	var p listPage
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestScale_ListsServeEveryObjectPaged: 4,000 package policies come in 4
// pages of 1,000 with distinct ids; proxies and Fleet Server hosts in one
// call each.
func TestScale_ListsServeEveryObjectPaged(t *testing.T) {
	c := scaleCluster(t, false)
	seen := map[string]bool{}
	pages := 0
	for page := 1; ; page++ {
		p := getList(t, c, fmt.Sprintf("/api/fleet/package_policies?perPage=1000&page=%d&format=simplified", page))
		if p.Total != 4000 {
			t.Fatalf("total %d", p.Total)
		}
		if len(p.Items) == 0 {
			break
		}
		pages++
		for _, it := range p.Items {
			seen[it.ID] = true
		}
	}
	if pages != 4 || len(seen) != 4000 {
		t.Errorf("pages %d, distinct items %d; want 4 and 4000", pages, len(seen))
	}
	for _, path := range []string{"/api/fleet/proxies", "/api/fleet/fleet_server_hosts"} {
		if p := getList(t, c, path); len(p.Items) != 20 || p.Total != 20 {
			t.Errorf("%s: %d items, total %d", path, len(p.Items), p.Total)
		}
	}
}

// BenchmarkListPackagePolicies4000 reads 4,000 package policies in the
// simplified format, 4 pages of 1,000 (what one observe of the kind costs).
func BenchmarkListPackagePolicies4000(b *testing.B) {
	c := scaleCluster(b, true)
	b.ResetTimer()
	for b.Loop() {
		for page := 1; page <= 4; page++ {
			if p := getList(b, c, fmt.Sprintf("/api/fleet/package_policies?perPage=1000&page=%d&format=simplified", page)); len(p.Items) != 1000 {
				b.Fatalf("page %d: %d items", page, len(p.Items))
			}
		}
	}
}

// BenchmarkListSettings20 reads 20 proxies and 20 Fleet Server hosts.
func BenchmarkListSettings20(b *testing.B) {
	c := scaleCluster(b, true)
	b.ResetTimer()
	for b.Loop() {
		getList(b, c, "/api/fleet/proxies")
		getList(b, c, "/api/fleet/fleet_server_hosts")
	}
}

// BenchmarkServePackagePolicies4000 is the server side alone: 4 pages of
// 1,000 written, not decoded; it reports the bytes a full read transfers.
func BenchmarkServePackagePolicies4000(b *testing.B) {
	c := scaleCluster(b, true)
	h := c.KibanaHandler()
	b.ResetTimer()
	size := 0
	for b.Loop() {
		size = 0
		for page := 1; page <= 4; page++ {
			rec := serve(h, "GET", fmt.Sprintf("/api/fleet/package_policies?perPage=1000&page=%d&format=simplified", page), "")
			if rec.Code != 200 {
				b.Fatalf("page %d: %d", page, rec.Code)
			}
			size += rec.Body.Len()
		}
	}
	b.ReportMetric(float64(size), "bytes/read")
}
