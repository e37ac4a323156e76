package main

import (
	"context"
	"errors"
	"io"
)

// runStatus implements "fleetform status". Placeholder until its owner lands it.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("status: not built yet")
}
