package esim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// getDocResponse is the GET /{index}/_doc/{id} body.
type getDocResponse struct {
	Index       string          `json:"_index"`
	ID          string          `json:"_id"`
	Version     int64           `json:"_version,omitempty"`
	SeqNo       *int64          `json:"_seq_no,omitempty"`
	PrimaryTerm *int64          `json:"_primary_term,omitempty"`
	Found       bool            `json:"found"`
	Source      json.RawMessage `json:"_source,omitempty"`
}

func (n *Node) hGetDoc(c *call) (int, any, *Error) {
	name, id := c.params["index"], c.params["id"]
	n.syncFollowers()
	n.mu.Lock()
	defer n.mu.Unlock()
	ix := n.st.Indices[name]
	if ix == nil {
		return 0, nil, errIndexNotFound(name)
	}
	if ix.Closed {
		return 0, nil, errIndexClosed(ix.Name, ix.UUID)
	}
	d := ix.Docs[id]
	if d == nil {
		return http.StatusNotFound, getDocResponse{Index: name, ID: id}, nil
	}
	seq, term := d.SeqNo, d.PrimaryTerm
	filter, e := c.parseSourceParams(sourceFilter{})
	if e != nil {
		return 0, nil, e
	}
	resp := getDocResponse{Index: name, ID: id, Version: d.Version, SeqNo: &seq, PrimaryTerm: &term, Found: true, Source: filter.apply(d.Source, d.src)}
	return http.StatusOK, resp, nil
}

// writeResponse is the body of index, create and delete requests.
type writeResponse struct {
	Index         string         `json:"_index"`
	ID            string         `json:"_id"`
	Version       int64          `json:"_version"`
	Result        string         `json:"result"`
	Shards        map[string]any `json:"_shards"`
	SeqNo         int64          `json:"_seq_no"`
	PrimaryTerm   int64          `json:"_primary_term"`
	ForcedRefresh bool           `json:"forced_refresh,omitempty"`
}

func (n *Node) hIndexDoc(c *call) (int, any, *Error) {
	opType := c.query.Get("op_type")
	switch opType {
	case "", "index":
		opType = "index"
	case "create":
	default:
		return 0, nil, errIllegalArgument("opType must be 'create' or 'index', found: [%s]", opType)
	}
	if c.params["id"] == "" {
		opType = "create" // auto-generated ids
	}
	return n.index(c, opType)
}

func (n *Node) hCreateDoc(c *call) (int, any, *Error) {
	return n.index(c, "create")
}

func (n *Node) index(c *call, opType string) (int, any, *Error) {
	if e := c.checkRefresh(); e != nil {
		return 0, nil, e
	}
	if e := c.requireBody(); e != nil {
		return 0, nil, e
	}
	ifSeq, ifTerm, e := c.seqNoParams()
	if e != nil {
		return 0, nil, e
	}
	d, created, e := n.writeDoc(c.params["index"], c.params["id"], bytes.TrimSpace(c.body), WriteOptions{IfSeqNo: ifSeq, IfPrimaryTerm: ifTerm, OpType: opType})
	if e != nil {
		return 0, nil, e
	}
	status, result := http.StatusOK, "updated"
	if created {
		status, result = http.StatusCreated, "created"
		c.head.Set("Location", "/"+pathEscape(d.Index)+"/_doc/"+pathEscape(d.ID))
	}
	return status, writeResponse{Index: d.Index, ID: d.ID, Version: d.Version, Result: result, Shards: shardsOK,
		SeqNo: d.SeqNo, PrimaryTerm: d.PrimaryTerm, ForcedRefresh: c.query.Get("refresh") == "true" || c.query.Has("refresh") && c.query.Get("refresh") == ""}, nil
}

func pathEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "%", "%25"), "/", "%2F")
}

func (n *Node) hDeleteDoc(c *call) (int, any, *Error) {
	if e := c.checkRefresh(); e != nil {
		return 0, nil, e
	}
	ifSeq, ifTerm, e := c.seqNoParams()
	if e != nil {
		return 0, nil, e
	}
	d, e := n.deleteDoc(c.params["index"], c.params["id"], WriteOptions{IfSeqNo: ifSeq, IfPrimaryTerm: ifTerm})
	if e != nil && e.Type != "not_found" {
		return 0, nil, e
	}
	status, result := http.StatusOK, "deleted"
	if e != nil {
		status, result = http.StatusNotFound, "not_found"
	}
	return status, writeResponse{Index: d.Index, ID: d.ID, Version: d.Version, Result: result, Shards: shardsOK, SeqNo: d.SeqNo, PrimaryTerm: d.PrimaryTerm}, nil
}
