package main

import (
	"context"
	"errors"
	"io"
)

// runRender implements "fleetform render". Placeholder until its owner lands it.
func runRender(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("render: not built yet")
}
