package importer

import (
	"context"

	"reflect"
	"sort"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
)

// The Fleet settings kinds (proxies, Fleet Server hosts, agent download
// sources) export alike: their schema type's fields from Kibana's object,
// defaults and empties left out, secrets as references. Their plan kinds
// are the reconciler's ("proxy", "fleet_server_host", "download_source").
const (
	kindProxy           = "proxy"
	kindFleetServerHost = "fleet_server_host"
	kindDownloadSource  = "download_source"
)

// settingsKind describes one settings kind for export.
type settingsKind struct {
	kind   string
	schema reflect.Type // the document's type: its json names are the exported keys
	lead   []string     // keys written first, in order
	// secrets are the secret paths Kibana may hold: stored ones
	// ("secrets.ssl.key", returned as {id}) before their plain fallbacks.
	secrets []secretField
	list    func(ctx context.Context, f Fleet) ([]map[string]any, error)
}

var (
	proxyExport = settingsKind{
		kind: kindProxy, schema: reflect.TypeFor[schema.Proxy](), lead: []string{"id", "name", "url"},
		secrets: []secretField{{"certificate_key", false}},
		list: func(ctx context.Context, f Fleet) ([]map[string]any, error) {
			l, ok := f.(interface {
				ListProxies(context.Context) ([]kibana.Proxy, error)
			})
			if !ok {
				return nil, nil
			}
			return asMaps(l.ListProxies(ctx))
		},
	}
	fleetServerHostExport = settingsKind{
		kind: kindFleetServerHost, schema: reflect.TypeFor[schema.FleetServerHost](), lead: []string{"id", "name", "host_urls", "is_default"},
		secrets: []secretField{{"secrets.ssl.key", true}, {"secrets.ssl.es_key", true}, {"secrets.ssl.agent_key", true},
			{"ssl.key", false}, {"ssl.es_key", false}, {"ssl.agent_key", false}},
		list: func(ctx context.Context, f Fleet) ([]map[string]any, error) {
			l, ok := f.(interface {
				ListFleetServerHosts(context.Context) ([]kibana.FleetServerHost, error)
			})
			if !ok {
				return nil, nil
			}
			return asMaps(l.ListFleetServerHosts(ctx))
		},
	}
	downloadSourceExport = settingsKind{
		kind: kindDownloadSource, schema: reflect.TypeFor[schema.DownloadSource](), lead: []string{"id", "name", "host", "is_default"},
		secrets: []secretField{{"secrets.ssl.key", true}, {"secrets.auth.password", true}, {"secrets.auth.api_key", true},
			{"ssl.key", false}, {"auth.password", false}, {"auth.api_key", false}},
		list: func(ctx context.Context, f Fleet) ([]map[string]any, error) {
			l, ok := f.(interface {
				ListDownloadSources(context.Context) ([]kibana.DownloadSource, error)
			})
			if !ok {
				return nil, nil
			}
			return asMaps(l.ListDownloadSources(ctx))
		},
	}
)

// settingsDefaults are values Kibana gives a settings object's field when
// the request leaves it out.
var settingsDefaults = map[string]any{"is_default": false, "is_internal": false}

func asMaps[T ~map[string]any](l []T, err error) ([]map[string]any, error) {
	out := make([]map[string]any, len(l))
	for i, o := range l {
		out[i] = o
	}
	return out, err
}

// run exports every object of the kind.
func (k settingsKind) run(ctx context.Context, f Fleet, b *builder) error {
	objs, err := k.list(ctx, f)
	if err != nil {
		return err
	}
	sort.Slice(objs, func(i, j int) bool { return str(objs[i]["id"]) < str(objs[j]["id"]) })
	for _, o := range objs {
		id := str(o["id"])
		if !b.wanted(id) {
			continue
		}
		if o["is_preconfigured"] == true {
			b.skip(id, "preconfigured in kibana.yml; manage it there")
			continue
		}
		e, envs := k.export(b, o)
		b.add(Object{ID: id, Name: str(o["name"]), Secrets: envs, Raw: o}, e)
	}
	return nil
}

// export writes one object's declared fields and secret references.
func (k settingsKind) export(b *builder, o map[string]any) (entry, []EnvVar) {
	// Drop every secret value first: plain secrets come back in clear text.
	clean := map[string]any{}
	for key, v := range o {
		clean[key] = v
	}
	present := map[string]bool{}
	for _, sf := range k.secrets {
		v := getPath(o, sf.observed)
		if sf.stored {
			ref, _ := v.(map[string]any)
			present[sf.observed] = ref != nil && ref["id"] != nil
		} else {
			s, _ := v.(string)
			present[sf.observed] = s != ""
		}
		clean = withoutPath(clean, sf.observed)
	}
	delete(clean, "secrets")
	var e entry
	keys := jsonKeys(k.schema)
	var rest []string
	lead := map[string]bool{}
	for _, key := range k.lead {
		lead[key] = true
	}
	for _, key := range keys {
		if !lead[key] && key != "secrets" {
			rest = append(rest, key)
		}
	}
	sort.Strings(rest)
	for _, key := range append(append([]string{}, k.lead...), rest...) {
		v := prune(clean[key])
		if v == nil {
			continue
		}
		if d, ok := settingsDefaults[key]; ok && reflect.DeepEqual(d, v) {
			continue
		}
		e.set(key, v)
	}
	var envs []EnvVar
	secrets := map[string]any{}
	seen := map[string]bool{}
	for _, sf := range k.secrets {
		plain := strings.TrimPrefix(sf.observed, "secrets.")
		if seen[plain] || !present[sf.observed] {
			continue
		}
		seen[plain] = true
		ref, ev := b.secretRef(str(o["id"]), sf.observed)
		envs = append(envs, ev)
		if sf.stored {
			setPath(secrets, strings.Split(plain, "."), ref)
			continue
		}
		parts := strings.Split(plain, ".")
		if len(parts) == 1 {
			e.set(plain, ref)
			continue
		}
		parent, _ := fieldValue(e, parts[0]).(map[string]any)
		if parent == nil {
			parent = map[string]any{}
		}
		setPath(parent, parts[1:], ref)
		e.set(parts[0], parent)
	}
	if len(secrets) > 0 {
		e.set("secrets", secrets)
	}
	return e, envs
}

// jsonKeys are the json names of a struct type's fields.
func jsonKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

func str(v any) string { s, _ := v.(string); return s }

func getPath(m map[string]any, path string) any {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

// withoutPath returns m without the value at path, copying the maps on the
// way (Kibana's object is never modified).
func withoutPath(m map[string]any, path string) map[string]any {
	head, rest, nested := strings.Cut(path, ".")
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	if !nested {
		delete(out, head)
		return out
	}
	if sub, ok := m[head].(map[string]any); ok {
		out[head] = withoutPath(sub, rest)
	}
	return out
}
