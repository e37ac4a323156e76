package esim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// Point in time (PIT): POST /{index}/_pit?keep_alive=… opens a frozen view of
// the indices' documents, POST /_search with {"pit": {"id": …}} searches it
// (search_after over the _shard_doc sort pages through any number of
// documents), DELETE /_pit {"id": …} closes it. Elasticsearch:
// RestOpenPointInTimeAction, TransportOpenPointInTimeAction
// ("indices:data/read/open_point_in_time"), TransportClosePointInTimeAction
// ("indices:data/read/close_point_in_time"), RestSearchAction.preparePointInTime.

// pit is one open point in time: the documents of its indices as they were
// when it was opened (storedDocs are never modified once stored, so sharing
// them is safe).
type pit struct {
	indices []string
	docs    []*searchDoc // in _shard_doc order
	expires time.Time
}

func (n *Node) hOpenPIT(c *call) (int, any, *Error) {
	keep := c.query.Get("keep_alive")
	if keep == "" {
		// Inferred: RestOpenPointInTimeAction requires the parameter; the
		// exact wording of the refusal is not taken from source.
		return 0, nil, newErr(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: [keep_alive] is not specified;")
	}
	ttl, err := parseESDuration(keep)
	if err != nil {
		return 0, nil, newErr(http.StatusBadRequest, "parse_exception", "failed to parse setting [keep_alive] with value [%s] as a time value: unit is missing or unrecognized", keep)
	}
	ew, ignore, e := c.indicesOptions()
	if e != nil {
		return 0, nil, e
	}
	n.syncFollowers()
	n.mu.Lock()
	defer n.mu.Unlock()
	names, e := n.resolve(c.params["index"], ew, ignore)
	if e != nil {
		return 0, nil, e
	}
	p := &pit{indices: names, expires: n.now().Add(ttl)}
	for _, name := range names {
		ix := n.st.Indices[name]
		if ix.Closed {
			return 0, nil, errIndexClosed(ix.Name, ix.UUID)
		}
		for id, sd := range ix.Docs {
			p.docs = append(p.docs, &searchDoc{Doc: Doc{Index: name, ID: id, SeqNo: sd.SeqNo, PrimaryTerm: sd.PrimaryTerm, Version: sd.Version, Source: sd.Source}, src: sd.src})
		}
	}
	sortHits(p.docs, nil) // index, then seq_no: the order _shard_doc follows
	id := base64.RawURLEncoding.EncodeToString([]byte(n.randomID(32)))
	if n.pits == nil {
		n.pits = map[string]*pit{}
	}
	n.expirePITs()
	n.pits[id] = p
	shards := len(names)
	return http.StatusOK, map[string]any{
		"id":      id,
		"_shards": map[string]any{"total": shards, "successful": shards, "skipped": 0, "failed": 0},
	}, nil
}

func (n *Node) hClosePIT(c *call) (int, any, *Error) {
	var body struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(c.body, &body); err != nil || body.ID == "" {
		return 0, nil, newErr(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: reader id must be specified;")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.expirePITs()
	p, ok := n.pits[body.ID]
	if !ok {
		// Inferred: an unknown or expired id frees nothing and still succeeds.
		return http.StatusOK, map[string]any{"succeeded": true, "num_freed": 0}, nil
	}
	delete(n.pits, body.ID)
	return http.StatusOK, map[string]any{"succeeded": true, "num_freed": len(p.indices)}, nil
}

// expirePITs drops the points in time whose keep_alive has passed. n.mu held.
func (n *Node) expirePITs() {
	now := n.now()
	for id, p := range n.pits {
		if now.After(p.expires) {
			delete(n.pits, id)
		}
	}
}

// pitRequest is the "pit" object of a search body.
type pitRequest struct {
	ID        string `json:"id"`
	KeepAlive string `json:"keep_alive"`
}

// pitHits returns the documents of the point in time that match and extends
// its life by keep_alive.
func (n *Node) pitHits(c *call, req searchRequest) ([]*searchDoc, int, *Error) {
	if c.params["index"] != "" {
		// RestSearchAction.preparePointInTime
		return nil, 0, newErr(http.StatusBadRequest, "action_request_validation_exception",
			"Validation Failed: 1: [indices] cannot be used with point in time. Do not specify any index with point in time.;")
	}
	match, e := compileQuery(req.Query)
	if e != nil {
		return nil, 0, e
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.expirePITs()
	p, ok := n.pits[req.PIT.ID]
	if !ok {
		return nil, 0, newErr(http.StatusNotFound, "search_context_missing_exception", "No search context found for id [%s]", req.PIT.ID)
	}
	if len(p.indices) > 0 {
		if e := c.who.authorize("indices:data/read/search", p.indices...); e != nil {
			return nil, 0, e
		}
	}
	if req.PIT.KeepAlive != "" {
		ttl, err := parseESDuration(req.PIT.KeepAlive)
		if err != nil {
			return nil, 0, errParsing("failed to parse setting [keep_alive] with value [%s] as a time value", req.PIT.KeepAlive)
		}
		p.expires = n.now().Add(ttl)
	}
	var hits []*searchDoc
	for i, d := range p.docs {
		if match(d) {
			h := *d
			h.shardDoc = int64(i)
			hits = append(hits, &h)
		}
	}
	return hits, len(p.indices), nil
}

// withShardDocTiebreak appends the implicit _shard_doc tiebreaker a sorted
// search over a point in time gets (SearchService: a PIT search's sort ends
// in _shard_doc so search_after pages are exact).
func withShardDocTiebreak(keys []sortKey) []sortKey {
	if len(keys) == 0 || slices.ContainsFunc(keys, func(k sortKey) bool { return k.field == "_shard_doc" }) {
		return keys
	}
	return append(keys, sortKey{field: "_shard_doc", path: []string{"_shard_doc"}})
}
