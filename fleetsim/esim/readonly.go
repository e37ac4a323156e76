package esim

import (
	"net/http"
	"strings"
)

// ReadOnly reports whether a request to Elasticsearch (or Kibana) only
// reads: GET and HEAD, searches and counts (POST …/_search, …/_count,
// …/_mget), and opening or closing a point in time (POST /{index}/_pit,
// DELETE /_pit), which page through a search. Tests that assert "nothing
// was written" use it, so a new way of reading does not look like a write.
func ReadOnly(method, path string) bool {
	switch method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodPost:
		for _, s := range []string{"/_search", "/_count", "/_mget", "/_pit"} {
			if strings.HasSuffix(path, s) {
				return true
			}
		}
	case http.MethodDelete:
		return path == "/_pit"
	}
	return false
}
