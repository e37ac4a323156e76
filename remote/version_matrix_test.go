package remote

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/esim"
	"github.com/fleetform/fleetform/internal/contract"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/state"
)

// The two-cluster version × licence matrix: "the plan is exactly what
// apply does", held for the main cluster and a remote together at the
// versions on either side of every gate that matters to the remote side,
// under every licence of the main cluster (reconciler/version_matrix_test.go
// holds it for the main cluster alone). The repository
// (testdata/version-matrix) declares a remote_elasticsearch output of each
// kind to one remote: synced by Kibana through CCR, synced by fleetform
// directly, and not synced, with generated credentials and a package.

// matrixLicences are the licences of the main cluster and of the remote
// in each row: every licence fleetsim knows on main, with an Enterprise
// remote (or trial with trial), and an Enterprise main with a Platinum
// remote, the remote's own licence rule for CCR sync.
var matrixLicences = [][2]string{
	{"basic", "enterprise"}, {"gold", "enterprise"}, {"platinum", "enterprise"},
	{"enterprise", "enterprise"}, {"trial", "trial"}, {"enterprise", "platinum"},
}

// TestVersionMatrix plans and applies testdata/version-matrix on a fresh
// main cluster and remote for every main version × remote version ×
// licences of the matrix, and checks on both clusters (fleetsim's request
// log of each) that
//
//   - the plan's preflight problems are those the row's versions and
//     licences explain (wantPreflight); with any, apply refuses before any
//     write on any cluster and plans the same again, and the rest of the
//     repository is then held to the promise without the outputs refused;
//   - otherwise every change of the plan applies, with no 4xx or 5xx on a
//     write, every blocked change is not attempted (no write names it), and
//     apply's outcomes are the plan's changes, one for one, with the same
//     action;
//   - a second plan holds only the changes that stay blocked, for the same
//     reasons, and a second apply writes nothing;
//   - nothing is left half-made on the remote: no link without the
//     follower that uses it, no remote object for an output main does not
//     have, and every generated credential is the one its output holds and
//     its journal records (none minted and left unrevoked, unrecorded).
//
// Two rounds: the repository applied to fresh clusters, then every output
// renamed.
func TestVersionMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the matrix runs a two-cluster fleetsim per row")
	}
	mainVersions, remoteVersions := matrixSides(t)
	t.Logf("main: %s; remote: %s", strings.Join(mainVersions, " "), strings.Join(remoteVersions, " "))
	t.Setenv("FF_REMOTE_TEST_PW", testPassword)
	body, err := os.ReadFile("testdata/version-matrix/body.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, mv := range mainVersions {
		for _, rv := range remoteVersions {
			for _, lic := range matrixLicences {
				t.Run(fmt.Sprintf("%s/%s/%s-%s", mv, rv, lic[0], lic[1]), func(t *testing.T) {
					t.Parallel()
					runMatrixRow(t, string(body), mv, rv, lic[0], lic[1])
				})
			}
		}
	}
}

// runMatrixRow is one row of the matrix.
func runMatrixRow(t *testing.T, body, mainVersion, remoteVersion, mainLicence, remoteLicence string) {
	// newSimEnv without its t.Setenv, which parallel tests cannot call
	// (TestVersionMatrix sets the password for all of them).
	env := &simEnv{sim: fleetsim.StartTest(t, fleetsim.Options{},
		fleetsim.ClusterConfig{Name: "main", License: mainLicence, Version: mainVersion},
		fleetsim.ClusterConfig{Name: "west", License: remoteLicence, Version: remoteVersion})}
	// The direct output's declared Kibana API key: read-only on Fleet and
	// integrations in west's Kibana, as a generated one.
	_, key, err := env.es("west").CreateAPIKey(t.Context(), "matrix-declared-kibana-key", APIKeySpec{}.RoleDescriptors(), nil)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "kibana-api-key")
	if err := os.WriteFile(keyFile, []byte(key.Reveal()), 0o600); err != nil {
		t.Fatal(err)
	}
	env.load(t, strings.ReplaceAll(body, "{{west.kibana_api_key_file}}", keyFile))
	// Kibana's OpenAPI extract is of 9.x: an 8.x cluster's requests are
	// shaped for 8.x (checked by fleetsim's version-gated schemas).
	for name, v := range map[string]string{"main": mainVersion, "west": remoteVersion} {
		host := hostOf(env.sim.Cluster(name).KibanaURL())
		contract.KibanaVersion(host, v)
		t.Cleanup(func() { contract.KibanaVersion(host, "") })
	}
	tc := env.connect(t, ConnectOptions{HealthTimeout: -1})
	m := &matrixRow{env: env, tc: tc, before: env.installedOn(t, "west"),
		licence: map[string]string{"main": mainLicence, "west": remoteLicence}, remoteVersion: remoteVersion}
	doc := env.doc
	for {
		refused := m.round(t, "create", doc)
		if refused == nil {
			break
		}
		// The outputs preflight refuses stop the whole apply; the rest of
		// the repository is held to the promise without them.
		if doc = withoutOutputs(doc, refused); doc == nil {
			return
		}
	}
	for i := range doc.Outputs {
		doc.Outputs[i].Name += " (renamed)"
	}
	m.round(t, "rename", doc)
}

// withoutOutputs is doc without the outputs of ids, or nil when that
// leaves no output or none of ids is one.
func withoutOutputs(doc *schema.Document, ids []string) *schema.Document {
	cp := *doc
	cp.Outputs = slices.DeleteFunc(slices.Clone(doc.Outputs), func(o schema.Output) bool { return slices.Contains(ids, o.ID) })
	if len(cp.Outputs) == 0 || len(cp.Outputs) == len(doc.Outputs) {
		return nil
	}
	return &cp
}

// matrixRow is the state of one row across its rounds.
type matrixRow struct {
	env *simEnv
	tc  *TwoCluster
	// before are the packages west had before fleetform's first apply.
	before map[string]string
	// existed are the keys of the main cluster's objects before the round.
	existed map[string]bool
	// licence is each cluster's licence; remoteVersion west's version.
	licence       map[string]string
	remoteVersion string
}

// wantPreflight are the preflight problems the row's versions and
// licences explain, as "cluster output/check": a generated service token
// needs elastic/fleet-server-remote in the remote's Elasticsearch
// (ServiceTokenESSince); an output synced through CCR needs an Enterprise
// licence on main and on the remote (output.ts canEnableSyncIntegrations,
// on either side) and Kibana's sync task on the remote (SyncTaskSince). A
// fresh pair of clusters has no other problem.
func (m *matrixRow) wantPreflight(doc *schema.Document) []string {
	var out []string
	for _, o := range doc.Outputs {
		if ref := tokenRef(o); ref != nil && ref.Generate && !atLeast(m.remoteVersion, ServiceTokenESSince) {
			out = append(out, "west "+o.ID+"/"+CheckESVersion)
		}
		if o.SyncIntegrations == nil || !*o.SyncIntegrations || o.SyncVia == SyncViaDirect {
			continue
		}
		for _, cluster := range []string{"main", "west"} {
			if !LicenseAtLeast(m.licence[cluster], "enterprise") {
				out = append(out, cluster+" "+o.ID+"/"+CheckLicense)
			}
		}
		if !atLeast(m.remoteVersion, SyncTaskSince) {
			out = append(out, "west "+o.ID+"/"+CheckVersion)
		}
	}
	slices.Sort(out)
	return out
}

// round plans and applies doc once and checks the promise
// (TestVersionMatrix). When preflight refused the apply it returns the
// outputs the problems name (non-nil): the clusters are as before.
func (m *matrixRow) round(t *testing.T, round string, doc *schema.Document) (refused []string) {
	t.Helper()
	ctx := t.Context()
	env, tc := m.env, m.tc
	m.existed = m.mainKeys(t)
	maps.Copy(m.existed, m.westKeys(t))
	planned := mustPlan(t, tc, doc)
	defer func() {
		if t.Failed() {
			t.Logf("%s: plan:\n%s", round, planText(planned))
		}
	}()
	for _, ch := range planned.Changes {
		if ch.Action == plan.Blocked {
			continue
		}
		if ch.Cluster == "main" && m.existed[ch.Key()] != (ch.Action != plan.Create) {
			t.Errorf("%s: plan: %s %s, which %s", round, ch.Action, ch.Key(), map[bool]string{true: "exists", false: "does not exist"}[m.existed[ch.Key()]])
		}
	}
	var problems []string
	for _, ch := range planned.Changes {
		if ch.Kind == KindPreflight {
			problems = append(problems, ch.Cluster+" "+ch.ID)
		}
	}
	slices.Sort(problems)
	if want := m.wantPreflight(doc); !slices.Equal(problems, want) {
		t.Errorf("%s: preflight problems %q, want %q (what the versions and licences explain)", round, problems, want)
	}
	preflight := len(problems) > 0

	env.sim.ClearRequests()
	res, applyErr := tc.Apply(ctx, doc, nil, applyOpts())
	reqs := env.sim.Requests()
	if preflight {
		// a. Refused before anything is written, on every cluster.
		if !errors.Is(applyErr, ErrPreflight) {
			t.Errorf("%s: the plan has preflight problems; apply: %v, want ErrPreflight", round, applyErr)
		}
		if w := writes(reqs); len(w) > 0 {
			t.Errorf("%s: apply refused by preflight wrote %q", round, w)
		}
		again := mustPlan(t, tc, doc)
		if a, b := changeList(planned), changeList(again); !slices.Equal(a, b) {
			t.Errorf("%s: plan after the refused apply differs:\n  before: %q\n  now:    %q", round, a, b)
		}
		refused = []string{}
		for _, ch := range planned.Changes {
			if out, _, ok := strings.Cut(ch.ID, "/"); ok && ch.Kind == KindPreflight {
				refused = append(refused, out)
			}
		}
		return refused
	}
	if applyErr != nil && !errors.Is(applyErr, reconciler.ErrNotConverged) {
		t.Fatalf("%s: apply: %v", round, applyErr)
	}

	// b. The plan's changes are apply's outcomes, one for one.
	outcomes := map[string]reconciler.Outcome{}
	for _, o := range res.Outcomes {
		if o.Change.Kind != "" {
			outcomes[o.Change.Key()] = o
		}
	}
	var blocked []plan.Change
	for _, ch := range planned.Changes {
		o, ok := outcomes[ch.Key()]
		switch {
		case !ok:
			t.Errorf("%s: plan: %s %s; apply has no outcome for it", round, ch.Action, ch.Key())
		case o.Change.Action != ch.Action:
			t.Errorf("%s: plan: %s %s; apply: %s (%s)", round, ch.Action, ch.Key(), o.Change.Action, o.Status)
		case ch.Action == plan.Blocked:
			blocked = append(blocked, ch)
			if o.Status != reconciler.StatusBlocked {
				t.Errorf("%s: plan: blocked %s; apply: %s %v", round, ch.Key(), o.Status, o.Err)
			}
		case o.Status != reconciler.StatusApplied:
			t.Errorf("%s: plan: %s %s; apply: %s: %v", round, ch.Action, ch.Key(), o.Status, o.Err)
		}
		delete(outcomes, ch.Key())
	}
	for key, o := range outcomes {
		t.Errorf("%s: apply: %s %s (%s %v), which the plan did not show", round, o.Change.Action, key, o.Status, o.Err)
	}
	for _, r := range reqs {
		if r.Status >= 400 && !matrixExpectedError(r) {
			t.Errorf("%s: apply: fleetsim answered %s %s %s (%s) with %d", round, r.Cluster, r.Method, r.Path, r.Listener, r.Status)
		}
	}
	for _, o := range res.Outcomes {
		if o.Err != nil && o.Status != reconciler.StatusBlocked && (strings.Contains(o.Err.Error(), "definition for this key is missing") || strings.Contains(o.Err.Error(), "licen")) {
			t.Errorf("%s: apply of %s %s reached Kibana's refusal: %v", round, o.Change.Action, o.Change.Key(), o.Err)
		}
	}
	observed := m.mainKeys(t)
	maps.Copy(observed, m.westKeys(t))
	for _, ch := range blocked {
		for _, r := range reqs {
			// A link is the remote's cluster settings (no id in the path).
			names := slices.Contains(strings.Split(r.Path, "/"), ch.ID) || ch.Kind == KindRemoteCluster && r.Path == "/_cluster/settings"
			if r.Cluster == ch.Cluster && !esim.ReadOnly(r.Method, r.Path) && names {
				t.Errorf("%s: blocked %s, yet apply sent %s %s", round, ch.Key(), r.Method, r.Path)
			}
		}
		if ch.Kind != KindPreflight && !m.existed[ch.Key()] && observed[ch.Key()] {
			t.Errorf("%s: blocked create of %s, yet it exists after apply", round, ch.Key())
		}
	}
	m.checkNothingHalfMade(t, round, doc)

	// c. A second plan holds only what stays blocked; a second apply
	// writes nothing.
	again := mustPlan(t, tc, doc)
	want := map[string]string{}
	for _, ch := range blocked {
		want[ch.Key()] = ch.Reason
	}
	for _, ch := range again.Changes {
		reason, ok := want[ch.Key()]
		switch {
		case ch.Action != plan.Blocked || !ok:
			t.Errorf("%s: plan after apply: %s %s (%s)", round, ch.Action, ch.Key(), ch.Reason)
		case ch.Reason != reason:
			t.Errorf("%s: plan after apply: blocked %s for another reason:\n  before: %s\n  now:    %s", round, ch.Key(), reason, ch.Reason)
		}
		delete(want, ch.Key())
	}
	for key := range want {
		t.Errorf("%s: plan after apply: %s is no longer blocked", round, key)
	}
	env.sim.ClearRequests()
	if _, err := tc.Apply(ctx, doc, nil, applyOpts()); err != nil && !errors.Is(err, reconciler.ErrNotConverged) {
		t.Fatalf("%s: second apply: %v", round, err)
	}
	if w := writes(env.sim.Requests()); len(w) > 0 {
		t.Errorf("%s: second apply wrote %q", round, w)
	}
	return nil
}

// matrixExpectedError reports whether an error answer during apply is
// part of how fleetform works rather than a refused change: a read that
// finds nothing (a list route an older Kibana lacks, the state index
// before its first write: esim.ReadOnly), and the state index created by
// two writers at once (state.Store.ensureIndex takes Elasticsearch's
// resource_already_exists_exception as success; the remote side's ledger
// and the reconciler's inventory write it concurrently).
func matrixExpectedError(r fleetsim.Request) bool {
	switch {
	case r.Status == http.StatusNotFound && esim.ReadOnly(r.Method, r.Path):
		return true
	case r.Status == http.StatusBadRequest && r.Listener == "es" && r.Method == http.MethodPut && r.Path == "/"+state.DefaultIndex:
		return true
	}
	return false
}

// changeList is each change of p as "action key: reason".
func changeList(p *plan.Plan) []string {
	out := make([]string, len(p.Changes))
	for i, ch := range p.Changes {
		out[i] = fmt.Sprintf("%s %s: %s", ch.Action, ch.Key(), ch.Reason)
	}
	return out
}
