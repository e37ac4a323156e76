package main

import (
	"context"
	"errors"
	"io"
)

// runPlan implements "fleetform plan". Placeholder until its owner lands it.
func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("plan: not built yet")
}
