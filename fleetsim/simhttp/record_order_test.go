package simhttp

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A request is in the log before its client can have the answer: a test
// that counts requests right after its calls returned must see them all,
// even when the handler goes on after writing a complete (Content-Length)
// answer. Recorded only after the handler returned, it was missing here.
func TestMiddleware_RecordsBeforeTheClientHasTheAnswer(t *testing.T) {
	rec := NewRecorder(Options{})
	release := make(chan struct{})
	done := make(chan struct{})
	h := rec.Middleware("main", "kibana", nil, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		defer close(done)
		w.Header().Set("Content-Length", "2")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("{}"))
		w.(http.Flusher).Flush()
		<-release // the handler is still running when the client has read everything
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/api/fleet/outputs", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := rec.Requests()
	close(release)
	<-done
	if len(got) != 1 || got[0].Method != http.MethodPost || got[0].Status != http.StatusCreated {
		t.Fatalf("log when the client had the answer: %+v", got)
	}
	if n := len(rec.Requests()); n != 1 {
		t.Errorf("recorded %d times", n)
	}
}
