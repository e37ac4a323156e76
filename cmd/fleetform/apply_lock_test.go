package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/simhttp"
)

// Issue 10 #4: two applies at once both wrote (every change twice, one bare
// 409). Each apply takes the apply lock in the main cluster: without
// --lock-timeout the second fails at once saying who holds it and since
// when; with it, the second waits, then finds nothing left to do.
func TestApplyLockOneWriterAtATime(t *testing.T) {
	for _, tc := range []struct {
		name     string
		wait     string
		wantFail bool
	}{
		{"fail at once", "", true},
		{"wait", "--lock-timeout=30s", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("FLEETFORM_TEST_KB_PW", "changeme")
			t.Setenv("FLEETFORM_TEST_ES_PW", "changeme")
			sim := fleetsim.StartTest(t, fleetsim.Options{})
			dir := t.TempDir()
			files := map[string]string{
				"clusters.yaml": fmt.Sprintf(serveClustersYAML, sim.Cluster("main").KibanaURL(), sim.Cluster("main").ESURL()),
				"outputs.yaml":  serveOutputYAML("o1"),
			}
			for name, body := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// A slow create keeps the first apply inside its writes while
			// the second one starts.
			if err := sim.AddFault(simhttp.Fault{Method: http.MethodPost, PathPattern: "/api/fleet/outputs", Delay: 700 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			type result struct {
				out, errOut string
				code        int
			}
			res := make([]result, 2)
			var wg sync.WaitGroup
			for i := range res {
				wg.Go(func() {
					args := []string{"apply", "-c", dir}
					if tc.wait != "" {
						args = append(args, tc.wait)
					}
					if i == 1 {
						time.Sleep(150 * time.Millisecond)
					}
					out, errOut, code := runCLI(t, args...)
					res[i] = result{out, errOut, code}
				})
			}
			wg.Wait()
			creates := 0
			for _, r := range sim.Requests() {
				if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/api/fleet/outputs") {
					creates++
				}
			}
			if creates != 1 {
				t.Errorf("output created %d times, want once", creates)
			}
			first, second := res[0], res[1]
			if first.code != 0 || !strings.Contains(first.out, "Apply complete: 1 applied, 0 failed") {
				t.Fatalf("first apply: exit %d\n%s\n%s", first.code, first.out, first.errOut)
			}
			if tc.wantFail {
				msg := second.out + second.errOut
				if second.code != 1 || !strings.Contains(msg, "Error acquiring the apply lock fleetform-lease/default.apply-lock: held by ") ||
					!strings.Contains(msg, fmt.Sprintf("pid %d (fleetform apply) since ", os.Getpid())) {
					t.Fatalf("second apply: exit %d, want 1 naming the holder\n%s", second.code, msg)
				}
				return
			}
			if second.code != 0 || !strings.Contains(second.out, "No changes.") {
				t.Fatalf("second apply (waiting): exit %d\n%s\n%s", second.code, second.out, second.errOut)
			}
		})
	}
}
