package remote

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/secret"
)

// serviceTokens lists the index-stored token names of
// elastic/fleet-server-remote (the ones fleetform can create and delete),
// sorted. Some versions list a token as "elastic/fleet-server-remote/<name>".
func serviceTokens(ctx context.Context, es ES) ([]string, error) {
	sc, err := es.ListServiceTokens(ctx, ServiceNamespace, ServiceName)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(sc.Tokens))
	for _, n := range sc.Tokens {
		names = append(names, n[strings.LastIndexByte(n, '/')+1:])
	}
	slices.Sort(names)
	return names, nil
}

// apiKeys lists the valid (not invalidated) API keys whose name starts
// with prefix, sorted by name.
func apiKeys(ctx context.Context, es ES, prefix string) ([]elastic.APIKey, error) {
	keys, err := es.GetAPIKeys(ctx, prefix+"*", false)
	if elastic.IsNotFound(err) { // some versions answer 404 when no key matches
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	keys = slices.DeleteFunc(keys, func(k elastic.APIKey) bool {
		return k.Invalidated || !strings.HasPrefix(k.Name, prefix)
	})
	slices.SortFunc(keys, func(a, b elastic.APIKey) int { return cmp.Compare(a.Name, b.Name) })
	return keys, nil
}

// authStatus calls _security/_authenticate with authorization (an
// Authorization header value such as "Bearer <token>") and returns the HTTP
// status: 200, or the status Elasticsearch refused the credential with.
// err is set only when there was no answer to judge by.
func authStatus(ctx context.Context, es ES, authorization secret.Value) (int, error) {
	_, err := es.AuthenticateAs(ctx, authorization)
	if err == nil {
		return http.StatusOK, nil
	}
	if st := elastic.StatusCode(err); st != 0 {
		return st, nil
	}
	return 0, err
}

// followers describes every index matching fleet-synced-integrations-ccr-*:
// whether it is a follower (_ccr/info), of what, and the first fatal
// replication error of an active one (_ccr/stats). Three requests at most,
// whatever the number of indices.
func followers(ctx context.Context, es ES) (map[string]FollowerObserved, error) {
	pattern := FollowerPrefix + "*"
	names, err := es.GetIndices(ctx, pattern)
	if err != nil {
		return nil, err
	}
	out := make(map[string]FollowerObserved, len(names))
	if len(names) == 0 {
		return out, nil
	}
	for _, n := range names {
		out[n] = FollowerObserved{Exists: true}
	}
	infos, err := es.CCRInfo(ctx, pattern)
	if err != nil {
		return nil, fmt.Errorf("follower info: %w", err)
	}
	active := false
	for _, fi := range infos {
		f, ok := out[fi.FollowerIndex]
		if !ok {
			continue
		}
		f.Follower, f.RemoteCluster, f.LeaderIndex, f.Status = true, fi.RemoteCluster, fi.LeaderIndex, fi.Status
		out[fi.FollowerIndex] = f
		active = active || fi.Status == "active"
	}
	if !active {
		return out, nil
	}
	stats, err := es.CCRStats(ctx, pattern)
	if err != nil && !elastic.IsNotFound(err) {
		return nil, fmt.Errorf("follower stats: %w", err)
	}
	for _, st := range stats {
		f, ok := out[st.Index]
		if fe := st.FatalException(); ok && fe != nil {
			f.FatalError = fe.Reason
			out[st.Index] = f
		}
	}
	return out, nil
}

// follow creates the follower and waits until one shard is active, so the
// answer means following has started (trap 30).
func follow(ctx context.Context, es ES, index, remoteCluster, leaderIndex string) error {
	_, err := es.CCRFollow(ctx, index, remoteCluster, leaderIndex, "1")
	return err
}

// deleteIndex deletes an index; an absent index is not an error.
func deleteIndex(ctx context.Context, es ES, index string) error {
	if err := es.DeleteIndex(ctx, index); err != nil && !elastic.IsNotFound(err) {
		return err
	}
	return nil
}

// deleteServiceToken deletes a token of elastic/fleet-server-remote; an
// absent token is not an error.
func deleteServiceToken(ctx context.Context, es ES, name string) error {
	_, err := es.DeleteServiceToken(ctx, ServiceNamespace, ServiceName, name)
	return err
}

// invalidateAPIKeys invalidates keys by id; an absent key is not an error.
func invalidateAPIKeys(ctx context.Context, es ES, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := es.InvalidateAPIKey(ctx, ids...)
	if elastic.IsNotFound(err) {
		return nil
	}
	return err
}
