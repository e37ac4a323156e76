package plan

import (
	"bufio"
	"fmt"
	"slices"
	"strings"
)

// Unmanaged is what the plan saw in Fleet that this repository neither
// declares nor owns (the objects `fleetform import` would take over), the
// way Argo CD lists orphaned resources. It never affects apply.
type Unmanaged struct {
	// Counts are by kind.
	Counts map[string]int `json:"counts"`
	// Objects lists them. The JSON form always has them; the text,
	// Markdown and GitHub views list them only when Listed (`plan
	// --show-unmanaged`) and otherwise say how many there are.
	Objects []Object `json:"objects,omitempty"`
	Listed  bool     `json:"-"`
}

// Object names one Fleet object.
type Object struct {
	Cluster string `json:"cluster"`
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
}

// Total is the number of unmanaged objects.
func (u *Unmanaged) Total() int {
	if u == nil {
		return 0
	}
	n := 0
	for _, c := range u.Counts {
		n += c
	}
	return n
}

// AddUnmanaged records an unmanaged object.
func (p *Plan) AddUnmanaged(o Object) {
	if p.Unmanaged == nil {
		p.Unmanaged = &Unmanaged{Counts: map[string]int{}}
	}
	p.Unmanaged.Counts[o.Kind]++
	p.Unmanaged.Objects = append(p.Unmanaged.Objects, o)
	slices.SortFunc(p.Unmanaged.Objects, func(a, b Object) int {
		return strings.Compare(Key(a.Cluster, a.Kind, a.ID), Key(b.Cluster, b.Kind, b.ID))
	})
}

// ListUnmanaged makes the views list every unmanaged object, not only
// count them (plan --show-unmanaged).
func (p *Plan) ListUnmanaged() {
	if p.Unmanaged != nil {
		p.Unmanaged.Listed = true
	}
}

// listed are the objects a view lists.
func listed(p *Plan) []Object {
	if !p.Unmanaged.Listed {
		return nil
	}
	return p.Unmanaged.Objects
}

// unmanagedLine is the one-line summary: "12 objects in Fleet are not
// managed here (3 outputs, 9 agent policies)".
func unmanagedLine(p *Plan) string {
	u := p.Unmanaged
	kinds := make([]string, 0, len(u.Counts))
	for k := range u.Counts {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int {
		if d := applyRank(Change{Cluster: "main", Kind: a}) - applyRank(Change{Cluster: "main", Kind: b}); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		n := u.Counts[k]
		noun := strings.ReplaceAll(k, "_", " ")
		if n != 1 {
			noun = pluralNoun(noun)
		}
		parts[i] = fmt.Sprintf("%d %s", n, noun)
	}
	n := u.Total()
	return fmt.Sprintf("%d object%s in Fleet %s neither declared nor owned here (%s).", n, pick(n, "", "s"), pick(n, "is", "are"), strings.Join(parts, ", "))
}

// unmanagedHint says how to see and take over the objects.
func unmanagedHint(p *Plan) string {
	if len(listed(p)) == 0 {
		return "List them with fleetform plan --show-unmanaged; take them over with fleetform import --select ID,…"
	}
	ids := make([]string, 0, len(listed(p)))
	for _, o := range listed(p) {
		if !slices.Contains(ids, o.ID) {
			ids = append(ids, o.ID)
		}
	}
	return "Take them over with fleetform import --select " + strings.Join(ids, ",")
}

func objectLine(o Object) string {
	s := fmt.Sprintf("%s %q", o.Kind, o.ID)
	if o.Name != "" && o.Name != o.ID {
		s += fmt.Sprintf(" (%s)", o.Name)
	}
	if o.Cluster != "" && o.Cluster != "main" {
		s = o.Cluster + ": " + s
	}
	return s
}

func writeUnmanaged(bw *bufio.Writer, p *Plan) {
	if p.Unmanaged.Total() == 0 {
		return
	}
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, unmanagedLine(p))
	for _, o := range listed(p) {
		fmt.Fprintf(bw, "  %s\n", objectLine(o))
	}
	fmt.Fprintln(bw, unmanagedHint(p))
}

func writeMarkdownUnmanaged(bw *bufio.Writer, p *Plan) {
	if p.Unmanaged.Total() == 0 {
		return
	}
	fmt.Fprintln(bw)
	fmt.Fprintf(bw, "<details><summary>%s</summary>\n\n", mdCell(unmanagedLine(p)))
	for _, o := range listed(p) {
		fmt.Fprintf(bw, "- `%s`\n", strings.ReplaceAll(objectLine(o), "`", "'"))
	}
	if len(listed(p)) > 0 {
		fmt.Fprintln(bw)
	}
	fmt.Fprintf(bw, "%s\n\n</details>\n", mdCell(unmanagedHint(p)))
}

func writeGitHubUnmanaged(bw *bufio.Writer, p *Plan) {
	if p.Unmanaged.Total() == 0 {
		return
	}
	fmt.Fprintf(bw, "::notice title=%s::%s\n", ghProperty("fleetform plan"), ghData(unmanagedLine(p)+" "+unmanagedHint(p)))
	for _, o := range listed(p) {
		fmt.Fprintf(bw, "::notice title=%s::%s\n", ghProperty("fleetform plan: unmanaged"), ghData(objectLine(o)))
	}
}

// pluralNoun is the plural of a kind's noun: "agent policy" → "agent
// policies", "output" → "outputs".
func pluralNoun(noun string) string {
	if strings.HasSuffix(noun, "y") {
		return strings.TrimSuffix(noun, "y") + "ies"
	}
	return noun + "s"
}
