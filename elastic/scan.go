package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// pitKeepAlive is how long a point in time stays open between two pages.
const pitKeepAlive = "1m"

// DefaultScanPage is the page size of Scan (Elasticsearch's largest window
// without raising index.max_result_window is 10,000).
const DefaultScanPage = 1000

// OpenPIT opens a point in time over index (POST /{index}/_pit) and returns
// its id. A missing index is a 404 *Error of type index_not_found_exception.
func (c *Client) OpenPIT(ctx context.Context, index, keepAlive string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.doJSON(ctx, call{method: http.MethodPost, path: "/" + pathEscape(index) + "/_pit", safePost: true,
		send: func(ctx context.Context) (*esapi.Response, error) {
			return esapi.OpenPointInTimeRequest{Index: []string{index}, KeepAlive: keepAlive}.Do(ctx, c.es)
		}}, &out)
	if err == nil && out.ID == "" {
		err = errors.New("POST /" + pathEscape(index) + "/_pit: answer has no id")
	}
	return out.ID, err
}

// ClosePIT closes a point in time (DELETE /_pit); an unknown or expired id
// is not an error.
func (c *Client) ClosePIT(ctx context.Context, id string) error {
	_, _, err := c.do(ctx, call{method: http.MethodDelete, path: "/_pit",
		send: func(ctx context.Context) (*esapi.Response, error) {
			b, err := jsonBody(map[string]string{"id": id})
			if err != nil {
				return nil, err
			}
			return esapi.ClosePointInTimeRequest{Body: b}.Do(ctx, c.es)
		}}, true)
	return err
}

// Scan calls fn for every document of index matching query (nil: all),
// however many there are: it opens a point in time and pages through it
// with search_after over the _shard_doc sort, as Elasticsearch recommends
// for reading past 10,000 hits (a plain search returns at most
// index.max_result_window and counts hits.total only up to 10,000). page
// is the page size (0: DefaultScanPage). The point in time is closed when
// Scan returns. A missing index is the 404 *Error of opening the point in time.
func (c *Client) Scan(ctx context.Context, index string, query any, page int, fn func(Doc) error) error {
	return c.scan(ctx, index, query, page, func(k call, b []byte) (scanned, error) {
		var out rawPage
		if err := decode(k, b, &out); err != nil {
			return scanned{}, err
		}
		return pageScanned(&out, rawSort, func(h rawHit) error { return fn(h.Doc) }), nil
	})
}

// Hit is one document read by ScanAs, its _source decoded into a T.
type Hit[T any] struct {
	Index       string
	ID          string
	SeqNo       int64
	PrimaryTerm int64
	Version     int64
	Source      T
	// Err is set when this hit's _source does not decode into a T (or the
	// hit has none): the error json.Unmarshal gives for it. Source is then
	// the zero T. The other hits of the page are still delivered.
	Err error
}

// ScanAs is Scan decoding each page once, straight into typed hits, rather
// than keeping every _source raw for a second decode. When a page does not
// decode that way (a _source that is not a T, or a hit without _source), it
// is decoded as Scan would and each _source on its own, so the hits that
// fail carry their error in Hit.Err and the others are delivered as usual.
func ScanAs[T any](ctx context.Context, c *Client, index string, query any, page int, fn func(Hit[T]) error) error {
	return c.scan(ctx, index, query, page, func(k call, b []byte) (scanned, error) {
		var typed typedPage[T]
		if json.Unmarshal(b, &typed) == nil && complete(&typed) {
			return pageScanned(&typed, func(h *typedHit[T]) json.RawMessage { return h.Sort }, func(h typedHit[T]) error {
				return fn(Hit[T]{Index: h.Index, ID: h.ID, SeqNo: h.SeqNo, PrimaryTerm: h.PrimaryTerm,
					Version: h.Version, Source: *h.Source})
			}), nil
		}
		var out rawPage
		if err := decode(k, b, &out); err != nil {
			return scanned{}, err
		}
		return pageScanned(&out, rawSort, func(h rawHit) error {
			t := Hit[T]{Index: h.Index, ID: h.ID, SeqNo: h.SeqNo, PrimaryTerm: h.PrimaryTerm, Version: h.Version}
			if err := json.Unmarshal(h.Source, &t.Source); err != nil {
				var zero T
				t.Source, t.Err = zero, err
			}
			return fn(t)
		}), nil
	})
}

// searchPage is one answer of a point-in-time search, its hits of type H.
type searchPage[H any] struct {
	PITID string `json:"pit_id"`
	Hits  struct {
		Hits []H `json:"hits"`
	} `json:"hits"`
}

// A hit's sort values are kept as the text of their array (one copy per
// hit rather than a slice and a copy per value): only the last hit's are
// read, as the next page's search_after.
type rawHit struct {
	Doc
	Sort json.RawMessage `json:"sort"`
}

func rawSort(h *rawHit) json.RawMessage { return h.Sort }

type rawPage = searchPage[rawHit]

type typedHit[T any] struct {
	Index       string          `json:"_index"`
	ID          string          `json:"_id"`
	SeqNo       int64           `json:"_seq_no"`
	PrimaryTerm int64           `json:"_primary_term"`
	Version     int64           `json:"_version"`
	Source      *T              `json:"_source"`
	Sort        json.RawMessage `json:"sort"`
}

type typedPage[T any] = searchPage[typedHit[T]]

// complete reports whether every hit has a _source (a missing or null one
// is left to the raw decode, which tells the two apart as Scan does).
func complete[T any](p *typedPage[T]) bool {
	for i := range p.Hits.Hits {
		if p.Hits.Hits[i].Source == nil {
			return false
		}
	}
	return true
}

// scanned is what the paging loop needs from a decoded page.
type scanned struct {
	pitID string
	hits  int
	after json.RawMessage // the last hit's sort values (the text of their array)
	emit  func() error    // calls the caller's fn for each hit, in order
}

// pageScanned returns p's page for the paging loop; sortOf gives a hit's sort values.
func pageScanned[H any](p *searchPage[H], sortOf func(*H) json.RawMessage, fn func(H) error) scanned {
	hs := p.Hits.Hits
	s := scanned{pitID: p.PITID, hits: len(hs), emit: func() error {
		for _, h := range hs {
			if err := fn(h); err != nil {
				return err
			}
		}
		return nil
	}}
	if len(hs) > 0 {
		s.after = sortOf(&hs[len(hs)-1])
	}
	return s
}

// scan is the paging loop of Scan and ScanAs; decodePage decodes one
// search answer (its error is a decode error of POST /_search).
func (c *Client) scan(ctx context.Context, index string, query any, page int, decodePage func(call, []byte) (scanned, error)) error {
	if page <= 0 {
		page = DefaultScanPage
	}
	if query == nil {
		query = map[string]any{"match_all": map[string]any{}}
	}
	id, err := c.OpenPIT(ctx, index, pitKeepAlive)
	if err != nil {
		return err
	}
	defer func() {
		// Close even when ctx is done; a failure only leaves it to expire.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = c.ClosePIT(cctx, id)
	}()
	var after json.RawMessage
	for {
		body := map[string]any{
			"size":             page,
			"query":            query,
			"pit":              map[string]any{"id": id, "keep_alive": pitKeepAlive},
			"sort":             []any{map[string]any{"_shard_doc": "asc"}},
			"track_total_hits": false,
		}
		if after != nil {
			body["search_after"] = after
		}
		k := call{method: http.MethodPost, path: "/_search", safePost: true,
			send: func(ctx context.Context) (*esapi.Response, error) {
				b, err := jsonBody(body)
				if err != nil {
					return nil, err
				}
				return esapi.SearchRequest{Body: b, SeqNoPrimaryTerm: ptr(true)}.Do(ctx, c.es)
			}}
		var out scanned
		_, b, err := c.do(ctx, k, false)
		if err == nil && len(b) > 0 {
			out, err = decodePage(k, b)
		}
		if err != nil {
			return fmt.Errorf("scan %s: %w", index, err)
		}
		if out.pitID != "" {
			id = out.pitID // the id may change from page to page; use the latest
		}
		if out.emit != nil {
			if err := out.emit(); err != nil {
				return err
			}
		}
		if out.hits < page {
			return nil
		}
		after = out.after
		var values []json.RawMessage
		if json.Unmarshal(after, &values) != nil || len(values) == 0 {
			return fmt.Errorf("scan %s: POST /_search: a sorted hit has no sort values", index)
		}
	}
}
