package esim

import (
	"fmt"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// commonParams are accepted by every API (rest-api-spec _common.json).
var commonParams = []string{"pretty", "human", "error_trace", "source", "filter_path"}

// apiParams are the query parameters each API accepts, from
// rest-api-spec/api/<name>.json. The contract test checks the entries whose
// spec file is in testdata/es-rest-api-spec against it; the others are
// copied from the same source.
var apiParams = map[string][]string{
	"info":                             nil,
	"ping":                             nil,
	"license.get":                      {"accept_enterprise", "local"},
	"security.authenticate":            nil,
	"security.create_service_token":    {"refresh"},
	"security.delete_service_token":    {"refresh"},
	"security.get_service_credentials": nil,
	"security.create_api_key":          {"refresh"},
	// active_only and with_profile_uid arrived after the spec copy in the shared folder.
	"security.get_api_key":        {"id", "name", "owner", "realm_name", "username", "with_limited_by", "active_only", "with_profile_uid"},
	"security.invalidate_api_key": nil,
	"cluster.get_settings":        {"flat_settings", "include_defaults", "master_timeout", "timeout"},
	"cluster.put_settings":        {"flat_settings", "master_timeout", "timeout"},
	"cluster.health": {"expand_wildcards", "level", "local", "master_timeout", "timeout", "wait_for_active_shards", "wait_for_events",
		"wait_for_no_initializing_shards", "wait_for_no_relocating_shards", "wait_for_nodes", "wait_for_status"},
	"cluster.remote_info": nil,
	"fleet.post_secret":   nil,
	"fleet.get_secret":    nil,
	"fleet.delete_secret": nil,
	"search": {"_source", "_source_excludes", "_source_includes", "allow_no_indices", "allow_partial_search_results", "analyze_wildcard",
		"analyzer", "batched_reduce_size", "ccs_minimize_roundtrips", "default_operator", "df", "docvalue_fields", "expand_wildcards",
		"explain", "from", "ignore_throttled", "ignore_unavailable", "lenient", "max_concurrent_shard_requests", "min_compatible_shard_node",
		"pre_filter_shard_size", "preference", "q", "request_cache", "rest_total_hits_as_int", "routing", "scroll", "search_type",
		"seq_no_primary_term", "size", "sort", "stats", "stored_fields", "suggest_field", "suggest_mode", "suggest_size", "suggest_text",
		"terminate_after", "timeout", "track_scores", "track_total_hits", "typed_keys", "version"},
	"count": {"allow_no_indices", "analyze_wildcard", "analyzer", "default_operator", "df", "expand_wildcards", "ignore_throttled",
		"ignore_unavailable", "lenient", "min_score", "preference", "q", "routing", "terminate_after"},
	"open_point_in_time":  {"allow_partial_search_results", "expand_wildcards", "ignore_unavailable", "keep_alive", "max_concurrent_shard_requests", "preference", "routing"},
	"close_point_in_time": nil,
	"indices.create":      {"master_timeout", "timeout", "wait_for_active_shards"},
	"indices.exists":      {"allow_no_indices", "expand_wildcards", "flat_settings", "ignore_unavailable", "include_defaults", "local"},
	"indices.get": {"allow_no_indices", "expand_wildcards", "features", "flat_settings", "ignore_unavailable", "include_defaults",
		"local", "master_timeout"},
	"indices.get_mapping": {"allow_no_indices", "expand_wildcards", "ignore_unavailable", "local", "master_timeout"},
	"indices.delete":      {"allow_no_indices", "expand_wildcards", "ignore_unavailable", "master_timeout", "timeout"},
	"indices.close":       {"allow_no_indices", "expand_wildcards", "ignore_unavailable", "master_timeout", "timeout", "wait_for_active_shards"},
	"indices.open":        {"allow_no_indices", "expand_wildcards", "ignore_unavailable", "master_timeout", "timeout", "wait_for_active_shards"},
	"indices.refresh":     {"allow_no_indices", "expand_wildcards", "ignore_unavailable"},
	"get": {"_source", "_source_excludes", "_source_includes", "force_synthetic_source", "preference", "realtime", "refresh", "routing",
		"stored_fields", "version", "version_type"},
	"exists": {"_source", "_source_excludes", "_source_includes", "preference", "realtime", "refresh", "routing", "stored_fields",
		"version", "version_type"},
	"index": {"if_primary_term", "if_seq_no", "include_source_on_error", "op_type", "pipeline", "refresh", "require_alias",
		"require_data_stream", "routing", "timeout", "version", "version_type", "wait_for_active_shards"},
	"create": {"include_source_on_error", "pipeline", "refresh", "require_alias", "require_data_stream", "routing", "timeout", "version",
		"version_type", "wait_for_active_shards"},
	"delete":            {"if_primary_term", "if_seq_no", "refresh", "routing", "timeout", "version", "version_type", "wait_for_active_shards"},
	"ccr.follow":        {"master_timeout", "wait_for_active_shards"},
	"ccr.follow_info":   {"master_timeout"},
	"ccr.follow_stats":  {"timeout"},
	"ccr.pause_follow":  {"master_timeout"},
	"ccr.resume_follow": {"master_timeout"},
	"ccr.unfollow":      {"master_timeout"},
}

// checkParams refuses unknown query parameters with ES's message
// (BaseRestHandler.unrecognized), including its "did you mean" hints.
func checkParams(r *http.Request, api string) *Error {
	allowed := apiParams[api]
	var unknown []string
	for k := range r.URL.Query() {
		if !slices.Contains(allowed, k) && !slices.Contains(commonParams, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	// ES suggests among the parameters the handler consumed, not the common ones.
	candidates := allowed
	var b strings.Builder
	fmt.Fprintf(&b, "request [%s] contains unrecognized parameter", r.URL.Path)
	if len(unknown) > 1 {
		b.WriteString("s")
	}
	b.WriteString(": ")
	for i, u := range unknown {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "[%s]", u)
		type scored struct {
			score float64
			name  string
		}
		var hits []scored
		for _, c := range candidates {
			if sc := similarity(u, c); sc > 0.5 {
				hits = append(hits, scored{sc, c})
			}
		}
		sort.Slice(hits, func(i, j int) bool {
			if hits[i].score != hits[j].score {
				return hits[i].score > hits[j].score
			}
			return hits[i].name < hits[j].name
		})
		switch len(hits) {
		case 0:
		case 1:
			fmt.Fprintf(&b, " -> did you mean [%s]?", hits[0].name)
		default:
			names := make([]string, len(hits))
			for i, h := range hits {
				names[i] = h.name
			}
			fmt.Fprintf(&b, " -> did you mean any of [%s]?", strings.Join(names, ", "))
		}
	}
	return errIllegalArgument("%s", b.String())
}

// similarity is Lucene's LevenshteinDistance: 1 - distance / max length.
func similarity(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 0 || len(rb) == 0 {
		if len(ra) == len(rb) {
			return 1
		}
		return 0
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return 1 - float64(prev[len(rb)])/float64(max(len(ra), len(rb)))
}

// checkContentType refuses request bodies that are not JSON, as ES answers
// `curl -d` without a Content-Type: 406 "Content-Type header [...] is not supported".
func checkContentType(r *http.Request) *Error {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		switch mt {
		case "application/json", "application/x-ndjson", "application/vnd.elasticsearch+json", "application/vnd.elasticsearch+x-ndjson":
			return nil
		}
	}
	return newErr(http.StatusNotAcceptable, "", "Content-Type header [%s] is not supported", ct)
}
