package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/fleetform/fleetform/remote"
)

// runRotate implements "fleetform rotate -c DIR [--timeout 2m] OUTPUT_ID":
// for each generated credential of the output (service token, Kibana API
// key) it mints a new one, checks it authenticates, swaps it into the
// output, waits until the output reports healthy (or the timeout), then
// revokes the old one. The old credential is revoked only when the output
// reports healthy or no agent uses it; otherwise both stay valid, rotate
// says what to check and exits 1 (a later rotate or apply revokes it once
// the output is healthy). An interrupted rotation is finished or rolled
// back first. Exit 0 when every credential rotated.
func setupRotate(fs *pflag.FlagSet) runFunc {
	var f clusterFlags
	f.bind(fs)
	timeout := fs.Duration("timeout", 2*time.Minute, "how long to wait for the output to report healthy before revoking the old credential (0: ask once); the old one is kept while the output is unhealthy and agents use it")
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return diagnose(ctx, f.dir, runRotate(ctx, &f, timeout, args, stdout, stderr))
	}
}

func runRotate(ctx context.Context, f *clusterFlags, timeout *time.Duration, rest []string, stdout, stderr io.Writer) error {
	if len(rest) != 1 {
		return fmt.Errorf("needs exactly one OUTPUT_ID (usage: fleetform rotate -c DIR OUTPUT_ID)")
	}
	doc, err := loadConfig(ctx, f.dir)
	if err != nil {
		return loadError(f.dir, err)
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
	stop := stillRunning(stderr, "rotating the credentials of output "+rest[0])
	results, err := tc.Engine.Rotate(ctx, doc, rest[0])
	stop()
	for _, r := range results {
		if r.Resumed != remote.PhaseIdle {
			verb := "finished"
			if r.RolledBack {
				verb = "rolled back"
			}
			fmt.Fprintf(stdout, "%s of output %s: %s a rotation interrupted in phase %s\n", r.Kind, r.Output, verb, r.Resumed)
		}
		if r.Kept != "" {
			fmt.Fprintf(stdout, "%s of output %s on %s: %s in use, %s kept: the output did not report healthy%s and %d agents use it\n",
				r.Kind, r.Output, r.Remote, r.Current, r.Kept, within(*timeout), r.Agents)
			fmt.Fprintf(stderr, "%s of output %s: both credentials stay valid. Check:\n"+
				"  - the output's health in Fleet (Fleet > Settings > Outputs, or GET /api/fleet/outputs/%s/health on the main Kibana);\n"+
				"  - the Elastic Agent logs of the %d agents for errors sending to %s's hosts;\n"+
				"  - that %s reaches the remote cluster %s (its Elasticsearch answers _security/_authenticate with it).\n"+
				"Once the output reports healthy, run fleetform rotate %s again (or apply) to revoke %s.\n",
				r.Kind, r.Output, r.Output, r.Agents, r.Output, r.Current, r.Remote, r.Output, r.Kept)
			continue
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
			line += fmt.Sprintf(" (the output did not report healthy within %s and no agent uses it)", *timeout)
		default:
			line += " (output healthy)"
		}
		fmt.Fprintln(stdout, line)
	}
	return err
}

// within says how long rotate waited for the output's health.
func within(timeout time.Duration) string {
	if timeout <= 0 {
		return ""
	}
	return " within " + timeout.String()
}
