package esim

import "net/http"

// hGetMapping serves GET /_mapping and GET /{index}/_mapping
// (RestGetMappingAction, GetMappingsResponse.toXContent): one entry per
// resolved index, {"<index>": {"mappings": {...}}}, an index created
// without mappings answering {"mappings": {}}. A missing concrete index is
// 404 index_not_found_exception; a wildcard matching nothing is {} unless
// allow_no_indices=false. The simulator keeps the mappings an index was
// created with; it does not add the dynamic mappings Elasticsearch would
// infer from documents (inferred behaviour, see fleetsim's docs).
func (n *Node) hGetMapping(c *call) (int, any, *Error) {
	ew, ignore, e := c.indicesOptions()
	if e != nil {
		return 0, nil, e
	}
	allowNo, e := c.boolParam("allow_no_indices", true)
	if e != nil {
		return 0, nil, e
	}
	expr := c.params["index"]
	n.syncFollowers()
	n.mu.Lock()
	defer n.mu.Unlock()
	names, e := n.resolve(expr, ew, ignore)
	if e != nil {
		return 0, nil, e
	}
	if len(names) == 0 && !allowNo {
		if expr == "" {
			expr = "_all"
		}
		return 0, nil, errIndexNotFound(expr)
	}
	out := make(map[string]any, len(names))
	for _, name := range names {
		ix := n.st.Indices[name]
		var m any = map[string]any{}
		if len(ix.Mappings) > 0 {
			m = ix.Mappings
		}
		out[name] = map[string]any{"mappings": m}
	}
	return http.StatusOK, out, nil
}
