// Command fleetsim serves simulated Elastic clusters — a Kibana (Fleet API)
// and an Elasticsearch listener per cluster, sharing one state — for
// fleetform's tests and for trying fleetform without real clusters.
//
//	fleetsim --cluster main,kibana=127.0.0.1:5601,es=127.0.0.1:9200,license=enterprise \
//	         --cluster west,kibana=127.0.0.1:5602,es=127.0.0.1:9201 [--seed FILE] [--sync-interval 5m] [--data DIR]
//	fleetsim --cluster old,kibana=127.0.0.1:5603,es=127.0.0.1:9202,version=9.1.0,space-awareness=off
//
// space-awareness=off starts a 9.1+ Kibana upgraded from an earlier stack
// whose Fleet never ran the space awareness migration (policies global until
// POST /internal/fleet/enable_space_awareness); a seed's space_awareness
// does the same per cluster.
//
// It prints one JSON line per listener when ready and stops gracefully on
// SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fleetform/fleetform/fleetsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		os.Exit(1)
	}
}

// clusterFlags collects repeated --cluster values.
type clusterFlags []fleetsim.ClusterConfig

func (c *clusterFlags) String() string { return fmt.Sprint(len(*c), " clusters") }

func (c *clusterFlags) Set(v string) error {
	cfg, err := fleetsim.ParseClusterFlag(v)
	if err != nil {
		return err
	}
	*c = append(*c, cfg)
	return nil
}

// run starts the simulator and blocks until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fleetsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var clusters clusterFlags
	fs.Var(&clusters, "cluster", "`NAME,kibana=HOST:PORT,es=HOST:PORT[,license=basic|platinum|enterprise][,version=V][,secrets=auto|on|off][,space-awareness=on|off]` (repeatable; space-awareness=off: a 9.1+ deployment that never ran the space awareness migration)")
	seed := fs.String("seed", "", "seed `file` (YAML or JSON): users, API keys, policies, packages, preconfigured outputs and download sources (kibana.yml), Fleet Server versions, space awareness")
	interval := fs.Duration("sync-interval", fleetsim.DefaultSyncInterval, "period of the sync-integrations task")
	dataDir := fs.String("data", "", "`directory` where state is kept across restarts")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected arguments: %v", fs.Args())
		fmt.Fprintln(stderr, "fleetsim:", err)
		return err
	}
	if len(clusters) == 0 {
		clusters = clusterFlags{{Name: "main", KibanaAddr: "127.0.0.1:5601", ESAddr: "127.0.0.1:9200", License: "enterprise"}}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintln(stderr, "fleetsim:", err)
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	err := serve(ctx, log, stdout, fleetsim.Options{SyncInterval: *interval, Logger: log, DataDir: *dataDir}, clusters, *seed)
	if err != nil {
		log.Error("fleetsim failed", "err", err)
	}
	return err
}

func serve(ctx context.Context, log *slog.Logger, stdout io.Writer, opts fleetsim.Options, clusters []fleetsim.ClusterConfig, seedPath string) error {
	sim := fleetsim.New(opts)
	for _, cfg := range clusters {
		if _, err := sim.AddCluster(cfg); err != nil {
			return err
		}
	}
	if seedPath != "" {
		seed, err := fleetsim.LoadSeedFile(seedPath)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if err := sim.Seed(seed); err != nil {
			return err
		}
	}
	listeners, err := sim.Start(ctx)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for _, l := range listeners {
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	log.Info("fleetsim ready", "clusters", len(clusters), "sync_interval", opts.SyncInterval.String())
	<-ctx.Done()
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sim.Shutdown(shutCtx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
