package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runFunc runs one subcommand with its positional arguments; its flags are
// already parsed into the variables its setup bound.
type runFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// command is one subcommand of fleetform: setup binds its flags on fs and
// returns the function that runs it.
type command struct {
	name    string
	summary string
	args    string // positional arguments, for the usage line
	setup   func(fs *pflag.FlagSet) runFunc
}

// commands is the command table; help lists them in this order.
var commands = []command{
	{"validate", "check desired-state YAML offline (schema and semantic rules)", "[PATH…]", setupValidate},
	{"plan", "show what apply would change in Fleet", "", setupPlan},
	{"apply", "make Fleet match the desired state", "[FILE]", setupApply},
	{"serve", "run the GitOps daemon", "", setupServe},
	{"render", "render the desired state as a kibana.yml fragment", "kibana-yml", setupRender},
	{"status", "show sync and output health of remote outputs", "", setupStatus},
	{"rotate", "rotate the credential of a remote output", "OUTPUT_ID", setupRotate},
	{"suspend", "stop a running daemon from applying (drift is still reported)", "[REASON…]", setupSuspend},
	{"resume", "let a suspended daemon apply again", "", setupResume},
	{"version", "print the version, commit and build date", "", setupVersion},
}

// extraCommands are added by other files of this package with
// registerCommand from an init function, so a new command needs no edit of
// the table above. help lists them after the table, by name.
var extraCommands []command

// registerCommand adds a subcommand; call it from an init function.
func registerCommand(name, summary, args string, setup func(fs *pflag.FlagSet) runFunc) {
	extraCommands = append(extraCommands, command{name: name, summary: summary, args: args, setup: setup})
}

// allCommands is the table followed by the registered commands, by name.
func allCommands() []command {
	extra := slices.Clone(extraCommands)
	slices.SortFunc(extra, func(a, b command) int { return strings.Compare(a.name, b.name) })
	return append(slices.Clone(commands), extra...)
}

// newRootCmd builds the command tree. Each run builds a fresh one, so flag
// values never leak from one run (or test) to the next.
func newRootCmd(ctx context.Context, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "fleetform",
		Short: "reconcile Elastic Fleet with a desired state kept in Git",
		Long: "fleetform reconciles Elastic Fleet — outputs, agent and integration policies, packages, Fleet\n" +
			"Server hosts, proxies and download sources on a main cluster and its remote clusters — with a\n" +
			"desired state kept in Git.",
		Version:                    versionString(),
		SilenceErrors:              true, // run prints errors, once, naming the command
		SilenceUsage:               true,
		SuggestionsMinimumDistance: 2,
		CompletionOptions:          cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetContext(ctx)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate(versionLine() + "\n")
	// --version without cobra's -v shorthand: -v is --verbose on every
	// command that logs, as the README says.
	root.Flags().Bool("version", false, "print the version, commit and build date")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &flagError{cmd: c.CommandPath(), err: err}
	})
	for _, c := range allCommands() {
		cmd := &cobra.Command{
			Use:   strings.TrimSpace(c.name + " [flags] " + c.args),
			Short: c.summary,
		}
		run := c.setup(cmd.Flags())
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), args, stdout, stderr)
		}
		if c.name == "validate" || c.name == "render" {
			cmd.ValidArgsFunction = cobra.NoFileCompletions
			if c.name == "validate" {
				cmd.ValidArgsFunction = nil // paths: the shell's file completion
			}
		}
		completeFlagValues(cmd)
		root.AddCommand(cmd)
	}
	return root
}

// completeFlagValues registers shell completions for the flags whose values
// are a fixed list (--format) or a directory (-c).
func completeFlagValues(cmd *cobra.Command) {
	if f := cmd.Flags().Lookup("format"); f != nil {
		values := formatValues[cmd.Name()]
		_ = cmd.RegisterFlagCompletionFunc("format", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values, cobra.ShellCompDirectiveNoFileComp
		})
	}
	if cmd.Flags().Lookup("config") != nil {
		_ = cmd.MarkFlagDirname("config")
	}
}

// formatValues are the --format values of each command.
var formatValues = map[string][]string{
	"validate": {"text", "json", "github"},
	"plan":     {"text", "json", "markdown", "github"},
	"status":   {"text", "json"},
}

// flagError is a flag the command line got wrong; run prints it with the
// hint to ask for the command's help.
type flagError struct {
	cmd string
	err error
}

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

// run executes the command line args (without the program name). It prints
// its own errors to stderr; main only maps the result to an exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRootCmd(ctx, stdout, stderr)
	if len(args) == 0 {
		root.SetOut(stderr)
		_ = root.Usage()
		return fmt.Errorf("%w: no command given", errReported)
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	name := "fleetform"
	if cmd != nil && cmd != root {
		name = cmd.CommandPath()
	}
	var fe *flagError
	switch {
	case err == nil, errors.Is(err, errChanges):
		return err
	case errors.Is(err, errReported):
		return err
	case errors.As(err, &fe):
		fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for usage.\n", fe.cmd, fe.err, fe.cmd)
		return fmt.Errorf("%w: %w", errReported, err)
	case cmd == root || cmd == nil:
		// An unknown command: cobra's message carries the suggestions.
		fmt.Fprintf(stderr, "fleetform: %v", err)
		if !strings.HasSuffix(err.Error(), "\n") {
			fmt.Fprintln(stderr)
		}
		return fmt.Errorf("%w: %w", errReported, err)
	}
	fmt.Fprintln(stderr, formatError(name, err))
	return err
}
