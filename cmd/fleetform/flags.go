package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/fleetform/fleetform/schema"
)

// newFlagSet returns a flag set for one subcommand; errors and -h usage go to
// stderr, and parsing never exits the process.
func newFlagSet(name, argsUsage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("fleetform "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: fleetform %s [flags] %s\n\nflags:\n", name, argsUsage)
		fs.PrintDefaults()
	}
	return fs
}

// bindConfigDir binds -c DIR (and --config DIR): the directory holding the
// desired-state YAML. The default is the current directory.
func bindConfigDir(fs *flag.FlagSet, dir *string) {
	fs.StringVar(dir, "c", ".", "`DIR`ectory of desired-state YAML files")
	fs.StringVar(dir, "config", ".", "same as -c")
}

// parseArgs parses flags that may appear before, between or after the
// positional arguments (which it returns). "--" ends flag parsing. On -h it
// returns flag.ErrHelp; on a bad flag an error wrapping errReported (the flag
// package has already printed it).
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %w", errReported, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// loadConfig loads and validates the desired state in dir. Validation
// problems come back as schema.Issues, one "file:line:col: /ptr: message" per line.
func loadConfig(ctx context.Context, dir string) (*schema.Document, error) {
	return schema.LoadDir(ctx, dir)
}
