// Package importer turns a live Fleet into a fleetform repository: the
// objects of the main cluster, one YAML file per kind, in Kibana's field
// names, holding only the fields that differ from Kibana's defaults, in a
// stable order, so that planning the written repository against the same
// Fleet says "No changes".
//
// Rules it keeps:
//   - Secret values are never read or written. Every secret field becomes a
//     reference: the one the state index records for it when fleetform
//     already owns the object (Options.Recorded), so a re-import plans
//     empty; otherwise a new environment variable
//     ({env: OUTPUT_<ID>_SERVICE_TOKEN}). Result.Env lists both, the new
//     ones for the operator to fill in (secretrefs.go).
//   - Objects Kibana manages itself (kibana.yml-preconfigured outputs and agent
//     policies, managed policies) are not exported: the file says why in a
//     comment.
//   - Objects the repository already declares are left out, so an import
//     into an existing repository never produces a duplicate id.
//   - Each kind exports itself (see the exporter table); a kind fleetform
//     learns to manage adds its exporter there.
package importer

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
)

// Fleet is the read side of Kibana's Fleet API that import needs;
// *kibana.Client implements it. Import only lists: it never writes.
type Fleet interface {
	ListOutputs(ctx context.Context) ([]kibana.Output, error)
	ListAgentPolicies(ctx context.Context, opts kibana.ListOptions) ([]kibana.AgentPolicy, error)
	ListPackages(ctx context.Context) ([]kibana.Package, error)
}

// Options narrow an import.
type Options struct {
	// Kinds are the plan kinds to export (plan.KindOutput, …); empty: all.
	Kinds []string
	// Select are object ids to export; empty: all. An id selects the object
	// of that id in every exported kind (package names are their ids).
	Select []string
	// Declared holds plan.Key("main", kind, id) of objects the repository
	// already declares; they are not exported again.
	Declared map[string]bool
	// Cluster is the main cluster's name in plan keys; default "main".
	Cluster string
	// Remotes are the remote clusters the repository declares.
	Remotes []Remote
	// Recorded are the secret references the state index records for the
	// objects this fleetform instance owns: plan.Key(cluster, kind, id) →
	// secret path ("secrets.password") → the reference as the reconciler
	// describes it ("env:NAME", "file:/path", "generate"). Import writes
	// these instead of inventing env names.
	Recorded map[string]map[string]string
}

// Object is one exported Fleet object.
type Object struct {
	Kind string
	ID   string
	Name string
	// Secrets are the secret paths of the object with the reference each
	// now has.
	Secrets []EnvVar
	// Raw is the object as Kibana returned it (for adoption records).
	Raw map[string]any
}

// Skip is an object import left out, with the reason (also written as a
// comment in the kind's file).
type Skip struct {
	Kind, ID, Reason string
}

// EnvVar is a secret reference import wrote: a new environment variable
// the operator must provide, or (Reused) the reference the state index
// records for the secret.
type EnvVar struct {
	Name string // environment variable; "" for a reused file: or generate reference
	Kind string
	ID   string
	Path string // secret path in the document, e.g. "secrets.service_token"
	// Ref is the reference written, as the state index describes one:
	// "env:NAME", "file:/path" or "generate".
	Ref string
	// Reused is set when Ref is the reference the state index records.
	Reused bool
}

// File is one written file of the repository.
type File struct {
	Name    string // relative to the repository, e.g. "outputs.yaml"
	Content []byte
}

// Result is what an import produced.
type Result struct {
	Files   []File
	Objects []Object
	Skipped []Skip
	Env     []EnvVar
}

// exporter exports the objects of one kind. It appends entries (or skips)
// to b; the file name and top-level key come from the table.
type exporter struct {
	kind string
	file string
	key  string // top-level key of the document
	run  func(ctx context.Context, f Fleet, b *builder) error
}

// exporters is every kind import knows, in dependency order (the order the
// files are written and listed).
var exporters = []exporter{
	{kind: kindProxy, file: "proxies.yaml", key: "proxies", run: proxyExport.run},
	{kind: kindFleetServerHost, file: "fleet_server_hosts.yaml", key: "fleet_server_hosts", run: fleetServerHostExport.run},
	{kind: kindDownloadSource, file: "download_sources.yaml", key: "download_sources", run: downloadSourceExport.run},
	{kind: plan.KindPackage, file: "packages.yaml", key: "packages", run: exportPackages},
	{kind: plan.KindOutput, file: "outputs.yaml", key: "outputs", run: exportOutputs},
	{kind: plan.KindAgentPolicy, file: "agent_policies.yaml", key: "agent_policies", run: exportAgentPolicies},
	{kind: kindPackagePolicy, file: "package_policies.yaml", key: "package_policies", run: exportPackagePolicies},
}

// Kinds lists the kinds import can export, in order.
func Kinds() []string {
	out := make([]string, len(exporters))
	for i, e := range exporters {
		out[i] = e.kind
	}
	return out
}

// kindNamed returns the kind k names: a kind (output, agent_policy, …) or
// its document key (outputs, agent_policies, …, as the file names are).
func kindNamed(k string) (string, bool) {
	for _, e := range exporters {
		if k == e.kind || k == e.key {
			return e.kind, true
		}
	}
	return "", false
}

// Import reads the live Fleet through f and returns the repository files
// that declare it. Nothing is written anywhere.
func Import(ctx context.Context, f Fleet, opts Options) (*Result, error) {
	opts.Cluster = cmp.Or(opts.Cluster, "main")
	for i, k := range opts.Kinds {
		kind, ok := kindNamed(k)
		if !ok {
			return nil, fmt.Errorf("unknown kind %q (import knows %s)", k, strings.Join(Kinds(), ", "))
		}
		opts.Kinds[i] = kind
	}
	res := &Result{}
	for _, e := range exporters {
		if len(opts.Kinds) > 0 && !slices.Contains(opts.Kinds, e.kind) {
			continue
		}
		b := &builder{kind: e.kind, opts: opts}
		if err := e.run(ctx, f, b); err != nil {
			return nil, fmt.Errorf("import %s: %w", KindPlural(e.kind), err)
		}
		res.Objects = append(res.Objects, b.objects...)
		res.Skipped = append(res.Skipped, b.skipped...)
		for _, o := range b.objects {
			res.Env = append(res.Env, o.Secrets...)
		}
		if len(b.entries) == 0 && len(b.skipped) == 0 {
			continue
		}
		content, err := b.render(e.key)
		if err != nil {
			return nil, fmt.Errorf("import: write %s: %w", e.file, err)
		}
		res.Files = append(res.Files, File{Name: e.file, Content: content})
	}
	return res, nil
}

// builder collects one kind's entries.
type builder struct {
	kind    string
	opts    Options
	entries []entry
	objects []Object
	skipped []Skip
}

// wanted reports whether the object id is selected and not yet declared.
func (b *builder) wanted(id string) bool {
	if len(b.opts.Select) > 0 && !slices.Contains(b.opts.Select, id) {
		return false
	}
	return !b.opts.Declared[plan.Key(b.opts.Cluster, b.kind, id)]
}

// skip leaves an object out, saying why.
func (b *builder) skip(id, reason string) {
	b.skipped = append(b.skipped, Skip{Kind: b.kind, ID: id, Reason: reason})
}

// add exports an object.
func (b *builder) add(o Object, e entry) {
	o.Kind = b.kind
	for i := range o.Secrets {
		o.Secrets[i].Kind, o.Secrets[i].ID = b.kind, o.ID
	}
	b.objects = append(b.objects, o)
	b.entries = append(b.entries, e)
}

// EnvName is the environment variable a secret of an object refers to:
// KIND_ID_PATH in upper case with every other character an underscore, e.g.
// OUTPUT_REMOTE_WEST_SERVICE_TOKEN for secrets.service_token of output
// remote-west.
func EnvName(kind, id, path string) string {
	path = strings.TrimPrefix(path, "secrets.")
	s := kind + "_" + id + "_" + path
	var sb strings.Builder
	for _, r := range strings.ToUpper(s) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

// KindPlural names a kind's objects: "agent_policy" → "agent policies",
// "proxy" → "proxies", "output" → "outputs".
func KindPlural(kind string) string {
	noun := strings.ReplaceAll(kind, "_", " ")
	if strings.HasSuffix(noun, "y") {
		return strings.TrimSuffix(noun, "y") + "ies"
	}
	return noun + "s"
}
