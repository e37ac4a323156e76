package reconciler

import (
	"context"
	"fmt"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
)

// Proxies (kind "proxy"): the proxies outputs, Fleet Server hosts and
// download sources reach their hosts through. Kibana's rules:
// x-pack/platform/plugins/shared/fleet/server/services/fleet_proxies.ts.
// certificate_key is a secret Kibana keeps in the saved object (no
// secrets.* path); fleetform sends it from its reference and records only
// its salted hash.

// proxiesAPI is what the proxy kind calls on Kibana.
type proxiesAPI interface {
	ListProxies(ctx context.Context) ([]kibana.Proxy, error)
	GetProxy(ctx context.Context, id string) (kibana.Proxy, error)
	CreateProxy(ctx context.Context, body map[string]any) (kibana.Proxy, error)
	UpdateProxy(ctx context.Context, id string, body map[string]any) (kibana.Proxy, error)
	DeleteProxy(ctx context.Context, id string) error
}

var proxyKind = objectKind{objectSpec{
	kind: kindProxy,
	objects: func(doc *schema.Document) []declaredObject {
		out := make([]declaredObject, len(doc.Proxies))
		for i, p := range doc.Proxies {
			var specs []secretSpec
			if p.CertificateKey != nil {
				specs = append(specs, secretSpec{Path: "certificate_key", Ref: *p.CertificateKey, PlainPath: "certificate_key"})
			}
			out[i] = declaredObject{id: p.ID, name: p.Name, fields: objectFields(p, specs), secrets: specs}
		}
		return out
	},
	list: func(ctx context.Context, r *Reconciler) ([]map[string]any, error) {
		c, err := clientFor[proxiesAPI](r, kindProxy)
		if err != nil {
			return nil, err
		}
		l, err := c.ListProxies(ctx)
		return asMaps(l), err
	},
	get: func(ctx context.Context, r *Reconciler, id string) error {
		c, err := clientFor[proxiesAPI](r, kindProxy)
		if err == nil {
			_, err = c.GetProxy(ctx, id)
		}
		return err
	},
	create: func(ctx context.Context, r *Reconciler, body map[string]any) error {
		c, err := clientFor[proxiesAPI](r, kindProxy)
		if err == nil {
			_, err = c.CreateProxy(ctx, body)
		}
		return err
	},
	update: func(ctx context.Context, r *Reconciler, id string, body map[string]any) error {
		c, err := clientFor[proxiesAPI](r, kindProxy)
		if err == nil {
			_, err = c.UpdateProxy(ctx, id, body)
		}
		return err
	},
	del: func(ctx context.Context, r *Reconciler, id string) error {
		c, err := clientFor[proxiesAPI](r, kindProxy)
		if err == nil {
			err = c.DeleteProxy(ctx, id)
		}
		return err
	},
	// The PUT schema's fields are schema.nullable (default null): an
	// omitted one is cleared (fleet_proxies.ts fleetProxyDataToSOAttribute,
	// rest_spec/fleet_proxies.ts).
	putKeeps:             []string{"proxy_headers", "certificate_authorities", "certificate", "certificate_key"},
	preconfiguredDeleted: "Cannot delete %s preconfigured proxy",
	pruneRules:           proxyPruneRules,
}}

// proxyPruneRules: Kibana refuses to delete a proxy a preconfigured Fleet
// Server host or output uses, and otherwise sets proxy_id to null on every
// output, Fleet Server host and download source that uses it
// (fleet_proxies.ts deleteFleetProxy, updateRelatedSavedObject).
func proxyPruneRules(c *computed, id string, _ map[string]any) (string, string) {
	var users, preconfigured []string
	for _, oid := range sortedKeys(c.obs.outputs) {
		if o := c.obs.outputs[oid]; o["proxy_id"] == id {
			users = append(users, "output "+oid)
			if isTrue(o["is_preconfigured"]) {
				preconfigured = append(preconfigured, "output "+oid)
			}
		}
	}
	for _, kind := range []string{kindFleetServerHost, kindDownloadSource} {
		objs := c.obs.objects[kind]
		for _, oid := range sortedKeys(objs) {
			if o := objs[oid]; o["proxy_id"] == id {
				users = append(users, kindNoun(kind)+" "+oid)
				if isTrue(o["is_preconfigured"]) {
					preconfigured = append(preconfigured, kindNoun(kind)+" "+oid)
				}
			}
		}
	}
	if len(preconfigured) > 0 {
		return fmt.Sprintf("proxy %s is used by %s, preconfigured in kibana.yml, and Kibana refuses the delete (Cannot delete a proxy used in a preconfigured fleet server hosts or output.)", id, strings.Join(preconfigured, ", ")), ""
	}
	if len(users) > 0 {
		return "", "Kibana sets proxy_id to null on " + strings.Join(users, ", ")
	}
	return "", ""
}

// asMaps turns a client's list of JSON objects into plain maps.
func asMaps[T ~map[string]any](l []T) []map[string]any {
	out := make([]map[string]any, len(l))
	for i, o := range l {
		out[i] = map[string]any(o)
	}
	return out
}
