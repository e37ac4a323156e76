package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/lease"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/state"
)

// lockHolder names this process in the apply lock: whoever waits for the
// lock reads it in the error.
func lockHolder() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s pid %d", host, os.Getpid())
}

// takeApplyLock takes instance's apply lock in the main cluster's
// Elasticsearch (es), waiting up to wait for another writer. It returns the
// context to apply under (cancelled if the lock is lost) and the release.
func takeApplyLock(ctx context.Context, es *elastic.Client, instance, command string, wait time.Duration, log *slog.Logger) (context.Context, func(), error) {
	l, lctx, err := lease.AcquireLock(ctx, lease.ElasticStore{Client: es}, lease.LockConfig{
		Name: lease.LockName(instance), Holder: lockHolder(), Operation: "fleetform " + command, Wait: wait, Logger: log,
	})
	if err != nil {
		return nil, nil, err
	}
	release := func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := l.Release(rctx); err != nil && log != nil {
			log.Warn("apply lock not released; the next apply takes it over after its TTL", "err", err)
		}
	}
	return lctx, release, nil
}

// lockApply takes the apply lock of `fleetform apply` (see takeApplyLock)
// with a client of its own for doc's main Elasticsearch.
func lockApply(ctx context.Context, e *engineFlags, doc *schema.Document, stderr io.Writer) (context.Context, func(), error) {
	es, err := elastic.NewFromEndpoint(ctx, doc.Clusters.Main.Elasticsearch)
	if err != nil {
		return nil, nil, fmt.Errorf("apply lock: %w", err)
	}
	return takeApplyLock(ctx, es, lockInstance(doc, e.instance), "apply", e.lockWait, e.logger(stderr))
}

// lockInstance is the instance whose apply lock a repository takes: the
// instance it records ownership as (default@SPACE for a space's repository,
// reconciler.InstanceFor), so repositories of different spaces never wait
// on each other.
func lockInstance(doc *schema.Document, instance string) string {
	return reconciler.InstanceFor(doc, cmp.Or(instance, state.DefaultInstance))
}
