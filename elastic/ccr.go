package elastic

import (
	"context"
	"net/http"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// FollowResult is the answer of CCRFollow.
type FollowResult struct {
	FollowIndexCreated     bool `json:"follow_index_created"`
	FollowIndexShardsAcked bool `json:"follow_index_shards_acked"`
	IndexFollowingStarted  bool `json:"index_following_started"`
}

// CCRFollow creates follower index following leader on the remote cluster
// alias remote. waitForActiveShards "" means Elasticsearch's default "0",
// which answers before following has started (trap 30); pass "1" or "all"
// to wait. Not retried once it may have reached the cluster (a repeat
// fails because the index exists); check CCRInfo instead.
func (c *Client) CCRFollow(ctx context.Context, index, remote, leader, waitForActiveShards string) (FollowResult, error) {
	var out FollowResult
	err := c.doJSON(ctx, call{method: http.MethodPut, path: "/" + pathEscape(index) + "/_ccr/follow", unsafe: true,
		send: func(ctx context.Context) (*esapi.Response, error) {
			b, err := jsonBody(map[string]any{"remote_cluster": remote, "leader_index": leader})
			if err != nil {
				return nil, err
			}
			return esapi.CCRFollowRequest{Index: index, Body: b, WaitForActiveShards: waitForActiveShards}.Do(ctx, c.es)
		}}, &out)
	return out, err
}

// CCRPause pauses a follower.
func (c *Client) CCRPause(ctx context.Context, index string) error {
	return c.doJSON(ctx, call{method: http.MethodPost, path: "/" + pathEscape(index) + "/_ccr/pause_follow",
		send: func(ctx context.Context) (*esapi.Response, error) {
			return esapi.CCRPauseFollowRequest{Index: index}.Do(ctx, c.es)
		}}, nil)
}

// CCRResume resumes a paused follower.
func (c *Client) CCRResume(ctx context.Context, index string) error {
	return c.doJSON(ctx, call{method: http.MethodPost, path: "/" + pathEscape(index) + "/_ccr/resume_follow",
		send: func(ctx context.Context) (*esapi.Response, error) {
			return esapi.CCRResumeFollowRequest{Index: index}.Do(ctx, c.es)
		}}, nil)
}

// CCRUnfollow turns a paused, closed follower into a regular index.
func (c *Client) CCRUnfollow(ctx context.Context, index string) error {
	return c.doJSON(ctx, call{method: http.MethodPost, path: "/" + pathEscape(index) + "/_ccr/unfollow",
		send: func(ctx context.Context) (*esapi.Response, error) {
			return esapi.CCRUnfollowRequest{Index: index}.Do(ctx, c.es)
		}}, nil)
}

// FollowerInfo is one entry of GET /{index}/_ccr/info.
type FollowerInfo struct {
	FollowerIndex string         `json:"follower_index"`
	RemoteCluster string         `json:"remote_cluster"`
	LeaderIndex   string         `json:"leader_index"`
	Status        string         `json:"status"` // active | paused
	Parameters    map[string]any `json:"parameters,omitempty"`
}

// CCRInfo returns the followers matching index (a name or pattern, e.g.
// "fleet-synced-integrations-ccr-*"). An index that is not a follower is
// absent from the list.
func (c *Client) CCRInfo(ctx context.Context, index string) ([]FollowerInfo, error) {
	var out struct {
		FollowerIndices []FollowerInfo `json:"follower_indices"`
	}
	err := c.doJSON(ctx, call{method: http.MethodGet, path: "/" + pathEscape(index) + "/_ccr/info",
		send: func(ctx context.Context) (*esapi.Response, error) {
			return esapi.CCRFollowInfoRequest{Index: []string{index}}.Do(ctx, c.es)
		}}, &out)
	return out.FollowerIndices, err
}

// FollowerStats are the shard statistics of one follower index.
type FollowerStats struct {
	Index                    string       `json:"index"`
	TotalGlobalCheckpointLag int64        `json:"total_global_checkpoint_lag"`
	Shards                   []ShardStats `json:"shards"`
}

// ShardStats are the CCR statistics of one follower shard (the fields
// fleetform reads).
type ShardStats struct {
	RemoteCluster            string `json:"remote_cluster"`
	LeaderIndex              string `json:"leader_index"`
	FollowerIndex            string `json:"follower_index"`
	ShardID                  int    `json:"shard_id"`
	LeaderGlobalCheckpoint   int64  `json:"leader_global_checkpoint"`
	FollowerGlobalCheckpoint int64  `json:"follower_global_checkpoint"`
	OperationsWritten        int64  `json:"operations_written"`
	FailedReadRequests       int64  `json:"failed_read_requests"`
	TimeSinceLastReadMillis  int64  `json:"time_since_last_read_millis"`
	ReadExceptions           []struct {
		FromSeqNo int64 `json:"from_seq_no"`
		Retries   int   `json:"retries"`
		Exception Cause `json:"exception"`
	} `json:"read_exceptions,omitempty"`
	FatalException *Cause `json:"fatal_exception,omitempty"`
}

// FatalException returns the first shard's fatal exception, or nil: a
// follower in that state no longer replicates.
func (s FollowerStats) FatalException() *Cause {
	for _, sh := range s.Shards {
		if sh.FatalException != nil {
			return sh.FatalException
		}
	}
	return nil
}

// OperationsUnavailable reports the fatal error after which a follower must
// be deleted and created again ("Operations are no longer available for
// replicating…", the leader's retention leases expired).
func (s FollowerStats) OperationsUnavailable() bool {
	fe := s.FatalException()
	return fe != nil && strings.Contains(strings.ToLower(fe.Reason), "operations are no longer available")
}

// CCRStats returns the follower statistics of index (name or pattern).
func (c *Client) CCRStats(ctx context.Context, index string) ([]FollowerStats, error) {
	var out struct {
		Indices []FollowerStats `json:"indices"`
	}
	err := c.doJSON(ctx, call{method: http.MethodGet, path: "/" + pathEscape(index) + "/_ccr/stats",
		send: func(ctx context.Context) (*esapi.Response, error) {
			return esapi.CCRFollowStatsRequest{Index: []string{index}}.Do(ctx, c.es)
		}}, &out)
	return out.Indices, err
}
