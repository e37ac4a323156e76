package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Suspend creates the suspend flag file: from the next turn on, the daemon
// plans and reports drift but applies nothing. reason is written into the
// file for whoever looks.
func Suspend(path, reason string) error {
	if path == "" {
		return errors.New("suspend: no suspend file configured (--suspend-file)")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("suspend: %w", err)
	}
	body := fmt.Sprintf("suspended at %s: %s\n", time.Now().UTC().Format(time.RFC3339), reason)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		return fmt.Errorf("suspend: %w", err)
	}
	return nil
}

// Resume removes the suspend flag file. Resuming a daemon that is not
// suspended is not an error.
func Resume(path string) error {
	if path == "" {
		return errors.New("resume: no suspend file configured (--suspend-file)")
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("resume: %w", err)
	}
	return nil
}

// A running daemon with a suspend file keeps a marker beside it (the
// file's name + ".watched", holding the daemon's pid), touched every
// SuspendPoll, so that suspend and resume can tell whether anyone watches
// the file; it removes the marker when it stops.

// SuspendPoll is how often the daemon looks at its suspend file: a resume
// (the file removed) starts a turn within it.
var SuspendPoll = time.Second

// watchedFresh is how old the marker may be for the file to count as watched.
func watchedFresh() time.Duration { return 5 * SuspendPoll }

// WatchMarker is the marker's path for a suspend file.
func WatchMarker(path string) string { return path + ".watched" }

// Watched reports whether a daemon is watching the suspend file at path:
// its marker was touched within the last few polls.
func Watched(path string) bool {
	fi, err := os.Stat(WatchMarker(path))
	return err == nil && time.Since(fi.ModTime()) < watchedFresh()
}

// watchSuspend touches the marker and starts a turn when the suspend file
// disappears (resume), until ctx ends; then it removes the marker.
func (l *Loop) watchSuspend(ctx context.Context) {
	path := l.cfg.SuspendFile
	marker := WatchMarker(path)
	defer os.Remove(marker)
	was, warned := l.suspended(), false
	t := time.NewTicker(SuspendPoll)
	defer t.Stop()
	for {
		if err := os.WriteFile(marker, fmt.Appendf(nil, "pid %d\n", os.Getpid()), 0o644); err != nil && !warned {
			warned = true
			l.log.Warn("cannot mark the suspend file as watched; suspend and resume will say no daemon watches it", "file", marker, "err", err)
		}
		now := l.suspended()
		if was && !now {
			l.log.Info("resumed: suspend file removed; starting a turn", "file", path)
			l.Trigger("resume")
		}
		was = now
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// suspendReason is what the suspend file says (fleetform suspend writes
// "suspended at <time>: <reason>"), on one line and bounded; "" when it
// cannot be read.
func suspendReason(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b := make([]byte, 1024)
	n, _ := io.ReadFull(f, b)
	return firstLine(strings.TrimSpace(string(b[:n])), 300)
}
