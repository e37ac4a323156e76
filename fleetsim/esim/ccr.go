package esim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"time"
)

// follow is the CCR metadata and shard-follow task state of a follower index.
type follow struct {
	RemoteCluster string         `json:"remote_cluster"`
	LeaderIndex   string         `json:"leader_index"`
	Status        string         `json:"status"`  // active | paused
	Started       bool           `json:"started"` // the shard follow task has run at least once
	Fatal         *Error         `json:"fatal,omitempty"`
	Parameters    map[string]any `json:"parameters"`

	LeaderMaxSeqNo   int64     `json:"leader_max_seq_no"` // leader history replicated so far (-1 none)
	OperationsRead   int64     `json:"operations_read"`
	SuccessfulReads  int64     `json:"successful_read_requests"`
	FailedReads      int64     `json:"failed_read_requests"`
	LastRead         time.Time `json:"last_read"`
	ReadException    *Error    `json:"read_exception,omitempty"` // last retryable read failure
	ReadRetries      int64     `json:"read_retries"`
	BytesRead        int64     `json:"bytes_read"`
	SuccessfulWrites int64     `json:"successful_write_requests"`
}

// FollowerInfo is a follower index's CCR state.
type FollowerInfo struct {
	Index          string
	RemoteCluster  string
	LeaderIndex    string
	Status         string // "active" or "paused"
	Fatal          string // reason of the fatal exception that stopped replication, "" when none
	Started        bool   // following has started (false right after a follow with wait_for_active_shards=0)
	LeaderMaxSeqNo int64  // the leader's history replicated so far
}

// defaultFollowParameters are the values GET _ccr/info reports when the
// request did not set them (ES FollowParameters defaults).
var defaultFollowParameters = map[string]any{
	"max_read_request_operation_count":  5120,
	"max_write_request_operation_count": 5120,
	"max_outstanding_read_requests":     12,
	"max_outstanding_write_requests":    9,
	"max_read_request_size":             "32mb",
	"max_write_request_size":            "9223372036854775807b",
	"max_write_buffer_count":            2147483647,
	"max_write_buffer_size":             "512mb",
	"max_retry_delay":                   "500ms",
	"read_poll_timeout":                 "1m",
}

// FollowRequest is the body of PUT /{index}/_ccr/follow.
type FollowRequest struct {
	RemoteCluster string          `json:"remote_cluster"`
	LeaderIndex   string          `json:"leader_index"`
	Settings      json.RawMessage `json:"settings,omitempty"`
	// Parameters holds the tuning options (max_read_request_operation_count, …).
	Parameters map[string]any `json:"-"`
}

// FollowResult is the response of a follow request.
type FollowResult struct {
	FollowIndexCreated     bool `json:"follow_index_created"`
	FollowIndexShardsAcked bool `json:"follow_index_shards_acked"`
	IndexFollowingStarted  bool `json:"index_following_started"`
}

func errCCRLicense() *Error {
	return newErr(http.StatusForbidden, "security_exception", "current license is non-compliant for [ccr]").
		with("license.expired.feature", "ccr")
}

func errNotFollower(name string) *Error {
	return errIllegalArgument("index [%s] is not a follower index", name)
}

// Follow creates follower index `follower` replicating leader index
// req.LeaderIndex of remote cluster req.RemoteCluster, like PUT
// /{index}/_ccr/follow. waitForActiveShards is the query parameter: "0" (the
// default, also for "") answers before following starts (true,false,false);
// "1", "all" or more replicate once before answering (true,true,true).
func (n *Node) Follow(follower string, req FollowRequest, waitForActiveShards string) (FollowResult, error) {
	r, e := n.follow(follower, req, waitForActiveShards)
	if e != nil {
		return FollowResult{}, e
	}
	return r, nil
}

func (n *Node) follow(follower string, req FollowRequest, wfas string) (FollowResult, *Error) {
	wait := false
	switch wfas {
	case "", "0":
	case "all":
		wait = true
	default:
		v, err := strconv.Atoi(wfas)
		if err != nil || v < 0 {
			return FollowResult{}, errIllegalArgument("cannot parse ActiveShardCount[%s]", wfas)
		}
		wait = v > 0
	}
	if req.RemoteCluster == "" || req.LeaderIndex == "" {
		msg := "Validation Failed: "
		i := 1
		if req.RemoteCluster == "" {
			msg += fmt.Sprintf("%d: remote_cluster is missing;", i)
			i++
		}
		if req.LeaderIndex == "" {
			msg += fmt.Sprintf("%d: leader_index is missing;", i)
		}
		return FollowResult{}, newErr(http.StatusBadRequest, "action_request_validation_exception", "%s", msg)
	}
	if e := validateIndexName(follower); e != nil {
		return FollowResult{}, e
	}
	n.mu.Lock()
	lic := n.st.License
	existing := n.st.Indices[follower]
	n.mu.Unlock()
	if !platinumOrBetter(lic) {
		return FollowResult{}, errCCRLicense()
	}
	leader, configured := n.remoteNode(req.RemoteCluster)
	if !configured {
		return FollowResult{}, errNoSuchRemote(req.RemoteCluster)
	}
	if leader == nil {
		return FollowResult{}, newErr(http.StatusInternalServerError, "no_seed_node_left_exception",
			"Unable to open any connections to remote cluster [%s]", req.RemoteCluster)
	}
	if l := leader.License(); !platinumOrBetter(l) {
		return FollowResult{}, newErr(http.StatusBadRequest, "status_exception",
			"can not fetch remote index [%s:%s] metadata as the remote cluster [%s] is not licensed for [ccr]; the license mode [%s] on cluster [%s] does not enable [ccr]",
			req.RemoteCluster, req.LeaderIndex, req.RemoteCluster, upper(l), req.RemoteCluster)
	}
	hidden, ok := leader.indexHidden(req.LeaderIndex)
	if !ok {
		// CcrLicenseChecker fetches the leader's metadata from the remote
		// cluster state: a missing leader is IndexNotFoundException.
		return FollowResult{}, errIndexNotFound(req.LeaderIndex)
	}
	if existing != nil {
		return FollowResult{}, errFollowOntoExisting(req.RemoteCluster, follower, existing)
	}
	ix, e := n.newIndex(follower, nil)
	if e != nil {
		return FollowResult{}, e
	}
	if len(req.Settings) > 0 {
		var s map[string]any
		if err := json.Unmarshal(req.Settings, &s); err == nil {
			flat := map[string]any{}
			flatten("", s, flat)
			for k, v := range flat {
				ix.Settings[trimIndexPrefix(k)] = settingString(v)
			}
		}
	}
	ix.Hidden = hidden
	params := maps.Clone(defaultFollowParameters)
	for k, v := range req.Parameters {
		params[k] = v
	}
	ix.Follow = &follow{RemoteCluster: req.RemoteCluster, LeaderIndex: req.LeaderIndex, Status: "active", Parameters: params, LeaderMaxSeqNo: -1}
	n.mu.Lock()
	if cur := n.st.Indices[follower]; cur != nil {
		n.mu.Unlock()
		return FollowResult{}, errFollowOntoExisting(req.RemoteCluster, follower, cur)
	}
	n.st.Indices[follower] = ix
	n.mu.Unlock()
	if !wait {
		return FollowResult{FollowIndexCreated: true}, nil
	}
	n.syncFollowers()
	return FollowResult{FollowIndexCreated: true, FollowIndexShardsAcked: true, IndexFollowingStarted: true}, nil
}

func trimIndexPrefix(k string) string {
	if len(k) > 6 && k[:6] == "index." {
		return k[6:]
	}
	return k
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

// indexHidden reports whether a concrete index exists and whether it is hidden.
func (n *Node) indexHidden(name string) (hidden, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ix := n.st.Indices[name]
	if ix == nil {
		return false, false
	}
	return ix.Hidden, true
}

// leaderExport is what a follower pulls from its leader.
type leaderExport struct {
	exists   bool
	maxSeqNo int64
	docs     map[string]*storedDoc // nil when unchanged since the follower's checkpoint
	bytes    int64
}

// export reads a leader index for replication; docs are only copied when the
// leader's history moved past since.
func (n *Node) export(name string, since int64) leaderExport {
	n.mu.Lock()
	defer n.mu.Unlock()
	ix := n.st.Indices[name]
	if ix == nil {
		return leaderExport{}
	}
	out := leaderExport{exists: true, maxSeqNo: ix.MaxSeqNo}
	if ix.MaxSeqNo != since {
		// storedDoc values are never mutated after they are stored, so sharing pointers is safe.
		out.docs = maps.Clone(ix.Docs)
		for _, d := range ix.Docs {
			out.bytes += int64(len(d.Source))
		}
	}
	return out
}

// Tick runs one replication round of every active follower index, as the
// shard follow tasks would in the background. Reads of a follower do the same
// lazily, so tests rarely need to call it.
func (n *Node) Tick() { n.syncFollowers() }

// syncFollowers replicates every active follower from its leader. It never
// holds two nodes' locks at once, so nodes may follow each other.
func (n *Node) syncFollowers() {
	type job struct {
		name, alias, leader string
		ix                  *index
		since               int64
	}
	var jobs []job
	n.mu.Lock()
	for name, ix := range n.st.Indices {
		if f := ix.Follow; f != nil && f.Status == "active" && f.Fatal == nil && !ix.Closed {
			jobs = append(jobs, job{name, f.RemoteCluster, f.LeaderIndex, ix, f.LeaderMaxSeqNo})
		}
	}
	n.mu.Unlock()
	for _, j := range jobs {
		leader, _ := n.remoteNode(j.alias)
		var exp leaderExport
		if leader != nil {
			exp = leader.export(j.leader, j.since)
		}
		n.mu.Lock()
		ix := n.st.Indices[j.name]
		if ix != j.ix || ix.Follow == nil || ix.Follow.Status != "active" || ix.Follow.Fatal != nil {
			n.mu.Unlock()
			continue
		}
		f := ix.Follow
		f.Started = true
		f.LastRead = n.now().UTC()
		switch {
		case leader == nil:
			f.FailedReads++
			f.ReadRetries++
			f.ReadException = newErr(http.StatusInternalServerError, "no_seed_node_left_exception",
				"Unable to open any connections to remote cluster [%s]", j.alias)
		case !exp.exists:
			// ES stops the shard follow task with a fatal error when the leader index is gone.
			f.Fatal = errIndexNotFound(j.leader)
		default:
			f.ReadException, f.ReadRetries = nil, 0
			f.SuccessfulReads++
			if exp.docs != nil {
				ops := exp.maxSeqNo - f.LeaderMaxSeqNo
				if ops < 0 {
					ops = int64(len(exp.docs))
				}
				ix.Docs = exp.docs
				ix.MaxSeqNo = exp.maxSeqNo
				f.LeaderMaxSeqNo = exp.maxSeqNo
				f.OperationsRead += ops
				f.BytesRead += exp.bytes
				f.SuccessfulWrites++
			}
		}
		n.mu.Unlock()
	}
}

func (n *Node) followerIndex(name string) (*index, *Error) {
	ix := n.st.Indices[name]
	if ix == nil {
		return nil, errIndexNotFound(name)
	}
	if ix.Follow == nil {
		return nil, errNotFollower(name)
	}
	return ix, nil
}

// PauseFollow pauses replication of a follower index.
func (n *Node) PauseFollow(name string) error {
	if e := n.pauseFollow(name); e != nil {
		return e
	}
	return nil
}

func (n *Node) pauseFollow(name string) *Error {
	n.syncFollowers()
	n.mu.Lock()
	defer n.mu.Unlock()
	if !platinumOrBetter(n.st.License) {
		return errCCRLicense()
	}
	ix, e := n.followerIndex(name)
	if e != nil {
		return e
	}
	if ix.Follow.Status == "paused" {
		return errIllegalArgument("no shard follow tasks for [%s]", name)
	}
	ix.Follow.Status = "paused"
	return nil
}

// ResumeFollow resumes a paused follower. A follower whose leader history is
// no longer available fails again on its next read.
func (n *Node) ResumeFollow(name string) error {
	if e := n.resumeFollow(name, nil); e != nil {
		return e
	}
	return nil
}

func (n *Node) resumeFollow(name string, params map[string]any) *Error {
	n.mu.Lock()
	if !platinumOrBetter(n.st.License) {
		n.mu.Unlock()
		return errCCRLicense()
	}
	ix := n.st.Indices[name]
	if ix == nil {
		n.mu.Unlock()
		return errIndexNotFound(name)
	}
	if ix.Follow == nil {
		n.mu.Unlock()
		return errIllegalArgument("follow index [%s] does not have ccr metadata", name)
	}
	if ix.Follow.Status == "active" {
		// Starting the shard follow task again collides with the running one
		// (PersistentTasksClusterService: task ids are <index uuid>-<shard>).
		n.mu.Unlock()
		return newErr(http.StatusBadRequest, "resource_already_exists_exception", "task with id {%s-0} already exist", ix.UUID)
	}
	alias, leaderIndex := ix.Follow.RemoteCluster, ix.Follow.LeaderIndex
	n.mu.Unlock()
	// Like ES, resuming re-validates the remote cluster and the leader index.
	leader, configured := n.remoteNode(alias)
	switch {
	case !configured:
		return errNoSuchRemote(alias)
	case leader == nil:
		return newErr(http.StatusInternalServerError, "no_seed_node_left_exception", "Unable to open any connections to remote cluster [%s]", alias)
	}
	if _, ok := leader.indexHidden(leaderIndex); !ok {
		return errIndexNotFound(leaderIndex)
	}
	n.mu.Lock()
	if ix = n.st.Indices[name]; ix == nil || ix.Follow == nil {
		n.mu.Unlock()
		return errIndexNotFound(name)
	}
	ix.Follow.Status = "active"
	if len(params) > 0 {
		ix.Follow.Parameters = maps.Clone(defaultFollowParameters)
		maps.Copy(ix.Follow.Parameters, params)
	}
	ix.Follow.ReadException, ix.Follow.ReadRetries = nil, 0
	n.mu.Unlock()
	return nil
}

// Unfollow turns a paused and closed follower into a regular index.
func (n *Node) Unfollow(name string) error {
	if e := n.unfollow(name); e != nil {
		return e
	}
	return nil
}

func (n *Node) unfollow(name string) *Error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !platinumOrBetter(n.st.License) {
		return errCCRLicense()
	}
	ix, e := n.followerIndex(name)
	if e != nil {
		return e
	}
	if !ix.Closed {
		return errIllegalArgument("cannot convert the follower index [%s] to a non-follower, because it has not been closed", name)
	}
	if ix.Follow.Status == "active" {
		return errIllegalArgument("cannot convert the follower index [%s] to a non-follower, because it has not been paused", name)
	}
	ix.Follow = nil
	return nil
}

// FailFollower puts a follower index into the fatal state ES reaches when the
// leader no longer retains the operations it needs ("Operations are no longer
// available for replicating. …"). Replication stops until the follower is
// deleted and recreated; pause and resume do not help.
func (n *Node) FailFollower(name string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	ix, e := n.followerIndex(name)
	if e != nil {
		return e
	}
	from := ix.Follow.LeaderMaxSeqNo + 1
	ix.Follow.Fatal = newErr(http.StatusNotFound, "resource_not_found_exception",
		"Operations are no longer available for replicating. Existing retention leases [RetentionLeases{primaryTerm=1, version=2, leases={peer_recovery/%s=RetentionLease{id='peer_recovery/%s', retainingSequenceNumber=%d, timestamp=%d, source='peer recovery'}}}]; maybe increase the retention lease period setting [index.soft_deletes.retention_lease.period]?",
		ix.UUID, ix.UUID, from+1, n.now().UnixMilli()).
		with("requested_operations_missing", []string{strconv.FormatInt(from, 10), strconv.FormatInt(from, 10)})
	return nil
}

// FollowerStatus reports the CCR state of a follower index (false when the
// index does not exist or is not a follower).
func (n *Node) FollowerStatus(index string) (FollowerInfo, bool) {
	n.syncFollowers()
	n.mu.Lock()
	defer n.mu.Unlock()
	ix := n.st.Indices[index]
	if ix == nil || ix.Follow == nil {
		return FollowerInfo{}, false
	}
	f := ix.Follow
	fi := FollowerInfo{Index: index, RemoteCluster: f.RemoteCluster, LeaderIndex: f.LeaderIndex, Status: f.Status, Started: f.Started, LeaderMaxSeqNo: f.LeaderMaxSeqNo}
	if f.Fatal != nil {
		fi.Fatal = f.Fatal.Reason
	}
	return fi, true
}

func (n *Node) ccrInfoBody(expr string) (map[string]any, *Error) {
	n.syncFollowers()
	n.mu.Lock()
	defer n.mu.Unlock()
	names, e := n.resolve(expr, expandWildcards{open: true, closed: true, hidden: true}, false)
	if e != nil {
		return nil, e
	}
	list := []any{}
	for _, name := range names {
		ix := n.st.Indices[name]
		if ix.Follow == nil {
			continue
		}
		f := ix.Follow
		entry := map[string]any{
			"follower_index": name,
			"remote_cluster": f.RemoteCluster,
			"leader_index":   f.LeaderIndex,
			"status":         f.Status,
		}
		if f.Status == "active" {
			entry["parameters"] = maps.Clone(f.Parameters)
		}
		list = append(list, entry)
	}
	return map[string]any{"follower_indices": list}, nil
}

func (n *Node) ccrStatsBody(expr string) (map[string]any, *Error) {
	n.syncFollowers()
	n.mu.Lock()
	defer n.mu.Unlock()
	names, e := n.resolve(expr, expandWildcards{open: true, closed: true, hidden: true}, false)
	if e != nil {
		return nil, e
	}
	now := n.now()
	list := []any{}
	for _, name := range names {
		ix := n.st.Indices[name]
		f := ix.Follow
		// Only followers with a running shard follow task have stats.
		if f == nil || f.Status != "active" {
			continue
		}
		checkpoint := f.LeaderMaxSeqNo
		readExceptions := []any{}
		if f.ReadException != nil {
			readExceptions = append(readExceptions, map[string]any{
				"from_seq_no": checkpoint + 1, "retries": f.ReadRetries, "exception": f.ReadException.cause(),
			})
		}
		sinceRead := int64(-1)
		if !f.LastRead.IsZero() {
			sinceRead = now.Sub(f.LastRead).Milliseconds()
		}
		shard := map[string]any{
			"remote_cluster":                     f.RemoteCluster,
			"leader_index":                       f.LeaderIndex,
			"follower_index":                     name,
			"shard_id":                           0,
			"leader_global_checkpoint":           checkpoint,
			"leader_max_seq_no":                  checkpoint,
			"follower_global_checkpoint":         checkpoint,
			"follower_max_seq_no":                checkpoint,
			"last_requested_seq_no":              checkpoint,
			"outstanding_read_requests":          0,
			"outstanding_write_requests":         0,
			"write_buffer_operation_count":       0,
			"follower_mapping_version":           1,
			"follower_settings_version":          1,
			"follower_aliases_version":           1,
			"total_read_time_millis":             f.SuccessfulReads,
			"total_read_remote_exec_time_millis": f.SuccessfulReads,
			"successful_read_requests":           f.SuccessfulReads,
			"failed_read_requests":               f.FailedReads,
			"operations_read":                    f.OperationsRead,
			"bytes_read":                         f.BytesRead,
			"total_write_time_millis":            f.SuccessfulWrites,
			"write_buffer_size_in_bytes":         0,
			"successful_write_requests":          f.SuccessfulWrites,
			"failed_write_requests":              0,
			"operations_written":                 f.OperationsRead,
			"read_exceptions":                    readExceptions,
			"time_since_last_read_millis":        sinceRead,
		}
		if f.Fatal != nil {
			shard["fatal_exception"] = f.Fatal.cause()
		}
		list = append(list, map[string]any{"index": name, "total_global_checkpoint_lag": 0, "shards": []any{shard}})
	}
	return map[string]any{"indices": list}, nil
}

// errFollowOntoExisting is put-follow's answer when the follower name is
// taken. The follower is created by restoring the leader from the CCR
// repository "_ccr_<remote>" (snapshot "_latest_", CcrRepository.LATEST), so
// an open index of that name fails in RestoreService
// (validateExistingClosedIndex) with a SnapshotRestoreException, whose
// message starts with the snapshot "[repository:name/uuid]" and whose
// status is 500. Restoring over a closed index is not simulated: the
// simulator keeps refusing it as an existing index (inferred).
func errFollowOntoExisting(remote, follower string, existing *index) *Error {
	if existing.Closed {
		return errIndexExists(follower, existing.UUID)
	}
	return newErr(http.StatusInternalServerError, "snapshot_restore_exception",
		"[_ccr_%s:_latest_/_latest_] cannot restore index [%s] because an open index with same name already exists in the cluster. "+
			"Either close or delete the existing index or restore the index under a different name by providing a rename pattern and replacement name",
		remote, follower)
}
