package main

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/fleetform/fleetform/schema"
)

// The flags several commands share are bound by the functions below, so a
// flag has one spelling, one short form and one help text everywhere:
//
//	-c, --config DIR     the repository of desired-state YAML (plan, apply, validate, …)
//	-f, --format FORMAT  output format (validate, plan, status)
//	-o, --out FILE       write to FILE (plan, render)
//	-v, --verbose        log requests and changes to stderr

// bindConfigDir binds -c/--config DIR: the directory holding the
// desired-state YAML. The default is the current directory.
func bindConfigDir(fs *pflag.FlagSet, dir *string) {
	fs.StringVarP(dir, "config", "c", ".", "`DIR`ectory of desired-state YAML files")
}

// bindFormat binds -f/--format with its default and the values it takes.
func bindFormat(fs *pflag.FlagSet, format *string, usage string) {
	fs.StringVarP(format, "format", "f", "text", usage)
}

// bindOut binds -o/--out FILE.
func bindOut(fs *pflag.FlagSet, out *string, usage string) {
	fs.StringVarP(out, "out", "o", "", usage)
}

// loadConfig loads and validates the desired state in dir. Validation
// problems come back as schema.Issues, one "file:line:col: /ptr: message" per line.
func loadConfig(ctx context.Context, dir string) (*schema.Document, error) {
	return schema.LoadDir(ctx, dir)
}
