package plan

import (
	"os"
	"testing"
)

// TestMain sets the kind order the reconciler sets in a program (its table
// of kinds: packages, outputs, agent policies, …), which these tests'
// golden plans follow.
func TestMain(m *testing.M) {
	SetKindOrder("proxy", "fleet_server_host", "download_source", KindPackage, KindOutput, KindAgentPolicy)
	os.Exit(m.Run())
}

// TestSetKindOrder: the order the reconciler provides is the plan's order,
// parents first for creates and children first for deletes; a kind it does
// not name comes last.
func TestSetKindOrder(t *testing.T) {
	t.Cleanup(func() {
		SetKindOrder("proxy", "fleet_server_host", "download_source", KindPackage, KindOutput, KindAgentPolicy)
	})
	SetKindOrder("b_parent", "a_child")
	p := &Plan{Changes: []Change{
		{Cluster: "main", Kind: "z_unknown", ID: "1", Action: Create},
		{Cluster: "main", Kind: "a_child", ID: "1", Action: Create},
		{Cluster: "main", Kind: "b_parent", ID: "1", Action: Create},
		{Cluster: "main", Kind: "b_parent", ID: "2", Action: Delete},
		{Cluster: "main", Kind: "a_child", ID: "2", Action: Delete},
	}}
	p.Sort()
	var got []string
	for _, c := range p.Changes {
		got = append(got, string(c.Action)+" "+c.Kind)
	}
	want := []string{"create b_parent", "create a_child", "create z_unknown", "delete a_child", "delete b_parent"}
	if len(got) != len(want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order = %v, want %v", got, want)
		}
	}
}
