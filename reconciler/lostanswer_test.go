package reconciler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/simhttp"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/state"
)

// What a crash or a lost answer leaves behind is recognised and owned on
// the next run, for every kind of the main cluster. The repository
// (testdata/lost-answer) declares every kind with the parts a lost answer
// can leave behind: Fleet secrets on an output, on integration policy
// variables, on a Fleet Server host and on a download source; integration
// policies sharing agent policies and routing to an output; an agent
// policy with every field; an adopted agent policy (adopt: true).
//
// For each write of an apply (read from a fault-free run's request log) in
// turn, a fresh fleetsim
//
//   - lose: loses its answer (fleetsim serves it — the write is carried
//     out — then resets the connection: simhttp's Lose), and the apply goes
//     on;
//   - crash: loses its answer and fleetform dies there (every later request
//     of that run fails and its context is cancelled), so nothing after the
//     write — the state record above all — happens;
//   - fail: serves it, then answers 500 in place of its answer (Kibana
//     failing after it acted; simhttp's Lose with a Status);
//   - reset: resets the connection before serving it (simhttp's Reset).
//
// The apply may fail. The next run (a new reconciler) must converge: the plan after it is empty, nothing
// exists twice, every stored Fleet secret is referenced by exactly one
// object, the state index records exactly the declared objects, and a
// third apply writes nothing.

// lostAnswerVersion accepts every field of the repository: download
// source auth (9.4.0) and security_artifacts_* (9.5.0, fleetsim/versions.go).
const lostAnswerVersion = "9.5.0"

// lostRound is one apply the faults are injected into: prepare brings a
// fresh Fleet to the round's start (on its own reconciler) and returns the
// document and options of the apply under test.
type lostRound struct {
	name    string
	prune   bool
	prepare func(h *simHarness) *schema.Document
	// storageOff turns Fleet's secret storage off: secrets.* values are
	// kept in their plain fields (ssl.key, auth.password, …).
	storageOff bool
	// modes are the TestLostAnswer modes of the round; nil means all.
	modes []string
}

func lostRounds() []lostRound {
	rounds := baseLostRounds()
	// With secret storage off, where a secret sent again (its record lost
	// in a crash) lands in the object's plain ssl or auth.
	for _, r := range baseLostRounds()[:2] {
		r.name += "-storage-off"
		r.storageOff, r.modes = true, []string{"lose", "crash"}
		rounds = append(rounds, r)
	}
	return rounds
}

func baseLostRounds() []lostRound {
	return []lostRound{
		{name: "create", prepare: func(h *simHarness) *schema.Document {
			return lostAnswerDoc(h.t)
		}},
		{name: "update", prepare: func(h *simHarness) *schema.Document {
			doc := lostAnswerDoc(h.t)
			h.apply(doc)
			changeEverything(h, doc)
			return doc
		}},
		// Every object but a new default Fleet Server host is pruned:
		// Kibana refuses to delete the default one.
		{name: "prune", prune: true, prepare: func(h *simHarness) *schema.Document {
			h.apply(lostAnswerDoc(h.t))
			return &schema.Document{FleetServerHosts: []schema.FleetServerHost{{ID: "fleet-next", Name: "Fleet Server (next)",
				HostURLs: []string{"https://fleet-next.corp.example:8220"}, IsDefault: ptr(true)}}}
		}},
	}
}

// lostAnswerDoc is the repository, with nginx 2.0.0 and fleet_server
// 1.5.0 (the update round upgrades both).
func lostAnswerDoc(t *testing.T) *schema.Document {
	t.Helper()
	doc := loadExample(t, "testdata/lost-answer")
	return doc
}

// changeEverything changes every declared object: a new name for each
// (but packages, which have none), a new version of two packages and of
// the integration policies on them, a new value of every secret, another
// output for the routed integration policy and for the adopted agent
// policy, one agent policy fewer for a shared one, and new addresses.
func changeEverything(h *simHarness, doc *schema.Document) {
	renameAll(doc)
	for i := range doc.PackagePolicies {
		switch pp := &doc.PackagePolicies[i]; pp.ID {
		case "nginx-web":
			pp.OutputID = schema.Some("es-secret")
		case "system-shared":
			pp.PolicyIDs = []string{"edge"}
		}
	}
	for i := range doc.AgentPolicies {
		if ap := &doc.AgentPolicies[i]; ap.Adopt { // only its outputs are managed
			ap.Name, ap.DataOutputID = "", ptr("remote-west")
		}
	}
	doc.FleetServerHosts[0].HostURLs = []string{"https://fleet2.corp.example:8220"}
	doc.DownloadSources[0].Host = "https://artifacts2.corp.example/downloads/"
	doc.Proxies[0].URL = "http://proxy2.corp.example:3128"
	doc.Outputs[0].Hosts = []string{"https://es-secret2.corp.example:9200"}
	for i := range doc.Packages {
		switch p := &doc.Packages[i]; p.Name {
		case "nginx":
			p.Version = "2.1.0"
		case "fleet_server":
			p.Version = "1.6.0"
		}
	}
	for i := range doc.PackagePolicies {
		if pp := &doc.PackagePolicies[i]; pp.Package.Name == "nginx" {
			pp.Package.Version = "2.1.0"
		}
	}
	for k, v := range h.secrets {
		h.secrets[k] = v + "-rotated"
	}
}

// newLostHarness is a fresh fleetsim at lostAnswerVersion with Fleet's
// secret storage on (unless the round turns it off), ownership in the
// state index, one write at a time (so a write's place in the request log
// does not depend on scheduling) and a value for every secret reference of
// the repository.
func newLostHarness(t *testing.T, round lostRound) *simHarness {
	t.Helper()
	storage := map[bool]string{false: "on", true: "off"}[round.storageOff]
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise", Version: lostAnswerVersion, SecretStorage: storage})
	h.useStateIndex()
	h.connect(func(c *Config) { c.Concurrency = 1; c.Prune = round.prune })
	h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "legacy", Name: "Legacy", Namespace: "default"})
	for _, k := range kinds {
		for _, ds := range k.secrets(lostAnswerDoc(t)) {
			h.secrets[describeRef(ds.spec.Ref)] = "value-of-" + describeRef(ds.spec.Ref) + "-0123456789"
		}
	}
	return h
}

// lostWrite is one write of an apply: the n-th (from 0) request with this
// listener, method and path.
type lostWrite struct {
	listener, method, path string
	n                      int
}

func (w lostWrite) String() string {
	return fmt.Sprintf("%s %s %s #%d", w.listener, w.method, w.path, w.n+1)
}

// fault is the simhttp fault of a TestLostAnswer mode that hits exactly
// this write.
func (w lostWrite) fault(mode string) simhttp.Fault {
	f := simhttp.Fault{Listener: w.listener, Method: w.method, PathPattern: "~^" + regexp.QuoteMeta(w.path) + "$", Skip: w.n, Count: 1}
	switch mode {
	case "reset":
		f.Reset = true
	case "fail":
		f.Lose, f.Status = true, http.StatusInternalServerError
	default:
		f.Lose = true
	}
	return f
}

// isWrite reports whether a request changes something: not a read, not a
// point in time of a search, not the simulator's control API.
func isWrite(r simhttp.Request) bool {
	return r.Method != http.MethodGet && r.Method != http.MethodHead && !strings.HasPrefix(r.Path, "/_sim") &&
		!strings.HasSuffix(r.Path, "/_search") && !strings.Contains(r.Path, "/_pit")
}

// lostWrites lists the writes of reqs in order.
func lostWrites(reqs []simhttp.Request) []lostWrite {
	seen := map[string]int{}
	var out []lostWrite
	for _, r := range reqs {
		if !isWrite(r) {
			continue
		}
		k := r.Listener + " " + r.Method + " " + r.Path
		out = append(out, lostWrite{listener: r.Listener, method: r.Method, path: r.Path, n: seen[k]})
		seen[k]++
	}
	return out
}

// TestLostAnswer loses the answer of, or resets the connection before,
// each write of a first apply, of an update of every object and of apply
// --prune of every kind, then applies again (see the comment above).
func TestLostAnswer(t *testing.T) {
	if testing.Short() {
		t.Skip("a fleetsim per write and fault")
	}
	for _, round := range lostRounds() {
		t.Run(round.name, func(t *testing.T) {
			t.Parallel()
			// The fault-free run: its writes are the cases.
			h := newLostHarness(t, round)
			doc := round.prepare(h)
			h.sim.ClearRequests()
			h.apply(doc, ApplyOptions{Prune: round.prune})
			cases := lostWrites(h.sim.Requests())
			if n := len(h.fleetSecretIDs()); !round.prune && !round.storageOff && n != 8 {
				t.Fatalf("the fault-free %s apply left %d Fleet secrets, want 8: 2 outputs', 2 of a Fleet Server host, 2 of a download source, 2 integration policy variables", round.name, n)
			}
			h.assertSecretValues(doc, round.storageOff)
			if len(cases) < 10 {
				t.Fatalf("the fault-free %s apply sent only %d writes", round.name, len(cases))
			}
			for _, w := range cases {
				modes := round.modes
				if modes == nil {
					modes = []string{"lose", "crash", "fail", "reset"}
				}
				for _, mode := range modes {
					t.Run(mode+" "+w.String(), func(t *testing.T) {
						t.Parallel()
						runLostCase(t, round, w, mode)
					})
				}
			}
		})
	}
}

// runLostCase is one case of TestLostAnswer.
func runLostCase(t *testing.T, round lostRound, w lostWrite, mode string) {
	h := newLostHarness(t, round)
	doc := round.prepare(h)
	ctx := context.Background()
	opts := ApplyOptions{Prune: round.prune}
	if err := h.sim.AddFault(w.fault(mode)); err != nil {
		t.Fatal(err)
	}
	h.sim.ClearRequests()
	firstCtx := ctx
	if mode == "crash" {
		var cancel context.CancelFunc
		firstCtx, cancel = context.WithCancel(ctx)
		defer cancel()
		h.crashOnLostAnswer(cancel)
	}
	_, firstErr := h.r.Apply(firstCtx, doc, nil, opts)
	hit := slices.ContainsFunc(h.sim.Requests(), func(r simhttp.Request) bool { return r.Fault == "lost" || r.Fault == "reset" })
	h.sim.ClearFaults()
	if !hit {
		t.Fatalf("the apply never sent %s (apply: %v)", w, firstErr)
	}
	t.Logf("first apply: %v", firstErr)

	// The next run: a new reconciler with new clients.
	h.kb = mustKibana(t, h.main)
	h.useStateIndex()
	h.connect(func(c *Config) { c.Concurrency = 1; c.Prune = round.prune })
	if _, err := h.r.Apply(ctx, doc, nil, opts); err != nil {
		t.Fatalf("re-apply: %v", err)
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after the re-apply:\n%s", renderText(p))
	}
	h.assertUnique()
	h.assertNoOrphans()
	h.assertSecretValues(doc, round.storageOff)
	h.assertOwnsExactly(doc)
	if _, ok := h.revisions()["legacy"]; !ok {
		t.Error("the adopted agent policy legacy is gone: adopt never deletes")
	}
	revs := h.revisions()
	h.sim.ClearRequests()
	if _, err := h.r.Apply(ctx, doc, nil, opts); err != nil {
		t.Fatalf("third apply: %v", err)
	}
	var sent []string
	for _, r := range h.sim.Requests() {
		if isWrite(r) {
			sent = append(sent, r.Method+" "+r.Path)
		}
	}
	if len(sent) > 0 {
		t.Errorf("third apply sent %v", sent)
	}
	if got := h.revisions(); fmt.Sprint(got) != fmt.Sprint(revs) {
		t.Errorf("third apply moved agent policy revisions %v → %v", revs, got)
	}
}

// errCrashed is what every request of a run that died gets.
var errCrashed = errors.New("fleetform died here (test)")

// crashTransport stands for a fleetform process that dies when the answer
// of a write is lost: the first request that gets no answer cancels the
// run, and every later request fails without reaching the cluster.
type crashTransport struct {
	rt     http.RoundTripper
	cancel context.CancelFunc
	dead   *atomic.Bool
}

func (c crashTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.dead.Load() {
		return nil, errCrashed
	}
	resp, err := c.rt.RoundTrip(r)
	if err != nil {
		c.dead.Store(true)
		c.cancel()
		return nil, errCrashed
	}
	return resp, nil
}

// crashOnLostAnswer reconnects the harness with Kibana and state index
// clients that die (crashTransport) at the first lost answer.
func (h *simHarness) crashOnLostAnswer(cancel context.CancelFunc) {
	h.t.Helper()
	dead := &atomic.Bool{}
	wrap := func(rt http.RoundTripper) http.RoundTripper {
		return crashTransport{rt: rt, cancel: cancel, dead: dead}
	}
	kb, err := kibana.New(h.main.KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("changeme")},
		kibana.WithRetry(8, time.Millisecond), kibana.WithTransportWrapper(wrap))
	if err != nil {
		h.t.Fatal(err)
	}
	es, err := elastic.New(h.main.ESURL(), elastic.Auth{Username: "elastic", Password: secret.New("changeme")},
		elastic.WithRetry(8, time.Millisecond), elastic.WithTransportWrapper(wrap))
	if err != nil {
		h.t.Fatal(err)
	}
	h.kb, h.inv = kb, StateInventory(state.NewStore(es, "", ""))
	h.connect(func(c *Config) { c.Concurrency = 1 })
}

// fleetLists are Fleet's list routes of every kind that can hold a Fleet
// secret or be created twice.
var fleetLists = []string{
	"/api/fleet/outputs",
	"/api/fleet/proxies",
	"/api/fleet/fleet_server_hosts",
	"/api/fleet/agent_download_sources",
	"/api/fleet/agent_policies?perPage=10000",
	"/api/fleet/package_policies?perPage=10000",
}

// rawItems lists the items of a Fleet list route as Kibana answers them.
func (h *simHarness) rawItems(route string) []map[string]any {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.main.KibanaURL()+route, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req.SetBasicAuth("elastic", "changeme")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET %s: %d %v", route, resp.StatusCode, err)
	}
	return body.Items
}

// assertUnique checks that no kind holds two objects of one name (a create
// carried out twice under two ids).
func (h *simHarness) assertUnique() {
	h.t.Helper()
	for _, route := range fleetLists {
		names := map[string]string{}
		for _, it := range h.rawItems(route) {
			name, _ := it["name"].(string)
			id, _ := it["id"].(string)
			if other, dup := names[name]; dup {
				h.t.Errorf("%s: %q twice, ids %s and %s", route, name, other, id)
			}
			names[name] = id
		}
	}
}

// fleetSecretRefs returns the Fleet secret ids the objects of every kind
// reference: under an object's secrets (outputs, Fleet Server hosts,
// download sources) and in its variables as {isSecretRef: true, id}
// (integration policies; their secret_references list repeats them).
func (h *simHarness) fleetSecretRefs() []string {
	var ids []string
	var walk func(v any, underSecrets bool)
	walk = func(v any, underSecrets bool) {
		switch v := v.(type) {
		case map[string]any:
			if id, ok := v["id"].(string); ok && (underSecrets || v["isSecretRef"] == true) {
				ids = append(ids, id)
				return
			}
			for k, sub := range v {
				if k != "secret_references" {
					walk(sub, underSecrets || k == "secrets")
				}
			}
		case []any:
			for _, sub := range v {
				walk(sub, underSecrets)
			}
		}
	}
	for _, route := range fleetLists {
		for _, it := range h.rawItems(route) {
			for k, sub := range it {
				if k != "secret_references" {
					walk(sub, k == "secrets")
				}
			}
		}
	}
	return ids
}

// assertSecretValues checks that Fleet's secret storage holds exactly the
// current values of the secrets doc declares for it (secrets.* paths and
// secret variables), each once: a rotated value replaced the old one, and
// a value sent twice was not stored twice. With storage off it holds none.
func (h *simHarness) assertSecretValues(doc *schema.Document, storageOff bool) {
	h.t.Helper()
	var want, got []string
	for _, k := range kinds {
		for _, ds := range k.secrets(doc) {
			if ds.spec.Stored && !storageOff {
				want = append(want, h.secrets[describeRef(ds.spec.Ref)])
			}
		}
	}
	for _, id := range h.fleetSecretIDs() {
		v, _ := h.main.ES().GetFleetSecret(id)
		got = append(got, v)
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		h.t.Errorf("Fleet's secret storage holds %d values, want the %d declared (values not shown)", len(got), len(want))
	}
}

// assertOwnsExactly checks that the state index records exactly the
// objects doc declares.
func (h *simHarness) assertOwnsExactly(doc *schema.Document) {
	h.t.Helper()
	var want []string
	for _, k := range kinds {
		for _, id := range k.declared(doc) {
			want = append(want, k.name()+"/"+id)
		}
	}
	recs, err := h.inv.Load(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if r.Owner == "" {
			got = append(got, r.Kind+"/"+r.ID)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		h.t.Errorf("the state index records %v, want %v", got, want)
	}
}
