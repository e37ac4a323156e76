package remote

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/esim"
	"github.com/fleetform/fleetform/internal/contract"
	"github.com/fleetform/fleetform/internal/kversion"
	"github.com/fleetform/fleetform/kibana"
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

// matrixGateSources are the files whose version gates the matrix reads:
// fleetsim's (what the simulated Kibana accepts), the reconciler's (what
// the main cluster's plan blocks) and this package's (what the remote
// side's plan blocks).
var matrixGateSources = []string{
	"../fleetsim/*.go",
	"../reconciler/version*.go",
	"../reconciler/licence.go",
	"version*.go",
}

// semverLit matches a release version, or a kversion.Gate's versions, in a
// Go string literal (as reconciler/version_matrix_test.go reads them).
var semverLit = regexp.MustCompile(`^"\d+\.\d+\.\d+( \d+\.\d+\.\d+)*"$`)

// matrixGates reads the named version gates of the sources: a constant or
// variable whose value is a version literal, or a composite literal
// holding one (a reconciler feature{…}: its since), by name. It is the
// gate reader of reconciler/version_matrix_test.go keyed by name, so that
// the matrix picks the gates of the remote side by name and fails when one
// of them is no longer found.
func matrixGates(t *testing.T) map[string]kversion.Gate {
	t.Helper()
	var files []string
	for _, pat := range matrixGateSources {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	gates := map[string]kversion.Gate{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		version := func(e ast.Expr) (kversion.Gate, bool) {
			if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING && semverLit.MatchString(lit.Value) {
				v, _ := strconv.Unquote(lit.Value)
				return kversion.Gate(v), true
			}
			return "", false
		}
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range spec.Names {
				if i >= len(spec.Values) {
					continue
				}
				if g, ok := version(spec.Values[i]); ok {
					gates[id.Name] = g
					continue
				}
				if cl, ok := spec.Values[i].(*ast.CompositeLit); ok {
					for _, e := range cl.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							e = kv.Value
						}
						if g, ok := version(e); ok {
							gates[id.Name] = g
							break
						}
					}
				}
			}
			return true
		})
	}
	return gates
}

// remoteSideGates are the gates that matter to a remote_elasticsearch
// output and its remote, by the name the code gives them, and on which
// cluster the matrix straddles each.
var remoteSideGates = []struct {
	name         string
	main, remote bool
}{
	// The output type (reconciler featRemoteES, fleetsim versionRemoteES).
	{"featRemoteES", true, false},
	{"versionRemoteES", true, false},
	// secrets.service_token (featSecrets, versionOutputSecrets).
	{"featSecrets", true, false},
	{"versionOutputSecrets", true, false},
	// The sync fields of the main output, refused below an Enterprise
	// licence from then on (output.ts canEnableSyncIntegrations).
	{"featSyncIntegrations", true, false},
	{"featSyncUninstalled", true, false},
	{"featKibanaURL", true, false},
	{"featKibanaAPIKey", true, false},
	{"versionRemoteSync", true, true},
	// The remote's sync task (version.go).
	{"SyncTaskSince", false, true},
	// The newest version.
	{"DefaultVersion", true, true},
}

// lastMinor is the last minor release of a major line.
var lastMinor = map[int]int{7: 17, 8: 19}

// belowGate returns the releases just below version g: the previous patch,
// the last patch (taken as .9) of the previous minor, or, below x.0.0, the
// last two minors of the previous major; and, for a gate on a 9.x line
// that did not reach 8.19 (docs/fleetsim-inferred.md 58), the 8.19 line,
// which is numerically below it and lacks it as well.
func belowGate(g kversion.Gate, v string) []string {
	var x, y, z int
	if _, err := fmt.Sscanf(v, "%d.%d.%d", &x, &y, &z); err != nil {
		return nil
	}
	var out []string
	switch {
	case z > 0:
		out = []string{fmt.Sprintf("%d.%d.%d", x, y, z-1)}
	case y > 0:
		out = []string{fmt.Sprintf("%d.%d.9", x, y-1)}
	default:
		last := lastMinor[x-1]
		out = []string{fmt.Sprintf("%d.%d.9", x-1, last-1), fmt.Sprintf("%d.%d.9", x-1, last)}
	}
	if x >= 9 && !g.Has("8.19.9") {
		out = append(out, "8.19.9")
	}
	return out
}

// matrixSides are the main and the remote versions of the matrix: every
// gate of remoteSideGates on its side and the versions just below it (not
// below the newest version, which is no gate).
func matrixSides(t *testing.T) (mainVersions, remoteVersions []string) {
	gates := matrixGates(t)
	add := func(vs *[]string, v string) {
		if !slices.Contains(*vs, v) {
			*vs = append(*vs, v)
		}
	}
	for _, want := range remoteSideGates {
		g, ok := gates[want.name]
		if !ok {
			t.Fatalf("gate %s is not found in %v (moved or renamed? the matrix picks its rows by it)", want.name, matrixGateSources)
		}
		var vs []string
		for _, v := range g.Versions() {
			if want.name != "DefaultVersion" {
				vs = append(vs, belowGate(g, v)...)
			}
			vs = append(vs, v)
		}
		for _, v := range vs {
			if want.main {
				add(&mainVersions, v)
			}
			if want.remote {
				add(&remoteVersions, v)
			}
		}
	}
	slices.SortFunc(mainVersions, compareVersions)
	slices.SortFunc(remoteVersions, compareVersions)
	return mainVersions, remoteVersions
}

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
// licences explain, as "cluster output/check": an output synced through
// CCR needs an Enterprise licence on main and on the remote (output.ts
// canEnableSyncIntegrations, on either side) and Kibana's sync task on the
// remote (SyncTaskSince). A fresh pair of clusters has no other problem.
func (m *matrixRow) wantPreflight(doc *schema.Document) []string {
	var out []string
	for _, o := range doc.Outputs {
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

// mainKeys are the plan keys of the outputs and packages main holds.
func (m *matrixRow) mainKeys(t *testing.T) map[string]bool {
	t.Helper()
	kb := m.env.kibana(t, "main")
	outs, err := kb.ListOutputs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, o := range outs {
		out[plan.Key("main", plan.KindOutput, o.ID())] = true
	}
	for name := range m.env.installedOn(t, "main") {
		out[plan.Key("main", plan.KindPackage, name)] = true
	}
	return out
}

// westKeys are the plan keys of the objects of fleetform's remote kinds
// west holds: links (by alias), outputs, service tokens, API keys (not
// invalidated), follower indices and installed packages.
func (m *matrixRow) westKeys(t *testing.T) map[string]bool {
	t.Helper()
	ctx := t.Context()
	west := m.env.es("west")
	out := map[string]bool{}
	add := func(kind, id string) { out[plan.Key("west", kind, id)] = true }
	cs, err := west.GetClusterSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k := range cs.Persistent {
		if rest, ok := strings.CutPrefix(k, "cluster.remote."); ok {
			alias, _, _ := strings.Cut(rest, ".")
			add(KindRemoteCluster, alias)
		}
	}
	outs, err := m.env.kibana(t, "west").ListOutputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		add(KindOutput, o.ID())
	}
	tokens, err := west.ServiceTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range tokens {
		add(KindServiceToken, n)
	}
	keys, err := apiKeys(ctx, west.Client, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		add(KindAPIKey, k.Name)
	}
	fs, err := west.Followers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range fs {
		if f.Exists {
			add(KindFollower, name)
		}
	}
	for name := range m.env.installedOn(t, "west") {
		add(KindPackage, name)
	}
	return out
}

// checkNothingHalfMade checks the remote after an apply: a link only with
// a follower replicating through it, no object fleetform makes for an
// output that main does not have, and every generated credential on the
// remote held by its output and recorded as its journal's current one.
func (m *matrixRow) checkNothingHalfMade(t *testing.T, round string, doc *schema.Document) {
	t.Helper()
	ctx := t.Context()
	env, west := m.env, m.env.es("west")
	mainHas := m.mainKeys(t)
	ledger := loadLedger(t, m.tc)
	cs, err := west.GetClusterSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := west.Followers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := west.ServiceTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := apiKeys(ctx, west.Client, "fleetform-")
	if err != nil {
		t.Fatal(err)
	}
	outs, err := env.kibana(t, "west").ListOutputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k := range cs.Persistent {
		alias, ok := strings.CutPrefix(k, "cluster.remote.")
		alias, _, _ = strings.Cut(alias, ".")
		if ok && !slices.ContainsFunc(mapValues(fs), func(f FollowerObserved) bool { return f.Follower && f.RemoteCluster == alias }) {
			t.Errorf("%s: west has the link %s (%s) and no follower replicating through it", round, alias, k)
			break
		}
	}
	for _, o := range doc.Outputs {
		if mainHas[plan.Key("main", plan.KindOutput, o.ID)] {
			continue
		}
		obj, _ := Desired(o, schema.Remote{Name: "west"})
		if f := obj.Follower; f != nil && fs[f.Index].Exists {
			t.Errorf("%s: output %s is not on main, yet west has its follower %s", round, o.ID, f.Index)
		}
		if s := obj.ESOutput; s != nil && slices.ContainsFunc(outs, func(x kibana.Output) bool { return x.ID() == s.ID }) {
			t.Errorf("%s: output %s is not on main, yet west has its elasticsearch output %s", round, o.ID, s.ID)
		}
		for k, en := range ledger {
			if k[0] == "west" && k[1] == LedgerOwned && en.Data[ownedOutput] == o.ID {
				t.Errorf("%s: output %s is not on main, yet the state records %s on west as made for it", round, o.ID, k[2])
			}
		}
		if obj.SyncVia == SyncViaDirect {
			if got := env.installedOn(t, "west"); !maps.Equal(got, m.before) {
				t.Errorf("%s: output %s (sync_via: direct) is not on main, yet west's packages went from %v to %v", round, o.ID, m.before, got)
			}
		}
	}
	// Every generated credential on west is its output's current one.
	var names []string
	names = append(names, tokens...)
	for _, k := range keys {
		names = append(names, k.Name)
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "fleetform-") {
			continue
		}
		held := false
		for _, o := range doc.Outputs {
			obj, _ := Desired(o, schema.Remote{Name: "west"})
			for _, c := range []struct {
				prefix, ledger string
			}{{prefixOf(obj.ServiceToken), LedgerJournalToken}, {keyPrefixOf(obj.KibanaAPIKey), LedgerJournalAPIKey}} {
				if c.prefix == "" || !isGeneration(n, c.prefix) {
					continue
				}
				j := ledger.journal("west", c.ledger, o.ID)
				if !mainHas[plan.Key("main", plan.KindOutput, o.ID)] || j.Phase != PhaseIdle || j.Current != n {
					t.Errorf("%s: credential %s of output %s is on west, but the output is on main: %v, its journal: %+v", round, n, o.ID,
						mainHas[plan.Key("main", plan.KindOutput, o.ID)], j)
				}
				held = true
			}
		}
		if !held {
			t.Errorf("%s: credential %s on west belongs to no declared output", round, n)
		}
	}
}

func prefixOf(s *TokenSpec) string {
	if s == nil {
		return ""
	}
	return s.Prefix
}

func keyPrefixOf(s *APIKeySpec) string {
	if s == nil {
		return ""
	}
	return s.Prefix
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
