package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/fleetform/fleetform/remote"
)

// runStatus implements "fleetform status -c DIR [--format text|json]": per
// remote output, the sync state of every integration (Kibana's
// remote_status in ccr mode, computed by fleetform in direct mode), the
// follower index and the output's health. Exit 0 when it could be read.
func setupStatus(fs *pflag.FlagSet) runFunc {
	var f clusterFlags
	var format string
	f.bind(fs)
	bindFormat(fs, &format, "output `format`: text or json")
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return diagnose(ctx, f.dir, runStatus(ctx, &f, &format, args, stdout, stderr))
	}
}

func runStatus(ctx context.Context, f *clusterFlags, format *string, rest []string, stdout, stderr io.Writer) error {
	if len(rest) > 0 {
		return fmt.Errorf("unexpected argument %q", rest[0])
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("unknown --format %q (want text or json)", *format)
	}
	doc, err := loadConfig(ctx, f.dir)
	if err != nil {
		return loadError(f.dir, err)
	}
	tc, err := remote.Connect(ctx, doc, remote.ConnectOptions{Instance: f.instance, StateIndex: f.stateIndex, Logger: f.logger(stderr)})
	if err != nil {
		return err
	}
	st, err := tc.Engine.Status(ctx, doc)
	if err != nil && st == nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if werr := enc.Encode(map[string]any{"outputs": st}); werr != nil {
			return werr
		}
		return err
	}
	if len(st) == 0 {
		fmt.Fprintln(stdout, "No remote outputs (outputs with remote:) are declared.")
	}
	for i, s := range st {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		writeOutputStatus(stdout, s)
	}
	return err
}

func writeOutputStatus(w io.Writer, s remote.OutputStatus) {
	mode := "sync off"
	if s.SyncVia != "" {
		mode = "sync via " + s.SyncVia
	}
	fmt.Fprintf(w, "output %s → remote %s (%s)\n", s.Output, s.Remote, mode)
	switch {
	case s.Health != nil:
		line := "  output health: " + s.Health.State
		if s.Health.Message != "" {
			line += " (" + s.Health.Message + ")"
		}
		fmt.Fprintln(w, line)
	case s.HealthError != "":
		fmt.Fprintf(w, "  output health: unavailable: %s\n", s.HealthError)
	}
	for _, r := range s.Rotations {
		if r.Phase == remote.PhaseSwapped {
			fmt.Fprintf(w, "  %s rotation: %s in use, %s kept valid until the output reports healthy (fleetform rotate %s, or apply, revokes it then)\n",
				r.Kind, r.Current, r.Previous, s.Output)
			continue
		}
		fmt.Fprintf(w, "  %s rotation interrupted in phase %s (the next apply or rotate finishes or rolls it back)\n", r.Kind, r.Phase)
	}
	if fl := s.Follower; fl != nil {
		line := fmt.Sprintf("  follower %s: %s", fl.Index, fl.Status)
		if fl.FatalError != "" {
			line += " — fatal: " + fl.FatalError
		}
		fmt.Fprintln(w, line)
	}
	if s.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", s.Error)
	}
	if s.SyncVia == "" {
		return
	}
	if len(s.Integrations) == 0 {
		fmt.Fprintln(w, "  no integrations to sync")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  INTEGRATION\tVERSION\tSYNC\tMAIN\tREMOTE\tDETAIL")
	for _, i := range s.Integrations {
		var detail []string
		if i.Error != "" {
			detail = append(detail, i.Error)
		}
		if i.Warning != nil {
			detail = append(detail, i.Warning.Title+" "+i.Warning.Message)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", i.PackageName, i.PackageVersion, i.SyncStatus,
			dash(i.InstallStatus.Main), dash(i.InstallStatus.Remote), strings.Join(detail, "; "))
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
