package elastic

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/fleetform/fleetform/secret"
)

// Info is GET / of a cluster.
type Info struct {
	Name        string `json:"name"`
	ClusterName string `json:"cluster_name"`
	ClusterUUID string `json:"cluster_uuid"`
	Version     struct {
		Number string `json:"number"`
	} `json:"version"`
}

// Info returns the cluster's name, UUID and version.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var out Info
	err := c.doJSON(ctx, call{method: http.MethodGet, path: "/", send: func(ctx context.Context) (*esapi.Response, error) {
		return esapi.InfoRequest{}.Do(ctx, c.es)
	}}, &out)
	return out, err
}

// License is the cluster's licence.
type License struct {
	Type   string `json:"type"`   // basic, trial, gold, platinum, enterprise
	Status string `json:"status"` // active, expired, …
	UID    string `json:"uid"`
}

// License returns GET /_license.
func (c *Client) License(ctx context.Context) (License, error) {
	var out struct {
		License License `json:"license"`
	}
	err := c.doJSON(ctx, call{method: http.MethodGet, path: "/_license", send: func(ctx context.Context) (*esapi.Response, error) {
		return esapi.LicenseGetRequest{}.Do(ctx, c.es)
	}}, &out)
	return out.License, err
}

// Principal is who the client authenticates as (GET /_security/_authenticate).
type Principal struct {
	Username           string   `json:"username"`
	Roles              []string `json:"roles"`
	AuthenticationType string   `json:"authentication_type"` // realm, api_key, token, …
	APIKey             *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"api_key,omitempty"`
}

// Authenticate returns the authenticated principal; bad credentials give a 401 *Error.
func (c *Client) Authenticate(ctx context.Context) (Principal, error) {
	var out Principal
	err := c.doJSON(ctx, call{method: http.MethodGet, path: "/_security/_authenticate", send: func(ctx context.Context) (*esapi.Response, error) {
		return esapi.SecurityAuthenticateRequest{}.Do(ctx, c.es)
	}}, &out)
	return out, err
}

// Doc is a stored document with its concurrency-control numbers.
type Doc struct {
	Index       string          `json:"_index"`
	ID          string          `json:"_id"`
	SeqNo       int64           `json:"_seq_no"`
	PrimaryTerm int64           `json:"_primary_term"`
	Version     int64           `json:"_version"`
	Source      json.RawMessage `json:"_source"`
}

// GetDoc returns a document. A missing document or index is found=false
// with a nil error.
func (c *Client) GetDoc(ctx context.Context, index, id string) (Doc, bool, error) {
	k := call{method: http.MethodGet, path: "/" + pathEscape(index) + "/_doc/" + pathEscape(id), send: func(ctx context.Context) (*esapi.Response, error) {
		return esapi.GetRequest{Index: index, DocumentID: pathEscape(id)}.Do(ctx, c.es)
	}}
	status, b, err := c.do(ctx, k, true)
	if err != nil || status == http.StatusNotFound {
		return Doc{}, false, err
	}
	var out struct {
		Doc
		Found bool `json:"found"`
	}
	if err := decode(k, b, &out); err != nil {
		return Doc{}, false, err
	}
	return out.Doc, out.Found, nil
}

// IndexOptions are the write options of IndexDoc and DeleteDoc.
type IndexOptions struct {
	// IfSeqNo and IfPrimaryTerm make the write conditional: it fails with a
	// 409 version_conflict_engine_exception when the document changed.
	IfSeqNo, IfPrimaryTerm *int64
	// Refresh is "", "true", "false" or "wait_for".
	Refresh string
	// OpType "create" fails with 409 if the document exists (IndexDoc only).
	OpType string
}

func (o IndexOptions) conditional() bool {
	return o.IfSeqNo != nil || o.IfPrimaryTerm != nil || o.OpType == "create"
}

func intPtr(p *int64) *int {
	if p == nil {
		return nil
	}
	return ptr(int(*p))
}

// WriteResult is the answer to a document write.
type WriteResult struct {
	ID          string `json:"_id"`
	Result      string `json:"result"` // created, updated, deleted, not_found, noop
	SeqNo       int64  `json:"_seq_no"`
	PrimaryTerm int64  `json:"_primary_term"`
	Version     int64  `json:"_version"`
}

// IndexDoc writes src (any JSON-encodable value, or json.RawMessage) as
// document id. A conditional or create-only write is not retried once it
// may have reached the cluster: a repeat would report a conflict for the
// caller's own write.
func (c *Client) IndexDoc(ctx context.Context, index, id string, src any, opts IndexOptions) (WriteResult, error) {
	var out WriteResult
	err := c.doJSON(ctx, call{
		method: http.MethodPut, path: "/" + pathEscape(index) + "/_doc/" + pathEscape(id), unsafe: opts.conditional(),
		send: func(ctx context.Context) (*esapi.Response, error) {
			body, err := jsonBody(src)
			if err != nil {
				return nil, err
			}
			return esapi.IndexRequest{Index: index, DocumentID: pathEscape(id), Body: body, Refresh: opts.Refresh, OpType: opts.OpType,
				IfSeqNo: intPtr(opts.IfSeqNo), IfPrimaryTerm: intPtr(opts.IfPrimaryTerm)}.Do(ctx, c.es)
		}}, &out)
	return out, err
}

// DeleteDoc deletes document id (OpType in opts is ignored). A missing
// document or index is found=false with a nil error.
func (c *Client) DeleteDoc(ctx context.Context, index, id string, opts IndexOptions) (found bool, err error) {
	k := call{
		method: http.MethodDelete, path: "/" + pathEscape(index) + "/_doc/" + pathEscape(id), unsafe: opts.IfSeqNo != nil,
		send: func(ctx context.Context) (*esapi.Response, error) {
			return esapi.DeleteRequest{Index: index, DocumentID: pathEscape(id), Refresh: opts.Refresh,
				IfSeqNo: intPtr(opts.IfSeqNo), IfPrimaryTerm: intPtr(opts.IfPrimaryTerm)}.Do(ctx, c.es)
		}}
	status, _, err := c.do(ctx, k, true)
	return err == nil && status != http.StatusNotFound, err
}

// SearchResult is the part of a search answer fleetform reads.
type SearchResult struct {
	// Total is hits.total.value. Without "track_total_hits": true in the
	// body Elasticsearch counts only up to 10,000 and TotalRelation is then
	// "gte": Total is a lower bound, not the number of matches.
	Total         int
	TotalRelation string // "eq" or "gte"
	Hits          []Doc  // with _seq_no and _primary_term
}

// Search runs body (a search request body: query, size, sort, …) against
// index (a name or pattern). It is a read, so it is retried like a GET.
func (c *Client) Search(ctx context.Context, index string, body any) (SearchResult, error) {
	var out struct {
		Hits struct {
			Total struct {
				Value    int    `json:"value"`
				Relation string `json:"relation"`
			} `json:"total"`
			Hits []Doc `json:"hits"`
		} `json:"hits"`
	}
	err := c.doJSON(ctx, call{
		method: http.MethodPost, path: "/" + pathEscape(index) + "/_search", safePost: true,
		send: func(ctx context.Context) (*esapi.Response, error) {
			b, err := jsonBody(body)
			if err != nil {
				return nil, err
			}
			return esapi.SearchRequest{Index: []string{index}, Body: b, SeqNoPrimaryTerm: ptr(true)}.Do(ctx, c.es)
		}}, &out)
	return SearchResult{Total: out.Hits.Total.Value, TotalRelation: out.Hits.Total.Relation, Hits: out.Hits.Hits}, err
}

// CreateIndex creates index with body (settings, mappings; nil for none).
// An existing index is a 400 *Error of type resource_already_exists_exception.
func (c *Client) CreateIndex(ctx context.Context, index string, body any) error {
	return c.doJSON(ctx, call{
		method: http.MethodPut, path: "/" + pathEscape(index),
		send: func(ctx context.Context) (*esapi.Response, error) {
			r := esapi.IndicesCreateRequest{Index: index}
			if body != nil {
				b, err := jsonBody(body)
				if err != nil {
					return nil, err
				}
				r.Body = b
			}
			return r.Do(ctx, c.es)
		}}, nil)
}

// IndexExists reports whether index exists (HEAD /{index}).
func (c *Client) IndexExists(ctx context.Context, index string) (bool, error) {
	status, _, err := c.do(ctx, call{method: http.MethodHead, path: "/" + pathEscape(index), send: func(ctx context.Context) (*esapi.Response, error) {
		return esapi.IndicesExistsRequest{Index: []string{index}}.Do(ctx, c.es)
	}}, true)
	return err == nil && status != http.StatusNotFound, err
}

// DeleteIndex deletes index. A missing index is a 404 *Error.
func (c *Client) DeleteIndex(ctx context.Context, index string) error {
	return c.doJSON(ctx, call{method: http.MethodDelete, path: "/" + pathEscape(index), send: func(ctx context.Context) (*esapi.Response, error) {
		return esapi.IndicesDeleteRequest{Index: []string{index}}.Do(ctx, c.es)
	}}, nil)
}

// CloseIndex closes index (CCR unfollow needs a paused, closed follower).
func (c *Client) CloseIndex(ctx context.Context, index string) error {
	return c.doJSON(ctx, call{method: http.MethodPost, path: "/" + pathEscape(index) + "/_close", safePost: true,
		send: func(ctx context.Context) (*esapi.Response, error) {
			return esapi.IndicesCloseRequest{Index: []string{index}}.Do(ctx, c.es)
		}}, nil)
}

// GetIndices returns the names of the indices matching pattern (hidden ones
// included, as Kibana's follower lookup does: GET /{pattern}?expand_wildcards=all),
// sorted. No match is an empty list, not an error.
func (c *Client) GetIndices(ctx context.Context, pattern string) ([]string, error) {
	var out map[string]json.RawMessage
	k := call{method: http.MethodGet, path: "/" + pathEscape(pattern), send: func(ctx context.Context) (*esapi.Response, error) {
		return esapi.IndicesGetRequest{Index: []string{pattern}, ExpandWildcards: "all"}.Do(ctx, c.es)
	}}
	status, b, err := c.do(ctx, k, true)
	if err != nil || status == http.StatusNotFound {
		return nil, err
	}
	if err := decode(k, b, &out); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(out))
	for n := range out {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// OpenIndex opens a closed index.
func (c *Client) OpenIndex(ctx context.Context, index string) error {
	return c.doJSON(ctx, call{method: http.MethodPost, path: "/" + pathEscape(index) + "/_open", safePost: true,
		send: func(ctx context.Context) (*esapi.Response, error) {
			return esapi.IndicesOpenRequest{Index: []string{index}}.Do(ctx, c.es)
		}}, nil)
}

// AuthenticateAs calls GET /_security/_authenticate with another
// credential — an Authorization header value such as "Bearer <service
// token>" or "ApiKey <encoded>" — to check that a credential fleetform
// minted works. Rejected credentials are a 401 *Error.
func (c *Client) AuthenticateAs(ctx context.Context, authorization secret.Value) (Principal, error) {
	var out Principal
	err := c.doJSON(ctx, call{method: http.MethodGet, path: "/_security/_authenticate", send: func(ctx context.Context) (*esapi.Response, error) {
		return esapi.SecurityAuthenticateRequest{Header: http.Header{"Authorization": {authorization.Reveal()}}}.Do(ctx, c.es)
	}}, &out)
	return out, err
}
