package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/schema"
)

type docInfo struct {
	doc      *schema.Document
	revision string
}

// runApply implements "fleetform apply -c DIR [--prune] [FILE]". It applies
// the plan it computes now, or the saved plan FILE from "fleetform plan -o",
// which it refuses when Fleet or the configuration moved since. It prints the
// plan, then one line per change. Exit 0 when everything applied, else 1.
func runApply(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("apply", "[FILE]", stderr)
	var e engineFlags
	e.bind(fs)
	fs.Bool("auto-approve", true, "accepted for Terraform habits; apply never asks")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return fmt.Errorf("apply: at most one saved plan FILE, got %d arguments", len(rest))
	}
	var saved *plan.Plan
	if len(rest) == 1 {
		f, err := os.Open(rest[0])
		if err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		saved, err = plan.ReadJSON(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("apply %s: %w", rest[0], err)
		}
	}
	r, info, err := e.connect(ctx, stderr)
	if err != nil {
		return err
	}
	res, err := r.Apply(ctx, info.doc, saved, reconciler.ApplyOptions{Prune: e.prune, Revision: info.revision})
	if errors.Is(err, reconciler.ErrStalePlan) || res.Plan == nil {
		return err
	}
	if res.Plan.Empty() {
		fmt.Fprintln(stdout, "No changes. Fleet matches the configuration.")
	} else {
		if werr := plan.WriteText(stdout, res.Plan); werr != nil {
			return werr
		}
		fmt.Fprintln(stdout)
		for _, o := range res.Outcomes {
			line := fmt.Sprintf("%s %s %q: %s", o.Change.Action, o.Change.Kind, o.Change.ID, o.Status)
			if o.Err != nil && o.Status != reconciler.StatusApplied {
				line += ": " + o.Err.Error()
			}
			fmt.Fprintln(stdout, line)
		}
	}
	c := res.Counts()
	fmt.Fprintf(stdout, "\nApply complete: %d applied, %d failed, %d skipped, %d blocked; %d ownership records written.\n",
		c[reconciler.StatusApplied], c[reconciler.StatusFailed], c[reconciler.StatusSkipped], c[reconciler.StatusBlocked], res.Recorded)
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	return nil
}

// dirRevision is a digest of the YAML files under dir (their paths and
// contents), the revision recorded for a directory source. Unreadable
// files are left to the loader to report.
func dirRevision(dir string) string {
	h := sha256.New()
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(h, "%s\x00%d\x00", rel, len(b))
		h.Write(b)
	}
	return "dir:" + hex.EncodeToString(h.Sum(nil))[:12]
}
