package importer

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/remote"
	"github.com/fleetform/fleetform/schema"
)

// Remote is a remote cluster the repository declares (clusters.remotes).
// Import ties a remote_elasticsearch output to it when one of the output's
// hosts is the remote's Elasticsearch endpoint, and reads its credentials'
// names (never their values) to recognise what fleetform minted there.
type Remote struct {
	Name  string
	Hosts []string // the remote's Elasticsearch URL, normalized (remote.NormalizeHosts)
	// ES lists the remote's service tokens and API keys; nil when the
	// remote cannot be read (import then recognises the remote by host only).
	ES RemoteES
}

// RemoteES is what import reads on a remote; *elastic.Client implements it.
type RemoteES interface {
	ListServiceTokens(ctx context.Context, ns, svc string) (elastic.ServiceCredentials, error)
	GetAPIKeys(ctx context.Context, name string, owner bool) ([]elastic.APIKey, error)
}

// RemoteFromSchema describes a declared remote for import.
func RemoteFromSchema(r schema.Remote, es RemoteES) Remote {
	hosts, _ := remote.NormalizeHosts([]string{r.Elasticsearch.URL})
	return Remote{Name: r.Name, Hosts: hosts, ES: es}
}

// remoteSide is what import learned about the remote side of one output.
type remoteSide struct {
	remote       string // clusters.remotes[].name; "" when no declared remote matches
	mintedToken  bool   // a service token fleetform minted for this output exists on the remote
	mintedAPIKey bool   // a Kibana API key fleetform minted for this output exists on the remote
	comment      string
}

// matchRemote finds the declared remote an output ships to and what
// fleetform minted there for it (by the names remote.Desired gives:
// fleetform-<output>-<n> tokens, fleetform-<output>-kibana-<n> keys).
func matchRemote(ctx context.Context, remotes []Remote, outputID string, hosts []string) (remoteSide, error) {
	norm, _ := remote.NormalizeHosts(hosts)
	var side remoteSide
	for _, r := range remotes {
		if !slices.ContainsFunc(norm, func(h string) bool { return slices.Contains(r.Hosts, h) }) {
			continue
		}
		side.remote = r.Name
		if r.ES == nil {
			return side, nil
		}
		gen := schema.SecretRef{Generate: true}
		obj, _ := remote.Desired(schema.Output{ID: outputID, Secrets: &schema.OutputSecrets{ServiceToken: &gen}, KibanaAPIKey: &gen}, schema.Remote{Name: r.Name})
		creds, err := r.ES.ListServiceTokens(ctx, remote.ServiceNamespace, remote.ServiceName)
		if err != nil {
			return side, fmt.Errorf("remote %s: list service tokens: %w", r.Name, err)
		}
		for _, name := range creds.Tokens {
			name = strings.TrimPrefix(name, remote.ServiceNamespace+"/"+remote.ServiceName+"/")
			if obj.ServiceToken != nil && strings.HasPrefix(name, obj.ServiceToken.Prefix) && isGeneration(strings.TrimPrefix(name, obj.ServiceToken.Prefix)) {
				side.mintedToken = true
			}
		}
		if obj.KibanaAPIKey != nil {
			keys, err := r.ES.GetAPIKeys(ctx, obj.KibanaAPIKey.Prefix+"*", false)
			if err != nil {
				return side, fmt.Errorf("remote %s: list API keys: %w", r.Name, err)
			}
			for _, k := range keys {
				if !k.Invalidated && isGeneration(strings.TrimPrefix(k.Name, obj.KibanaAPIKey.Prefix)) {
					side.mintedAPIKey = true
				}
			}
		}
		return side, nil
	}
	return side, nil
}

// isGeneration reports whether s is a rotation generation number.
func isGeneration(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
