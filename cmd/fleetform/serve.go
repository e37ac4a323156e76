package main

import (
	"context"
	"errors"
	"io"
)

// runServe implements "fleetform serve". Placeholder until its owner lands it.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("serve: not built yet")
}
