package plan

import (
	"strings"
	"testing"
)

func TestUnmanaged_Views(t *testing.T) {
	p := &Plan{FormatVersion: FormatVersion, Changes: []Change{}}
	for _, o := range []Object{
		{Cluster: "main", Kind: KindAgentPolicy, ID: "b", Name: "B"},
		{Cluster: "main", Kind: KindAgentPolicy, ID: "a", Name: "A"},
		{Cluster: "main", Kind: KindOutput, ID: "o", Name: "O"},
	} {
		p.AddUnmanaged(o)
	}
	const line = "3 objects in Fleet are neither declared nor owned here (1 output, 2 agent policies)."
	for name, write := range map[string]func(*strings.Builder) error{
		"text":     func(b *strings.Builder) error { return WriteText(b, p) },
		"markdown": func(b *strings.Builder) error { return WriteMarkdown(b, p) },
		"github":   func(b *strings.Builder) error { return WriteGitHub(b, p) },
	} {
		var b strings.Builder
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), line) || strings.Contains(b.String(), `agent_policy "a"`) {
			t.Errorf("%s without --show-unmanaged:\n%s", name, b.String())
		}
	}
	p.ListUnmanaged()
	var b strings.Builder
	if err := WriteText(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`  agent_policy "a" (A)`, `  output "o" (O)`, "Take them over with fleetform import --select a,b,o"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("listed text lacks %q:\n%s", want, b.String())
		}
	}
}
