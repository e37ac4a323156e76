package elastic

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestProductCheck follows go-elasticsearch's BaseClient.Perform
// (elasticsearch.go, genuineCheckHeader): a 2xx answer without
// "X-Elastic-Product: Elasticsearch" is refused until one has passed.
func TestProductCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		product string
		wantErr bool
	}{
		{"elasticsearch", "Elasticsearch", false},
		{"missing header", "", true},
		{"other product", "Kibana", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.product != "" {
					w.Header().Set("X-Elastic-Product", tc.product)
				}
				w.Write([]byte(`{"cluster_name":"c","version":{"number":"9.1.0"}}`))
			}))
			defer srv.Close()
			c, err := New(srv.URL, Auth{}, WithRetry(1, 0))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Info(context.Background())
			if got := errors.Is(err, errUnknownProduct); got != tc.wantErr {
				t.Fatalf("Info: err = %v, want product error %v", err, tc.wantErr)
			}
		})
	}
}
