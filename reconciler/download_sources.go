package reconciler

import (
	"context"
	"fmt"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
)

// Agent download sources (kind "download_source"): where agents download
// their binaries and upgrades. Kibana's rules:
// x-pack/platform/plugins/shared/fleet/server/services/download_source.ts
// (one default, moved by writing is_default: true on another; the default
// cannot be deleted; names are unique) and routes/download_source/handler.ts.

// downloadSourcesAPI is what the download source kind calls on Kibana.
type downloadSourcesAPI interface {
	ListDownloadSources(ctx context.Context) ([]kibana.DownloadSource, error)
	GetDownloadSource(ctx context.Context, id string) (kibana.DownloadSource, error)
	CreateDownloadSource(ctx context.Context, body map[string]any) (kibana.DownloadSource, error)
	UpdateDownloadSource(ctx context.Context, id string, body map[string]any) (kibana.DownloadSource, error)
	DeleteDownloadSource(ctx context.Context, id string) error
}

var downloadSourceKind = objectKind{objectSpec{
	kind:    kindDownloadSource,
	objects: downloadSourceObjects,
	list: func(ctx context.Context, r *Reconciler) ([]map[string]any, error) {
		c, err := clientFor[downloadSourcesAPI](r, kindDownloadSource)
		if err != nil {
			return nil, err
		}
		l, err := c.ListDownloadSources(ctx)
		return asMaps(l), err
	},
	get: func(ctx context.Context, r *Reconciler, id string) error {
		c, err := clientFor[downloadSourcesAPI](r, kindDownloadSource)
		if err == nil {
			_, err = c.GetDownloadSource(ctx, id)
		}
		return err
	},
	create: func(ctx context.Context, r *Reconciler, body map[string]any) error {
		c, err := clientFor[downloadSourcesAPI](r, kindDownloadSource)
		if err == nil {
			_, err = c.CreateDownloadSource(ctx, body)
		}
		return err
	},
	update: func(ctx context.Context, r *Reconciler, id string, body map[string]any) error {
		c, err := clientFor[downloadSourcesAPI](r, kindDownloadSource)
		if err == nil {
			_, err = c.UpdateDownloadSource(ctx, id, body)
		}
		return err
	},
	del: func(ctx context.Context, r *Reconciler, id string) error {
		c, err := clientFor[downloadSourcesAPI](r, kindDownloadSource)
		if err == nil {
			err = c.DeleteDownloadSource(ctx, id)
		}
		return err
	},
	observedWith: []string{kindProxy},
	mergeable:    []string{"ssl", "auth"},
	// The PUT body is the create schema (types/models/download_sources.ts):
	// name and host are required, is_default defaults to false (a PUT
	// without it would unset the default), and the schema.nullable fields
	// default to null.
	putKeeps:       []string{"name", "host", "is_default", "proxy_id", "security_artifacts_proxy_id", "security_artifacts_url", "auth"},
	hasDefault:     true,
	defaultDeleted: "Default Download source %s cannot be deleted.",
	noDefault:      "agent policies without download_source_id would have no download source",
	rules:          downloadSourceRules,
}}

func downloadSourceObjects(doc *schema.Document) []declaredObject {
	out := make([]declaredObject, len(doc.DownloadSources))
	for i, d := range doc.DownloadSources {
		var specs []secretSpec
		add := func(path string, ref *schema.SecretRef, stored bool, plain string) {
			if ref != nil {
				specs = append(specs, secretSpec{Path: path, Ref: *ref, Stored: stored, PlainPath: plain})
			}
		}
		if a := d.Auth; a != nil {
			add("auth.api_key", a.APIKey, false, "auth.api_key")
			add("auth.password", a.Password, false, "auth.password")
		}
		if s := d.Secrets; s != nil {
			if s.Auth != nil {
				add("secrets.auth.api_key", s.Auth.APIKey, true, "auth.api_key")
				add("secrets.auth.password", s.Auth.Password, true, "auth.password")
			}
			if s.SSL != nil {
				add("secrets.ssl.key", s.SSL.Key, true, "ssl.key")
			}
		}
		if d.SSL != nil {
			add("ssl.key", d.SSL.Key, false, "ssl.key")
		}
		fields := objectFields(d, specs)
		for _, k := range []string{"ssl", "auth"} {
			if m, ok := fields[k].(map[string]any); ok && len(m) == 0 {
				delete(fields, k)
			}
		}
		out[i] = declaredObject{id: d.ID, name: d.Name, fields: fields, secrets: specs}
		for _, p := range []*string{d.ProxyID, d.SecurityArtifactsProxyID} {
			if p != nil {
				out[i].refs = append(out[i].refs, ref{kindProxy, *p})
			}
		}
	}
	return out
}

// downloadSourceRules: names are unique among download sources
// (download_source.ts requireUniqueName), counting the ones fleetform
// does not declare as observed and the declared ones as declared.
func downloadSourceRules(doc *schema.Document, c *computed, o declaredObject, _ map[string]any) []string {
	name, _ := o.fields["name"].(string)
	if name == "" {
		return nil
	}
	var ids []string
	for _, id := range sortedKeys(c.obs.objects[kindDownloadSource]) {
		if id == o.id {
			continue
		}
		other := c.obs.objects[kindDownloadSource][id]["name"]
		if d, ok := doc.DownloadSource(id); ok {
			other = d.Name
		}
		if other == name {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("download source %s is named %q, which download source %s already has, and Kibana refuses duplicate names (Download Source '%s' already exists with name '%s')",
		o.id, name, strings.Join(ids, ", "), ids[0], name)}
}
