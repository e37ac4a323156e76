package source

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

// fetchKept fetches the tracked reference into the kept repository (made
// on first use) and reads rev from it. Only objects the repository lacks
// cross the wire. When the kept objects outgrow MaxRepoBytes the repository
// is dropped and fetched afresh at the given depth; if even that is too
// large, the fetch fails with ErrTooLarge and nothing is kept.
func (g *Git) fetchKept(ctx context.Context, rev string, auth transport.AuthMethod, ca []byte, depth int) (Snapshot, bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ref, err := g.trackedBranchOrTag(ctx)
	if err != nil {
		return Snapshot{}, false, err
	}
	for fresh := g.repo == nil; ; fresh = true {
		if fresh {
			if err := g.initKept(); err != nil {
				return Snapshot{}, false, err
			}
		}
		local := plumbing.ReferenceName("refs/remotes/origin/" + ref.Short())
		if ref.IsTag() {
			local = ref
		}
		// Into a kept repository, fetch without a depth: the server then
		// sends the commits between the new tip and the one we have, with
		// only their new objects (a depth would make it send the whole tip
		// tree again). A rewritten history that brings too much is caught
		// by the bound below and fetched afresh at the configured depth.
		d := depth
		if !fresh {
			d = 0
		}
		err := g.repo.FetchContext(ctx, &git.FetchOptions{
			RemoteName: "origin",
			RefSpecs:   []config.RefSpec{config.RefSpec("+" + ref.String() + ":" + local.String())},
			Depth:      d,
			Auth:       auth,
			CABundle:   ca,
			Tags:       git.NoTags,
			Force:      true,
		})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			g.repo, g.st = nil, nil // a failed fetch may leave the repository half-updated
			if !fresh && ctx.Err() == nil && !errors.Is(g.classify("fetch", err), ErrAuth) {
				continue // try once more from scratch
			}
			return Snapshot{}, false, g.classify("fetch", err)
		}
		if size := g.keptBytes(); size > g.cfg.MaxRepoBytes {
			g.repo, g.st = nil, nil
			if !fresh {
				continue // drop the history gathered so far, fetch only the tip
			}
			return Snapshot{}, false, fmt.Errorf("git fetch %s: %w: the repository needs %d bytes in memory at depth %d, more than the bound of %d bytes (GitConfig.MaxRepoBytes)",
				redactURL(g.cfg.URL), ErrTooLarge, size, depth, g.cfg.MaxRepoBytes)
		}
		tip, err := g.repo.Reference(local, true)
		if err != nil {
			return Snapshot{}, false, fmt.Errorf("git fetch %s: %w: reference %s: %w", redactURL(g.cfg.URL), ErrNotFound, ref, err)
		}
		h := tip.Hash()
		if tag, err := g.repo.TagObject(h); err == nil { // an annotated tag: its commit
			if c, err := tag.Commit(); err == nil {
				h = c.Hash
			}
		}
		if err := g.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.HEAD, h)); err != nil {
			return Snapshot{}, false, err
		}
		return g.snapshot(ctx, g.repo, rev, depth)
	}
}

// initKept makes an empty in-memory repository with the remote as origin.
func (g *Git) initKept() error {
	st := memory.NewStorage()
	repo, err := git.Init(st, nil)
	if err != nil {
		return fmt.Errorf("git: init: %w", err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{g.cfg.URL}}); err != nil {
		return fmt.Errorf("git: remote: %w", err)
	}
	g.repo, g.st = repo, st
	return nil
}

// keptBytes is the size of the objects the kept repository holds.
func (g *Git) keptBytes() int64 {
	var n int64
	for _, o := range g.st.ObjectStorage.Objects {
		n += o.Size()
	}
	return n
}

// trackedBranchOrTag is the full name of the reference to fetch: the
// configured branch or tag, or the branch the remote's HEAD points to.
func (g *Git) trackedBranchOrTag(ctx context.Context) (plumbing.ReferenceName, error) {
	if ref := g.Ref(); ref != "" {
		return plumbing.ReferenceName(ref), nil
	}
	r, _, err := g.lsRemote(ctx)
	if err != nil {
		return "", err
	}
	if name := r.Name(); name.IsBranch() || name.IsTag() {
		return name, nil
	}
	return "", fmt.Errorf("git fetch %s: %w: the remote's HEAD names no branch", redactURL(g.cfg.URL), ErrNotFound)
}
