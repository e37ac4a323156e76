package kibana

import "strings"

// Field reads a dotted path ("secrets.ssl.key") from the output's JSON
// object; nil when any part is missing or not an object.
func (o Output) Field(path string) any {
	var cur any = map[string]any(o)
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// SetField sets a dotted path in the output's JSON object, creating the
// objects on the way (so it also builds request bodies).
func (o Output) SetField(path string, v any) {
	m := map[string]any(o)
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// SecretRefs returns every stored secret reference ({"id": …, "hash"?: …})
// under the output's "secrets", by dotted path ("secrets.service_token").
// A PUT must send each back, or a new value, because Kibana deletes the
// secrets a PUT omits (fleet-api.md trap 3); the references are returned as
// stored, so a preconfigured output's hash is kept too.
func (o Output) SecretRefs() map[string]any {
	refs := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if id, ok := m["id"].(string); ok && id != "" {
			refs[prefix] = m
			return
		}
		for k, sub := range m {
			walk(prefix+"."+k, sub)
		}
	}
	walk("secrets", o["secrets"])
	return refs
}
