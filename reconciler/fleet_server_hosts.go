package reconciler

import (
	"context"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
)

// Fleet Server hosts (kind "fleet_server_host"): the URLs agents enroll
// and check in at. Kibana's rules:
// x-pack/platform/plugins/shared/fleet/server/services/fleet_server_host.ts
// (one default, moved by writing is_default: true on another; the default
// and preconfigured hosts cannot be deleted; ssl keys as secrets.ssl.*).

// fleetServerHostsAPI is what the Fleet Server host kind calls on Kibana.
type fleetServerHostsAPI interface {
	ListFleetServerHosts(ctx context.Context) ([]kibana.FleetServerHost, error)
	GetFleetServerHost(ctx context.Context, id string) (kibana.FleetServerHost, error)
	CreateFleetServerHost(ctx context.Context, body map[string]any) (kibana.FleetServerHost, error)
	UpdateFleetServerHost(ctx context.Context, id string, body map[string]any) (kibana.FleetServerHost, error)
	DeleteFleetServerHost(ctx context.Context, id string) error
}

var fleetServerHostKind = objectKind{objectSpec{
	kind:    kindFleetServerHost,
	objects: fleetServerHostObjects,
	list: func(ctx context.Context, r *Reconciler) ([]map[string]any, error) {
		c, err := clientFor[fleetServerHostsAPI](r, kindFleetServerHost)
		if err != nil {
			return nil, err
		}
		l, err := c.ListFleetServerHosts(ctx)
		return asMaps(l), err
	},
	get: func(ctx context.Context, r *Reconciler, id string) error {
		c, err := clientFor[fleetServerHostsAPI](r, kindFleetServerHost)
		if err == nil {
			_, err = c.GetFleetServerHost(ctx, id)
		}
		return err
	},
	create: func(ctx context.Context, r *Reconciler, body map[string]any) error {
		c, err := clientFor[fleetServerHostsAPI](r, kindFleetServerHost)
		if err == nil {
			_, err = c.CreateFleetServerHost(ctx, body)
		}
		return err
	},
	update: func(ctx context.Context, r *Reconciler, id string, body map[string]any) error {
		c, err := clientFor[fleetServerHostsAPI](r, kindFleetServerHost)
		if err == nil {
			_, err = c.UpdateFleetServerHost(ctx, id, body)
		}
		return err
	},
	del: func(ctx context.Context, r *Reconciler, id string) error {
		c, err := clientFor[fleetServerHostsAPI](r, kindFleetServerHost)
		if err == nil {
			err = c.DeleteFleetServerHost(ctx, id)
		}
		return err
	},
	// A proxy's prune reads the hosts that use it.
	observedWith: []string{kindProxy},
	// ssl is stored as one JSON string: a PUT replaces it whole.
	mergeable: []string{"ssl"},
	// proxy_id is schema.nullable in the PUT schema: omitted means null.
	putKeeps:             []string{"proxy_id"},
	hasDefault:           true,
	defaultDeleted:       "Default Fleet Server hosts %s cannot be deleted.",
	noDefault:            "agent policies without fleet_server_host_id would have no Fleet Server host: Default Fleet Server host is not setup",
	preconfiguredDeleted: "Cannot delete %s preconfigured fleet server host",
}}

func fleetServerHostObjects(doc *schema.Document) []declaredObject {
	out := make([]declaredObject, len(doc.FleetServerHosts))
	for i, h := range doc.FleetServerHosts {
		var specs []secretSpec
		add := func(path string, ref *schema.SecretRef, stored bool, plain string) {
			if ref != nil {
				specs = append(specs, secretSpec{Path: path, Ref: *ref, Stored: stored, PlainPath: plain})
			}
		}
		if s := h.Secrets; s != nil && s.SSL != nil {
			add("secrets.ssl.agent_key", s.SSL.AgentKey, true, "ssl.agent_key")
			add("secrets.ssl.es_key", s.SSL.ESKey, true, "ssl.es_key")
			add("secrets.ssl.key", s.SSL.Key, true, "ssl.key")
		}
		if s := h.SSL; s != nil {
			add("ssl.agent_key", s.AgentKey, false, "ssl.agent_key")
			add("ssl.es_key", s.ESKey, false, "ssl.es_key")
			add("ssl.key", s.Key, false, "ssl.key")
		}
		fields := objectFields(h, specs)
		if urls, ok := fields["host_urls"].([]any); ok {
			// Kibana stores them normalised (normalizeHostsForAgents).
			for j, u := range urls {
				if s, ok := u.(string); ok {
					urls[j] = NormalizeHost(s)
				}
			}
		}
		if ssl, ok := fields["ssl"].(map[string]any); ok && len(ssl) == 0 {
			delete(fields, "ssl")
		}
		out[i] = declaredObject{id: h.ID, name: h.Name, fields: fields, secrets: specs}
		if h.ProxyID != nil {
			out[i].refs = []ref{{kindProxy, *h.ProxyID}}
		}
	}
	return out
}
