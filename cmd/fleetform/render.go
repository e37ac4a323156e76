package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/fleetform/fleetform/kibanayml"
	"github.com/fleetform/fleetform/schema"
)

// setupRender binds "fleetform render kibana-yml -c DIR [-o FILE]".
func setupRender(fs *pflag.FlagSet) runFunc {
	var dir, out, rev string
	bindConfigDir(fs, &dir)
	bindOut(fs, &out, "write to `FILE` instead of stdout")
	fs.StringVar(&rev, "revision", "", "revision to name in the header comment (e.g. $(git rev-parse HEAD))")
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return runRender(ctx, dir, out, rev, args, stdout, stderr)
	}
}

func runRender(ctx context.Context, dir, out, rev string, rest []string, stdout, stderr io.Writer) error {
	if len(rest) != 1 || rest[0] != "kibana-yml" {
		return fmt.Errorf("want exactly one format, kibana-yml (usage: fleetform render kibana-yml -c DIR [-o FILE])")
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
