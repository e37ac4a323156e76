package main

import (
	"context"
	"errors"
	"io"
)

// runApply implements "fleetform apply". Placeholder until its owner lands it.
func runApply(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("apply: not built yet")
}
