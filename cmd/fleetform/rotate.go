package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/fleetform/fleetform/remote"
)

// runRotate implements "fleetform rotate -c DIR [--timeout 2m] OUTPUT_ID":
// for each generated credential of the output (service token, Kibana API
// key) it mints a new one, checks it authenticates, swaps it into the
// output, waits until the output reports healthy (or the timeout), then
// revokes the old one. An interrupted rotation is finished or rolled back
// first. Exit 0 when every credential rotated.
func runRotate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rotate", "OUTPUT_ID", stderr)
	var f clusterFlags
	f.bind(fs)
	timeout := fs.Duration("timeout", 2*time.Minute, "how long to wait for the output to report healthy before revoking the old credential (0: do not wait)")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fs.Usage()
		return fmt.Errorf("%w: rotate needs exactly one OUTPUT_ID", errReported)
	}
	doc, err := loadConfig(ctx, f.dir)
	if err != nil {
		return fmt.Errorf("load %s: %w", f.dir, err)
	}
	wait := *timeout
	if wait == 0 {
		wait = -1 // the engine's "do not wait"
	}
	tc, err := remote.Connect(ctx, doc, remote.ConnectOptions{Instance: f.instance, StateIndex: f.stateIndex,
		HealthTimeout: wait, Logger: f.logger(stderr)})
	if err != nil {
		return err
	}
	if *timeout > 0 {
		fmt.Fprintf(stderr, "rotating the credentials of output %s: for each, mint, swap, wait up to %s for the output to report healthy, revoke the old one\n", rest[0], *timeout)
	}
	results, err := tc.Engine.Rotate(ctx, doc, rest[0])
	for _, r := range results {
		if r.Resumed != remote.PhaseIdle {
			verb := "finished"
			if r.RolledBack {
				verb = "rolled back"
			}
			fmt.Fprintf(stdout, "%s of output %s: %s a rotation interrupted in phase %s\n", r.Kind, r.Output, verb, r.Resumed)
		}
		if !r.Rotated {
			continue
		}
		line := fmt.Sprintf("%s of output %s on %s: %s in use", r.Kind, r.Output, r.Remote, r.Current)
		if r.Revoked != "" {
			line += ", " + r.Revoked + " revoked"
		}
		switch {
		case *timeout <= 0:
		case r.HealthTimeout:
			line += fmt.Sprintf(" (the output did not report healthy within %s; the new credential authenticated before the swap)", *timeout)
		default:
			line += " (output healthy)"
		}
		fmt.Fprintln(stdout, line)
	}
	return err
}
