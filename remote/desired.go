package remote

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/schema"
)

// Kinds of remote-side objects in a plan (plan.Change.Kind), next to the
// reconciler's output, agent_policy and package kinds.
const (
	KindServiceToken  = "service_token"  // a token of elastic/fleet-server-remote
	KindAPIKey        = "api_key"        // the Kibana API key in kibana_api_key
	KindRemoteCluster = "remote_cluster" // cluster.remote.<alias>.* settings
	KindFollower      = "follower_index" // the fleet-synced-integrations-ccr-* follower
	KindOutput        = "output"         // the remote's own elasticsearch output
	KindPackage       = "package"        // a directly synced integration
)

// Service account whose tokens remote_elasticsearch outputs carry.
const (
	ServiceNamespace = "elastic"
	ServiceName      = "fleet-server-remote"
)

// KibanaApplication and KibanaPrivileges are what a kibana_api_key needs:
// Kibana's remote sync status API requires Fleet settings read and
// integrations read, nothing more.
const KibanaApplication = "kibana-.kibana"

// KibanaPrivileges are the application privileges of a minted kibana_api_key.
var KibanaPrivileges = []string{"feature_fleet.read", "feature_fleetv2.read"}

// Objects are the remote-side objects one remote_elasticsearch output needs.
// A nil field means fleetform manages no such object for the output.
type Objects struct {
	Output       string // the main cluster's output id
	OutputName   string
	Remote       string // clusters.remotes[].name
	SyncVia      string // SyncViaCCR or SyncViaDirect; empty when sync is off
	ServiceToken *TokenSpec
	KibanaAPIKey *APIKeySpec
	Link         *LinkSpec
	Follower     *FollowerSpec
	ESOutput     *ESOutputSpec
}

// TokenSpec is a generated service token on elastic/fleet-server-remote.
// Its value goes into the main output's secrets.service_token (or
// service_token on plaintext opt-in) and nowhere else.
type TokenSpec struct {
	Prefix string // every generation's name starts with it
	Plain  bool   // stored as plain service_token rather than secrets.service_token
}

// Name is the token's name for rotation generation gen (1, 2, …).
func (t TokenSpec) Name(gen int) string { return fmt.Sprintf("%s%d", t.Prefix, gen) }

// APIKeySpec is a generated remote API key for kibana_api_key.
type APIKeySpec struct {
	Prefix string // every generation's name starts with it
}

// Name is the key's name for rotation generation gen.
func (k APIKeySpec) Name(gen int) string { return fmt.Sprintf("%s%d", k.Prefix, gen) }

// RoleDescriptors are the exact privileges of the key: read on Fleet and
// integrations in Kibana, nothing in Elasticsearch.
func (APIKeySpec) RoleDescriptors() map[string]elastic.RoleDescriptor {
	return map[string]elastic.RoleDescriptor{
		"fleetform_remote_sync_status": {
			Cluster: []string{},
			Applications: []elastic.ApplicationPrivilege{{
				Application: KibanaApplication,
				Privileges:  slices.Clone(KibanaPrivileges),
				Resources:   []string{"*"},
			}},
		},
	}
}

// LinkSpec is the remote-cluster connection from the remote to main.
type LinkSpec struct {
	Alias    string
	Settings map[string]any // flat persistent settings; nil values remove a key
}

// FollowerSpec is the CCR follower of the main's leader index.
type FollowerSpec struct {
	Index         string // fleet-synced-integrations-ccr-<output name>
	RemoteCluster string // the link alias
	LeaderIndex   string // LeaderIndex
}

// ESOutputSpec is the remote's own elasticsearch output whose hosts equal
// the main output's hosts, the condition Kibana's remote-side sync task
// checks before it does anything.
type ESOutputSpec struct {
	ID    string
	Name  string
	Hosts []string // normalized
}

// Desired derives the remote-side objects of output o (a
// remote_elasticsearch output with remote: r.Name). Problems are
// configuration errors found on the way, such as CCR sync without main_link.
func Desired(o schema.Output, r schema.Remote) (Objects, []Problem) {
	obj := Objects{Output: o.ID, OutputName: o.Name, Remote: r.Name}
	var ps []Problem
	problem := func(check, format string, args ...any) {
		ps = append(ps, Problem{Cluster: r.Name, Output: o.ID, Check: check, Message: fmt.Sprintf(format, args...)})
	}
	base := "fleetform-" + sanitizeName(o.ID) + "-"
	if o.Secrets != nil && o.Secrets.ServiceToken != nil && o.Secrets.ServiceToken.Generate {
		obj.ServiceToken = &TokenSpec{Prefix: base}
	} else if o.ServiceToken != nil && o.ServiceToken.Generate {
		obj.ServiceToken = &TokenSpec{Prefix: base, Plain: true}
	}
	if o.KibanaAPIKey != nil && o.KibanaAPIKey.Generate {
		obj.KibanaAPIKey = &APIKeySpec{Prefix: base + "kibana-"}
	}
	if o.SyncIntegrations == nil || !*o.SyncIntegrations {
		return obj, ps
	}
	obj.SyncVia = cmp.Or(o.SyncVia, SyncViaCCR)
	if obj.SyncVia != SyncViaCCR {
		return obj, ps
	}
	hosts, err := NormalizeHosts(o.Hosts)
	if err != nil {
		problem(CheckHosts, "%v", err)
	}
	obj.ESOutput = &ESOutputSpec{
		ID:    "fleetform-sync-" + o.ID,
		Name:  o.Name + " (fleetform sync target)",
		Hosts: hosts,
	}
	if r.MainLink == nil {
		problem(CheckLink, "sync_via: ccr needs clusters.remotes[%s].main_link: how %s reaches the main cluster", r.Name, r.Name)
		return obj, ps
	}
	link, err := linkSpec(*r.MainLink)
	if err != nil {
		problem(CheckLink, "%v", err)
		return obj, ps
	}
	obj.Link = &link
	obj.Follower = &FollowerSpec{Index: FollowerIndexName(o.Name), RemoteCluster: link.Alias, LeaderIndex: LeaderIndex}
	return obj, ps
}

// CheckLink is the preflight check of main_link.
const CheckLink = "main-link"

func linkSpec(l schema.MainLink) (LinkSpec, error) {
	if l.Alias == "" {
		return LinkSpec{}, fmt.Errorf("main_link.alias is empty")
	}
	p := "cluster.remote." + l.Alias + "."
	s := LinkSpec{Alias: l.Alias}
	switch l.Mode {
	case "proxy":
		if l.ProxyAddress == "" {
			return LinkSpec{}, fmt.Errorf("main_link mode proxy needs proxy_address")
		}
		s.Settings = map[string]any{
			p + "mode": "proxy", p + "proxy_address": l.ProxyAddress, p + "server_name": nilIfEmpty(l.ServerName),
			p + "seeds": nil,
		}
	case "sniff", "":
		if len(l.Seeds) == 0 {
			return LinkSpec{}, fmt.Errorf("main_link mode sniff needs seeds")
		}
		s.Settings = map[string]any{
			p + "mode": "sniff", p + "seeds": slices.Clone(l.Seeds), p + "proxy_address": nil, p + "server_name": nil,
		}
	default:
		return LinkSpec{}, fmt.Errorf("main_link mode %q is neither proxy nor sniff", l.Mode)
	}
	return s, nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// FollowerIndexName is the follower index for a main output named name:
// fleet-synced-integrations-ccr-<name>, lower-cased and with characters
// that Elasticsearch forbids in index names replaced by '-'.
func FollowerIndexName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if strings.ContainsRune(` \/*?"<>|,#:`, r) {
			r = '-'
		}
		b.WriteRune(r)
	}
	s := FollowerPrefix + b.String()
	if len(s) > 255 {
		s = s[:255]
	}
	return s
}

// sanitizeName keeps a service-token or API-key name inside
// [a-zA-Z0-9_-], the characters Elasticsearch accepts in token names.
func sanitizeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// LinkDiff compares the desired link settings with the remote's flat
// persistent settings and returns the settings to PUT (nil if none).
func LinkDiff(want LinkSpec, have map[string]any) map[string]any {
	var out map[string]any
	for k, v := range want.Settings {
		h, ok := have[k]
		if v == nil && !ok || v != nil && ok && sameSetting(v, h) {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		out[k] = v
	}
	return out
}

func sameSetting(want, have any) bool {
	switch w := want.(type) {
	case string:
		return fmt.Sprint(have) == w
	case []string:
		var hs []string
		switch h := have.(type) {
		case []string:
			hs = h
		case []any:
			for _, x := range h {
				hs = append(hs, fmt.Sprint(x))
			}
		case string:
			hs = []string{h}
		}
		return slices.Equal(w, hs)
	}
	return false
}

// FollowerObserved is what the remote reports about the follower index.
type FollowerObserved struct {
	Exists        bool   // the index exists
	Follower      bool   // it is a CCR follower (_ccr/info lists it)
	RemoteCluster string // from _ccr/info
	LeaderIndex   string
	Status        string // active | paused
	FatalError    string // _ccr/stats indices[0].shards[*].fatal_exception.reason
}

// FollowerStep is what to do with the follower index.
type FollowerStep string

const (
	FollowerOK       FollowerStep = ""
	FollowerCreate   FollowerStep = "create"   // PUT <index>/_ccr/follow?wait_for_active_shards=1
	FollowerResume   FollowerStep = "resume"   // POST <index>/_ccr/resume_follow
	FollowerRecreate FollowerStep = "recreate" // delete the index, then follow again
	FollowerBlocked  FollowerStep = "blocked"  // an index of that name exists and is not ours to replace
)

// opsUnavailable is the fatal CCR error after which a follower can only be
// recreated (retention leases expired during a long disconnect).
const opsUnavailable = "operations are no longer available for replicating"

// DecideFollower returns the step that makes the follower match spec, and
// why. owned reports whether fleetform created the index (state index):
// only an owned index is ever deleted.
func DecideFollower(spec FollowerSpec, have FollowerObserved, owned bool) (FollowerStep, string) {
	switch {
	case !have.Exists:
		return FollowerCreate, fmt.Sprintf("follow %s:%s", spec.RemoteCluster, spec.LeaderIndex)
	case !have.Follower:
		if owned {
			return FollowerRecreate, "the index exists but is not a CCR follower"
		}
		return FollowerBlocked, fmt.Sprintf("index %s exists, is not a follower and was not created by fleetform", spec.Index)
	case have.RemoteCluster != spec.RemoteCluster || have.LeaderIndex != spec.LeaderIndex:
		why := fmt.Sprintf("it follows %s:%s instead of %s:%s", have.RemoteCluster, have.LeaderIndex, spec.RemoteCluster, spec.LeaderIndex)
		if owned {
			return FollowerRecreate, why
		}
		return FollowerBlocked, why + " and was not created by fleetform"
	case strings.Contains(strings.ToLower(have.FatalError), opsUnavailable):
		return FollowerRecreate, "fatal replication error: " + have.FatalError
	case have.Status == "paused":
		return FollowerResume, "the follower is paused"
	}
	return FollowerOK, ""
}
