package source

import (
	"context"
	"fmt"
	"io/fs"
	"sync"
	"testing/fstest"
)

// Static is a Source over an in-memory file tree, for tests and for callers
// that already hold the documents. Set replaces the tree; snapshots handed out
// earlier keep the tree they were given.
type Static struct {
	mu    sync.Mutex
	files fstest.MapFS
	rev   string
	root  string
	err   error
}

// NewStatic returns a Static source serving a copy of files under root
// ("" or "." for all of it). Its revision is the content digest.
func NewStatic(files fstest.MapFS, root string) *Static {
	s := &Static{}
	s.Set(files, root)
	return s
}

// Set replaces the served tree (copied) and recomputes the revision.
func (s *Static) Set(files fstest.MapFS, root string) {
	c := make(fstest.MapFS, len(files))
	for k, v := range files {
		f := *v
		f.Data = append([]byte(nil), v.Data...)
		c[k] = &f
	}
	if root == "" {
		root = "."
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files, s.rev, s.root = c, digest(c), root
}

// Fail makes Head and Fetch return err until it is called again with nil.
func (s *Static) Fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// Head returns the digest of the current tree.
func (s *Static) Head(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", s.err
	}
	return s.rev, nil
}

// Fetch returns the current tree. It fails with ErrNotFound when rev is set
// and is not the current revision: a static source keeps no history.
func (s *Static) Fetch(ctx context.Context, rev string) (Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return Snapshot{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return Snapshot{}, s.err
	}
	if rev != "" && rev != s.rev {
		return Snapshot{}, fmt.Errorf("static source: revision %s: %w", rev, ErrNotFound)
	}
	return Snapshot{Revision: s.rev, FS: fs.FS(s.files), Root: s.root}, nil
}
