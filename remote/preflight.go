package remote

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/reconciler"
)

// Preflight check names (Problem.Check).
const (
	CheckLicense      = "license"
	CheckPolicyOutput = "per-policy-output-license"
	CheckFollowers    = "followers"
	CheckHosts        = "hosts"
	CheckKibana       = "kibana"
	CheckServiceToken = "service-token"
)

// Sync modes of a remote_elasticsearch output (fleetform's sync_via).
const (
	SyncViaCCR    = "ccr"    // Kibana's own sync task, through a CCR follower on the remote
	SyncViaDirect = "direct" // fleetform installs and uninstalls on the remote itself
)

// FollowerPrefix is the index prefix Kibana's remote-side sync task reads.
const FollowerPrefix = "fleet-synced-integrations-ccr-"

// LeaderIndex is the main cluster's synced-integrations index.
const LeaderIndex = "fleet-synced-integrations"

// Problem is a preflight error: something that would make Kibana reject the
// configuration or, worse, silently ignore it. Plans show problems before
// any change, and apply refuses to start while there are any.
type Problem struct {
	Cluster string // "main" or the remote's name
	Output  string // the remote_elasticsearch output concerned, if any
	Check   string // one of the Check* names
	Message string
}

func (p Problem) String() string {
	if p.Output != "" {
		return fmt.Sprintf("%s: output %s: %s: %s", p.Cluster, p.Output, p.Check, p.Message)
	}
	return fmt.Sprintf("%s: %s: %s", p.Cluster, p.Check, p.Message)
}

// LicenseAtLeast reports whether licence have is at least want (as
// Kibana's licensing plugin orders them).
func LicenseAtLeast(have, want string) bool { return reconciler.LicenseAtLeast(have, want) }

// Probe is the outcome of trying a credential against an endpoint: Err for
// a transport failure (unreachable), otherwise the HTTP status.
type Probe struct {
	URL     string
	Err     error
	Status  int
	Missing []string // privileges the credential lacks, when known
}

// PreflightInput describes one remote_elasticsearch output and its remote.
type PreflightInput struct {
	Output           string // output id
	Remote           string // clusters.remotes[].name
	SyncIntegrations bool
	SyncVia          string // SyncViaCCR (default) or SyncViaDirect
	MainLicense      string
	RemoteLicense    string
	RemoteESVersion  string // the remote's Elasticsearch version; "" when unread
	// Followers are the remote's fleet-synced-integrations-ccr-* indices
	// other than the one fleetform would create for this output.
	Followers []string
	// OutputHosts are the main output's hosts as declared.
	OutputHosts []string
	// RemoteESOutputs are the hosts of the remote's own elasticsearch
	// outputs (observed, plus those the plan creates), by output id.
	RemoteESOutputs map[string][]string
	Kibana          *Probe // kibana_url with kibana_api_key; nil when not checked (key to be generated)
	ServiceToken    *Probe // the service token against the remote ES; nil when not checked
}

// Preflight returns every problem of one remote output, sorted by check.
func Preflight(in PreflightInput) []Problem {
	var ps []Problem
	add := func(cluster, check, format string, args ...any) {
		ps = append(ps, Problem{Cluster: cluster, Output: in.Output, Check: check, Message: fmt.Sprintf(format, args...)})
	}
	ccr := in.SyncIntegrations && cmp.Or(in.SyncVia, SyncViaCCR) == SyncViaCCR
	if ccr {
		for _, side := range []struct{ cluster, license string }{{"main", in.MainLicense}, {in.Remote, in.RemoteLicense}} {
			if !LicenseAtLeast(side.license, "enterprise") {
				add(side.cluster, CheckLicense,
					"Remote sync integrations require at least an Enterprise license. (%s licence is %q; use sync_via: direct to let fleetform sync instead)",
					side.cluster, side.license)
			}
		}
		if len(in.Followers) > 0 {
			add(in.Remote, CheckFollowers,
				"Not supported to sync multiple indices with prefix fleet-synced-integrations-ccr-* (the remote already has %s; delete it or point this output at it)",
				strings.Join(in.Followers, ", "))
		}
		want, err := NormalizeHosts(in.OutputHosts)
		if err != nil {
			add("main", CheckHosts, "%v", err)
		}
		var have []string
		for _, id := range slices.Sorted(maps.Keys(in.RemoteESOutputs)) {
			hs, _ := NormalizeHosts(in.RemoteESOutputs[id])
			if hostsIntersect(want, hs) {
				have = nil
				break
			}
			have = append(have, fmt.Sprintf("%s %v", id, hs))
		}
		if len(in.RemoteESOutputs) == 0 || have != nil {
			got := "none"
			if len(have) > 0 {
				got = strings.Join(have, "; ")
			}
			add(in.Remote, CheckHosts,
				"no elasticsearch output on the remote has one of the output's hosts %v (remote outputs: %s); Kibana on the remote would ignore the sync without an error. Declare the remote's kibana endpoint so fleetform can create one",
				want, got)
		}
	}
	if p := in.Kibana; p != nil {
		switch {
		case p.Err != nil:
			add(in.Remote, CheckKibana, "kibana_url %s is unreachable: %v", p.URL, p.Err)
		case p.Status == 401:
			add(in.Remote, CheckKibana, "kibana_api_key does not authenticate against %s (401)", p.URL)
		case p.Status == 403 || len(p.Missing) > 0:
			missing := p.Missing
			if len(missing) == 0 {
				missing = []string{"feature_fleet.read", "feature_fleetv2.read"}
			}
			add(in.Remote, CheckKibana, "kibana_api_key lacks %s on kibana-.kibana (%s answered %d)",
				strings.Join(missing, " + "), p.URL, p.Status)
		case p.Status >= 400:
			add(in.Remote, CheckKibana, "%s answered %d to the sync status request", p.URL, p.Status)
		}
	}
	if p := in.ServiceToken; p != nil {
		switch {
		case p.Err != nil:
			add(in.Remote, CheckServiceToken, "cannot reach %s to check the service token: %v", p.URL, p.Err)
		case p.Status == 401 || p.Status == 403:
			add(in.Remote, CheckServiceToken, "the service token does not authenticate against %s (%d)%s", p.URL, p.Status, noRemoteAccountHint(in.RemoteESVersion))
		case p.Status >= 400:
			add(in.Remote, CheckServiceToken, "%s answered %d to the service token check", p.URL, p.Status)
		}
	}
	sortProblems(ps)
	return ps
}

// PolicyOutputPreflight turns the reconciler's per-policy output licence
// check (trap 15) into a preflight problem of the main cluster: policies are
// the agent policies that set data_output_id or monitoring_output_id and
// that Kibana does not exempt (see reconciler.BlockedByPolicyOutputLicense).
func PolicyOutputPreflight(mainLicense string, policies []string) []Problem {
	msg := reconciler.PolicyOutputLicenseProblem("main", mainLicense, policies)
	if msg == "" {
		return nil
	}
	return []Problem{{Cluster: "main", Check: CheckPolicyOutput, Message: msg}}
}

func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Output, b.Output), cmp.Compare(a.Check, b.Check))
	})
}
