package esim

import (
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/internal/esspec"
)

// notInSpecs lists the routes the handler serves that the spec folder does
// not describe, each with the reason it is served anyway.
var notInSpecs = map[string]string{
	"HEAD /":                     "ping.json (HEAD /) is not in the spec folder; clients use it as a liveness check",
	"GET /_cluster/health":       "cluster.health.json is not in the spec folder; readiness checks call it",
	"POST /_fleet/secret":        "internal Fleet API (ES x-pack/plugin/fleet RestPostSecretsAction), no public spec; Kibana stores output secrets with it",
	"GET /_fleet/secret/{id}":    "internal Fleet API (RestGetSecretsAction), no public spec; Fleet Server reads secrets with it",
	"DELETE /_fleet/secret/{id}": "internal Fleet API (RestDeleteSecretsAction), no public spec; Kibana deletes replaced secrets",
	"GET /_count":                "count.json is not in the spec folder; cheap existence checks",
	"POST /_count":               "count.json is not in the spec folder",
	"GET /{index}/_count":        "count.json is not in the spec folder",
	"POST /{index}/_count":       "count.json is not in the spec folder",
	"POST /{index}/_refresh":     "indices.refresh.json is not in the spec folder; accepted as a no-op, writes are visible at once",
	"GET /{index}/_refresh":      "indices.refresh.json is not in the spec folder",
	"HEAD /{index}/_doc/{id}":    "exists.json is not in the spec folder",
	"PUT /{index}/_create/{id}":  "create.json is not in the spec folder; create-only writes for leases",
	"POST /{index}/_create/{id}": "create.json is not in the spec folder",
}

func TestContract_EveryESRouteExistsInRestAPISpec(t *testing.T) {
	specs := esspec.Load(t)
	spec := map[string]string{}         // "METHOD /path" → spec file
	specParams := map[string][]string{} // API name → its parameters
	for name, a := range specs.APIs {
		specParams[name] = a.ParamNames()
		for _, p := range a.Paths {
			for _, m := range p.Methods {
				spec[m+" "+p.Path] = a.File
			}
		}
	}
	served := map[string]bool{}
	for _, rt := range routes {
		key := rt.method + " " + rt.pattern
		served[key] = true
		_, inSpec := spec[key]
		reason, allowed := notInSpecs[key]
		switch {
		case inSpec && allowed:
			t.Errorf("%s is in the spec (%s) but also allow-listed (%q): drop the allow-list entry", key, spec[key], reason)
		case !inSpec && !allowed:
			t.Errorf("%s is served but exists in no spec file under %s and is not allow-listed", key, specs.Dir)
		}
	}
	for key := range notInSpecs {
		if !served[key] {
			t.Errorf("allow-list entry %q names a route the handler does not serve", key)
		}
	}
	// Each served API whose spec is here accepts exactly the spec's parameters
	// (plus the documented newer ones).
	newer := map[string][]string{
		"security.get_api_key": {"active_only", "with_profile_uid"},
		"open_point_in_time":   {"allow_partial_search_results", "max_concurrent_shard_requests"},
	}
	for _, rt := range routes {
		want, ok := specParams[rt.api]
		if !ok {
			continue
		}
		got := slices.DeleteFunc(slices.Clone(apiParams[rt.api]), func(p string) bool { return slices.Contains(newer[rt.api], p) })
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s parameters %v, spec %v", rt.api, got, want)
		}
	}
	// The reverse direction: every spec route of the folder is served.
	for key, file := range spec {
		if !served[key] {
			t.Errorf("%s (%s) is in the spec folder but not served", key, file)
		}
	}
}

// TestContract_RoutesAreReachable sends each route once so the route table
// cannot list a pattern the router never matches.
func TestContract_RoutesAreReachable(t *testing.T) {
	c := newCluster(t, nil, Config{License: "enterprise"})
	fill := map[string]string{"{index}": "idx", "{id}": "1", "{namespace}": "elastic", "{service}": "fleet-server", "{name}": "tok"}
	for _, rt := range routes {
		path := rt.pattern
		for k, v := range fill {
			path = strings.ReplaceAll(path, k, v)
		}
		r := c.do(t, rt.method, path, nil, superuser)
		if r.status == 405 || r.status == 400 && get(r.body, "error") == "no handler found for uri ["+path+"] and method ["+rt.method+"]" {
			t.Errorf("%s %s is in the route table but not routed: %d %s", rt.method, path, r.status, r.raw)
		}
	}
}
