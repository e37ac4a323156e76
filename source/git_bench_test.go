package source_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/source"
	"github.com/fleetform/fleetform/source/gittest"
)

// history1000 is a fast-import stream of 1000 commits on main, each
// rewriting fleet/outputs.yaml and adding a file of ~2 KiB elsewhere (so
// the tip's tree holds 1000 files, ~2 MiB).
func history1000() string {
	var s strings.Builder
	for i := 1; i <= 1000; i++ {
		msg := fmt.Sprintf("v%d", i)
		data := fmt.Sprintf("outputs:\n  - id: o%d\n    name: o%d\n    type: elasticsearch\n    hosts: [https://o%d.example:9200]\n", i, i, i)
		asset := randomText(2048)
		fmt.Fprintf(&s, "commit refs/heads/main\ncommitter t <t@fleetform.invalid> %d +0000\ndata %d\n%s\nM 644 inline fleet/outputs.yaml\ndata %d\n%s\nM 644 inline assets/f%04d.txt\ndata %d\n%s\n",
			1700000000+i, len(msg), msg, len(data), data, i, len(asset), asset)
	}
	return s.String()
}

func heap() (alloc, total uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.TotalAlloc
}

// BenchmarkGitFetch1000Commits measures the Git source on a repository of
// 1,000 commits: the first fetch (clone_alloc_MB allocated, kept_heap_MB
// still held after it), then one fetch per new commit (fetch_alloc_KB and
// fetch_wire_KB per change: allocated, and sent by the server).
func BenchmarkGitFetch1000Commits(b *testing.B) {
	repo := gittest.NewRepo(b)
	repo.FastImport("main", history1000())
	url := repo.ServeHTTP("u", "pw")
	b.Setenv("FLEETFORM_TEST_GIT_PW", "pw")
	g, err := source.NewGit(source.GitConfig{URL: url, Branch: "main", Path: "fleet", Username: "u", Password: &schema.SecretRef{Env: "FLEETFORM_TEST_GIT_PW"}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	h0, t0 := heap()
	if _, err := g.Fetch(ctx, ""); err != nil {
		b.Fatal(err)
	}
	h1, t1 := heap()

	var alloc, wire uint64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		rev := repo.Commit("main", fmt.Sprintf("change %d", i), map[string]string{"fleet/outputs.yaml": fmt.Sprintf("# change %d\n", i)})
		w0 := repo.HTTPBytes()
		_, a0 := heap()
		b.StartTimer()
		snap, err := g.Fetch(ctx, rev)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if snap.Revision != rev {
			b.Fatalf("fetched %s, want %s", snap.Revision, rev)
		}
		_, a1 := heap()
		alloc += a1 - a0
		wire += uint64(repo.HTTPBytes() - w0)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(alloc)/float64(b.N)/1e3, "fetch_alloc_KB")
	b.ReportMetric(float64(wire)/float64(b.N)/1e3, "fetch_wire_KB")
	b.ReportMetric(float64(t1-t0)/1e6, "clone_alloc_MB")
	b.ReportMetric(float64(int64(h1)-int64(h0))/1e6, "kept_heap_MB")
}
