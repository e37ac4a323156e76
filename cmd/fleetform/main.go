// Command fleetform reconciles Elastic Fleet — outputs, agent policies and
// integration packages on a main cluster and its remote clusters — with a
// desired state kept in Git.
//
//	fleetform validate [--format text|json|github] [PATH…]
//	fleetform plan -c DIR [--detailed-exitcode] [--format text|json|markdown|github] [-o FILE]
//	fleetform apply -c DIR [--prune] [FILE]
//	fleetform serve …
//	fleetform render kibana-yml -c DIR
//	fleetform status -c DIR
//	fleetform rotate -c DIR OUTPUT_ID
//	fleetform version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop() // before os.Exit, which would skip a defer
	os.Exit(exitCode(err))
}

// command is one subcommand of fleetform.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands is the command table; usage lists them in this order.
var commands = []command{
	{"validate", "check desired-state YAML offline (schema and semantic rules)", runValidate},
	{"plan", "show what apply would change in Fleet", runPlan},
	{"apply", "make Fleet match the desired state", runApply},
	{"serve", "run the GitOps daemon", runServe},
	{"render", "render the desired state as a kibana.yml fragment", runRender},
	{"status", "show sync and output health of remote outputs", runStatus},
	{"rotate", "rotate the credential of a remote output", runRotate},
	{"suspend", "stop a running daemon from applying (drift is still reported)", runSuspend},
	{"resume", "let a suspended daemon apply again", runResume},
	{"version", "print the version", runVersion},
}

// extraCommands are added by other files of this package with
// registerCommand from an init function, so a new command needs no edit of
// the table above. usage lists them after the table, by name.
var extraCommands []command

// registerCommand adds a subcommand; call it from an init function.
func registerCommand(name, summary string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	extraCommands = append(extraCommands, command{name: name, summary: summary, run: run})
}

// allCommands is the table followed by the registered commands, by name.
func allCommands() []command {
	extra := slices.Clone(extraCommands)
	slices.SortFunc(extra, func(a, b command) int { return strings.Compare(a.name, b.name) })
	return append(slices.Clone(commands), extra...)
}

// run executes the command line args (without the program name). It prints
// its own errors to stderr; main only maps the result to an exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return fmt.Errorf("%w: no command given", errReported)
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return nil
	case "-version", "--version":
		name = "version"
	}
	for _, c := range allCommands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, errChanges):
			return err
		case errors.Is(err, flag.ErrHelp):
			return nil
		case errors.Is(err, errReported):
			return err
		}
		fmt.Fprintf(stderr, "fleetform %s: %v\n", name, err)
		return err
	}
	fmt.Fprintf(stderr, "fleetform: unknown command %q\n", name)
	usage(stderr)
	return fmt.Errorf("%w: unknown command %q", errReported, name)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: fleetform <command> [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range allCommands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "fleetform <command> -h" for a command's flags.`)
}
