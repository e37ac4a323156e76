package schema

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/fleetform/fleetform"
)

func rawSchema(t *testing.T) map[string]any {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal(fleetform.SchemaJSON, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// resolve follows a local "$ref" ("#/$defs/name").
func resolve(t *testing.T, root, node map[string]any) map[string]any {
	t.Helper()
	ref, ok := node["$ref"].(string)
	if !ok {
		return node
	}
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	if !ok {
		t.Fatalf("unexpected $ref %q", ref)
	}
	def, ok := root["$defs"].(map[string]any)[name].(map[string]any)
	if !ok {
		t.Fatalf("$ref %q: no such definition", ref)
	}
	return def
}

func schemaTypes(node map[string]any) []string {
	switch v := node["type"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, x.(string))
		}
		return out
	}
	if c, ok := node["const"]; ok {
		switch c.(type) {
		case bool:
			return []string{"boolean"}
		case string:
			return []string{"string"}
		}
	}
	return nil
}

// jsonFields lists a struct's JSON fields, flattening embedded structs as
// encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkAgree walks a Go type and its schema node together.
func checkAgree(t *testing.T, root, node map[string]any, typ reflect.Type, path string) {
	t.Helper()
	node = resolve(t, root, node)
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	types := schemaTypes(node)
	want := func(jsonType string) {
		if !slices.Contains(types, jsonType) {
			t.Errorf("%s: Go %s, schema type %v (want %s)", path, typ, types, jsonType)
		}
	}
	if typ.Kind() == reflect.Struct && strings.HasPrefix(typ.Name(), "Nullable[") {
		// Nullable[T]: T or null (absent is a missing key).
		want("null")
		v, _ := typ.FieldByName("Value")
		checkAgree(t, root, node, v.Type, path)
		return
	}
	switch typ.Kind() {
	case reflect.Struct:
		want("object")
		if node["additionalProperties"] != false {
			t.Errorf("%s: schema object must set additionalProperties: false (strict decoding)", path)
		}
		props, _ := node["properties"].(map[string]any)
		fields := jsonFields(typ)
		for _, name := range sortedKeys(fields) {
			p, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("%s/%s: in Go (%s) but not in fleet.schema.json", path, name, typ)
				continue
			}
			checkAgree(t, root, p, fields[name], path+"/"+name)
		}
		for _, name := range sortedKeys(props) {
			if _, ok := fields[name]; !ok {
				t.Errorf("%s/%s: in fleet.schema.json but not in Go type %s", path, name, typ)
			}
		}
	case reflect.Slice:
		want("array")
		items, ok := node["items"].(map[string]any)
		if !ok {
			t.Errorf("%s: array without items", path)
			return
		}
		checkAgree(t, root, items, typ.Elem(), path+"/*")
	case reflect.Map:
		want("object")
		// map[string]any holds an object the schema describes in full
		// (shipper, sasl, …); a map of strings must only hold strings.
		if typ.Elem().Kind() == reflect.String {
			props, _ := node["properties"].(map[string]any)
			for _, name := range sortedKeys(props) {
				checkAgree(t, root, props[name].(map[string]any), typ.Elem(), path+"/"+name)
			}
		}
	case reflect.String:
		want("string")
	case reflect.Bool:
		want("boolean")
	case reflect.Int, reflect.Int64:
		want("integer")
	case reflect.Float64:
		want("number")
	case reflect.Interface:
		// any: a value the schema constrains by its types (a global data
		// tag's string or number); it must say which.
		if len(types) == 0 {
			t.Errorf("%s: Go any, schema gives no type", path)
		}
	default:
		t.Errorf("%s: Go kind %s not covered by this test", path, typ.Kind())
	}
}

// The Go types and fleet.schema.json agree: no property in one that the
// other lacks, and the same JSON types, all the way down.
func TestSchemaAgreesWithGoTypes(t *testing.T) {
	root := rawSchema(t)
	checkAgree(t, root, root, reflect.TypeFor[Document](), "")
}

// The agreement test must catch a disagreement, or it proves nothing.
func TestSchemaAgreement_DetectsMismatch(t *testing.T) {
	type fake struct {
		ID    string `json:"id"`
		Extra string `json:"extra"`
	}
	root := map[string]any{"$defs": map[string]any{}}
	node := map[string]any{
		"type": "object", "additionalProperties": false,
		"properties": map[string]any{"id": map[string]any{"type": "integer"}, "other": map[string]any{"type": "string"}},
	}
	inner := &testing.T{}
	checkAgree(inner, root, node, reflect.TypeFor[fake](), "")
	if !inner.Failed() {
		t.Fatal("a schema with a wrong type, a missing and an extra property passed")
	}
}

// Every property (and every definition) has a description, so editors show
// help for every key.
func TestSchemaDescribesEveryProperty(t *testing.T) {
	root := rawSchema(t)
	var walk func(node map[string]any, path string)
	walk = func(node map[string]any, path string) {
		if props, ok := node["properties"].(map[string]any); ok {
			for _, name := range sortedKeys(props) {
				p := props[name].(map[string]any)
				if d, _ := p["description"].(string); strings.TrimSpace(d) == "" {
					t.Errorf("%s/properties/%s has no description", path, name)
				}
				walk(p, path+"/properties/"+name)
			}
		}
		if items, ok := node["items"].(map[string]any); ok {
			walk(items, path+"/items")
		}
	}
	walk(root, "")
	for name, def := range root["$defs"].(map[string]any) {
		d := def.(map[string]any)
		if s, _ := d["description"].(string); s == "" {
			t.Errorf("$defs/%s has no description", name)
		}
		walk(d, "/$defs/"+name)
	}
	if root["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", root["$schema"])
	}
}

// Kibana's enums and defaults are in the schema (fleet-api.md §2.3).
func TestSchemaKibanaEnumsAndDefaults(t *testing.T) {
	root := rawSchema(t)
	out := root["$defs"].(map[string]any)["output"].(map[string]any)["properties"].(map[string]any)
	prop := func(name string) map[string]any { return out[name].(map[string]any) }
	enum := func(name string) []any { return prop(name)["enum"].([]any) }
	tests := []struct {
		field string
		want  []any
	}{
		{"type", []any{"elasticsearch", "remote_elasticsearch", "logstash", "kafka"}},
		{"preset", []any{"balanced", "custom", "throughput", "scale", "latency"}},
		{"sync_via", []any{"ccr", "direct"}},
		{"compression", []any{"gzip", "snappy", "lz4", "none"}},
		{"auth_type", []any{"none", "user_pass", "ssl", "kerberos"}},
		{"partition", []any{"random", "round_robin", "hash"}},
		{"required_acks", []any{1.0, 0.0, -1.0}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(enum(tt.field), tt.want) {
			t.Errorf("%s enum = %v, want %v", tt.field, enum(tt.field), tt.want)
		}
	}
	for field, want := range map[string]any{"is_default": false, "is_default_monitoring": false, "sync_via": "ccr"} {
		if got := prop(field)["default"]; got != want {
			t.Errorf("%s default = %v, want %v", field, got, want)
		}
	}
}
