package fleetsim

import (
	"net/url"
	"testing"
)

// A quoted KQL value is read as KQL's grammar reads it
// (src/platform/packages/shared/kbn-es-query/src/kuery/grammar/grammar.peggy,
// QuotedCharacter: EscapedWhitespace, EscapedUnicodeSequence, '\\' [\\"],
// any other character but '"').
func TestUnquoteKQL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`plain`, `plain`},
		{`a \"b\"`, `a "b"`},
		{`back\\slash`, `back\slash`},
		{`tab\there`, "tab\there"},
		{`line\nbreak\r`, "line\nbreak\r"},
		{`\u00e9t\u00E9`, "été"},
		{`\u00e`, `\u00e`},
		{`\x stays`, `\x stays`},
		{`ends with \`, `ends with \`},
	} {
		if got := unquoteKQL(c.in); got != c.want {
			t.Errorf("unquoteKQL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A client that escapes a name holding a backslash and quotes for KQL (as
// fleetform's prune check does) finds the policy.
func TestKuery_QuotedNameWithBackslash(t *testing.T) {
	_, kb := startMain(t, ClusterConfig{Name: "main"})
	name := `ops\eu "west"`
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "p1", "name": name, "namespace": "default"}).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "p2", "name": "other", "namespace": "default"}).must(t, 200)
	q := `ingest-agent-policies.name:"ops\\eu \"west\""`
	r := kb.do("GET", "/api/fleet/agent_policies?kuery="+url.QueryEscape(q), nil).must(t, 200)
	items := r.items()
	if len(items) != 1 || items[0].(map[string]any)["id"] != "p1" {
		t.Fatalf("kuery %s found %v", q, items)
	}
}

// An unquoted * is KQL's exists query; a quoted "*" is a literal value
// (kbn-es-query grammar.peggy reads wildcards in UnquotedLiteral only, as
// does Elasticsearch's KqlBase.g4: existsQuery is fieldName COLON WILDCARD).
// FuzzParseKuery found fleetsim selecting every named policy for name:"*".
func TestKuery_QuotedStarIsLiteral(t *testing.T) {
	star := &agentPolicy{ID: "s", Attrs: map[string]any{"name": "*"}}
	ops := &agentPolicy{ID: "o", Attrs: map[string]any{"name": "ops"}}
	for _, c := range []struct {
		kuery          string
		wantStar, want bool
	}{
		{`name:*`, true, true},
		{`name:"*"`, true, false},
		{`name:"ops"`, false, true},
	} {
		m, err := parseKuery(c.kuery)
		if err != nil {
			t.Fatalf("%s: %v", c.kuery, err)
		}
		if m(star) != c.wantStar || m(ops) != c.want {
			t.Errorf("%s selects the policy named * %v, ops %v; want %v, %v", c.kuery, m(star), m(ops), c.wantStar, c.want)
		}
	}
}
