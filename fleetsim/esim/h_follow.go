package esim

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
)

var followBodyKeys = []string{"remote_cluster", "leader_index", "settings", "data_stream_name",
	"max_read_request_operation_count", "max_outstanding_read_requests", "max_read_request_size",
	"max_write_request_operation_count", "max_write_request_size", "max_outstanding_write_requests",
	"max_write_buffer_count", "max_write_buffer_size", "max_retry_delay", "read_poll_timeout"}

func parseFollowBody(body []byte, required bool) (FollowRequest, *Error) {
	var req FollowRequest
	if len(bytes.TrimSpace(body)) == 0 {
		if required {
			return req, newErr(http.StatusBadRequest, "parse_exception", "request body is required")
		}
		return req, nil
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return req, newErr(http.StatusBadRequest, "x_content_parse_exception", "[1:1] failed to parse follow request")
	}
	for k, v := range m {
		if !slices.Contains(followBodyKeys, k) || !required && (k == "remote_cluster" || k == "leader_index" || k == "settings" || k == "data_stream_name") {
			return req, newErr(http.StatusBadRequest, "x_content_parse_exception", "[1:2] [put_follow_request] unknown field [%s]", k)
		}
		switch k {
		case "remote_cluster":
			req.RemoteCluster, _ = v.(string)
		case "leader_index":
			req.LeaderIndex, _ = v.(string)
		case "settings":
			req.Settings, _ = json.Marshal(v)
		case "data_stream_name":
		default:
			if req.Parameters == nil {
				req.Parameters = map[string]any{}
			}
			req.Parameters[k] = v
		}
	}
	return req, nil
}

func (n *Node) hFollow(c *call) (int, any, *Error) {
	req, e := parseFollowBody(c.body, true)
	if e != nil {
		return 0, nil, e
	}
	res, e := n.follow(c.params["index"], req, c.query.Get("wait_for_active_shards"))
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, res, nil
}

func (n *Node) hPauseFollow(c *call) (int, any, *Error) {
	if e := n.pauseFollow(c.params["index"]); e != nil {
		return 0, nil, e
	}
	return http.StatusOK, map[string]any{"acknowledged": true}, nil
}

func (n *Node) hResumeFollow(c *call) (int, any, *Error) {
	req, e := parseFollowBody(c.body, false)
	if e != nil {
		return 0, nil, e
	}
	if e := n.resumeFollow(c.params["index"], maps.Clone(req.Parameters)); e != nil {
		return 0, nil, e
	}
	return http.StatusOK, map[string]any{"acknowledged": true}, nil
}

func (n *Node) hUnfollow(c *call) (int, any, *Error) {
	if e := n.unfollow(c.params["index"]); e != nil {
		return 0, nil, e
	}
	return http.StatusOK, map[string]any{"acknowledged": true}, nil
}

func (n *Node) hFollowInfo(c *call) (int, any, *Error) {
	if !platinumOrBetter(n.License()) {
		return 0, nil, errCCRLicense()
	}
	body, e := n.ccrInfoBody(c.params["index"])
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, body, nil
}

func (n *Node) hFollowStats(c *call) (int, any, *Error) {
	if !platinumOrBetter(n.License()) {
		return 0, nil, errCCRLicense()
	}
	body, e := n.ccrStatsBody(c.params["index"])
	if e != nil {
		if e.Type == "index_not_found_exception" {
			return 0, nil, newErr(http.StatusNotFound, "resource_not_found_exception", "No shard follow tasks for follower indices [%s]", c.params["index"])
		}
		return 0, nil, e
	}
	if len(body["indices"].([]any)) == 0 {
		return 0, nil, newErr(http.StatusNotFound, "resource_not_found_exception", "No shard follow tasks for follower indices [%s]", c.params["index"])
	}
	return http.StatusOK, body, nil
}
