package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/schema"
)

type docInfo struct {
	doc      *schema.Document
	revision string
}

// runApply implements "fleetform apply -c DIR [--prune] [--wait] [FILE]". It
// applies the plan it computes now, or the saved plan FILE from "fleetform
// plan -o", which it refuses when Fleet or the configuration moved since. It
// prints the plan, then one line per change. Exit 0 when everything applied,
// else 1. With --wait (boot mode) it retries until Kibana and Elasticsearch
// answer, and exits 0 only once a fresh plan after the apply is empty.
func setupApply(fs *pflag.FlagSet) runFunc {
	var o applyOptions
	o.engine.bind(fs)
	fs.BoolVar(&o.autoApprove, "auto-approve", false, "apply without asking (apply asks only on a terminal; in CI, without a terminal, it never asks)")
	fs.BoolVar(&o.wait, "wait", false, "boot mode: retry until Kibana and Elasticsearch answer, apply, and exit 0 only when a fresh plan is empty")
	fs.DurationVar(&o.waitTimeout, "wait-timeout", 10*time.Minute, "with --wait: give up after this `duration`")
	fs.DurationVar(&o.engine.lockWait, "lock-timeout", 0, "how long to wait for the apply lock another apply or serve turn holds (default: fail at once, saying who holds it)")
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return diagnose(ctx, o.engine.dir, runApply(ctx, &o, args, stdout, stderr))
	}
}

// applyOptions are apply's flags.
type applyOptions struct {
	engine      engineFlags
	autoApprove bool
	wait        bool
	waitTimeout time.Duration
}

func runApply(ctx context.Context, o *applyOptions, rest []string, stdout, stderr io.Writer) error {
	e, wait, waitTimeout := &o.engine, &o.wait, &o.waitTimeout
	if len(rest) > 1 {
		return fmt.Errorf("at most one saved plan FILE, got %d arguments", len(rest))
	}
	var saved *plan.Plan
	if len(rest) == 1 {
		if *wait {
			return errors.New("--wait applies the current configuration; it does not take a saved plan FILE")
		}
		f, err := os.Open(rest[0])
		if err != nil {
			return err // names the file
		}
		saved, err = plan.ReadJSON(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", rest[0], err)
		}
	}
	if *wait {
		return applyWait(ctx, e, *waitTimeout, stdout, stderr)
	}
	_, _, err := applyOnce(ctx, e, saved, applyUI{interactive: terminal() && !o.autoApprove, colour: useColour(stdoutTerminal())}, stdout, stderr)
	return err
}

// applyOnce connects, applies (saved, or a fresh plan when nil) and prints
// the outcome. It shows the plan first; on a terminal (interactive) it asks
// before writing and then applies exactly the plan it showed. Without a
// terminal it never asks. Each change prints a line as it starts and ends.
func applyOnce(ctx context.Context, e *engineFlags, saved *plan.Plan, ui applyUI, stdout, stderr io.Writer) (planApplier, *docInfo, error) {
	r, info, err := e.connect(ctx, stderr)
	if err != nil {
		return nil, nil, err
	}
	lctx, unlock, err := lockApply(ctx, e, info.doc, stderr)
	if err != nil {
		return r, info, err
	}
	defer unlock()
	interactive, colour := ui.interactive, ui.colour
	shown := saved
	if shown == nil {
		if shown, err = r.Plan(lctx, info.doc, info.revision); err != nil {
			return r, info, err
		}
	}
	if !shown.Empty() {
		if err := writePlan(stdout, shown, colour); err != nil {
			return r, info, err
		}
		if interactive && saved == nil {
			if !approve(stdin, stdout) {
				fmt.Fprintln(stdout, "\nApply cancelled: nothing was changed.")
				return r, info, fmt.Errorf("%w: apply cancelled", errReported)
			}
			saved = shown // apply exactly what was approved
		}
		fmt.Fprintln(stdout)
	}
	prog := newProgress(stdout, colour)
	res, err := r.Apply(lctx, info.doc, saved, reconciler.ApplyOptions{Prune: e.prune, Revision: info.revision, Progress: prog.report})
	prog.finish(res.Outcomes)
	if errors.Is(err, reconciler.ErrStalePlan) || res.Plan == nil {
		if err == nil {
			err = errors.New("nothing was applied")
		}
		return r, info, fmt.Errorf("%w\nNothing was changed.", err)
	}
	if res.Plan.Empty() {
		fmt.Fprintln(stdout, "No changes. Fleet matches the configuration.")
	}
	c := res.Counts()
	verdict := "Apply complete"
	if err != nil || c[reconciler.StatusFailed] > 0 || c[reconciler.StatusSkipped] > 0 || c[reconciler.StatusBlocked] > 0 {
		verdict = "Apply failed"
	}
	fmt.Fprintf(stdout, "\n%s: %d applied, %d failed, %d skipped, %d blocked; %s written.\n",
		verdict, c[reconciler.StatusApplied], c[reconciler.StatusFailed], c[reconciler.StatusSkipped], c[reconciler.StatusBlocked],
		count(res.Recorded, "ownership record", "ownership records"))
	if err != nil {
		return r, info, err
	}
	return r, info, nil
}

// waitBackoff is the first pause of apply --wait between attempts; it
// doubles up to waitBackoffMax. Tests shorten them.
var (
	waitBackoff    = time.Second
	waitBackoffMax = 15 * time.Second
)

// errNotConverged says that a fresh plan after a successful apply still had
// changes (something else is writing, or Fleet is still settling).
var errNotConverged = errors.New("a fresh plan after apply still has changes")

// applyWait is boot mode: for an init container or a systemd ExecStartPre
// that must not let agents enroll before the outputs exist. It retries
// while the clusters are unavailable (connection errors, 429, 5xx) or the
// fresh plan is not yet empty, and gives up on any other error at once:
// a 400 or an invalid document will not heal by waiting.
func applyWait(ctx context.Context, e *engineFlags, timeout time.Duration, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pause := waitBackoff
	for attempt := 1; ; attempt++ {
		err := applyAndVerify(ctx, e, stdout, stderr)
		if err == nil {
			fmt.Fprintf(stdout, "Converged after %d attempt(s): a fresh plan is empty.\n", attempt)
			return nil
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("--wait: gave up after %s (%d attempts): %w", timeout, attempt, diagnose(context.WithoutCancel(ctx), e.dir, err))
		}
		if ctx.Err() != nil {
			return err // interrupted
		}
		if !errors.Is(err, errNotConverged) && !unavailable(err) {
			return err
		}
		fmt.Fprintf(stderr, "apply --wait: attempt %d: %v; retrying in %s\n", attempt, err, pause)
		select {
		case <-ctx.Done():
			return fmt.Errorf("--wait: gave up after %s (%d attempts): %w", timeout, attempt, diagnose(context.WithoutCancel(ctx), e.dir, err))
		case <-time.After(pause):
		}
		pause = min(2*pause, waitBackoffMax)
	}
}

// applyAndVerify applies once, then plans again: nil only when that plan is
// empty. A plan that still has blocked changes is final, not retried.
func applyAndVerify(ctx context.Context, e *engineFlags, stdout, stderr io.Writer) error {
	r, info, err := applyOnce(ctx, e, nil, applyUI{colour: useColour(stdoutTerminal())}, stdout, stderr)
	if err != nil {
		return err
	}
	p, err := r.Plan(ctx, info.doc, info.revision)
	if err != nil {
		return err
	}
	if p.Empty() {
		return nil
	}
	if s := p.Summary(); s.Blocked > 0 {
		return fmt.Errorf("apply --wait: %d change(s) are blocked and cannot converge (see the plan above)", s.Blocked)
	}
	return fmt.Errorf("%w (%s)", errNotConverged, p.Summary())
}

// unavailable reports whether err (or any error joined into it) says a
// cluster could not be reached or was not ready: a connection error, 429
// or a 5xx from Kibana or Elasticsearch.
func unavailable(err error) bool {
	if err == nil {
		return false
	}
	var kt *kibana.TransportError
	var et *elastic.TransportError
	if errors.As(err, &kt) || errors.As(err, &et) {
		return true
	}
	for _, st := range []int{kibana.StatusCode(err), elastic.StatusCode(err)} {
		if st == http.StatusTooManyRequests || st >= 500 {
			return true
		}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			if unavailable(e) {
				return true
			}
		}
	}
	return false
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
