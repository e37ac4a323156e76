package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/remote"
	"github.com/fleetform/fleetform/schema"
)

// newEngineReconciler is the daemon's reconciler over the plan/apply
// engine: clients fenced by the lease (when there is one), kept across
// turns, and the apply lock around every apply.
func newEngineReconciler(opts ReconcilerOptions) *engineReconciler {
	return &engineReconciler{
		opts: engineOptions{Instance: opts.Instance, Prune: opts.Prune, Logger: opts.Logger, WrapTransport: opts.Fence},
		kept: keptEngine{lockWait: opts.LockWait},
	}
}

// keptEngine is the daemon's connection to the clusters: the engine (its
// Kibana and Elasticsearch clients, their transports and TLS sessions, and
// the reconciler's secret-verification cache) and the client the apply lock
// uses. It is rebuilt only when a revision changes the clusters'
// configuration — URLs, CA, credential references or the credentials they
// resolve to — never per turn.
type keptEngine struct {
	lockWait time.Duration

	mu       sync.Mutex
	key      string
	r        planApplier
	tc       *remote.TwoCluster
	lockES   *elastic.Client
	lockName string // the instance whose apply lock a turn takes (lockInstance)
	connects int    // how many times the engine was connected (tests read it)
}

// connect returns the kept engine, connecting it first when doc's
// clusters differ from the ones it was built for.
func (a *engineReconciler) connect(ctx context.Context, doc *schema.Document) (planApplier, *remote.TwoCluster, error) {
	k := &a.kept
	key, err := clustersKey(ctx, doc.Clusters)
	if err != nil {
		return nil, nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.r != nil && k.key == key {
		return k.r, k.tc, nil
	}
	r, tc, err := connectEngine(ctx, doc, a.opts)
	if err != nil {
		return nil, nil, err
	}
	// The lock's client is not fenced: releasing the lock must still work
	// after the lease is lost.
	es, err := elastic.NewFromEndpoint(ctx, doc.Clusters.Main.Elasticsearch)
	if err != nil {
		return nil, nil, fmt.Errorf("apply lock: %w", err)
	}
	if k.r != nil && a.opts.Logger != nil {
		a.opts.Logger.Info("clusters' configuration changed; reconnecting")
	}
	k.key, k.r, k.tc, k.lockES, k.lockName = key, r, tc, es, lockInstance(doc, a.opts.Instance)
	k.connects++
	return r, tc, nil
}

// lock takes the apply lock for one turn's apply.
func (a *engineReconciler) lock(ctx context.Context) (context.Context, func(), error) {
	a.kept.mu.Lock()
	es, instance := a.kept.lockES, a.kept.lockName
	a.kept.mu.Unlock()
	return takeApplyLock(ctx, es, instance, "serve", a.kept.lockWait, a.opts.Logger)
}

// keyMAC keys the digest of resolved credentials in clustersKey, so that
// the key held in memory reveals nothing about them.
var keyMAC = func() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}()

// clustersKey identifies a clusters' configuration: the declared endpoints
// and references, the credentials they resolve to now (a rotated password
// file reconnects) and the CA files' contents.
func clustersKey(ctx context.Context, c schema.Clusters) (string, error) {
	decl, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, keyMAC)
	m.Write(decl)
	eps := []schema.Endpoint{c.Main.Kibana, c.Main.Elasticsearch}
	for _, r := range c.Remotes {
		eps = append(eps, r.Elasticsearch)
		if r.Kibana != nil {
			eps = append(eps, *r.Kibana)
		}
	}
	for _, ep := range eps {
		auth, err := kibana.ResolveAuth(ctx, ep.Auth)
		if err != nil {
			return "", fmt.Errorf("%s: %w", ep.URL, err)
		}
		fmt.Fprintf(m, "\x00%s\x00%s\x00%s", auth.Username, auth.Password.Reveal(), auth.APIKey.Reveal())
		if ep.CAFile != "" {
			b, err := os.ReadFile(ep.CAFile)
			if err != nil {
				return "", fmt.Errorf("%s: ca_file: %w", ep.URL, err)
			}
			m.Write(b)
		}
	}
	return hex.EncodeToString(m.Sum(nil)), nil
}
