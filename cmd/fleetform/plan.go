package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
)

// clusterFlags are the flags of every command that talks to the clusters:
// plan, apply, status and rotate.
type clusterFlags struct {
	dir        string
	instance   string
	stateIndex string
	verbose    bool
}

func (f *clusterFlags) bind(fs *pflag.FlagSet) {
	bindConfigDir(fs, &f.dir)
	fs.StringVar(&f.instance, "instance", "default", "fleetform instance `name` recorded in the state index (several instances may share one cluster; left at default, a repository that names a Kibana space records as default@SPACE)")
	fs.StringVar(&f.stateIndex, "state-index", reconciler.DefaultStateIndex, "Elasticsearch `index` on the main cluster that records what fleetform owns")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "log requests and changes to stderr")
}

func (f *clusterFlags) logger(stderr io.Writer) *slog.Logger {
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// engineFlags are the flags plan and apply share.
type engineFlags struct {
	clusterFlags
	prune    bool
	force    bool          // --force-uninstall
	lockWait time.Duration // apply --lock-timeout
}

func (e *engineFlags) bind(fs *pflag.FlagSet) {
	e.clusterFlags.bind(fs)
	fs.BoolVar(&e.prune, "prune", false, "delete owned objects that are no longer declared (off by default)")
	fs.BoolVar(&e.force, "force-uninstall", false, "let uninstall propagation to remotes delete package policies that have no agents")
}

// connect loads the document in e.dir and connects a reconciler to its
// clusters: the main cluster only, or the main cluster and every remote.
func (e *engineFlags) connect(ctx context.Context, stderr io.Writer) (planApplier, *docInfo, error) {
	doc, err := loadConfig(ctx, e.dir)
	if err != nil {
		return nil, nil, loadError(e.dir, err)
	}
	r, _, err := connectEngine(ctx, doc, engineOptions{
		Instance: e.instance, StateIndex: e.stateIndex, Prune: e.prune, ForceUninstall: e.force, Logger: e.logger(stderr),
	})
	if err != nil {
		return nil, nil, err
	}
	return r, &docInfo{doc: doc, revision: dirRevision(e.dir)}, nil
}

// runPlan implements
// "fleetform plan -c DIR [--detailed-exitcode] [--format text|json|markdown|github] [-o FILE] [--prune]".
// It prints the plan; -o also saves it (JSON) for "fleetform apply FILE".
// Exit 0 on success; with --detailed-exitcode 0 means no changes and 2 changes.
// A plan with a blocked change (which apply would refuse) exits 1 in every
// format.
func setupPlan(fs *pflag.FlagSet) runFunc {
	var o planOptions
	o.engine.bind(fs)
	fs.BoolVar(&o.detailed, "detailed-exitcode", false, "exit 2 when the plan has changes, 0 when it has none (a blocked change always exits 1)")
	bindFormat(fs, &o.format, "output `format`: text, json, markdown or github (GitHub Actions annotations)")
	bindOut(fs, &o.outFile, "save the plan as JSON to `FILE` for a later apply")
	fs.BoolVar(&o.showUnmanaged, "show-unmanaged", false, "list the Fleet objects neither declared nor owned (the plan counts them either way; the JSON form always lists them)")
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return diagnose(ctx, o.engine.dir, runPlan(ctx, &o, args, stdout, stderr))
	}
}

// planOptions are plan's flags.
type planOptions struct {
	engine        engineFlags
	detailed      bool
	format        string
	outFile       string
	showUnmanaged bool
}

func runPlan(ctx context.Context, o *planOptions, rest []string, stdout, stderr io.Writer) error {
	e, detailed, format, outFile, showUnmanaged := &o.engine, &o.detailed, &o.format, &o.outFile, &o.showUnmanaged
	if len(rest) > 0 {
		return fmt.Errorf("unexpected argument %q", rest[0])
	}
	write, ok := planWriters[*format]
	if !ok {
		return fmt.Errorf("unknown --format %q (want text, json, markdown or github)", *format)
	}
	r, info, err := e.connect(ctx, stderr)
	if err != nil {
		return err
	}
	p, err := r.Plan(ctx, info.doc, info.revision)
	if err != nil {
		return err
	}
	if *showUnmanaged {
		p.ListUnmanaged()
	}
	if *outFile != "" {
		if err := savePlan(*outFile, p); err != nil {
			return err
		}
	}
	if err := write(stdout, p); err != nil {
		return err
	}
	if *outFile != "" && *format == "text" {
		fmt.Fprintf(stdout, "\nSaved the plan to %s. To apply exactly this plan: fleetform apply -c %s %s\n", *outFile, e.dir, *outFile)
	}
	if err := planRefused(p); err != nil {
		return err
	}
	if *detailed && !p.Empty() {
		return errChanges
	}
	return nil
}

// planRefused returns an error when apply would refuse part of p (a
// blocked change, a failed preflight check): such a plan fails with exit 1
// in every format, with or without --detailed-exitcode, after it is printed.
func planRefused(p *plan.Plan) error {
	n := p.Summary().Blocked
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%d change%s blocked, which apply would refuse (see the plan)", n, pickVerb(n))
}

func pickVerb(n int) string {
	if n == 1 {
		return " is"
	}
	return "s are"
}

var planWriters = map[string]func(io.Writer, *plan.Plan) error{
	"text": plan.WriteText, "json": plan.WriteJSON, "markdown": plan.WriteMarkdown, "github": plan.WriteGitHub,
}

// savePlan writes p as JSON to path, atomically.
func savePlan(path string, p *plan.Plan) error {
	var buf bytes.Buffer
	if err := plan.WriteJSON(&buf, p); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".plan-*")
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("save plan: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	return nil
}
