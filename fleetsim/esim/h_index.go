package esim

import (
	"net/http"
	"strconv"
	"strings"
)

func (n *Node) hCreateIndex(c *call) (int, any, *Error) {
	name := c.params["index"]
	if err := n.CreateIndex(name, c.body); err != nil {
		return 0, nil, err.(*Error)
	}
	return http.StatusOK, map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": name}, nil
}

func (n *Node) hIndexExists(c *call) (int, any, *Error) {
	ew, e := c.expandWildcards()
	if e != nil {
		return 0, nil, e
	}
	n.mu.Lock()
	names, e := n.resolve(c.params["index"], ew, false)
	n.mu.Unlock()
	if e != nil || len(names) == 0 {
		return http.StatusNotFound, nil, nil
	}
	return http.StatusOK, nil, nil
}

func (n *Node) hGetIndex(c *call) (int, any, *Error) {
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
	out := map[string]any{}
	for _, name := range names {
		out[name] = n.st.Indices[name].describe(n.cfg.Version)
	}
	return http.StatusOK, out, nil
}

// describe renders GET /{index} for one index.
func (ix *index) describe(version string) map[string]any {
	settings := map[string]any{
		"number_of_shards":   "1",
		"number_of_replicas": "1",
		"uuid":               ix.UUID,
		"provided_name":      ix.Name,
		"creation_date":      strconv.FormatInt(ix.Created.UnixMilli(), 10),
		"version":            map[string]any{"created": version},
	}
	if ix.Hidden {
		settings["hidden"] = "true"
	}
	for k, v := range ix.Settings {
		settings[k] = v
	}
	if ix.Follow != nil {
		settings["xpack"] = map[string]any{"ccr": map[string]any{"following_index": "true"}}
	}
	if ix.Closed {
		settings["verified_before_close"] = "true"
	}
	var mappings any = map[string]any{}
	if len(ix.Mappings) > 0 {
		mappings = ix.Mappings
	}
	return map[string]any{"aliases": map[string]any{}, "mappings": mappings, "settings": map[string]any{"index": nest(flatSettings(settings))}}
}

func flatSettings(m map[string]any) map[string]any {
	out := map[string]any{}
	flatten("", m, out)
	return out
}

func (n *Node) hDeleteIndex(c *call) (int, any, *Error) {
	expr := c.params["index"]
	if expr == "_all" || strings.Contains(expr, "*") {
		return 0, nil, errIllegalArgument("Wildcard expressions or all indices are not allowed")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	ignore, e := c.boolParam("ignore_unavailable", false)
	if e != nil {
		return 0, nil, e
	}
	names, e := n.resolve(expr, expandWildcards{open: true, closed: true, hidden: true}, ignore)
	if e != nil {
		return 0, nil, e
	}
	for _, name := range names {
		delete(n.st.Indices, name)
	}
	return http.StatusOK, map[string]any{"acknowledged": true}, nil
}

func (n *Node) hCloseIndex(c *call) (int, any, *Error) {
	return n.setClosed(c, true)
}

func (n *Node) hOpenIndex(c *call) (int, any, *Error) {
	return n.setClosed(c, false)
}

func (n *Node) setClosed(c *call, closed bool) (int, any, *Error) {
	expr := c.params["index"]
	if closed && (expr == "_all" || strings.Contains(expr, "*")) {
		return 0, nil, errIllegalArgument("Wildcard expressions or all indices are not allowed")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	names, e := n.resolve(expr, expandWildcards{open: true, closed: true}, false)
	if e != nil {
		return 0, nil, e
	}
	result := map[string]any{}
	for _, name := range names {
		ix := n.st.Indices[name]
		if closed && ix.Follow != nil && ix.Follow.Status == "active" {
			// ES closes an active follower too; its shard follow task then fails.
			// Callers are expected to pause first, as the docs say.
		}
		ix.Closed = closed
		result[name] = map[string]any{"closed": true}
	}
	if closed {
		return http.StatusOK, map[string]any{"acknowledged": true, "shards_acknowledged": true, "indices": result}, nil
	}
	return http.StatusOK, map[string]any{"acknowledged": true, "shards_acknowledged": true}, nil
}

func (n *Node) hRefresh(c *call) (int, any, *Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	names, e := n.resolve(c.params["index"], expandWildcards{open: true}, false)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, map[string]any{"_shards": map[string]any{"total": 2 * len(names), "successful": len(names), "failed": 0}}, nil
}
