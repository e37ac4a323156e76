package fleetsim

import (
	"strings"
	"testing"
)

// FuzzParseKuery feeds parseKuery, which reads the kuery query parameter of
// GET /api/fleet/agent_policies from any client, arbitrary text: it must
// answer a matcher or an error, never panic, and a matcher must run on any
// policy. A name quoted the way fleetform quotes it (kibana/spaces_names.go,
// reconciler/agent_policies_prune.go: `\` and `"` escaped) must select
// exactly the policy of that name, as KQL's grammar reads a quoted value
// (kbn-es-query grammar.peggy QuotedCharacter).
func FuzzParseKuery(f *testing.F) {
	for _, s := range []string{
		`ingest-agent-policies.name:"ops"`,
		`fleet-agent-policies.name:"a" or fleet-agent-policies.name:"b"`,
		`(ingest-agent-policies.is_managed:true and name:x)`,
		`name:"ops\\eu \"west\""`,
		`name:"\u00e9"`,
		`name:`,
		`((`,
		`unknown_field:1`,
		`name:"a" and`,
	} {
		f.Add(s, "ops")
	}
	f.Add(`name:"x"`, `back\slash "q"`)
	f.Fuzz(func(t *testing.T, kuery, name string) {
		pol := &agentPolicy{ID: "p", Attrs: map[string]any{"name": name, "namespace": "default", "is_managed": false}}
		if m, err := parseKuery(kuery); err == nil {
			m(pol)
		} else if err.Error() == "" {
			t.Fatalf("parseKuery(%q): an error without a message", kuery)
		}
		if strings.ContainsAny(name, "\x00") {
			return
		}
		esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name)
		q := `ingest-agent-policies.name:"` + esc + `"`
		m, err := parseKuery(q)
		if err != nil {
			t.Fatalf("parseKuery(%q) for the name %q: %v", q, name, err)
		}
		if !m(pol) {
			t.Fatalf("kuery %q does not select the policy named %q", q, name)
		}
		other := &agentPolicy{ID: "o", Attrs: map[string]any{"name": name + "x"}}
		if m(other) {
			t.Fatalf("kuery %q selects the policy named %q too", q, name+"x")
		}
	})
}
