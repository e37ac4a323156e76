package reconciler

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/esim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

func TestSpaceWarning(t *testing.T) {
	migrated := spaceAwareness{read: true, status: "success"}
	for _, c := range []struct {
		space, version string
		sa             spaceAwareness
		want           string // "" for no warning
	}{
		{"", "9.0.0", spaceAwareness{}, ""},
		{"team-a", "", spaceAwareness{}, ""},
		{"team-a", "9.0.3", spaceAwareness{}, "Kibana 9.0.3's Fleet is not space-aware (from 9.1.0)"},
		{"team-a", "8.19.0", spaceAwareness{}, "not space-aware (from 9.1.0)"},
		{"team-a", "9.1.0", migrated, ""},
		{"team-a", "9.1.0-SNAPSHOT", migrated, ""},
		{"team-a", "9.3.0", migrated, ""},
		// A Fleet that cannot say (a fake) gets no warning.
		{"team-a", "9.3.0", spaceAwareness{}, ""},
		// space_awareness_migration.ts "without opt-in": an upgraded
		// deployment's settings have no status; policies stay global.
		{"team-a", "9.1.0", spaceAwareness{read: true}, "its settings have no use_space_awareness_migration_status"},
		{"team-a", "9.2.0", spaceAwareness{read: true, status: "pending"}, `use_space_awareness_migration_status is "pending"`},
		{"team-a", "9.2.0", spaceAwareness{read: true, err: errors.New("403")}, "could not read Fleet's settings"},
	} {
		w := spaceWarning(c.space, c.version, c.sa)
		if c.want == "" && w != "" || c.want != "" && (!strings.Contains(w, c.want) || !strings.Contains(w, `"team-a"`)) {
			t.Errorf("spaceWarning(%q, %q, %+v) = %q, want %q", c.space, c.version, c.sa, w, c.want)
		}
	}
}

// spaceIDsField follows what Kibana answers in space_ids: sorted
// (saved_objects_security_extension.ts namespaceComparator), "?" for a
// space the caller cannot read (space_awareness/agent_policies.ts "should
// return only spaces user can access"), nothing when Fleet is not
// space-aware.
func TestSpaceIDsField(t *testing.T) {
	l := func(s ...string) []any {
		out := make([]any, len(s))
		for i, v := range s {
			out[i] = v
		}
		return out
	}
	for _, c := range []struct {
		name       string
		want, have []any
		answered   bool
		kept       bool   // the field difference stays
		note, warn string // substrings; "" for none
	}{
		{"equal in another order", l("team-a", "default"), l("default", "team-a"), true, false, "", ""},
		{"a real difference", l("team-a", "team-b"), l("team-a"), true, true, "", ""},
		{"hidden may be the missing one", l("team-a", "team-b"), l("team-a", "?"), true, false, "", `they may be team-b`},
		{"hidden may be the missing ones", l("default", "x", "y"), l("default", "?", "?"), true, false, "", "2 of its spaces"},
		{"a visible space to remove", l("team-a"), l("default", "team-a", "?"), true, true, "not readable", ""},
		{"more declared than hidden", l("team-a", "b", "c"), l("team-a", "?"), true, true, "not readable", ""},
		{"hidden but nothing missing", l("team-a"), l("team-a", "?"), true, true, "not readable", ""},
		{"not space-aware", l("team-a"), nil, false, false, "", "Fleet is not space-aware"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cp := &computed{plan: &plan.Plan{}}
			have := map[string]any{"name": "P"}
			if c.answered {
				have["space_ids"] = c.have
			}
			var before any
			if c.have != nil {
				before = c.have
			}
			fields := []plan.FieldDiff{{Path: "name", Before: "P", After: "Q"}, {Path: "space_ids", Before: before, After: c.want}}
			got := cp.spaceIDsField("p", fields, have)
			var sf *plan.FieldDiff
			for i := range got {
				if got[i].Path == "space_ids" {
					sf = &got[i]
				}
			}
			if (sf != nil) != c.kept || len(got) < 1 || got[0].Path != "name" {
				t.Fatalf("fields %+v, want space_ids kept=%v", got, c.kept)
			}
			if sf != nil && (c.note == "") != (sf.Note == "") || sf != nil && !strings.Contains(sf.Note, c.note) {
				t.Errorf("note %q, want %q", sf.Note, c.note)
			}
			w := strings.Join(cp.plan.Warnings, "\n")
			if c.warn == "" && w != "" || !strings.Contains(w, c.warn) {
				t.Errorf("warnings %q, want %q", w, c.warn)
			}
		})
	}
}

// spaceClient is a fleetform Kibana client of the main cluster working in
// space, authenticated as auth (the superuser when zero).
func spaceClient(t *testing.T, c *fleetsim.Cluster, space string, auth kibana.Auth) *kibana.Client {
	t.Helper()
	if auth == (kibana.Auth{}) {
		auth = kibana.Auth{Username: "elastic", Password: secret.New("changeme")}
	}
	kb, err := kibana.New(c.KibanaURL(), auth, kibana.WithSpace(space), kibana.WithRetry(8, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return kb
}

// createSimSpace creates a Kibana space through the Spaces API.
func createSimSpace(t *testing.T, c *fleetsim.Cluster, id string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.KibanaURL()+"/api/spaces/space", strings.NewReader(`{"id":"`+id+`","name":"`+id+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("elastic", "changeme")
	req.Header.Set("kbn-xsrf", "true")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create space %s: %d", id, resp.StatusCode)
	}
}

// A 9.1+ deployment upgraded from an earlier stack keeps its policies
// global until Fleet's space awareness migration runs
// (space_awareness_migration.ts): the plan of a repository naming a space
// says so, and stops saying it once the migration has run.
func TestSim_SpacePlanWarnsUntilMigrated(t *testing.T) {
	h := newSimHarness(t)
	createSimSpace(t, h.main, "team-a")
	if err := h.main.SkipSpaceAwarenessMigration(); err != nil {
		t.Fatal(err)
	}
	h.kb = spaceClient(t, h.main, "team-a", kibana.Auth{})
	h.connect(func(c *Config) { c.Space = "team-a" })
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "p", Name: "P", Namespace: "default"}}}
	p := h.plan(doc)
	if w := strings.Join(p.Warnings, "\n"); !strings.Contains(w, `clusters.main.kibana.space is "team-a", but Fleet on Kibana 9.3.0 is not space-aware: its settings have no use_space_awareness_migration_status`) {
		t.Errorf("not migrated: warnings %q", w)
	}
	if err := h.main.EnableSpaceAwareness(); err != nil {
		t.Fatal(err)
	}
	if p := h.plan(doc); len(p.Warnings) != 0 {
		t.Errorf("migrated: warnings %q", p.Warnings)
	}
	// Without a space no settings are read.
	h.sim.ClearRequests()
	h.kb = mustKibana(t, h.main)
	h.connect()
	h.plan(doc)
	for _, r := range h.sim.Requests() {
		if strings.Contains(r.Path, "/api/fleet/settings") {
			t.Errorf("default space: %s %s", r.Method, r.Path)
		}
	}
}

// space_ids with a space fleetform's credentials cannot read: Kibana
// answers it as "?" (space_awareness/agent_policies.ts "should return only
// spaces user can access"); the plan does not flap on it, and says why.
func TestSim_SpaceIDsWithUnreadableSpaceDoNotFlap(t *testing.T) {
	h := newSimHarness(t)
	for _, s := range []string{"team-a", "team-b"} {
		createSimSpace(t, h.main, s)
	}
	admin := spaceClient(t, h.main, "team-a", kibana.Auth{})
	if _, err := admin.CreateAgentPolicy(t.Context(), map[string]any{"id": "p", "name": "P", "namespace": "default", "space_ids": []any{"team-b", "team-a"}}); err != nil {
		t.Fatal(err)
	}
	key, err := h.main.ES().CreateAPIKey(esim.Principal{Username: "elastic", Superuser: true}, esim.APIKeyRequest{Name: "team-a-only",
		RoleDescriptors: map[string]esim.RoleDescriptor{"r": {Applications: []esim.ApplicationPrivilege{{Application: "kibana-.kibana",
			Privileges: []string{"feature_fleetv2.all", "feature_fleet.all"}, Resources: []string{"space:team-a"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	doc := func(ids ...string) *schema.Document {
		return &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "p", Name: "P", Namespace: "default", SpaceIDs: ids}}}
	}
	// The superuser sees both spaces; the declared order does not matter.
	h.kb = admin
	h.connect(func(c *Config) { c.Space = "team-a" })
	h.apply(doc("team-b", "team-a"))
	if p := h.plan(doc("team-b", "team-a")); p.Summary().Update != 0 {
		t.Errorf("superuser, same spaces in another order: %+v", p.Changes)
	}
	// The team-a key reads ["team-a", "?"]: not compared, no write. It may
	// check its space (the spaces client wants a privilege there only).
	h.kb = spaceClient(t, h.main, "team-a", kibana.Auth{APIKey: secret.New(key.Encoded)})
	if err := h.kb.CheckSpace(t.Context()); err != nil {
		t.Errorf("CheckSpace with a team-a key: %v", err)
	}
	h.connect(func(c *Config) { c.Space = "team-a" })
	h.sim.ClearRequests()
	res := h.apply(doc("team-a", "team-b"))
	if w := h.writes(); len(w) != 0 {
		t.Errorf("writes %v (result %+v)", w, res)
	}
	p := h.plan(doc("team-a", "team-b"))
	if p.Summary().Update != 0 || !strings.Contains(strings.Join(p.Warnings, "\n"), `agent policy p: space_ids not compared: Kibana shows 1 of its spaces as "?"`) {
		t.Errorf("team-a key: changes %+v warnings %q", p.Changes, p.Warnings)
	}
	// One more space than can hide behind the "?": a certain difference,
	// kept with a note; the spaces the key cannot look up are not blocked
	// on (one of them may be the hidden one), the plan says so.
	p = h.plan(doc("team-a", "team-b", "team-c"))
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Update || len(p.Changes[0].Fields) != 1 || !strings.Contains(p.Changes[0].Fields[0].Note, "not readable") ||
		!strings.Contains(strings.Join(p.Warnings, "\n"), `agent policy p: could not check space "team-b"`) {
		t.Errorf("team-a key, three spaces: changes %+v warnings %q", p.Changes, p.Warnings)
	}
}

// Moving an agent policy into a space where another integration policy
// already has the name of one of its own is refused by Kibana
// (validatePackagePoliciesUniqueNameAcrossSpaces,
// server/services/spaces/policy_namespaces.ts, run by
// updateAgentPolicySpaces). The plan asks team-b for the name and blocks
// the move (spaces_names.go); the apply reports Kibana's reason, and
// nothing moves.
func TestSim_SpaceMoveIntegrationNameConflict(t *testing.T) {
	h := newSimHarness(t)
	for _, s := range []string{"team-a", "team-b"} {
		createSimSpace(t, h.main, s)
	}
	nginx := func(name, policy string) map[string]any {
		return map[string]any{"name": name, "namespace": "default", "policy_ids": []any{policy},
			"package": map[string]any{"name": "nginx", "version": "2.1.0"}}
	}
	a, b := spaceClient(t, h.main, "team-a", kibana.Auth{}), spaceClient(t, h.main, "team-b", kibana.Auth{})
	ctx := t.Context()
	for _, c := range []struct {
		kb       *kibana.Client
		policy   string
		ppPolicy map[string]any
	}{{a, "p", nginx("nginx-1", "p")}, {b, "q", nginx("nginx-1", "q")}} {
		if _, err := c.kb.CreateAgentPolicy(ctx, map[string]any{"id": c.policy, "name": c.policy, "namespace": "default"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.kb.CreateIntegrationPolicy(ctx, c.ppPolicy); err != nil {
			t.Fatal(err)
		}
	}
	h.kb = a
	h.connect(func(c *Config) { c.Space = "team-a" })
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "p", Name: "p", Namespace: "default", SpaceIDs: []string{"team-a", "team-b"}}}}
	res, err := h.r.Apply(ctx, doc, nil, ApplyOptions{})
	msg := fmt.Sprint(err)
	for _, o := range res.Outcomes {
		if o.Err != nil {
			msg += " " + o.Err.Error()
		}
	}
	if !strings.Contains(msg, `An integration policy with the name nginx-1 already exists in space "team-b". Please rename it or choose a different name.`) {
		t.Errorf("apply: %s", msg)
	}
	got, err := a.GetAgentPolicy(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	if ids := stringList(got.Raw["space_ids"]); strings.Join(ids, ",") != "team-a" {
		t.Errorf("space_ids after the refused move: %v", ids)
	}
}

// The agent policy handlers authorise body space_ids against the existing
// spaces where the caller holds Fleet privileges, plus "*"
// (getAuthorizedSpacesWithAgentPoliciesAllPrivileges,
// x-pack/platform/plugins/shared/fleet/server/routes/agent_policy/handlers.ts):
// the plan blocks a create or a space_ids change that names a missing
// space, or one the credentials hold no privilege in, with Kibana's reason.
func TestSim_SpaceIDsNamingMissingOrForbiddenSpacesAreBlocked(t *testing.T) {
	h := newSimHarness(t)
	for _, s := range []string{"team-a", "team-b"} {
		createSimSpace(t, h.main, s)
	}
	h.kb = spaceClient(t, h.main, "team-a", kibana.Auth{})
	h.connect(func(c *Config) { c.Space = "team-a" })
	doc := func(ids ...string) *schema.Document {
		return &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "p", Name: "P", Namespace: "default", SpaceIDs: ids}}}
	}
	change := func(p *plan.Plan) plan.Change {
		for _, c := range p.Changes {
			if c.ID == "p" {
				return c
			}
		}
		t.Fatalf("no change for p: %+v", p.Changes)
		return plan.Change{}
	}
	ch := change(h.plan(doc("team-a", "nope")))
	if ch.Action != plan.Blocked || !strings.Contains(ch.Reason, `space_ids names Kibana space "nope", which does not exist; Kibana would refuse it ("No enough permissions to create policies in space nope")`) {
		// Kibana's create handler's text, sic (fleetsim/spaces.go newPolicySpaces).
		t.Errorf("create into a missing space: %+v", ch)
	}
	// Applied, the block holds: nothing is created, and apply says so.
	if _, err := h.r.Apply(t.Context(), doc("team-a", "nope"), nil, ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "which does not exist") {
		t.Errorf("apply into a missing space: %v", err)
	}
	if _, err := h.kb.GetAgentPolicy(t.Context(), "p"); !kibana.IsNotFound(err) {
		t.Errorf("blocked create: GET p: %v", err)
	}
	h.apply(doc("team-a"))
	ch = change(h.plan(doc("team-a", "nope")))
	if ch.Action != plan.Blocked || !strings.Contains(ch.Reason, `"nope", which does not exist; Kibana would refuse it ("Not enough permissions to create policies in space nope")`) {
		t.Errorf("update into a missing space: %+v", ch)
	}
	if ch := change(h.plan(doc("team-a", "team-b"))); ch.Action != plan.Update {
		t.Errorf("update into an existing space: %+v", ch)
	}
	// A key with Fleet privileges in team-a only cannot add team-b.
	key, err := h.main.ES().CreateAPIKey(esim.Principal{Username: "elastic", Superuser: true}, esim.APIKeyRequest{Name: "team-a-only",
		RoleDescriptors: map[string]esim.RoleDescriptor{"r": {Applications: []esim.ApplicationPrivilege{{Application: "kibana-.kibana",
			Privileges: []string{"feature_fleetv2.all", "feature_fleet.all"}, Resources: []string{"space:team-a"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	h.kb = spaceClient(t, h.main, "team-a", kibana.Auth{APIKey: secret.New(key.Encoded)})
	h.connect(func(c *Config) { c.Space = "team-a" })
	ch = change(h.plan(doc("team-a", "team-b")))
	if ch.Action != plan.Blocked || !strings.Contains(ch.Reason, `fleetform's credentials hold no Kibana privilege in space "team-b"`) {
		t.Errorf("update into a space the key cannot use: %+v", ch)
	}
	// Only the repository's own space and "*": no space is looked up (the
	// spaces are listed once, for the names in every space: spaces_names.go).
	h.sim.ClearRequests()
	h.plan(doc("team-a", "*"))
	for _, r := range h.sim.Requests() {
		if strings.HasPrefix(r.Path, "/api/spaces/space/") {
			t.Errorf("looked up %s", r.Path)
		}
	}
}
