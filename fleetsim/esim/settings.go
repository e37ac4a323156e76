package esim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// flatten turns nested settings into dotted keys ("cluster.remote.a.seeds").
func flatten(prefix string, in map[string]any, out map[string]any) {
	for k, v := range in {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if m, ok := v.(map[string]any); ok {
			flatten(key, m, out)
			continue
		}
		out[key] = v
	}
}

// nest turns dotted keys back into nested objects, as GET _cluster/settings shows them.
func nest(flat map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range sortedKeys(flat) {
		parts := strings.Split(k, ".")
		m := out
		for _, p := range parts[:len(parts)-1] {
			child, ok := m[p].(map[string]any)
			if !ok {
				child = map[string]any{}
				m[p] = child
			}
			m = child
		}
		m[parts[len(parts)-1]] = flat[k]
	}
	return out
}

// settingString renders a setting value the way ES stores it: strings, and
// lists of strings.
func settingString(v any) any {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case json.Number:
		return t.String()
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			out = append(out, fmt.Sprint(settingString(e)))
		}
		return out
	case []string:
		return slices.Clone(t)
	}
	return fmt.Sprint(v)
}

var remoteSettingRE = regexp.MustCompile(`^cluster\.remote\.([^.]+)\.(seeds|mode|proxy_address|server_name|skip_unavailable|node_connections|proxy_socket_connections|transport\.compress|transport\.compression_scheme|transport\.ping_schedule|transport\.connect_timeout|credentials)$`)

// knownSettings are the dynamic cluster settings (besides cluster.remote.*)
// the simulator accepts; ES refuses unknown ones.
var knownSettings = []string{
	"action.destructive_requires_name",
	"action.auto_create_index",
	"cluster.routing.allocation.enable",
	"cluster.routing.rebalance.enable",
	"cluster.max_shards_per_node",
	"cluster.info.update.interval",
	"cluster.remote.connect",
	"indices.recovery.max_bytes_per_sec",
	"xpack.monitoring.collection.enabled",
	"search.default_search_timeout",
	"ingest.geoip.downloader.enabled",
}

func settingKnown(k string) bool {
	return remoteSettingRE.MatchString(k) || slices.Contains(knownSettings, k) ||
		strings.HasPrefix(k, "logger.") || strings.HasPrefix(k, "cluster.routing.allocation.")
}

// remote is one configured remote cluster, merged from transient over persistent.
type remote struct {
	Alias           string
	Mode            string // sniff | proxy
	Seeds           []string
	ProxyAddress    string
	ServerName      string
	SkipUnavailable bool
	NodeConnections int
	ProxySockets    int
}

// remotes reads cluster.remote.* from the settings. Callers hold n.mu.
func (n *Node) remotes() map[string]*remote {
	merged := map[string]any{}
	for k, v := range n.st.Persistent {
		merged[k] = v
	}
	for k, v := range n.st.Transient {
		merged[k] = v
	}
	out := map[string]*remote{}
	get := func(alias string) *remote {
		r := out[alias]
		if r == nil {
			r = &remote{Alias: alias, Mode: "sniff", SkipUnavailable: n.defaultSkipUnavailable(), NodeConnections: 3, ProxySockets: 18}
			out[alias] = r
		}
		return r
	}
	for k, v := range merged {
		m := remoteSettingRE.FindStringSubmatch(k)
		if m == nil {
			continue
		}
		r := get(m[1])
		switch m[2] {
		case "seeds":
			switch t := v.(type) {
			case []string:
				r.Seeds = t
			case string:
				r.Seeds = []string{t}
			}
		case "mode":
			r.Mode = fmt.Sprint(v)
		case "proxy_address":
			r.ProxyAddress = fmt.Sprint(v)
		case "server_name":
			r.ServerName = fmt.Sprint(v)
		case "skip_unavailable":
			r.SkipUnavailable = fmt.Sprint(v) == "true"
		case "node_connections":
			r.NodeConnections, _ = strconv.Atoi(fmt.Sprint(v))
		case "proxy_socket_connections":
			r.ProxySockets, _ = strconv.Atoi(fmt.Sprint(v))
		}
	}
	// An alias is configured only when it has seeds (sniff) or a proxy address (proxy).
	for alias, r := range out {
		if r.Mode == "proxy" && r.ProxyAddress == "" || r.Mode != "proxy" && len(r.Seeds) == 0 {
			delete(out, alias)
		}
	}
	return out
}

// defaultSkipUnavailable is true from 9.0 on (ES changed the default), false before.
func (n *Node) defaultSkipUnavailable() bool {
	major, _, _ := strings.Cut(n.cfg.Version, ".")
	m, err := strconv.Atoi(major)
	return err == nil && m >= 9
}

// remoteNode resolves a remote alias to the node it links to (nil when
// unconfigured or not resolvable). Callers must not hold n.mu.
func (n *Node) remoteNode(alias string) (*Node, bool) {
	n.mu.Lock()
	r := n.remotes()[alias]
	res := n.resolver
	n.mu.Unlock()
	if r == nil {
		return nil, false
	}
	if res == nil {
		return nil, true
	}
	addrs := r.Seeds
	if r.Mode == "proxy" {
		addrs = []string{r.ProxyAddress}
	}
	for _, a := range addrs {
		if node := res.NodeByAddress(a); node != nil {
			return node, true
		}
	}
	return nil, true
}

// validateSettings checks one side (persistent or transient) of a settings update.
func (n *Node) validateSettings(side string, flat map[string]any, after map[string]any) *Error {
	for _, k := range sortedKeys(flat) {
		if group, ok := strings.CutSuffix(k, ".*"); ok && flat[k] == nil && group != "" {
			continue // "cluster.remote.x.*": null resets a whole group
		}
		if !settingKnown(k) {
			return errIllegalArgument("%s setting [%s], not recognized", side, k)
		}
		v := flat[k]
		if v == nil {
			continue
		}
		m := remoteSettingRE.FindStringSubmatch(k)
		if m == nil {
			continue
		}
		switch m[2] {
		case "mode":
			if s := fmt.Sprint(v); s != "sniff" && s != "proxy" {
				return errIllegalArgument("failed to parse value [%s] for setting [%s]", s, k)
			}
		case "skip_unavailable", "transport.compress":
			if _, ok := boolSetting(v); !ok && m[2] == "skip_unavailable" {
				return errIllegalArgument("Failed to parse value [%v] as only [true] or [false] are allowed.", v)
			}
		case "seeds":
			for _, s := range toStrings(v) {
				if _, port, ok := strings.Cut(s, ":"); !ok || port == "" {
					return errIllegalArgument("failed to parse port")
				}
			}
		}
	}
	// Mode consistency on the resulting settings.
	byAlias := map[string]map[string]any{}
	for k, v := range after {
		if m := remoteSettingRE.FindStringSubmatch(k); m != nil {
			if byAlias[m[1]] == nil {
				byAlias[m[1]] = map[string]any{}
			}
			byAlias[m[1]][m[2]] = v
		}
	}
	for _, alias := range sortedKeys(byAlias) {
		s := byAlias[alias]
		mode := "sniff"
		if v, ok := s["mode"]; ok {
			mode = fmt.Sprint(v)
		}
		if mode == "proxy" {
			if _, ok := s["seeds"]; ok {
				return errIllegalArgument(`Setting "cluster.remote.%s.seeds" cannot be used with the configured "cluster.remote.%s.mode" [required=SNIFF, configured=PROXY]`, alias, alias)
			}
		} else if _, ok := s["proxy_address"]; ok {
			return errIllegalArgument(`Setting "cluster.remote.%s.proxy_address" cannot be used with the configured "cluster.remote.%s.mode" [required=PROXY, configured=SNIFF]`, alias, alias)
		}
	}
	return nil
}

func toStrings(v any) []string {
	switch t := v.(type) {
	case []string:
		return t
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			out = append(out, fmt.Sprint(e))
		}
		return out
	case string:
		return []string{t}
	}
	return nil
}

// ClusterSettings returns the flat persistent and transient settings.
func (n *Node) ClusterSettings() (persistent, transient map[string]any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return cloneSettings(n.st.Persistent), cloneSettings(n.st.Transient)
}

func cloneSettings(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if s, ok := v.([]string); ok {
			v = slices.Clone(s)
		}
		out[k] = v
	}
	return out
}

// PutClusterSettings applies a settings update ({"persistent":{…},"transient":{…}},
// flat or nested; null removes a key) and returns the changed settings, flat.
func (n *Node) PutClusterSettings(body json.RawMessage) (persistent, transient map[string]any, err error) {
	p, t, e := n.putClusterSettings(body)
	if e != nil {
		return nil, nil, e
	}
	return p, t, nil
}

func (n *Node) putClusterSettings(body json.RawMessage) (map[string]any, map[string]any, *Error) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil || req == nil {
		return nil, nil, newErr(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no settings to update;")
	}
	sides := map[string]map[string]any{}
	for k, raw := range req {
		if k != "persistent" && k != "transient" {
			return nil, nil, errParsing("request body or source parameter is required")
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, nil, errParsing("Failed to parse object: expecting token of type [START_OBJECT] but found [VALUE_STRING]")
		}
		flat := map[string]any{}
		flatten("", m, flat)
		sides[k] = flat
	}
	if len(sides["persistent"]) == 0 && len(sides["transient"]) == 0 {
		return nil, nil, newErr(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no settings to update;")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	apply := func(cur map[string]any, upd map[string]any) (map[string]any, map[string]any) {
		next := cloneSettings(cur)
		changed := map[string]any{}
		for k, v := range upd {
			if v == nil {
				group, wildcard := strings.CutSuffix(k, ".*")
				for ck := range next {
					if ck == k || wildcard && strings.HasPrefix(ck, group+".") {
						delete(next, ck)
					}
				}
				continue
			}
			sv := settingString(v)
			if m := remoteSettingRE.FindStringSubmatch(k); m != nil && m[2] == "seeds" {
				sv = toStrings(sv) // ES always keeps seeds as a list
			}
			next[k] = sv
			changed[k] = sv
		}
		return next, changed
	}
	nextP, changedP := apply(n.st.Persistent, sides["persistent"])
	nextT, changedT := apply(n.st.Transient, sides["transient"])
	merged := cloneSettings(nextP)
	for k, v := range nextT {
		merged[k] = v
	}
	if e := n.validateSettings("persistent", sides["persistent"], merged); e != nil {
		return nil, nil, e
	}
	if e := n.validateSettings("transient", sides["transient"], merged); e != nil {
		return nil, nil, e
	}
	n.st.Persistent, n.st.Transient = nextP, nextT
	return changedP, changedT, nil
}

// RemoteInfo is one entry of GET _remote/info.
type RemoteInfo struct {
	Alias     string
	Mode      string
	Connected bool
	Seeds     []string
	Proxy     string
}

// RemoteInfos reports every configured remote cluster and whether its seed or
// proxy address resolves to another simulated node.
func (n *Node) RemoteInfos() []RemoteInfo {
	n.mu.Lock()
	rs := n.remotes()
	n.mu.Unlock()
	var out []RemoteInfo
	for _, alias := range sortedKeys(rs) {
		r := rs[alias]
		node, _ := n.remoteNode(alias)
		out = append(out, RemoteInfo{Alias: alias, Mode: r.Mode, Connected: node != nil, Seeds: r.Seeds, Proxy: r.ProxyAddress})
	}
	return out
}

func (n *Node) remoteInfoBody() map[string]any {
	n.mu.Lock()
	rs := n.remotes()
	n.mu.Unlock()
	out := map[string]any{}
	for alias, r := range rs {
		node, _ := n.remoteNode(alias)
		connected := node != nil
		entry := map[string]any{
			"mode":                    r.Mode,
			"connected":               connected,
			"initial_connect_timeout": "30s",
			"skip_unavailable":        r.SkipUnavailable,
		}
		if r.Mode == "proxy" {
			sockets := 0
			if connected {
				sockets = r.ProxySockets
			}
			entry["proxy_address"] = r.ProxyAddress
			entry["server_name"] = r.ServerName
			entry["num_proxy_sockets_connected"] = sockets
			entry["max_proxy_socket_connections"] = r.ProxySockets
		} else {
			nodes := 0
			if connected {
				nodes = 1
			}
			entry["seeds"] = r.Seeds
			entry["num_nodes_connected"] = nodes
			entry["max_connections_per_cluster"] = r.NodeConnections
		}
		out[alias] = entry
	}
	return out
}
