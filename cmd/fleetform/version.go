package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/pflag"
)

// version, commit and date are stamped at build time (make build and the
// container build pass them):
//
//	-ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD) -X main.date=2026-12-07T04:00:00Z"
//
// When empty, the module version and the VCS settings of the build info
// are used.
var version, commit, date string

func setupVersion(fs *pflag.FlagSet) runFunc {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		fmt.Fprintln(stdout, versionLine())
		return nil
	}
}

// versionLine is what "fleetform version" and "fleetform --version" print.
func versionLine() string {
	v, c, d := buildInfo()
	line := "fleetform " + v
	if c != "" {
		line += " (commit " + c
		if d != "" {
			line += ", built " + d
		}
		line += ")"
	} else if d != "" {
		line += " (built " + d + ")"
	}
	return fmt.Sprintf("%s %s %s/%s", line, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// versionString is the version alone (for cobra's --version and the daemon).
func versionString() string {
	v, _, _ := buildInfo()
	return v
}

// buildInfo is the stamped version, commit and date, each falling back on
// what the Go toolchain recorded.
func buildInfo() (v, c, d string) {
	v, c, d = version, commit, date
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return orDevel(v), c, d
	}
	if v == "" && info.Main.Version != "" {
		v = info.Main.Version
	}
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && c == "":
			c = s.Value
		case s.Key == "vcs.time" && d == "":
			d = s.Value
		}
	}
	if len(c) > 12 {
		c = c[:12]
	}
	return orDevel(v), c, d
}

func orDevel(v string) string {
	if v == "" {
		return "(devel)"
	}
	return v
}
