package fleetsim

import (
	"net/url"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// normalizeHost is normalizeHostsForAgents: explicit port, lower-case host,
// no trailing "/" path.
func normalizeHost(h string) string {
	u, err := url.Parse(h)
	if err != nil || u.Host == "" {
		return h
	}
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	path := u.EscapedPath()
	if path == "/" {
		path = ""
	}
	return u.Scheme + "://" + host + ":" + port + path
}

func normalizeHosts(v any) any {
	hs, ok := v.([]any)
	if !ok {
		return v
	}
	out := make([]any, len(hs))
	for i, h := range hs {
		s, _ := h.(string)
		out[i] = normalizeHost(s)
	}
	return out
}

// yamlKeys flattens a config_yaml into dotted key paths (and the keys as written).
func yamlKeys(v any) (map[string]any, bool) {
	s, _ := v.(string)
	if s == "" {
		return nil, true
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
		return nil, false
	}
	out := map[string]any{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, val := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out[p] = val
			if sub, ok := val.(map[string]any); ok {
				walk(p, sub)
			}
		}
	}
	walk("", doc)
	return out, true
}

func yamlHasReservedKey(v any) bool {
	keys, parsed := yamlKeys(v)
	if !parsed {
		s, _ := v.(string)
		return slices.ContainsFunc(reservedPresetKeys, func(k string) bool { return strings.Contains(s, k) })
	}
	for _, k := range reservedPresetKeys {
		if _, ok := keys[k]; ok {
			return true
		}
	}
	return false
}

// defaultPreset is getDefaultPresetForEsOutput.
func defaultPreset(configYAML any) string {
	if yamlHasReservedKey(configYAML) {
		return "custom"
	}
	return "balanced"
}

// shipperEnabled: the shipper block is kept only when config_yaml has a
// shipper key that is not `enabled: false`.
func shipperEnabled(configYAML any) bool {
	keys, _ := yamlKeys(configYAML)
	v, ok := keys["shipper"]
	if !ok {
		return false
	}
	if m, isMap := v.(map[string]any); isMap && m["enabled"] == false {
		return false
	}
	return true
}

// validFleetID is validateFleetSavedObjectId.
func validFleetID(id string) bool {
	if n := len([]rune(id)); n < 1 || n > 255 {
		return false
	}
	if strings.Contains(id, "/") || strings.Contains(id, "..") {
		return false
	}
	return !slices.Contains([]string{"__proto__", "constructor", "prototype"}, id)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + strings.ToLower(s[1:])
}

func secretRefID(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	id, ok := m["id"].(string)
	return id, ok
}

func isString(v any) bool { _, ok := v.(string); return ok }

func getPath(m map[string]any, path []string) any {
	v, _ := getPathOK(m, path)
	return v
}

func getPathOK(m map[string]any, path []string) (any, bool) {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = mm[p]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

func setPath(m map[string]any, path []string, v any) {
	cur := m
	for _, p := range path[:len(path)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[path[len(path)-1]] = v
}

func deletePath(m map[string]any, path []string) {
	cur := m
	for _, p := range path[:len(path)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			return
		}
		cur = next
	}
	delete(cur, path[len(path)-1])
}

// cloneMap deep-copies decoded JSON.
func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return cloneMap(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}

func stringList(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
