package reconciler

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/simhttp"
	"github.com/fleetform/fleetform/internal/contract"
	"github.com/fleetform/fleetform/internal/kversion"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// The version × licence matrix: fleetform's promise "the plan is exactly
// what apply does", held at every Kibana version on either side of every
// version gate of fleetsim and of fleetform, under every licence fleetsim
// knows. The repository (testdata/version-matrix) declares every kind and
// every versioned field.

// matrixLicences are the licences fleetsim accepts (fleetsim.AddCluster).
var matrixLicences = []string{"basic", "gold", "platinum", "enterprise", "trial"}

// matrixGateSources are the files whose version gates the matrix
// straddles: fleetsim's (what the simulated Kibana accepts) and
// fleetform's (what the plan blocks). Gates are read from the code, so a
// gate added or moved there moves the matrix with it.
var matrixGateSources = []string{
	"../fleetsim/*.go",
	"version*.go",
	"agent_policies_required_versions.go",
	"agent_policies_prune.go",
	"licence.go",
	"spaces*.go",
}

// semverLit matches a release version, or a kversion.Gate's versions (one
// per release line, space-separated), in a Go string literal.
var semverLit = regexp.MustCompile(`^"\d+\.\d+\.\d+( \d+\.\d+\.\d+)*"$`)

// matrixGates reads every version gate from the sources: the value of a
// constant or variable named version* or gate* (each version of a
// kversion.Gate), the since of a feature{…} or of an
// element of a table of gates (versionedFields, versionedRoutes, kindRoutes
// …: any composite literal in a file named version*.go), and a version
// literal passed to versionAtLeast or kibanaAtLeast.
func matrixGates(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range matrixGateSources {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	gates := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		add := func(e ast.Expr) {
			if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING && semverLit.MatchString(lit.Value) {
				v, _ := strconv.Unquote(lit.Value)
				for _, g := range kversion.Gate(v).Versions() {
					gates[g] = true
				}
			}
		}
		versionFile := strings.HasPrefix(filepath.Base(name), "version")
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if gateName(id.Name) && i < len(n.Values) {
						add(n.Values[i])
					}
				}
			case *ast.AssignStmt:
				for i, lhs := range n.Lhs {
					if id, ok := lhs.(*ast.Ident); ok && gateName(id.Name) && i < len(n.Rhs) {
						add(n.Rhs[i])
					}
				}
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); versionFile || ok && id.Name == "feature" {
					for _, e := range n.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							e = kv.Value
						}
						add(e)
					}
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && (id.Name == "versionAtLeast" || id.Name == "kibanaAtLeast") {
					for _, a := range n.Args {
						add(a)
					}
				}
			}
			return true
		})
	}
	out := slices.Collect(func(yield func(string) bool) {
		for v := range gates {
			if !yield(v) {
				return
			}
		}
	})
	slices.SortFunc(out, compareVersions)
	return out
}

// gateName reports whether a constant or variable holds a version gate.
func gateName(name string) bool {
	return strings.HasPrefix(name, "version") || strings.HasPrefix(name, "gate")
}

// lastMinor is the last minor release of a major line, for the version
// just below x.0.0.
var lastMinor = map[int]int{7: 17, 8: 19}

// belowGate returns the release just below gate g: the previous patch, the
// last patch (taken as .9) of the previous minor, or, below x.0.0, the last
// two minors of the previous major (8.19 carries backports of 9.x
// features, so 8.18 is the last one without them).
func belowGate(g string) []string {
	var x, y, z int
	if _, err := fmt.Sscanf(g, "%d.%d.%d", &x, &y, &z); err != nil {
		return nil
	}
	switch {
	case z > 0:
		return []string{fmt.Sprintf("%d.%d.%d", x, y, z-1)}
	case y > 0:
		return []string{fmt.Sprintf("%d.%d.9", x, y-1)}
	default:
		last := lastMinor[x-1]
		return []string{fmt.Sprintf("%d.%d.9", x-1, last-1), fmt.Sprintf("%d.%d.9", x-1, last)}
	}
}

// matrixVersions is every gate and the release just below it.
func matrixVersions(t *testing.T) []string {
	gates := matrixGates(t)
	var wants []string
	for _, g := range []kversion.Gate{featRemoteES.since, featRequiredVersions.since, gateAutomaticUpgrades, gateAgentlessDeleteWithAgents, kversion.Gate(fleetsim.DefaultVersion)} {
		wants = append(wants, g.Versions()...)
	}
	for _, want := range wants {
		if !slices.Contains(gates, want) {
			t.Fatalf("the gates read from %v miss %s: %v", matrixGateSources, want, gates)
		}
	}
	var vs []string
	for _, g := range gates {
		for _, v := range append(belowGate(g), g) {
			if !slices.Contains(vs, v) {
				vs = append(vs, v)
			}
		}
	}
	slices.SortFunc(vs, compareVersions)
	return vs
}

// TestVersionMatrix plans and applies testdata/version-matrix against a
// fresh fleetsim at every version of matrixVersions under every licence,
// and checks that
//
//   - every create, update or delete of the plan applies, with no 4xx or
//     5xx from fleetsim, and every blocked change is not attempted: no
//     write names its object, and an object whose create was blocked does
//     not exist afterwards; apply's outcomes are the plan's changes, one
//     for one, with the same action;
//   - a second plan holds only the changes that stay blocked, for the
//     same reasons, and a second apply sends no write;
//   - no 400 "definition for this key is missing" and no 403 licence
//     refusal reaches apply.
func TestVersionMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the matrix runs a fleetsim per version and licence")
	}
	versions := matrixVersions(t)
	t.Logf("versions: %s", strings.Join(versions, " "))
	for _, v := range versions {
		for _, lic := range matrixLicences {
			t.Run(v+"/"+lic, func(t *testing.T) {
				t.Parallel()
				runMatrixCase(t, v, lic)
			})
		}
	}
}

// runMatrixCase is one row of the matrix: the repository applied to a
// fresh Fleet, then every object renamed (an update of each, whose PUT
// repeats the keys Kibana would otherwise reset: putKeeps, versionLacks).
func runMatrixCase(t *testing.T, version, licence string) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: licence, Version: version})
	// Kibana's OpenAPI extract is of 9.x: an 8.x row's requests are shaped
	// for 8.x (checked by fleetsim's version-gated schemas), not for it.
	kbHost := strings.TrimPrefix(h.main.KibanaURL(), "http://")
	contract.KibanaVersion(kbHost, version)
	t.Cleanup(func() { contract.KibanaVersion(kbHost, "") })
	es, err := elastic.New(h.main.ESURL(), elastic.Auth{Username: "elastic", Password: secret.New("changeme")}, elastic.WithRetry(8, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	h.connect(func(c *Config) { c.License = es })
	doc := loadExample(t, "testdata/version-matrix")
	for _, k := range kinds {
		for _, ds := range k.secrets(doc) {
			h.secrets[describeRef(ds.spec.Ref)] = "value-of-" + describeRef(ds.spec.Ref) + "-0123456789"
		}
	}
	h.matrixRound(t, "create", doc, plan.Create)
	renameAll(doc)
	h.matrixRound(t, "rename", doc, plan.Update)
}

// renameAll changes the name of every declared object but packages.
func renameAll(doc *schema.Document) {
	for i := range doc.Outputs {
		doc.Outputs[i].Name += " (renamed)"
	}
	for i := range doc.AgentPolicies {
		doc.AgentPolicies[i].Name += " (renamed)"
	}
	for i := range doc.PackagePolicies {
		doc.PackagePolicies[i].Name += " (renamed)"
	}
	for i := range doc.Proxies {
		doc.Proxies[i].Name += " (renamed)"
	}
	for i := range doc.FleetServerHosts {
		doc.FleetServerHosts[i].Name += " (renamed)"
	}
	for i := range doc.DownloadSources {
		doc.DownloadSources[i].Name += " (renamed)"
	}
}

// matrixRound plans doc, wanting only action on the objects that exist
// (create on a fresh Fleet) or blocked changes, applies it and checks the
// promise (TestVersionMatrix).
func (h *simHarness) matrixRound(t *testing.T, round string, doc *schema.Document, action plan.Action) {
	t.Helper()
	ctx := context.Background()
	existed := h.observedKeys(doc)

	// a. plan, then apply: the same changes, one for one.
	planned := h.plan(doc)
	for _, ch := range planned.Changes {
		want := action
		if !existed[ch.Key()] {
			want = plan.Create
		}
		if ch.Action != want && ch.Action != plan.Blocked {
			t.Errorf("%s: plan: %s %s, want %s or blocked", round, ch.Action, ch.Key(), want)
		}
	}
	h.sim.ClearRequests()
	res, applyErr := h.r.Apply(ctx, doc, nil, ApplyOptions{})
	reqs := h.sim.Requests()
	if applyErr != nil && !errors.Is(applyErr, ErrNotConverged) {
		t.Fatalf("%s: apply: %v", round, applyErr)
	}
	outcomes := map[string]Outcome{}
	for _, o := range res.Outcomes {
		outcomes[o.Change.Key()] = o
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
			if o.Status != StatusBlocked {
				t.Errorf("%s: plan: blocked %s; apply: %s %v", round, ch.Key(), o.Status, o.Err)
			}
		case o.Status != StatusApplied:
			t.Errorf("%s: plan: %s %s; apply: %s: %v", round, ch.Action, ch.Key(), o.Status, o.Err)
		}
		delete(outcomes, ch.Key())
	}
	for key, o := range outcomes {
		t.Errorf("%s: apply: %s %s (%s), which the plan did not show", round, o.Change.Action, key, o.Status)
	}
	for _, r := range reqs {
		if r.Status >= 400 && !matrixExpectedError(r) {
			t.Errorf("%s: apply: fleetsim answered %s %s (%s) with %d", round, r.Method, r.Path, r.Listener, r.Status)
		}
	}
	for _, o := range res.Outcomes {
		if o.Err != nil && o.Status != StatusBlocked && (strings.Contains(o.Err.Error(), "definition for this key is missing") || strings.Contains(o.Err.Error(), "licen")) {
			t.Errorf("%s: apply of %s %s reached Kibana's refusal: %v", round, o.Change.Action, o.Change.Key(), o.Err)
		}
	}
	observed := h.observedKeys(doc)
	for _, ch := range blocked {
		for _, w := range writes(reqs) {
			if slices.Contains(strings.Split(w.Path, "/"), ch.ID) {
				t.Errorf("%s: blocked %s, yet apply sent %s %s", round, ch.Key(), w.Method, w.Path)
			}
		}
		if !existed[ch.Key()] && observed[ch.Key()] {
			t.Errorf("%s: blocked create of %s, yet it exists after apply", round, ch.Key())
		}
	}

	// b. a second plan holds only what stays blocked; a second apply
	// writes nothing.
	again := h.plan(doc)
	want := map[string]string{}
	for _, ch := range blocked {
		want[ch.Key()] = ch.Reason
	}
	for _, ch := range again.Changes {
		reason, ok := want[ch.Key()]
		switch {
		case ch.Action != plan.Blocked || !ok:
			t.Errorf("%s: plan after apply: %s %s\n%s", round, ch.Action, ch.Key(), fieldPaths(ch))
		case ch.Reason != reason:
			t.Errorf("%s: plan after apply: blocked %s for another reason:\n  before: %s\n  now:    %s", round, ch.Key(), reason, ch.Reason)
		}
		delete(want, ch.Key())
	}
	for key := range want {
		t.Errorf("%s: plan after apply: %s is no longer blocked", round, key)
	}
	h.sim.ClearRequests()
	if _, err := h.r.Apply(ctx, doc, nil, ApplyOptions{}); err != nil && !errors.Is(err, ErrNotConverged) {
		t.Fatalf("%s: second apply: %v", round, err)
	}
	if w := writes(h.sim.Requests()); len(w) > 0 {
		t.Errorf("%s: second apply sent %d writes: %v", round, len(w), w)
	}
	if t.Failed() {
		t.Logf("%s: plan:\n%s", round, renderText(planned))
	}
}

// matrixExpectedError reports whether an error answer during apply is
// part of how fleetform works rather than a refused change: a GET that
// finds nothing (a list route an older Kibana lacks, kindAbsent).
func matrixExpectedError(r simhttp.Request) bool {
	return r.Method == http.MethodGet && r.Status == http.StatusNotFound
}

// writes are the requests other than GET and HEAD, but fleetsim's control API.
func writes(reqs []simhttp.Request) []simhttp.Request {
	return slices.DeleteFunc(slices.Clone(reqs), func(r simhttp.Request) bool {
		return r.Method == http.MethodGet || r.Method == http.MethodHead || strings.HasPrefix(r.Path, "/_sim")
	})
}

// observedKeys are the plan keys of the objects Fleet holds now.
func (h *simHarness) observedKeys(doc *schema.Document) map[string]bool {
	h.t.Helper()
	obs, err := h.r.observe(context.Background(), doc, false)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]bool{}
	add := func(kind string, ids []string) {
		for _, id := range ids {
			out[plan.Key("main", kind, id)] = true
		}
	}
	add(plan.KindOutput, keysOf(obs.outputs))
	add(plan.KindAgentPolicy, keysOf(obs.policies))
	add(plan.KindPackage, keysOf(obs.packages))
	for kind, objs := range obs.objects {
		add(kind, keysOf(objs))
	}
	if obs.ip != nil {
		add(KindIntegrationPolicy, keysOf(obs.ip.policies))
	}
	return out
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// fieldPaths lists a change's field paths, for a failure message.
func fieldPaths(ch plan.Change) string {
	var b strings.Builder
	for _, f := range ch.Fields {
		fmt.Fprintf(&b, "  %s: %v → %v\n", f.Path, f.Before, f.After)
	}
	if ch.Reason != "" {
		fmt.Fprintf(&b, "  (%s)\n", ch.Reason)
	}
	return b.String()
}
