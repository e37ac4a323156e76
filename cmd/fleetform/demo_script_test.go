package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// demoExitTrap returns the line of scripts/demo.sh that stops fleetsim
// when the script ends: its EXIT trap.
func demoExitTrap(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../scripts/demo.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "trap ") && strings.HasSuffix(l, " EXIT") {
			return l
		}
	}
	t.Fatal("scripts/demo.sh has no EXIT trap")
	return ""
}

// make demo | head (or | less, quit early): the reader goes away and the
// script's next write gets SIGPIPE. Bash runs the EXIT trap, but the trap
// used to print "stopping fleetsim" before its kill: that write got
// SIGPIPE too and ended the trap, so fleetsim kept ports
// 5601/5602/9200/9201 and the next make demo failed with "address already
// in use". The demo's EXIT trap, run with a stand-in for fleetsim, must
// stop it when the reader closes the pipe, and on SIGTERM. (Ctrl-C is not
// tested here: bash exits on SIGINT only when its foreground command died
// of it too, which depends on the moment the signal lands; make demo then
// Ctrl-C was checked by hand.)
func TestDemoScript_StopsFleetsimWhenInterrupted(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	stop := demoExitTrap(t)
	for _, how := range []string{"reader gone", "SIGTERM"} {
		t.Run(how, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "sim.pid")
			script := "set -euo pipefail\nsay() { printf '==> %s\\n' \"$*\"; }\n" +
				"sleep 300 & sim=$!\necho $sim > " + strconv.Quote(pidFile) + "\n" + stop + "\n" +
				"while :; do say running; sleep 0.05; done\n"
			cmd := exec.Command("bash", "-c", script)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
				t.Fatal(err)
			}
			switch how {
			case "reader gone":
				out.Close()
			case "SIGTERM":
				_ = cmd.Process.Signal(syscall.SIGTERM)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("the script did not end")
			}
			b, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatal(err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			if syscall.Kill(pid, 0) == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("the stand-in for fleetsim (pid %d) still runs after the script ended (%s)", pid, how)
			}
		})
	}
}
