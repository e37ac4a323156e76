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
	fmt.Fprintf(stdout, "resumed: the next turn applies (%s)\n", file)
	return nil
}
