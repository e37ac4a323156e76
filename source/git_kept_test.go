package source_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/source"
	"github.com/fleetform/fleetform/source/gittest"
)

// randomText is n bytes that do not compress (hex of random bytes).
func randomText(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Issue 10 #10: every change was a fresh clone. The source keeps its
// repository between fetches: a poll of an unchanged repository is one
// ls-remote (no fetch), and a change fetches only the objects it added —
// not the large file elsewhere in the repository again.
func TestGitChangeFetchesOnlyNewObjects(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.Commit("main", "v1", map[string]string{"assets/big.txt": randomText(400 << 10), "fleet/outputs.yaml": "# v1\n"})
	url := repo.ServeHTTP("u", "pw")
	t.Setenv("FLEETFORM_TEST_GIT_PW", "pw")
	g := newGit(t, source.GitConfig{URL: url, Branch: "main", Path: "fleet", Username: "u", Password: &schema.SecretRef{Env: "FLEETFORM_TEST_GIT_PW"}})
	ctx := context.Background()
	if _, err := g.Fetch(ctx, ""); err != nil {
		t.Fatal(err)
	}
	first := repo.HTTPBytes()
	if first < 150<<10 {
		t.Fatalf("first fetch got %d bytes, want the whole repository (≥ 150 KiB compressed)", first)
	}

	reqs := repo.HTTPRequests()
	if _, err := g.Head(ctx); err != nil {
		t.Fatal(err)
	}
	if n := repo.HTTPRequests() - reqs; n != 1 {
		t.Errorf("a poll of an unchanged repository made %d requests, want 1 (ls-remote)", n)
	}

	v2 := repo.Commit("main", "v2", map[string]string{"fleet/outputs.yaml": "# v2\n"})
	before := repo.HTTPBytes()
	snap, err := g.Fetch(ctx, v2)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Revision != v2 || readAll(t, snap)["fleet/outputs.yaml"] != "# v2\n" {
		t.Fatalf("snapshot %s = %v, want v2", snap.Revision, readAll(t, snap))
	}
	if got := repo.HTTPBytes() - before; got > 32<<10 {
		t.Errorf("a one-file change fetched %d bytes, want only its new objects (< 32 KiB; the repository is %d)", got, first)
	}
}

// The kept repository is bounded: a tip larger than MaxRepoBytes is a clear
// ErrTooLarge, not unbounded memory.
func TestGitKeptRepositoryIsBounded(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.Commit("main", "v1", map[string]string{"assets/big.txt": randomText(300 << 10), "fleet/outputs.yaml": "# v1\n"})
	url := repo.ServeDaemon()
	g := newGit(t, source.GitConfig{URL: url, Branch: "main", Path: "fleet", MaxRepoBytes: 100 << 10})
	_, err := g.Fetch(context.Background(), "")
	if !errors.Is(err, source.ErrTooLarge) {
		t.Fatalf("Fetch of a 300 KiB tip bounded to 100 KiB: err = %v, want ErrTooLarge", err)
	}
	t.Log(err)
}
