package kibana

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkListAgentPolicies2000 measures the client's share of observing
// 2,000 agent policies: two requests of 1,000 and their decoding.
func BenchmarkListAgentPolicies2000(b *testing.B) {
	pages := map[string][]byte{}
	for page := 1; page <= 2; page++ {
		var items []map[string]any
		for i := (page - 1) * 1000; i < page*1000; i++ {
			items = append(items, map[string]any{
				"id": fmt.Sprintf("policy-%04d", i), "name": fmt.Sprintf("Policy %d", i), "namespace": "default",
				"description": "benchmark", "data_output_id": "remote-west", "monitoring_output_id": nil, "revision": 3,
				"is_managed": false, "is_protected": false, "status": "active", "inactivity_timeout": 1209600,
				"updated_at": "2026-11-27T12:00:00.000Z", "updated_by": "elastic", "schema_version": "1.1.1",
				"monitoring_enabled": []string{"logs", "metrics"}, "space_ids": []string{"default"},
			})
		}
		pages[strconv.Itoa(page)], _ = json.Marshal(map[string]any{"items": items, "total": 2000, "page": page, "perPage": 1000})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(pages[r.URL.Query().Get("page")])
	}))
	b.Cleanup(srv.Close)
	c, err := New(srv.URL, apiKeyAuth())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		got, err := c.ListAgentPolicies(ctx, ListOptions{})
		if err != nil || len(got) != 2000 {
			b.Fatalf("%d, %v", len(got), err)
		}
	}
}
