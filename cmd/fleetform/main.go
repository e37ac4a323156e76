// Command fleetform reconciles Elastic Fleet — outputs, agent policies,
// integration policies, packages, Fleet Server hosts, proxies and agent
// download sources on a main cluster, and what remote outputs need on each
// remote cluster — with a desired state kept in Git.
//
//	fleetform validate [-f text|json|github] [PATH…]
//	fleetform plan -c DIR [--detailed-exitcode] [-f text|json|markdown|github] [-o FILE] [--prune]
//	fleetform apply -c DIR [--prune] [--auto-approve] [FILE]
//	fleetform serve …
//	fleetform render kibana-yml -c DIR
//	fleetform import -c DIR [--cluster main|NAME] [--kinds …] [--select ID,…] [--adopt]
//	fleetform status -c DIR
//	fleetform rotate -c DIR OUTPUT_ID
//	fleetform suspend|resume --suspend-file F
//	fleetform completion bash|zsh|fish|powershell
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
