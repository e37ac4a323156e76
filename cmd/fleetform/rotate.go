package main

import (
	"context"
	"errors"
	"io"
)

// runRotate implements "fleetform rotate". Placeholder until its owner lands it.
func runRotate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("rotate: not built yet")
}
