package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/importer"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/state"
)

func init() {
	registerCommand("import", "write the live Fleet into the repository as YAML (and with --adopt, own it)", "", setupImport)
}

// runImport implements
// "fleetform import -c DIR [--cluster main|NAME] [--kinds K,…] [--select ID,…] [--adopt]".
// DIR must already declare the clusters (a clusters file); import writes one
// file per kind beside it, checks that the repository still validates, and
// prints the secret references to fill in (and those it reused from the
// state index for objects fleetform already owns).
func setupImport(fs *pflag.FlagSet) runFunc {
	var o importOptions
	o.cluster.bind(fs)
	fs.StringVar(&o.kinds, "kinds", "", "comma-separated `kinds` to import: "+strings.Join(importer.Kinds(), ", ")+", or their files' names (outputs, agent_policies, …; default: all)")
	fs.StringVar(&o.sel, "select", "", "comma-separated object `ids` to import (default: every object not yet declared)")
	fs.BoolVar(&o.adopt, "adopt", false, "record ownership of the imported objects in the state index, so the first apply manages them without recreating them")
	fs.StringVar(&o.from, "cluster", "main", "the `cluster` whose Fleet to import: main, or a remote's name (its Fleet becomes a repository of its own beside DIR, in DIR-NAME)")
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return diagnose(ctx, o.cluster.dir, runImport(ctx, &o, args, stdout, stderr))
	}
}

// importOptions are import's flags.
type importOptions struct {
	cluster    clusterFlags
	kinds, sel string
	adopt      bool
	from       string // --cluster
}

func runImport(ctx context.Context, o *importOptions, rest []string, stdout, stderr io.Writer) error {
	cf, kinds, sel, adopt := &o.cluster, &o.kinds, &o.sel, &o.adopt
	if len(rest) > 0 {
		return fmt.Errorf("unexpected argument %q", rest[0])
	}
	doc, err := loadConfig(ctx, cf.dir)
	if err != nil {
		return fmt.Errorf("load %s (import needs the clusters declared there first): %w", cf.dir, err)
	}
	if o.from != "" && o.from != "main" {
		sub, err := remoteRepository(ctx, doc, cf.dir, o.from)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Importing the Fleet of remote %s into its own repository %s.\n", o.from, sub)
		next := *o
		next.from, next.cluster.dir = "main", sub
		return runImport(ctx, &next, nil, stdout, stderr)
	}
	kb, err := kibana.NewFromEndpoint(ctx, doc.Clusters.Main.Kibana)
	if err != nil {
		return fmt.Errorf("connect main kibana: %w", err)
	}
	if err := kb.CheckSpace(ctx); err != nil {
		return fmt.Errorf("connect main kibana: %w", err)
	}
	var remotes []importer.Remote
	for _, r := range doc.Clusters.Remotes {
		es, err := elastic.NewFromEndpoint(ctx, r.Elasticsearch)
		if err != nil {
			// The remote is still recognised by its hosts; only what
			// fleetform minted there goes unrecognised.
			fmt.Fprintf(stderr, "warning: remote %s: %v; its credentials are imported as env references\n", r.Name, err)
			remotes = append(remotes, importer.RemoteFromSchema(r, nil))
			continue
		}
		remotes = append(remotes, importer.RemoteFromSchema(r, es))
	}
	recorded, err := recordedRefs(ctx, doc, cf)
	if err != nil {
		// Import still works; only the references fleetform applied go
		// unrecognised, and the first plan says "reference changed".
		fmt.Fprintf(stderr, "warning: %v; every secret reference is named anew\n", err)
	}
	res, err := importer.Import(ctx, kb, importer.Options{
		Kinds: splitList(*kinds), Select: splitList(*sel), Declared: declaredKeys(doc), Remotes: remotes,
		Recorded: recorded,
	})
	if err != nil {
		return err
	}
	if len(res.Objects) == 0 {
		fmt.Fprintln(stdout, "Nothing to import: every object of the selected kinds is declared already.")
		printSkipped(stdout, res)
		return nil
	}
	written, err := writeImported(cf.dir, res.Files)
	if err != nil {
		return err
	}
	// The written repository must load; if it does not, take the files back.
	doc, err = loadConfig(ctx, cf.dir)
	if err != nil {
		for _, p := range written {
			os.Remove(p)
		}
		return fmt.Errorf("the imported files do not validate, so none were kept: %w", err)
	}
	fmt.Fprintf(stdout, "Imported %s into %s:\n", countObjects(res.Objects), cf.dir)
	for _, p := range written {
		fmt.Fprintf(stdout, "  %s\n", p)
	}
	printSkipped(stdout, res)
	if *adopt {
		r, err := reconciler.Connect(ctx, doc, reconciler.ConnectOptions{Instance: cf.instance, StateIndex: cf.stateIndex, Logger: cf.logger(stderr)})
		if err != nil {
			return err
		}
		adopted, refused, err := r.Adopt(ctx, doc, dirRevision(cf.dir))
		if err != nil {
			return fmt.Errorf("adopt: %w", err)
		}
		fmt.Fprintf(stdout, "\nAdopted %d objects: fleetform now owns them (recorded in the state index).\n", len(adopted))
		for _, k := range refused {
			fmt.Fprintf(stdout, "  not adopted (differs from Fleet or owned by another instance): %s\n", k)
		}
	}
	printSecretRefs(stdout, res.Env)
	fmt.Fprintf(stdout, "\nNext: review the files, then run fleetform plan -c %s (it should say \"No changes\").\n", cf.dir)
	return nil
}

// recordedRefs reads the secret references the state index records for the
// objects this instance owns (importer.Options.Recorded). An index that
// does not exist yet records none.
func recordedRefs(ctx context.Context, doc *schema.Document, cf *clusterFlags) (map[string]map[string]string, error) {
	es, err := elastic.NewFromEndpoint(ctx, doc.Clusters.Main.Elasticsearch)
	if err != nil {
		return nil, fmt.Errorf("connect main elasticsearch to read the state index: %w", err)
	}
	recs, err := reconciler.StateInventory(state.NewStore(es, cf.stateIndex, reconciler.InstanceFor(doc, cf.instance))).Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the state index: %w", err)
	}
	out := map[string]map[string]string{}
	for _, r := range recs {
		if r.Owner != "" || len(r.Secrets) == 0 {
			continue // another instance's object, or no secrets
		}
		refs := make(map[string]string, len(r.Secrets))
		for path, s := range r.Secrets {
			refs[path] = s.RefDescribe
		}
		out[plan.Key(r.Cluster, r.Kind, r.ID)] = refs
	}
	return out, nil
}

// printSecretRefs says which secret references import invented (to be
// provided) and which it reused from the state index. It prints no value:
// import never reads one.
func printSecretRefs(w io.Writer, refs []importer.EnvVar) {
	var invented, reused []importer.EnvVar
	for _, e := range refs {
		if e.Reused {
			reused = append(reused, e)
		} else {
			invented = append(invented, e)
		}
	}
	if len(invented) > 0 {
		fmt.Fprintln(w, "\nSecrets were not read. Provide each reference before plan or apply:")
		for _, e := range invented {
			fmt.Fprintf(w, "  export %s=...   # %s %s %s\n", e.Name, e.Kind, e.ID, e.Path)
		}
	}
	if len(reused) > 0 {
		fmt.Fprintln(w, "\nReused the secret references the state index records for objects fleetform owns:")
		for _, e := range reused {
			fmt.Fprintf(w, "  %s   # %s %s %s\n", e.Ref, e.Kind, e.ID, e.Path)
		}
	}
}

// writeImported writes the files into dir, never over an existing file: a
// kind whose file the repository has already (outputs.yaml of objects it
// declares) gets its new objects in NAME.imported.yaml (or
// NAME.imported-2.yaml, …) beside it, which the loader reads like any other.
func writeImported(dir string, files []importer.File) ([]string, error) {
	var written []string
	undo := func() {
		for _, w := range written {
			os.Remove(w)
		}
	}
	for _, f := range files {
		p, err := freeName(dir, f.Name)
		if err != nil {
			undo()
			return nil, err
		}
		// O_EXCL: a file that appeared since is never overwritten either.
		w, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, err = w.Write(f.Content)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(p)
			}
		}
		if err != nil {
			undo()
			return nil, fmt.Errorf("write %s: %w", p, err)
		}
		written = append(written, p)
	}
	return written, nil
}

// freeName is dir/name, or the first of dir/BASE.imported.yaml,
// dir/BASE.imported-2.yaml, … that does not exist.
func freeName(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	base, ext := strings.TrimSuffix(name, filepath.Ext(name)), filepath.Ext(name)
	for i := 1; i < 1000; i++ {
		alt := base + ".imported" + ext
		if i > 1 {
			alt = fmt.Sprintf("%s.imported-%d%s", base, i, ext)
		}
		p := filepath.Join(dir, alt)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: no free name for the imported %s", dir, name)
}

// declaredKeys are the plan keys of doc's main-cluster objects.
func declaredKeys(doc *schema.Document) map[string]bool {
	keys := map[string]bool{}
	for _, o := range doc.Outputs {
		keys[plan.Key("main", plan.KindOutput, o.ID)] = true
	}
	for _, p := range doc.AgentPolicies {
		keys[plan.Key("main", plan.KindAgentPolicy, p.ID)] = true
	}
	for _, p := range doc.Packages {
		keys[plan.Key("main", plan.KindPackage, p.Name)] = true
	}
	for _, p := range doc.Proxies {
		keys[plan.Key("main", "proxy", p.ID)] = true
	}
	for _, h := range doc.FleetServerHosts {
		keys[plan.Key("main", "fleet_server_host", h.ID)] = true
	}
	for _, d := range doc.DownloadSources {
		keys[plan.Key("main", "download_source", d.ID)] = true
	}
	for _, p := range doc.PackagePolicies {
		keys[plan.Key("main", "package_policy", p.ID)] = true
	}
	return keys
}

func printSkipped(w io.Writer, res *importer.Result) {
	if len(res.Skipped) == 0 {
		return
	}
	fmt.Fprintln(w, "\nNot imported:")
	for _, s := range res.Skipped {
		fmt.Fprintf(w, "  %s %s: %s\n", strings.ReplaceAll(s.Kind, "_", " "), s.ID, s.Reason)
	}
}

func countObjects(objs []importer.Object) string {
	counts := map[string]int{}
	for _, o := range objs {
		counts[o.Kind]++
	}
	var parts []string
	for _, k := range importer.Kinds() {
		if n := counts[k]; n > 0 {
			noun := strings.ReplaceAll(k, "_", " ")
			if n != 1 {
				noun = importer.KindPlural(k)
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, noun))
		}
	}
	return strings.Join(parts, ", ")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// remoteRepository prepares DIR-NAME, beside DIR, as the repository of
// remote NAME's own Fleet: its clusters file declares the remote's endpoints
// (the same references) as that repository's main cluster. An existing
// DIR-NAME is used as it is, so a later import adds to it.
func remoteRepository(ctx context.Context, doc *schema.Document, dir, name string) (string, error) {
	i := slices.IndexFunc(doc.Clusters.Remotes, func(r schema.Remote) bool { return r.Name == name })
	if i < 0 {
		var names []string
		for _, r := range doc.Clusters.Remotes {
			names = append(names, r.Name)
		}
		return "", fmt.Errorf("--cluster %s: %s declares no remote %q (remotes: %s)", name, dir, name, strings.Join(append([]string{"main"}, names...), ", "))
	}
	r := doc.Clusters.Remotes[i]
	if r.Kibana == nil {
		return "", fmt.Errorf("--cluster %s: remote %s declares no kibana endpoint, and import reads Fleet through Kibana; add clusters.remotes[%s].kibana", name, name, name)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	// Beside DIR, not in it: a repository inside another would make the
	// outer one two repositories.
	sub := filepath.Join(filepath.Dir(abs), filepath.Base(abs)+"-"+name)
	if _, err := os.Stat(sub); err == nil {
		if _, err := loadConfig(ctx, sub); err != nil {
			return "", fmt.Errorf("--cluster %s: %s exists but is not a repository of its own: %w", name, sub, err)
		}
		return sub, nil
	}
	clusters := struct {
		Clusters schema.Clusters `json:"clusters"`
	}{schema.Clusters{Main: schema.Cluster{Kibana: *r.Kibana, Elasticsearch: r.Elasticsearch}}}
	b, err := yaml.Marshal(clusters)
	if err != nil {
		return "", err
	}
	header := fmt.Sprintf("# The Fleet of remote %s as a repository of its own (fleetform import --cluster %s):\n# its main cluster is %s. Objects the main repository provisions there (its\n# fleetform-sync-* outputs) stay with the main repository.\n", name, name, name)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(sub, "clusters.yaml"), append([]byte(header), b...), 0o644); err != nil {
		return "", err
	}
	return sub, nil
}
