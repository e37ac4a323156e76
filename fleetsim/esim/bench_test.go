package esim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func benchNode(b *testing.B, docs int) *Node {
	b.Helper()
	n := New(Config{})
	for i := range docs {
		src := fmt.Sprintf(`{"kind":"output","id":"o%d","instance":"default","hash":"%064d"}`, i, i)
		if _, err := n.IndexDoc("fleetform-state", fmt.Sprint(i), json.RawMessage(src)); err != nil {
			b.Fatal(err)
		}
	}
	return n
}

// BenchmarkHTTP_GetDoc measures GET /{index}/_doc/{id} through the handler,
// including Basic authentication.
func BenchmarkHTTP_GetDoc(b *testing.B) {
	h := benchNode(b, 1000).Handler()
	req := httptest.NewRequest("GET", "/fleetform-state/_doc/500", nil)
	req.Header.Set("Authorization", superuser)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkHTTP_Search measures a term search over 1,000 documents returning 100.
func BenchmarkHTTP_Search(b *testing.B) {
	h := benchNode(b, 1000).Handler()
	body := `{"query":{"bool":{"filter":[{"term":{"kind":"output"}},{"term":{"instance":"default"}}]}},"size":100,"sort":[{"id":"asc"}]}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/fleetform-state/_search", strings.NewReader(body))
		req.Header.Set("Authorization", superuser)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkGoAPI_GetDoc is the in-process path the Kibana simulator uses.
func BenchmarkGoAPI_GetDoc(b *testing.B) {
	n := benchNode(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := n.GetDoc("fleetform-state", "500"); !ok {
			b.Fatal("missing")
		}
	}
}
