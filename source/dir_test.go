package source_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fleetform/fleetform/source"
)

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDirSnapshotsAndDigest(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "outputs.yaml", outputsYAML)
	write(t, dir, "sub/policies.yml", "agent_policies: []\n")
	write(t, dir, "notes.txt", "ignored")
	write(t, dir, ".git/config.yaml", "hidden")
	write(t, dir, "pkgs.yaml", "packages: []\n")
	d := source.NewDir(dir)
	ctx := context.Background()
	head, err := d.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := d.Fetch(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"outputs.yaml": outputsYAML, "sub/policies.yml": "agent_policies: []\n", "pkgs.yaml": "packages: []\n"}
	if d := cmp.Diff(want, readAll(t, snap)); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	if snap.Revision != head {
		t.Errorf("Fetch revision %s != Head %s", snap.Revision, head)
	}
	write(t, dir, "notes.txt", "still ignored")
	if again, _ := d.Head(ctx); again != head {
		t.Errorf("a non-YAML edit moved the head: %s -> %s", head, again)
	}
	if err := os.Rename(filepath.Join(dir, "sub/policies.yml"), filepath.Join(dir, "sub/renamed.yml")); err != nil {
		t.Fatal(err)
	}
	if again, _ := d.Head(ctx); again == head {
		t.Error("a rename did not move the head")
	}
	if _, err := source.NewDir(filepath.Join(dir, "missing")).Head(ctx); !errors.Is(err, source.ErrNotFound) {
		t.Errorf("missing directory: err = %v, want ErrNotFound", err)
	}
	if _, err := source.NewDir(dir, source.WithDirMaxBytes(10)).Head(ctx); !errors.Is(err, source.ErrTooLarge) {
		t.Errorf("size limit: err = %v, want ErrTooLarge", err)
	}
}

// A ConfigMap mount: files live in a timestamped directory that "..data"
// points at, top-level names are symlinks through ..data, and an update
// swaps the ..data link atomically.
func TestDirConfigMapMount(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "..2026_11_27_v1/outputs.yaml", "# v1\n")
	write(t, dir, "..2026_11_27_v1/pkgs.yaml", "packages: []\n")
	link := func(target string) {
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(target, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	link("..2026_11_27_v1")
	for _, f := range []string{"outputs.yaml", "pkgs.yaml"} {
		if err := os.Symlink("..data/"+f, filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	d := source.NewDir(dir)
	snap, err := d.Fetch(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"outputs.yaml": "# v1\n", "pkgs.yaml": "packages: []\n"}, readAll(t, snap)); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	write(t, dir, "..2026_11_27_v2/outputs.yaml", "# v2\n")
	write(t, dir, "..2026_11_27_v2/pkgs.yaml", "packages: []\n")
	link("..2026_11_27_v2")
	next, err := d.Fetch(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, next)["outputs.yaml"]; got != "# v2\n" || next.Revision == snap.Revision {
		t.Errorf("after the swap: outputs.yaml = %q, revision moved: %v", got, next.Revision != snap.Revision)
	}
}

func TestDirWatchDebouncesABurst(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.yaml", "# a\n")
	d := source.NewDir(dir, source.WithDebounce(100*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() { done <- d.Watch(ctx, func() { changes <- struct{}{} }) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	}()
	time.Sleep(50 * time.Millisecond) // let the watcher register (events before that are lost, not wrong)

	// An editor save: write temp, rename over, touch a new directory's file.
	for i := range 5 {
		write(t, dir, "a.yaml", "# a"+string(rune('0'+i))+"\n")
	}
	write(t, dir, "new/b.yaml", "# b\n")
	select {
	case <-changes:
	case <-time.After(5 * time.Second):
		t.Fatal("no change reported within 5s")
	}
	select {
	case <-changes:
		t.Fatal("a burst of writes was reported more than once")
	case <-time.After(300 * time.Millisecond):
	}
	// A file in the directory created during the burst is watched too.
	write(t, dir, "new/b.yaml", "# b2\n")
	select {
	case <-changes:
	case <-time.After(5 * time.Second):
		t.Fatal("change in a new sub-directory not reported")
	}
}

func TestStaticSnapshotsAreImmutable(t *testing.T) {
	s := source.NewStatic(fstest.MapFS{"fleet/a.yaml": {Data: []byte("# 1\n")}}, "fleet")
	ctx := context.Background()
	rev1, _ := s.Head(ctx)
	snap1, err := s.Fetch(ctx, rev1)
	if err != nil {
		t.Fatal(err)
	}
	s.Set(fstest.MapFS{"fleet/a.yaml": {Data: []byte("# 2\n")}}, "fleet")
	rev2, _ := s.Head(ctx)
	if rev1 == rev2 {
		t.Fatal("Set did not change the revision")
	}
	if _, err := s.Fetch(ctx, rev1); !errors.Is(err, source.ErrNotFound) {
		t.Errorf("Fetch(old rev) err = %v, want ErrNotFound", err)
	}
	if got := readAll(t, snap1)["fleet/a.yaml"]; got != "# 1\n" {
		t.Errorf("old snapshot now reads %q", got)
	}
	boom := errors.New("boom")
	s.Fail(boom)
	if _, err := s.Head(ctx); !errors.Is(err, boom) {
		t.Errorf("Head after Fail = %v", err)
	}
}

func TestDirRefusesSymlinksOutOfTheDirectory(t *testing.T) {
	outside := t.TempDir()
	write(t, outside, "id_rsa.yaml", "-----BEGIN OPENSSH PRIVATE KEY-----\n")
	dir := t.TempDir()
	write(t, dir, "outputs.yaml", outputsYAML)
	write(t, dir, "shared/pkgs.yaml", "packages: []\n")
	if err := os.Symlink("shared/pkgs.yaml", filepath.Join(dir, "pkgs.yaml")); err != nil { // inside: fine
		t.Fatal(err)
	}
	d := source.NewDir(dir)
	snap, err := d.Fetch(context.Background(), "")
	if err != nil {
		t.Fatalf("a symlink inside the directory: %v", err)
	}
	if got := readAll(t, snap)["pkgs.yaml"]; got != "packages: []\n" {
		t.Errorf("pkgs.yaml through an inner symlink = %q", got)
	}

	if err := os.Symlink(filepath.Join(outside, "id_rsa.yaml"), filepath.Join(dir, "leak.yaml")); err != nil {
		t.Fatal(err)
	}
	snap, err = d.Fetch(context.Background(), "")
	if err == nil {
		t.Fatalf("Fetch followed a symlink out of the directory: files %v", readAll(t, snap))
	}
	if !strings.Contains(err.Error(), "leak.yaml") {
		t.Errorf("error does not name the link: %v", err)
	}
	if _, err := d.Head(context.Background()); err == nil {
		t.Error("Head followed a symlink out of the directory")
	}
}

func TestDirRefusesAHugeFileWithoutReadingIt(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "outputs.yaml", outputsYAML)
	f, err := os.Create(filepath.Join(dir, "huge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(256 << 20); err != nil { // sparse: 256 MiB of zeros, no disk
		t.Fatal(err)
	}
	f.Close()
	d := source.NewDir(dir, source.WithDirMaxBytes(1<<20))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = d.Fetch(context.Background(), "")
	runtime.ReadMemStats(&after)
	if !errors.Is(err, source.ErrTooLarge) {
		t.Fatalf("Fetch = %v; want ErrTooLarge", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("Fetch allocated %d MiB to refuse a file over the 1 MiB limit", alloc>>20)
	}
}

// A burst that leaves the YAML documents as they were is not reported: a
// serve writing its log into the directory it watches (serve --dir D
// 2>D/serve.log) reconciled once per log line. A change of a document is
// still reported, and so is one of a non-YAML file a .yaml link points at.
func TestDirWatchIgnoresBurstsThatChangeNoDocument(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.yaml", "# a\n")
	write(t, dir, "target.txt", "# t\n")
	if err := os.Symlink("target.txt", filepath.Join(dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	d := source.NewDir(dir, source.WithDebounce(50*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() { done <- d.Watch(ctx, func() { changes <- struct{}{} }) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	}()
	time.Sleep(50 * time.Millisecond)
	want := func(what string, reported bool) {
		t.Helper()
		select {
		case <-changes:
			if !reported {
				t.Fatalf("%s: reported", what)
			}
		case <-time.After(400 * time.Millisecond):
			if reported {
				t.Fatalf("%s: not reported", what)
			}
		}
	}
	write(t, dir, "serve.log", "line 0\n")
	want("the first burst", true)
	for i := range 3 {
		write(t, dir, "serve.log", fmt.Sprintf("line %d\n", i+1))
		want("a log line", false)
	}
	write(t, dir, "a.yaml", "# a changed\n")
	want("a document changed", true)
	write(t, dir, "target.txt", "# t changed\n")
	want("the target of a .yaml link changed", true)
}
