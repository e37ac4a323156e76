package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing/fstest"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Dir is a Source over a local directory: a Kubernetes ConfigMap mount or a
// working copy during development. Its revision is the digest of the YAML
// files it holds. Entries whose names start with "." are skipped, which hides
// a ConfigMap's "..data" indirection (its files are read through the
// top-level symlinks instead).
type Dir struct {
	path     string
	maxBytes int64
	debounce time.Duration
	log      *slog.Logger
}

// DirOption configures a Dir.
type DirOption func(*Dir)

// WithDebounce sets how long Watch waits for a burst of file events to settle
// before reporting a change (default 250ms: an editor save is several events).
func WithDebounce(d time.Duration) DirOption { return func(s *Dir) { s.debounce = d } }

// WithDirMaxBytes caps the total size of a snapshot (default DefaultMaxBytes).
func WithDirMaxBytes(n int64) DirOption { return func(s *Dir) { s.maxBytes = n } }

// WithDirLogger sets the logger for watch events.
func WithDirLogger(l *slog.Logger) DirOption { return func(s *Dir) { s.log = l } }

// NewDir returns a Source reading path.
func NewDir(path string, opts ...DirOption) *Dir {
	d := &Dir{path: path, maxBytes: DefaultMaxBytes, debounce: 250 * time.Millisecond, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(d)
	}
	return d
}

// String describes the source for status pages.
func (d *Dir) String() string { return "dir " + d.path }

// Head reads the directory and returns its digest.
func (d *Dir) Head(ctx context.Context) (string, error) {
	snap, err := d.Fetch(ctx, "")
	return snap.Revision, err
}

// Fetch reads every YAML file under the directory into memory. rev is
// ignored: a directory has no history, so the snapshot is of what is there
// now and carries its own digest.
//
// A snapshot is never a mix of two states. A ConfigMap mount is read from
// the immutable directory its "..data" link points at, resolved once; any
// other directory is read until two reads in a row agree (an editor saving
// in the middle of a read causes another one), at most five times.
func (d *Dir) Fetch(ctx context.Context, _ string) (Snapshot, error) {
	if target, err := filepath.EvalSymlinks(filepath.Join(d.path, "..data")); err == nil {
		return d.read(ctx, target)
	}
	prev, err := d.read(ctx, d.path)
	for range 4 {
		if err != nil {
			return Snapshot{}, err
		}
		var next Snapshot
		if next, err = d.read(ctx, d.path); err == nil && next.Revision == prev.Revision {
			return next, nil
		}
		prev = next
	}
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{}, fmt.Errorf("read directory %s: still changing after 5 reads", d.path)
}

func (d *Dir) read(ctx context.Context, dir string) (Snapshot, error) {
	files := fstest.MapFS{}
	var total int64
	// os.Root, unlike os.DirFS, refuses symlinks that resolve outside dir:
	// a link such as leak.yaml -> ~/.ssh/id_rsa in a working copy must not
	// pull a file from elsewhere into the snapshot (or its parse errors onto
	// /status). Links inside dir, as a ConfigMap mount has, still work.
	r, err := os.OpenRoot(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return Snapshot{}, fmt.Errorf("read directory %s: %w", d.path, err)
	}
	defer r.Close()
	root := r.FS()
	err = fs.WalkDir(root, ".", func(name string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if name != "." && strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if e.IsDir() || !isDocument(name) {
			return nil
		}
		info, err := fs.Stat(root, name) // follows a ConfigMap's symlinks
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		// Check the size before reading, so a huge file is refused without
		// being loaded; the read is capped too, in case it grows meanwhile.
		if total+info.Size() > d.maxBytes {
			return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, d.maxBytes)
		}
		f, err := root.Open(name)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(f, d.maxBytes-total+1))
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if total += int64(len(data)); total > d.maxBytes {
			return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, d.maxBytes)
		}
		files[name] = &fstest.MapFile{Data: data, Mode: 0o444}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if err != nil {
		return Snapshot{}, fmt.Errorf("read directory %s: %w", d.path, err)
	}
	return Snapshot{Revision: digest(files), FS: files, Root: "."}, nil
}

// Watch calls changed after a settled burst of file-system events under the
// directory (new sub-directories are watched as they appear) that changed
// what Fetch reads: a burst that leaves the YAML files as they were (a log
// file written inside the directory, an editor's swap file, a touch) is not
// reported, or every log line of a serve writing its log there would start
// another reconcile. Symlinked files are compared by their content, so a
// .yaml link whose target changes is reported. The first settled burst is
// always reported, and so is one after which the directory cannot be read
// (the reader then meets the error). It returns when ctx is done, or with
// an error if the watcher cannot start.
func (d *Dir) Watch(ctx context.Context, changed func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", d.path, err)
	}
	defer w.Close()
	if err := d.addTree(w, d.path); err != nil {
		return fmt.Errorf("watch %s: %w", d.path, err)
	}
	var (
		timer  *time.Timer
		settle <-chan time.Time
		last   string // the digest last reported; "" before the first
	)
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() && !strings.HasPrefix(filepath.Base(ev.Name), ".") {
					if err := d.addTree(w, ev.Name); err != nil {
						d.log.Warn("watch new directory", "path", ev.Name, "err", err)
					}
				}
			}
			if timer == nil {
				timer = time.NewTimer(d.debounce)
			} else {
				timer.Reset(d.debounce)
			}
			settle = timer.C
		case <-settle:
			settle = nil
			rev, err := d.Head(ctx)
			if err == nil && rev != "" && rev == last {
				d.log.Debug("file events left the documents as they were", "path", d.path)
				continue
			}
			if err != nil {
				rev = ""
			}
			last = rev
			changed()
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			d.log.Warn("watch error", "path", d.path, "err", err)
		}
	}
}

func (d *Dir) addTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			return nil
		}
		if p != dir && strings.HasPrefix(e.Name(), ".") {
			return fs.SkipDir
		}
		return w.Add(p)
	})
}
