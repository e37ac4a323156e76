package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/fleetform/fleetform/daemon"
)

// runSuspend implements "fleetform suspend --suspend-file F [REASON…]": the
// daemon reading F keeps planning and reporting drift but applies nothing.
func setupSuspend(fs *pflag.FlagSet) runFunc {
	var file string
	fs.StringVar(&file, "suspend-file", "", "the daemon's --suspend-file")
	return func(ctx context.Context, rest []string, stdout, stderr io.Writer) error {
		return runSuspend(file, rest, stdout, stderr)
	}
}

func runSuspend(file string, rest []string, stdout, stderr io.Writer) error {
	reason := strings.Join(rest, " ")
	if reason == "" {
		reason = "no reason given"
	}
	if err := daemon.Suspend(file, reason); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "suspended: applying stops from the next turn (%s)\n", file)
	warnUnwatched(stderr, file)
	return nil
}

// runResume implements "fleetform resume --suspend-file F".
func setupResume(fs *pflag.FlagSet) runFunc {
	var file string
	fs.StringVar(&file, "suspend-file", "", "the daemon's --suspend-file")
	return func(ctx context.Context, rest []string, stdout, stderr io.Writer) error {
		if len(rest) > 0 {
			return fmt.Errorf("unexpected argument %q", rest[0])
		}
		return runResume(file, stdout, stderr)
	}
}

func runResume(file string, stdout, stderr io.Writer) error {
	if err := daemon.Resume(file); err != nil {
		return err
	}
	if daemon.Watched(file) {
		fmt.Fprintf(stdout, "resumed: the daemon starts a turn within %s (%s)\n", daemon.SuspendPoll, file)
		return nil
	}
	fmt.Fprintf(stdout, "resumed (%s)\n", file)
	warnUnwatched(stderr, file)
	return nil
}

// warnUnwatched says so when no running daemon watches the suspend file
// (a wrong path, or the daemon is down): the command changed only a file.
func warnUnwatched(stderr io.Writer, file string) {
	if !daemon.Watched(file) {
		fmt.Fprintf(stderr, "warning: no running daemon is watching %s (no fresh %s): this takes effect only when a daemon runs with --suspend-file %s\n",
			file, daemon.WatchMarker(file), file)
	}
}
