package reconciler

import (
	"context"

	"github.com/fleetform/fleetform/plan"
)

// Progress statuses: a change starts (StatusStarted), then ends with one of
// the outcome statuses (applied, failed, skipped, blocked).
const StatusStarted = "started"

// ProgressFunc is told when a change starts and when it ends, as it
// happens (fleetform apply prints a line for each). It is called from the
// goroutines that run independent changes concurrently, so it must be safe
// for concurrent use; err is set when the change failed, was skipped or was
// blocked.
type ProgressFunc func(ch plan.Change, status string, err error)

type progressKey struct{}

// withProgress carries fn (nil: no reports) to execute through ctx, so an
// engine wrapping this one (remote.TwoCluster) passes it on unchanged.
func withProgress(ctx context.Context, fn ProgressFunc) context.Context {
	if fn == nil {
		return ctx
	}
	return context.WithValue(ctx, progressKey{}, fn)
}

// reportProgress tells the ProgressFunc of ctx, if any.
func reportProgress(ctx context.Context, ch plan.Change, status string, err error) {
	if fn, ok := ctx.Value(progressKey{}).(ProgressFunc); ok {
		fn(ch, status, err)
	}
}
