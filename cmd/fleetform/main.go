// Command fleetform reconciles Elastic Fleet — outputs, agent policies and
// integration packages on a main cluster and its remote clusters — with a
// desired state kept in Git.
//
//	fleetform validate [-f text|json|github] [PATH…]
//	fleetform plan -c DIR [--detailed-exitcode] [-f text|json|markdown|github] [-o FILE]
//	fleetform apply -c DIR [--prune] [--auto-approve] [FILE]
//	fleetform serve …
//	fleetform render kibana-yml -c DIR
//	fleetform status -c DIR
//	fleetform rotate -c DIR OUTPUT_ID
//	fleetform completion bash|zsh|fish
//	fleetform version
//
// The command line is built with cobra (cli.go): "fleetform help CMD",
// suggestions for mistyped commands and shell completion come from it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop() // before os.Exit, which would skip a defer
	os.Exit(exitCode(err))
}
