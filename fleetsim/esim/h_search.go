package esim

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// searchHit is one entry of hits.hits.
type searchHit struct {
	Index       string          `json:"_index"`
	ID          string          `json:"_id"`
	Version     *int64          `json:"_version,omitempty"`
	SeqNo       *int64          `json:"_seq_no,omitempty"`
	PrimaryTerm *int64          `json:"_primary_term,omitempty"`
	Score       any             `json:"_score"` // null when sorted, as ES
	Source      json.RawMessage `json:"_source,omitempty"`
	Sort        []any           `json:"sort,omitempty"`
}

// searchRequest is the subset of the search body the simulator understands.
type searchRequest struct {
	Query            json.RawMessage `json:"query"`
	Size             *int            `json:"size"`
	From             *int            `json:"from"`
	Sort             json.RawMessage `json:"sort"`
	Source           json.RawMessage `json:"_source"`
	SeqNoPrimaryTerm bool            `json:"seq_no_primary_term"`
	Version          bool            `json:"version"`
	TrackTotalHits   json.RawMessage `json:"track_total_hits"`
	SearchAfter      []any           `json:"search_after"`
	PIT              *pitRequest     `json:"pit"`
}

var searchBodyKeys = []string{"query", "size", "from", "sort", "_source", "seq_no_primary_term", "version", "track_total_hits", "search_after", "timeout", "pit"}

func parseSearchBody(body []byte) (searchRequest, *Error) {
	var req searchRequest
	if len(bytes.TrimSpace(body)) == 0 {
		return req, nil
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		return req, errParsing("request body or source parameter is required")
	}
	for k := range keys {
		if k == "aggs" || k == "aggregations" {
			return req, errIllegalArgument("esim: aggregations are not simulated")
		}
		if !slices.Contains(searchBodyKeys, k) {
			return req, errParsing("Unknown key for a START_OBJECT in [%s].", k)
		}
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, errParsing("failed to parse search request: %s", err.Error())
	}
	return req, nil
}

// searchHits runs a query over the resolved indices.
func (n *Node) searchHits(c *call, req searchRequest) ([]*searchDoc, int, *Error) {
	ew, ignore, e := c.indicesOptions()
	if e != nil {
		return nil, 0, e
	}
	allowNo, e := c.boolParam("allow_no_indices", true)
	if e != nil {
		return nil, 0, e
	}
	match, e := compileQuery(req.Query)
	if e != nil {
		return nil, 0, e
	}
	expr := c.params["index"]
	n.syncFollowers()
	n.mu.Lock()
	defer n.mu.Unlock()
	names, e := n.resolve(expr, ew, ignore)
	if e != nil {
		return nil, 0, e
	}
	if len(names) == 0 && !allowNo {
		return nil, 0, errIndexNotFound(expr)
	}
	var hits []*searchDoc
	for _, name := range names {
		ix := n.st.Indices[name]
		if ix.Closed {
			return nil, 0, errIndexClosed(ix.Name, ix.UUID)
		}
		for id, sd := range ix.Docs {
			d := &searchDoc{Doc: Doc{Index: name, ID: id, SeqNo: sd.SeqNo, PrimaryTerm: sd.PrimaryTerm, Version: sd.Version, Source: sd.Source}, src: sd.src}
			if match(d) {
				hits = append(hits, d)
			}
		}
	}
	return hits, len(names), nil
}

func (n *Node) hSearch(c *call) (int, any, *Error) {
	req, e := parseSearchBody(c.body)
	if e != nil {
		return 0, nil, e
	}
	for _, p := range []struct {
		name string
		dst  **int
	}{{"size", &req.Size}, {"from", &req.From}} {
		if v := c.query.Get(p.name); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil {
				return 0, nil, errIllegalArgument("Failed to parse int parameter [%s] with value [%s]", p.name, v)
			}
			*p.dst = &i
		}
	}
	if v := c.query.Get("sort"); v != "" && len(req.Sort) == 0 {
		var parts []any
		for _, s := range strings.Split(v, ",") {
			f, o, _ := strings.Cut(s, ":")
			if o == "" {
				o = "asc"
			}
			parts = append(parts, map[string]any{f: map[string]any{"order": o}})
		}
		req.Sort, _ = json.Marshal(parts)
	}
	if c.query.Get("seq_no_primary_term") == "true" {
		req.SeqNoPrimaryTerm = true
	}
	size, from := 10, 0
	if req.Size != nil {
		size = *req.Size
	}
	if req.From != nil {
		from = *req.From
	}
	if size < 0 || from < 0 {
		return 0, nil, errIllegalArgument("[size] parameter cannot be negative, found [%d]", size)
	}
	if from+size > 10000 {
		return 0, nil, errIllegalArgument("Result window is too large, from + size must be less than or equal to: [10000] but was [%d]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.", from+size)
	}
	keys, e := parseSort(req.Sort)
	if e != nil {
		return 0, nil, e
	}
	var (
		hits   []*searchDoc
		shards int
	)
	if req.PIT != nil {
		keys = withShardDocTiebreak(keys)
		hits, shards, e = n.pitHits(c, req)
	} else {
		if slices.ContainsFunc(keys, func(k sortKey) bool { return k.field == "_shard_doc" }) {
			// ShardDocSortField / SearchService: the field needs a reader context.
			return 0, nil, newErr(http.StatusBadRequest, "action_request_validation_exception",
				"Validation Failed: 1: [_shard_doc] sort field cannot be used without [point in time];")
		}
		if _, ok := c.params["index"]; !ok {
			if e := c.who.authorize("indices:data/read/search", "*"); e != nil {
				return 0, nil, e
			}
		}
		hits, shards, e = n.searchHits(c, req)
	}
	if e != nil {
		return 0, nil, e
	}
	track, e := trackTotalHits(c, req.TrackTotalHits)
	if e != nil {
		return 0, nil, e
	}
	sortHits(hits, keys)
	if len(req.SearchAfter) > 0 && len(keys) > 0 {
		hits = slices.DeleteFunc(hits, func(d *searchDoc) bool { return !afterKey(d, keys, req.SearchAfter) })
	}
	total := len(hits)
	page := hits[min(from, len(hits)):min(from+size, len(hits))]
	filter, e := parseSourceBody(req.Source)
	if e != nil {
		return 0, nil, e
	}
	if filter, e = c.parseSourceParams(filter); e != nil {
		return 0, nil, e
	}
	out := make([]searchHit, 0, len(page))
	for _, d := range page {
		h := searchHit{Index: d.Index, ID: d.ID, Score: 1.0}
		if len(keys) > 0 {
			h.Score, h.Sort = nil, d.sort
		}
		h.Source = filter.apply(d.Source, d.src)
		if req.SeqNoPrimaryTerm {
			h.SeqNo, h.PrimaryTerm = &d.SeqNo, &d.PrimaryTerm
		}
		if req.Version {
			h.Version = &d.Version
		}
		out = append(out, h)
	}
	hitsObj := map[string]any{"hits": out}
	if len(keys) > 0 || total == 0 {
		hitsObj["max_score"] = nil
	} else {
		hitsObj["max_score"] = 1.0
	}
	if track >= 0 {
		value, relation := total, "eq"
		if total > track {
			value, relation = track, "gte"
		}
		if c.query.Get("rest_total_hits_as_int") == "true" {
			hitsObj["total"] = value
		} else {
			hitsObj["total"] = map[string]any{"value": value, "relation": relation}
		}
	}
	resp := map[string]any{
		"took": 1, "timed_out": false,
		"_shards": map[string]any{"total": shards, "successful": shards, "skipped": 0, "failed": 0},
		"hits":    hitsObj,
	}
	if req.PIT != nil {
		resp["pit_id"] = req.PIT.ID
	}
	return http.StatusOK, resp, nil
}

// defaultTrackTotalHits is SearchContext.DEFAULT_TRACK_TOTAL_HITS_UP_TO: without
// track_total_hits, hits.total counts up to 10,000 and says "gte" beyond.
const defaultTrackTotalHits = 10000

// trackTotalHits returns how far hits.total counts exactly: -1 when it is
// left out (false), math.MaxInt for true. The body's value wins over the
// query parameter; rest_total_hits_as_int needs exact totals
// (RestSearchAction.parseSearchRequest, SearchRequest.validate).
func trackTotalHits(c *call, body json.RawMessage) (int, *Error) {
	v := strings.TrimSpace(string(body))
	if v == "" || v == "null" {
		v = c.query.Get("track_total_hits")
	}
	asInt := c.query.Get("rest_total_hits_as_int") == "true"
	switch v {
	case "":
		if asInt {
			return math.MaxInt, nil
		}
		return defaultTrackTotalHits, nil
	case "true":
		return math.MaxInt, nil
	case "false":
		if asInt {
			return 0, errIllegalArgument("[rest_total_hits_as_int] cannot be used if the tracking of total hits is not accurate, got false")
		}
		return -1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errParsing("[track_total_hits] failed to parse [%s]", v)
	}
	if n < -1 {
		// SearchSourceBuilder.trackTotalHitsUpTo
		return 0, errIllegalArgument("[track_total_hits] parameter must be positive or equals to -1, got %d", n)
	}
	if asInt && n != math.MaxInt32 {
		return 0, errIllegalArgument("[rest_total_hits_as_int] cannot be used if the tracking of total hits is not accurate, got %d", n)
	}
	return n, nil
}

// sortHits orders hits by the sort keys, or by index and insertion order.
// Each hit's sort values are computed once and kept in d.sort.
func sortHits(hits []*searchDoc, keys []sortKey) {
	for _, d := range hits {
		if len(keys) > 0 {
			d.sort = make([]any, len(keys))
			for i, k := range keys {
				d.sort[i] = d.sortValue(k)
			}
		}
	}
	// The index/seq_no tiebreak makes the order total, so an unstable sort is exact.
	slices.SortFunc(hits, func(a, b *searchDoc) int {
		for i, k := range keys {
			av, bv := a.sort[i], b.sort[i]
			switch {
			case av == nil && bv == nil:
				continue
			case av == nil: // missing values sort last in both directions
				return 1
			case bv == nil:
				return -1
			}
			c, ok := compareValues(av, bv)
			if !ok {
				c = strings.Compare(typeRank(av), typeRank(bv))
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		if c := strings.Compare(a.Index, b.Index); c != 0 {
			return c
		}
		return int(a.SeqNo - b.SeqNo)
	})
}

func typeRank(v any) string {
	switch v.(type) {
	case bool:
		return "0"
	case float64:
		return "1"
	}
	return "2"
}

// afterKey reports whether a hit sorts after the search_after values.
func afterKey(d *searchDoc, keys []sortKey, after []any) bool {
	for i, k := range keys {
		if i >= len(after) {
			return true
		}
		v := d.sort[i]
		if v == nil {
			return true
		}
		c, ok := compareValues(v, normalizeNumber(after[i]))
		if !ok {
			return true
		}
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c > 0
		}
	}
	return false
}

func normalizeNumber(v any) any {
	if n, ok := v.(json.Number); ok {
		f, _ := n.Float64()
		return f
	}
	return v
}

func (n *Node) hCount(c *call) (int, any, *Error) {
	var body struct {
		Query json.RawMessage `json:"query"`
	}
	if len(bytes.TrimSpace(c.body)) > 0 {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(c.body, &keys); err != nil {
			return 0, nil, errParsing("request body or source parameter is required")
		}
		for k := range keys {
			if k != "query" {
				return 0, nil, errParsing("request does not support [%s]", k)
			}
		}
		body.Query = keys["query"]
	}
	hits, shards, e := n.searchHits(c, searchRequest{Query: body.Query})
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, map[string]any{"count": len(hits), "_shards": map[string]any{"total": shards, "successful": shards, "skipped": 0, "failed": 0}}, nil
}
