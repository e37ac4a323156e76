package kibana

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkListIntegrationPolicies4000 measures the client's share of
// observing 4,000 integration policies: four requests of 1,000 nginx
// policies in the simplified format (every input and stream listed with
// its vars, as Kibana answers), and their decoding.
func BenchmarkListIntegrationPolicies4000(b *testing.B) {
	const item = `{"id":"pp-%04d","version":"WzEsMV0=","name":"pp-%04d","namespace":"default","description":"",` +
		`"package":{"name":"nginx","title":"Nginx","version":"2.1.0"},"enabled":true,"policy_id":"policy-%04d","policy_ids":["policy-%04d"],` +
		`"output_id":null,"revision":1,"created_at":"2026-11-27T12:00:00.000Z","created_by":"elastic","updated_at":"2026-11-27T12:00:00.000Z","updated_by":"elastic",` +
		`"vars":{},"inputs":{` +
		`"nginx-logfile":{"enabled":true,"streams":{` +
		`"nginx.access":{"enabled":true,"vars":{"paths":["/srv/%d/access.log"],"tags":["nginx-access"],"preserve_original_event":false,"processors":null,"ignore_older":"72h"}},` +
		`"nginx.error":{"enabled":true,"vars":{"paths":["/var/log/nginx/error.log*"],"tags":["nginx-error"],"preserve_original_event":false,"processors":null,"ignore_older":"72h"}}}},` +
		`"nginx-httpjson":{"enabled":false,"vars":{"url":"https://server.example.com:8089","ssl":null},"streams":{` +
		`"nginx.access":{"enabled":false,"vars":{"interval":"10s","search":"search sourcetype=nginx:plus:access","tags":["forwarded","nginx-access"],"preserve_original_event":false,"processors":null}},` +
		`"nginx.error":{"enabled":false,"vars":{"interval":"10s","search":"search sourcetype=nginx:plus:error","tags":["forwarded","nginx-error"],"processors":null}}}},` +
		`"nginx-nginx/metrics":{"enabled":true,"vars":{"hosts":["http://127.0.0.1:80"]},"streams":{` +
		`"nginx.stubstatus":{"enabled":true,"vars":{"period":"10s","server_status_path":"/nginx_status","tags":null,"processors":null}}}}}}`
	pages := map[string][]byte{}
	for page := 1; page <= 4; page++ {
		var items []string
		for i := (page - 1) * 1000; i < page*1000; i++ {
			items = append(items, fmt.Sprintf(item, i, i, i/2, i/2, i))
		}
		pages[strconv.Itoa(page)] = fmt.Appendf(nil, `{"items":[%s],"total":4000,"page":%d,"perPage":1000}`, strings.Join(items, ","), page)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := pages[r.URL.Query().Get("page")]
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(p)))
		_, _ = w.Write(p)
	}))
	b.Cleanup(srv.Close)
	c, err := New(srv.URL, apiKeyAuth())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		got, err := c.ListIntegrationPolicies(ctx, IntegrationPolicyListOptions{})
		if err != nil || len(got) != 4000 {
			b.Fatalf("%d, %v", len(got), err)
		}
		if _, ok, err := got[3999].Input("nginx-logfile"); !ok || err != nil {
			b.Fatalf("input: %v %v", ok, err)
		}
	}
}
