package plan

import (
	"os"
	"slices"
	"testing"
)

// testKinds is the table of kinds the program sets: the reconciler's, then
// package remote's (RemoteKind).
var testKinds = []string{"proxy", "fleet_server_host", "download_source", KindPackage, KindOutput, KindAgentPolicy,
	RemoteKind("remote_cluster"), RemoteKind(KindOutput), RemoteKind("api_key") + "," + RemoteKind("service_token"),
	RemoteKind("follower_index"), RemoteKind(KindPackage)}

// TestMain sets the kind order the reconciler sets in a program (its table
// of kinds: packages, outputs, agent policies, …), which these tests'
// golden plans follow.
func TestMain(m *testing.M) {
	SetKindOrder(testKinds...)
	os.Exit(m.Run())
}

// TestSetKindOrder: the order the reconciler provides is the plan's order,
// parents first for creates and children first for deletes; a kind it does
// not name comes last.
func TestSetKindOrder(t *testing.T) {
	t.Cleanup(func() { SetKindOrder(testKinds...) })
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

func order(p *Plan) []string {
	var got []string
	for _, c := range p.Changes {
		got = append(got, string(c.Action)+" "+c.Key())
	}
	return got
}

// TestSort_DependenciesFirst: the order comes from the changes'
// dependencies first; the table of kinds only breaks ties. Here the table
// does not know the kinds (they would be ordered by name), and a change
// depending on one the table would put after it moves after it, with its
// own dependants, while the others keep the table's order.
func TestSort_DependenciesFirst(t *testing.T) {
	p := &Plan{Changes: []Change{
		{Cluster: "main", Kind: "a_child", ID: "1", Action: Create, DependsOn: []string{"main/z_parent/1"}},
		{Cluster: "main", Kind: "b_grandchild", ID: "1", Action: Create, DependsOn: []string{"main/a_child/1"}},
		{Cluster: "main", Kind: "c_free", ID: "1", Action: Create},
		{Cluster: "main", Kind: "z_parent", ID: "1", Action: Create},
		{Cluster: "main", Kind: "a_child", ID: "2", Action: Create, DependsOn: []string{"main/gone/1"}}, // not in the plan
	}}
	p.Sort()
	want := []string{"create main/a_child/2", "create main/c_free/1", "create main/z_parent/1", "create main/a_child/1", "create main/b_grandchild/1"}
	if got := order(p); !slices.Equal(got, want) {
		t.Errorf("order\n got %q\nwant %q", got, want)
	}
}

// TestSort_CycleIsBrokenDeterministically: a dependency cycle (none is
// planned) still gives every change once, in one order whatever the input
// order.
func TestSort_CycleIsBrokenDeterministically(t *testing.T) {
	changes := []Change{
		{Cluster: "main", Kind: KindOutput, ID: "a", Action: Create, DependsOn: []string{"main/output/b"}},
		{Cluster: "main", Kind: KindOutput, ID: "b", Action: Create, DependsOn: []string{"main/output/a"}},
		{Cluster: "main", Kind: KindAgentPolicy, ID: "p", Action: Create, DependsOn: []string{"main/output/b"}},
		{Cluster: "main", Kind: KindPackage, ID: "n", Action: Create},
	}
	p := &Plan{Changes: slices.Clone(changes)}
	p.Sort()
	q := &Plan{Changes: slices.Clone(changes)}
	slices.Reverse(q.Changes)
	q.Sort()
	want := []string{"create main/package/n", "create main/output/a", "create main/output/b", "create main/agent_policy/p"}
	if got := order(p); !slices.Equal(got, want) {
		t.Errorf("order\n got %q\nwant %q", got, want)
	}
	if !slices.Equal(order(p), order(q)) {
		t.Errorf("order depends on the input: %q vs %q", order(p), order(q))
	}
}

// TestSort_RemoteKindsFromTheOneTable: a remote's changes follow the
// main cluster's and the one table's remote rows (RemoteKind) — the link,
// the remote's own output, the credentials, the follower, the packages;
// deletes in reverse — and a remote "output" or "package" is ranked as a
// remote kind, not as the main cluster's kind of the same name.
func TestSort_RemoteKindsFromTheOneTable(t *testing.T) {
	p := &Plan{Changes: []Change{
		{Cluster: "west", Kind: KindPackage, ID: "nginx", Action: Create},
		{Cluster: "west", Kind: "follower_index", ID: "f", Action: Create, DependsOn: []string{"main/output/o", "west/remote_cluster/main"}},
		{Cluster: "west", Kind: "service_token", ID: "t1", Action: Create, DependsOn: []string{"main/output/o"}},
		{Cluster: "west", Kind: "api_key", ID: "k1", Action: Create},
		{Cluster: "west", Kind: KindOutput, ID: "sync", Action: Create},
		{Cluster: "west", Kind: "remote_cluster", ID: "main", Action: Create},
		{Cluster: "west", Kind: "remote_cluster", ID: "old", Action: Delete, DependsOn: []string{"west/follower_index/old"}},
		{Cluster: "west", Kind: "follower_index", ID: "old", Action: Delete},
		{Cluster: "west", Kind: "service_token", ID: "t0", Action: Delete, DependsOn: []string{"main/output/gone"}},
		{Cluster: "west", Kind: KindOutput, ID: "old-sync", Action: Delete},
		{Cluster: "main", Kind: KindOutput, ID: "gone", Action: Delete},
		{Cluster: "main", Kind: KindOutput, ID: "o", Action: Create},
		{Cluster: "main", Kind: KindPackage, ID: "nginx", Action: Create},
	}}
	p.Sort()
	want := []string{
		"create main/package/nginx", "create main/output/o", "delete main/output/gone",
		"create west/remote_cluster/main", "create west/output/sync", "create west/api_key/k1", "create west/service_token/t1",
		"create west/follower_index/f", "create west/package/nginx",
		"delete west/follower_index/old", "delete west/service_token/t0", "delete west/output/old-sync", "delete west/remote_cluster/old",
	}
	if got := order(p); !slices.Equal(got, want) {
		t.Errorf("order\n got %q\nwant %q", got, want)
	}
}

// TestKindOrder_RoundTrip: the table reads back as set, rows of equal
// rank joined by commas.
func TestKindOrder_RoundTrip(t *testing.T) {
	if got := KindOrder(); !slices.Equal(got, testKinds) {
		t.Errorf("KindOrder() = %q, want %q", got, testKinds)
	}
}

// TestSort_RemotesByKindThenCluster: on the remotes the table of kinds
// comes before the cluster's name, so every remote's link and own output
// are placed (and applied) before any remote change computed from the
// main cluster's result.
func TestSort_RemotesByKindThenCluster(t *testing.T) {
	p := &Plan{Changes: []Change{
		{Cluster: "west", Kind: "follower_index", ID: "f", Action: Create},
		{Cluster: "west", Kind: "remote_cluster", ID: "main", Action: Create},
		{Cluster: "east", Kind: "service_token", ID: "t", Action: Create},
		{Cluster: "east", Kind: KindOutput, ID: "sync", Action: Create},
		{Cluster: "west", Kind: KindOutput, ID: "sync", Action: Create},
		{Cluster: "east", Kind: "follower_index", ID: "old", Action: Delete},
		{Cluster: "west", Kind: "remote_cluster", ID: "old", Action: Delete},
		{Cluster: "main", Kind: KindOutput, ID: "o", Action: Delete},
	}}
	p.Sort()
	want := []string{"delete main/output/o",
		"create west/remote_cluster/main", "create east/output/sync", "create west/output/sync", "create east/service_token/t",
		"create west/follower_index/f", "delete east/follower_index/old", "delete west/remote_cluster/old"}
	if got := order(p); !slices.Equal(got, want) {
		t.Errorf("order\n got %q\nwant %q", got, want)
	}
}
