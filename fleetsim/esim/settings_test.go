package esim

import (
	"slices"
	"testing"
)

func TestClusterSettings_FlatOrNestedInput_NullRemoves(t *testing.T) {
	c := newCluster(t, nil, Config{})
	put := c.must(t, 200, "PUT", "/_cluster/settings", map[string]any{
		"persistent": map[string]any{"cluster": map[string]any{"remote": map[string]any{"main": map[string]any{"seeds": []string{"127.0.0.1:9300"}, "skip_unavailable": true}}}},
		"transient":  map[string]any{"cluster.remote.other.mode": "proxy", "cluster.remote.other.proxy_address": "es.example:9400"},
	})
	if put["acknowledged"] != true || get(put, "persistent", "cluster", "remote", "main", "skip_unavailable") != "true" {
		t.Fatalf("put echo: %v", put)
	}
	nested := c.must(t, 200, "GET", "/_cluster/settings", nil)
	if got := get(nested, "persistent", "cluster", "remote", "main", "seeds", 0); got != "127.0.0.1:9300" {
		t.Errorf("nested GET: %v", nested)
	}
	if got := get(nested, "transient", "cluster", "remote", "other", "proxy_address"); got != "es.example:9400" {
		t.Errorf("transient: %v", nested)
	}
	flat := c.must(t, 200, "GET", "/_cluster/settings?flat_settings=true", nil)
	if get(flat, "persistent", "cluster.remote.main.skip_unavailable") != "true" {
		t.Errorf("flat GET: %v", flat)
	}
	c.must(t, 200, "PUT", "/_cluster/settings", map[string]any{"persistent": map[string]any{"cluster.remote.main.seeds": nil, "cluster.remote.main.skip_unavailable": nil}})
	c.must(t, 200, "PUT", "/_cluster/settings", map[string]any{"transient": map[string]any{"cluster.remote.other.*": nil}})
	c.must(t, 200, "PUT", "/_cluster/settings", map[string]any{"persistent": map[string]any{"cluster.remote.single.seeds": "h:9300"}})
	if got := get(c.must(t, 200, "GET", "/_cluster/settings?flat_settings=true", nil), "persistent", "cluster.remote.single.seeds", 0); got != "h:9300" {
		t.Errorf("a single seed string must be stored as a list: %v", got)
	}
	c.must(t, 200, "PUT", "/_cluster/settings", map[string]any{"persistent": map[string]any{"cluster.remote.single.*": nil}})
	p, tr := c.ClusterSettings()
	if len(p) != 0 || len(tr) != 0 {
		t.Errorf("settings after null removal: %v %v", p, tr)
	}
}

func TestClusterSettings_InvalidUpdates_400AndNothingChanges(t *testing.T) {
	c := newCluster(t, nil, Config{})
	tests := []struct {
		name   string
		body   any
		typ    string
		reason string
	}{
		{"unknown setting", map[string]any{"persistent": map[string]any{"cluster.bogus": 1}}, "illegal_argument_exception", "persistent setting [cluster.bogus], not recognized"},
		{"seeds in proxy mode", map[string]any{"persistent": map[string]any{"cluster.remote.a.mode": "proxy", "cluster.remote.a.seeds": []string{"h:1"}}}, "illegal_argument_exception",
			`Setting "cluster.remote.a.seeds" cannot be used with the configured "cluster.remote.a.mode" [required=SNIFF, configured=PROXY]`},
		{"proxy_address in sniff mode", map[string]any{"persistent": map[string]any{"cluster.remote.a.proxy_address": "h:1"}}, "illegal_argument_exception",
			`Setting "cluster.remote.a.proxy_address" cannot be used with the configured "cluster.remote.a.mode" [required=PROXY, configured=SNIFF]`},
		{"bad mode", map[string]any{"persistent": map[string]any{"cluster.remote.a.mode": "tunnel"}}, "illegal_argument_exception", "failed to parse value [tunnel] for setting [cluster.remote.a.mode]"},
		{"group without wildcard", map[string]any{"persistent": map[string]any{"cluster": map[string]any{"remote": map[string]any{"a": nil}}}}, "illegal_argument_exception", "persistent setting [cluster.remote.a], not recognized"},
		{"empty", map[string]any{}, "action_request_validation_exception", "Validation Failed: 1: no settings to update;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(t, "PUT", "/_cluster/settings", tt.body, superuser)
			if typ, reason := errOf(t, r); r.status != 400 || typ != tt.typ || reason != tt.reason {
				t.Errorf("got %d %s %q", r.status, typ, reason)
			}
			if p, _ := c.ClusterSettings(); len(p) != 0 {
				t.Errorf("a refused update changed settings: %v", p)
			}
		})
	}
}

func TestRemoteInfo_ConnectedOnlyWhenAddressResolvesToANode(t *testing.T) {
	res := &resolver{}
	main := newCluster(t, res, Config{ClusterName: "main", License: "enterprise"})
	west := newCluster(t, res, Config{ClusterName: "west", License: "enterprise", Version: "8.18.0"})
	west.must(t, 200, "PUT", "/_cluster/settings", map[string]any{"persistent": map[string]any{
		"cluster.remote.main.seeds":            []string{main.Address()},
		"cluster.remote.proxied.mode":          "proxy",
		"cluster.remote.proxied.proxy_address": main.Address(),
		"cluster.remote.proxied.server_name":   "es.main",
		"cluster.remote.gone.seeds":            []string{"127.0.0.1:1"},
	}})
	info := west.must(t, 200, "GET", "/_remote/info", nil)
	tests := []struct {
		alias     string
		mode      string
		connected bool
	}{{"main", "sniff", true}, {"proxied", "proxy", true}, {"gone", "sniff", false}}
	for _, tt := range tests {
		e, _ := info[tt.alias].(map[string]any)
		if e == nil || e["mode"] != tt.mode || e["connected"] != tt.connected {
			t.Errorf("%s: %v", tt.alias, e)
		}
	}
	if get(info, "main", "num_nodes_connected") != 1.0 || get(info, "gone", "num_nodes_connected") != 0.0 || get(info, "main", "seeds", 0) != main.Address() {
		t.Errorf("sniff details: %v", info)
	}
	if get(info, "proxied", "server_name") != "es.main" || get(info, "proxied", "num_proxy_sockets_connected") != 18.0 {
		t.Errorf("proxy details: %v", info)
	}
	// 8.x defaults skip_unavailable to false, 9.x to true.
	if get(info, "main", "skip_unavailable") != false {
		t.Errorf("8.18 skip_unavailable default: %v", info["main"])
	}
	main.must(t, 200, "PUT", "/_cluster/settings", map[string]any{"persistent": map[string]any{"cluster.remote.west.seeds": west.Address()}})
	if get(main.must(t, 200, "GET", "/_remote/info", nil), "west", "skip_unavailable") != true {
		t.Errorf("9.x skip_unavailable default should be true")
	}
	infos := west.RemoteInfos()
	var aliases []string
	for _, ri := range infos {
		aliases = append(aliases, ri.Alias)
	}
	if !slices.Equal(aliases, []string{"gone", "main", "proxied"}) || !infos[1].Connected || infos[0].Connected {
		t.Errorf("RemoteInfos = %+v", infos)
	}
}
