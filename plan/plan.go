// Package plan is fleetform's plan model: an ordered list of changes to Fleet
// objects, each with field-level before/after values, and its views (text like
// Terraform's, JSON with a format version, Markdown for pull-request comments
// and GitHub Actions annotations). A plan is data: it is computed by the
// reconciler, rendered from here, saved with `plan -o` and checked again by
// apply. Secret values never enter a plan: sensitive fields carry only the
// markers Sensitive, SensitiveChanged and ToBeGenerated.
package plan

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
)

// FormatVersion is the version of the JSON form. Bump it when consumers of the
// JSON must adapt (a field renamed or removed, a meaning changed).
const FormatVersion = "1"

// Action is what apply does with one object.
type Action string

// Actions, in the vocabulary of the JSON form.
const (
	Create  Action = "create"
	Update  Action = "update"
	Delete  Action = "delete"
	Blocked Action = "blocked" // a change is needed but fleetform must not or cannot make it; Reason says why
	NoOp    Action = "no-op"   // nothing to send; used for adoption of an object that already matches
)

// Kinds of objects a plan changes.
const (
	KindPackage     = "package"
	KindOutput      = "output"
	KindAgentPolicy = "agent_policy"
)

// Markers that stand in for secret values in FieldDiff.Before/After.
const (
	Sensitive     = "(sensitive)"
	ToBeGenerated = "(to be generated)"
)

// kindRank is the one table of kinds the plan is ordered by: the main
// cluster's kinds and the other clusters' (RemoteKind), parents first, so
// that between changes no dependency orders, parents are created first and
// deleted last. The engines provide it (SetKindOrder) from their tables of
// kinds: package reconciler the main cluster's, package remote appends
// the remote kinds. Kinds it does not name come after the named ones,
// ordered by name.
var kindRank atomic.Pointer[map[string]int]

// SetKindOrder sets the table of kinds, parents first; a main-cluster kind
// is named as is, a kind of the other clusters by RemoteKind. Kinds of
// equal rank are given as one entry, separated by commas. The engines
// call it when they are initialised.
func SetKindOrder(kinds ...string) {
	m := make(map[string]int, len(kinds))
	for i, entry := range kinds {
		for k := range strings.SplitSeq(entry, ",") {
			m[k] = i
		}
	}
	kindRank.Store(&m)
}

// KindOrder returns the table SetKindOrder set.
func KindOrder() []string {
	p := kindRank.Load()
	if p == nil {
		return nil
	}
	rows := map[int][]string{}
	for k, r := range *p {
		rows[r] = append(rows[r], k)
	}
	out := make([]string, len(rows))
	for r, ks := range rows {
		slices.Sort(ks)
		out[r] = strings.Join(ks, ",")
	}
	return out
}

// RemoteKind names kind as a kind of a cluster other than the main one in
// the table of kinds: "remote:output" is a remote's own output, ordered
// apart from the main cluster's outputs.
func RemoteKind(kind string) string { return "remote:" + kind }

// Plan is the set of changes that makes Fleet match the desired state, in
// apply order.
type Plan struct {
	FormatVersion string `json:"format_version"`
	// Revision is the source revision (Git commit or directory digest) the
	// desired state was read from.
	Revision string `json:"revision,omitempty"`
	// Space is the Kibana space whose Fleet the plan manages (Kibana 9.1+
	// scopes agent and integration policies by space); "" is the default.
	Space string `json:"space,omitempty"`
	// Fingerprint is a digest of everything observed to compute the plan
	// (Fleet objects and the ownership records). Apply refuses a saved plan
	// whose fingerprint no longer matches a fresh observation.
	Fingerprint string   `json:"fingerprint"`
	Changes     []Change `json:"changes"`
	// Warnings are remarks for people (for example owned objects that are no
	// longer declared while pruning is off). Apply never reads them.
	Warnings []string `json:"warnings,omitempty"`
	// Unverified lists the secret references the plan could not read where
	// it ran (CI without production secrets): their values were not
	// compared with what Fleet holds, so the plan cannot say whether they
	// changed. References it could read were compared by their salted hash
	// and show up as "(sensitive, changed)" fields when they changed.
	Unverified []UnverifiedSecret `json:"unverified_secrets,omitempty"`
	// Unmanaged are the Fleet objects neither declared nor owned; see
	// Unmanaged. Apply never reads it.
	Unmanaged *Unmanaged `json:"unmanaged,omitempty"`
}

// UnverifiedSecret is a secret reference whose value a plan could not
// compare. It names the reference and why it could not be read, never a
// value.
type UnverifiedSecret struct {
	Cluster string `json:"cluster"`
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	Path    string `json:"path"`   // "secrets.password", "kibana_api_key", …
	Ref     string `json:"ref"`    // "env:NAME", "file:/path"
	Reason  string `json:"reason"` // e.g. "environment variable NAME is not set"
	// Adopted: the reference could be read, but `fleetform import --adopt`
	// recorded the secret without its value, so there is nothing to compare
	// it with; apply leaves it alone until the reference changes.
	Adopted bool `json:"adopted,omitempty"`
}

// Key is the key of the object the reference belongs to; see Change.Key.
func (u UnverifiedSecret) Key() string { return Key(u.Cluster, u.Kind, u.ID) }

// Change is what happens to one object.
type Change struct {
	Cluster string `json:"cluster"` // "main" or a remote's name
	Kind    string `json:"kind"`    // KindOutput, KindAgentPolicy, KindPackage
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"` // display name, when the object has one
	Action  Action `json:"action"`
	// Fields are the field-level differences, sorted by Path. Creates list
	// every managed field; deletes list none.
	Fields []FieldDiff `json:"fields,omitempty"`
	// Reason explains the change to people (why blocked, why adopted, …).
	// Apply never branches on it.
	Reason string `json:"reason,omitempty"`
	// DependsOn holds the Keys of changes that must succeed before this one:
	// the plan puts it after them (Sort), and apply skips a change whose
	// dependency failed or was blocked.
	DependsOn []string `json:"depends_on,omitempty"`
}

// FieldDiff is one changed field. Path uses dots ("ssl.verification_mode",
// "secrets.service_token"). Before is nil when the field is absent before,
// After nil when it is removed. For a sensitive field Before and After are
// Sensitive or ToBeGenerated markers (or nil), never the value.
type FieldDiff struct {
	Path      string `json:"path"`
	Before    any    `json:"before,omitempty"`
	After     any    `json:"after,omitempty"`
	Sensitive bool   `json:"sensitive,omitempty"`
	// Note is a short remark shown next to the field, e.g. "drift: changed
	// outside fleetform".
	Note string `json:"note,omitempty"`
}

// Key identifies the object of a change across a plan: "cluster/kind/id".
func (c Change) Key() string { return Key(c.Cluster, c.Kind, c.ID) }

// Key builds the key of an object; see Change.Key.
func Key(cluster, kind, id string) string { return cluster + "/" + kind + "/" + id }

// Summary counts the changes of a plan by action.
type Summary struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Delete  int `json:"delete"`
	Blocked int `json:"blocked"`
	NoOp    int `json:"no_op"`
}

// Summary counts p's changes by action.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			s.Create++
		case Update:
			s.Update++
		case Delete:
			s.Delete++
		case Blocked:
			s.Blocked++
		case NoOp:
			s.NoOp++
		}
	}
	return s
}

// Empty reports whether p has nothing to do: no change of any kind, not even
// an adoption. `plan --detailed-exitcode` exits 0 exactly when the plan is
// empty. An empty plan with Unverified secrets is not shown as "No changes":
// the views name the references that were not compared.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Certain reports whether p compared everything: no secret reference went
// unread.
func (p *Plan) Certain() bool { return len(p.Unverified) == 0 }

// String is the summary line, e.g. "1 to create, 2 to update, 0 to delete, 1 blocked".
func (s Summary) String() string {
	line := fmt.Sprintf("%d to create, %d to update, %d to delete", s.Create, s.Update, s.Delete)
	if s.Blocked > 0 {
		line += fmt.Sprintf(", %d blocked", s.Blocked)
	}
	if s.NoOp > 0 {
		line += fmt.Sprintf(", %d to adopt", s.NoOp)
	}
	return line
}

func applyRank(c Change) int {
	var ranks map[string]int
	if p := kindRank.Load(); p != nil {
		ranks = *p
	}
	kind := c.Kind
	if clusterRank(c.Cluster) != 0 {
		kind = RemoteKind(kind)
	}
	r, ok := ranks[kind]
	if !ok {
		r = len(ranks)
	}
	if c.Action == Delete {
		return 1000 - r // children before parents
	}
	return r // parents before children
}

// Compare is the order of changes no dependency orders (see Sort): the
// main cluster first — the other clusters' changes are computed from its
// result (credentials minted into its outputs, the leader index its
// remote outputs create, the packages it installs) —, then by the table
// of kinds (SetKindOrder): creates and updates parents first, then
// deletes children first; then the cluster's name, the kind and the ID
// break every tie. On the remotes, one kind thus comes on every remote
// before the next kind (every remote's link before any credential). The
// order is total, so golden files are stable.
func Compare(a, b Change) int {
	return cmp.Or(
		cmp.Compare(clusterRank(a.Cluster), clusterRank(b.Cluster)),
		cmp.Compare(applyRank(a), applyRank(b)),
		strings.Compare(a.Cluster, b.Cluster),
		strings.Compare(a.Kind, b.Kind),
		strings.Compare(a.ID, b.ID),
	)
}

func clusterRank(c string) int {
	if c == "main" {
		return 0
	}
	return 1
}

// Sort puts p's changes in apply order and each change's fields and
// dependencies in path order. The apply order is derived from the
// changes' dependencies (DependsOn): a stable topological sort that puts
// every change after the changes it depends on, taking among the changes
// whose dependencies are placed the first by Compare. A dependency cycle
// (none is planned) is broken at the first change by Compare.
func (p *Plan) Sort() {
	for i := range p.Changes {
		slices.SortFunc(p.Changes[i].Fields, func(a, b FieldDiff) int { return strings.Compare(a.Path, b.Path) })
		slices.Sort(p.Changes[i].DependsOn)
		p.Changes[i].DependsOn = slices.Compact(p.Changes[i].DependsOn)
	}
	slices.SortStableFunc(p.Changes, Compare)
	p.Changes = dependenciesFirst(p.Changes)
	slices.SortFunc(p.Unverified, func(a, b UnverifiedSecret) int {
		return cmp.Or(
			cmp.Compare(clusterRank(a.Cluster), clusterRank(b.Cluster)),
			strings.Compare(a.Key(), b.Key()),
			strings.Compare(a.Path, b.Path),
		)
	})
}

// dependenciesFirst reorders changes (sorted by Compare) so that each comes
// after the changes of the list it depends on, otherwise keeping their
// order.
func dependenciesFirst(changes []Change) []Change {
	index := make(map[string]int, len(changes))
	for i, c := range changes {
		index[c.Key()] = i
	}
	moved := false
	for i, c := range changes {
		for _, d := range c.DependsOn {
			if j, ok := index[d]; ok && j > i {
				moved = true
			}
		}
	}
	if !moved {
		return changes // already in an order the dependencies allow
	}
	waiting := make([]int, len(changes)) // dependencies not yet placed
	dependants := make([][]int, len(changes))
	for i, c := range changes {
		for _, d := range c.DependsOn {
			if j, ok := index[d]; ok && j != i {
				waiting[i]++
				dependants[j] = append(dependants[j], i)
			}
		}
	}
	ready := &intHeap{}
	for i := range changes {
		if waiting[i] == 0 {
			heap.Push(ready, i)
		}
	}
	placed := make([]bool, len(changes))
	out := make([]Change, 0, len(changes))
	next := 0 // the first change not placed, to break a cycle
	for len(out) < len(changes) {
		if ready.Len() == 0 {
			for placed[next] {
				next++
			}
			waiting[next] = 0
			heap.Push(ready, next)
		}
		i := heap.Pop(ready).(int)
		if placed[i] {
			continue
		}
		placed[i] = true
		out = append(out, changes[i])
		for _, j := range dependants[i] {
			if waiting[j]--; waiting[j] == 0 && !placed[j] {
				heap.Push(ready, j)
			}
		}
	}
	return out
}

// intHeap is a min-heap of indexes.
type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
