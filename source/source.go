// Package source hands fleetform's reconcile loop immutable snapshots of the
// desired-state repository. A Source answers two questions: what is the
// newest revision (Head, cheap: an ls-remote or a directory digest), and what
// does that revision contain (Fetch, expensive: a shallow clone read fully
// into memory). A Snapshot is complete or absent, never half-read, and nothing
// changes it after Fetch returns.
//
// Three implementations: Git (go-git, HTTPS or SSH), Dir (a local directory,
// optionally watched with fsnotify) and Static (a fixed fs.FS, for tests).
package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing/fstest"
)

// Snapshot is one immutable revision of the desired state.
type Snapshot struct {
	// Revision is the commit SHA for Git and a content digest ("sha256:…")
	// for a directory.
	Revision string
	// FS is read-only and fully in memory; paths are repository-relative.
	FS fs.FS
	// Root is the directory inside FS that holds the documents ("." for the
	// whole tree); pass it to schema.Load.
	Root string
}

// Source is where the desired state comes from.
type Source interface {
	// Head returns the newest revision without reading its content.
	Head(ctx context.Context) (string, error)
	// Fetch returns the snapshot of rev. Implementations that cannot address
	// an arbitrary revision return the newest one and say so in
	// Snapshot.Revision; callers must use Snapshot.Revision, not rev.
	Fetch(ctx context.Context, rev string) (Snapshot, error)
}

// Notifier is implemented by sources that can tell when they changed without
// being polled (a watched directory). Watch blocks until ctx is done, calling
// changed after each settled burst of changes.
type Notifier interface {
	Watch(ctx context.Context, changed func()) error
}

// Errors a Source wraps so callers can classify failures with errors.Is.
var (
	// ErrUnreachable: the remote could not be contacted (DNS, refused, TLS, timeout).
	ErrUnreachable = errors.New("source unreachable")
	// ErrAuth: the remote refused the credentials, or wanted some.
	ErrAuth = errors.New("source authentication failed")
	// ErrNotFound: the repository, branch, tag, commit or sub-path does not exist.
	ErrNotFound = errors.New("source revision not found")
	// ErrTooLarge: the snapshot exceeds the configured size limit.
	ErrTooLarge = errors.New("source snapshot too large")
)

// DefaultMaxBytes caps the total size of the files a snapshot keeps in memory.
const DefaultMaxBytes = 64 << 20

// isDocument reports whether name is a file schema.Load reads.
func isDocument(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// digest returns the content digest of files: sha256 over sorted
// (path, length, content) triples, so a rename or a move changes it too.
func digest(files fstest.MapFS) string {
	names := make([]string, 0, len(files))
	for name, f := range files {
		if f.Mode.IsDir() {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	h := sha256.New()
	var n [8]byte
	for _, name := range names {
		data := files[name].Data
		h.Write([]byte(name))
		h.Write([]byte{0})
		for i, l := 0, uint64(len(data)); i < 8; i++ {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write(data)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// cleanRoot turns a user-supplied sub-path into an fs.FS path ("." for none).
func cleanRoot(p string) (string, error) {
	p = strings.Trim(path.Clean("/"+strings.TrimSpace(p)), "/")
	if p == "" {
		return ".", nil
	}
	if !fs.ValidPath(p) {
		return "", errors.New("invalid sub-path " + p)
	}
	return p, nil
}

// under reports whether name is root or inside it.
func under(root, name string) bool {
	return root == "." || name == root || strings.HasPrefix(name, root+"/")
}
