package main

import "errors"

// Errors with a meaning for the exit code. Commands return them (possibly
// wrapped); run and main act on them.
var (
	// errChanges means a plan has changes (plan --detailed-exitcode): exit 2,
	// and run prints nothing more.
	errChanges = errors.New("plan has changes")

	// errReported marks an error whose details the command already printed
	// (validation issues, flag errors): exit 1, and run prints nothing more.
	errReported = errors.New("reported")
)

// exitCode maps run's result to the process exit code: nil → 0, a plan with
// changes → 2, anything else (a plan with blocked changes among it) → 1.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errChanges):
		return 2
	}
	return 1
}
