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
	var after []json.RawMessage
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
		var out struct {
			PITID string `json:"pit_id"`
			Hits  struct {
				Hits []struct {
					Doc
					Sort []json.RawMessage `json:"sort"`
				} `json:"hits"`
			} `json:"hits"`
		}
		err := c.doJSON(ctx, call{method: http.MethodPost, path: "/_search", safePost: true,
			send: func(ctx context.Context) (*esapi.Response, error) {
				b, err := jsonBody(body)
				if err != nil {
					return nil, err
				}
				return esapi.SearchRequest{Body: b, SeqNoPrimaryTerm: ptr(true)}.Do(ctx, c.es)
			}}, &out)
		if err != nil {
			return fmt.Errorf("scan %s: %w", index, err)
		}
		if out.PITID != "" {
			id = out.PITID // the id may change from page to page; use the latest
		}
		for _, h := range out.Hits.Hits {
			if err := fn(h.Doc); err != nil {
				return err
			}
		}
		if len(out.Hits.Hits) < page {
			return nil
		}
		after = out.Hits.Hits[len(out.Hits.Hits)-1].Sort
		if len(after) == 0 {
			return fmt.Errorf("scan %s: POST /_search: a sorted hit has no sort values", index)
		}
	}
}
