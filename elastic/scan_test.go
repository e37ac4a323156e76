package elastic_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
)

// TestScanAs_MatchesScan: ScanAs decodes each page once into typed hits;
// it must deliver the same hits as Scan, in the same order, across pages,
// and give a hit whose _source is not a T its own error (the one
// json.Unmarshal gives for that _source) without losing the others.
func TestScanAs_MatchesScan(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	c := esClient(t, sim.Cluster("main").ESURL(), superuser)
	ctx := context.Background()
	if err := c.CreateIndex(ctx, "scan-as", nil); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		src := map[string]any{"n": i, "name": fmt.Sprintf("d%d", i)}
		if i == 3 {
			src["n"] = "three" // not an int: this hit alone fails to decode
		}
		if _, err := c.IndexDoc(ctx, "scan-as", fmt.Sprintf("d%d", i), src, elastic.IndexOptions{Refresh: "wait_for"}); err != nil {
			t.Fatal(err)
		}
	}
	type rec struct {
		N    int    `json:"n"`
		Name string `json:"name"`
	}
	for _, page := range []int{2, 7, 100} {
		t.Run(fmt.Sprint("page ", page), func(t *testing.T) {
			var raw []elastic.Doc
			if err := c.Scan(ctx, "scan-as", nil, page, func(d elastic.Doc) error { raw = append(raw, d); return nil }); err != nil {
				t.Fatal(err)
			}
			var typed []elastic.Hit[rec]
			if err := elastic.ScanAs(ctx, c, "scan-as", nil, page, func(h elastic.Hit[rec]) error { typed = append(typed, h); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(raw) != 7 || len(typed) != len(raw) {
				t.Fatalf("Scan gave %d hits, ScanAs %d, want 7", len(raw), len(typed))
			}
			for i, d := range raw {
				h := typed[i]
				if h.ID != d.ID || h.Index != d.Index || h.SeqNo != d.SeqNo || h.PrimaryTerm != d.PrimaryTerm || h.Version != d.Version {
					t.Errorf("hit %d: ScanAs %+v, Scan %+v", i, h, d)
				}
				var want rec
				wantErr := json.Unmarshal(d.Source, &want)
				switch {
				case wantErr != nil:
					if h.Err == nil || h.Err.Error() != wantErr.Error() || h.Source != (rec{}) {
						t.Errorf("hit %s: Err %v, Source %+v; want Err %v and a zero Source", h.ID, h.Err, h.Source, wantErr)
					}
				case h.Err != nil || h.Source != want:
					t.Errorf("hit %s: Source %+v, Err %v; want %+v", h.ID, h.Source, h.Err, want)
				}
			}
		})
	}

	stop := errors.New("stop")
	n := 0
	err := elastic.ScanAs(ctx, c, "scan-as", nil, 2, func(elastic.Hit[rec]) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("fn's error: got %v after %d hits, want it unwrapped after 1", err, n)
	}
	err = elastic.ScanAs(ctx, c, "no-such-index", nil, 0, func(elastic.Hit[rec]) error { return nil })
	if elastic.ErrorType(err) != "index_not_found_exception" || elastic.StatusCode(err) != 404 {
		t.Errorf("missing index: %v", err)
	}
}
