package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/fleetform/fleetform/kibanayml"
	"github.com/fleetform/fleetform/schema"
)

// runRender implements "fleetform render kibana-yml -c DIR [-o FILE]".
func runRender(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dir, out, rev string
	fs := newFlagSet("render", "kibana-yml", stderr)
	bindConfigDir(fs, &dir)
	fs.StringVar(&out, "o", "", "write to `FILE` instead of stdout")
	fs.StringVar(&rev, "revision", "", "revision to name in the header comment (e.g. $(git rev-parse HEAD))")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || rest[0] != "kibana-yml" {
		fs.Usage()
		return fmt.Errorf("%w: want exactly one format, kibana-yml", errReported)
	}
	doc, err := loadConfig(ctx, dir)
	if err != nil {
		var issues schema.Issues
		if errors.As(err, &issues) {
			for _, is := range issues {
				fmt.Fprintln(stderr, is)
			}
			return fmt.Errorf("%w: %d problems", errReported, len(issues))
		}
		return err
	}
	b, err := kibanayml.Render(doc, kibanayml.Options{Revision: rev})
	if err != nil {
		return err
	}
	if out == "" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(out, b, 0o644)
}
