package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
