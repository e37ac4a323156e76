package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/fleetform/fleetform/daemon"
)

// runSuspend implements "fleetform suspend --suspend-file F [REASON…]": the
// daemon reading F keeps planning and reporting drift but applies nothing.
func runSuspend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var file string
	fs := newFlagSet("suspend", "[REASON…]", stderr)
	fs.StringVar(&file, "suspend-file", "", "the daemon's --suspend-file")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
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
func runResume(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var file string
	fs := newFlagSet("resume", "", stderr)
	fs.StringVar(&file, "suspend-file", "", "the daemon's --suspend-file")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
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
