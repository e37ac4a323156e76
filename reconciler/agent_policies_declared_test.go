package reconciler

import (
	"reflect"
	"slices"
	"testing"

	"github.com/fleetform/fleetform/schema"
)

// TestDeclaredOptional_AsCanonicalMap: the shortcut of policyFields (no
// marshal round trip for a policy declaring only the fields it reads
// itself) gives the same optional fields as canonicalMap, for a bare
// policy and for each field of schema.AgentPolicy set on its own.
func TestDeclaredOptional_AsCanonicalMap(t *testing.T) {
	bare := schema.AgentPolicy{ID: "p", Name: "P", Namespace: "default", Description: ptr("d"),
		DataOutputID: ptr("o"), MonitoringOutputID: ptr("m"), FleetServerHostID: ptr("fs")}
	cases := []schema.AgentPolicy{bare, {ID: "adopted", Adopt: true}, {SpaceIDs: []string{}}}
	// Each other field of the struct set to a non-zero value, by reflection,
	// so a field added to schema.AgentPolicy is covered too.
	typ := reflect.TypeFor[schema.AgentPolicy]()
	for i := range typ.NumField() {
		p := bare
		f := reflect.ValueOf(&p).Elem().Field(i)
		if !f.IsZero() || typ.Field(i).Name == "Adopt" {
			continue
		}
		f.Set(nonZero(t, f.Type()))
		cases = append(cases, p)
	}
	for _, p := range cases {
		want := map[string]any{}
		declared := canonicalMap(p)
		for _, k := range policyOptional {
			if v, ok := declared[k]; ok {
				want[k] = v
			}
		}
		got := map[string]any{}
		for k, v := range declaredOptional(p) {
			if slices.Contains(policyOptional, k) {
				got[k] = v
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: declared %v, canonicalMap %v", p, got, want)
		}
	}
	if len(cases) < 20 {
		t.Fatalf("%d cases: the reflection found too few fields", len(cases))
	}
}

// nonZero is a non-zero value of a schema field's type.
func nonZero(t *testing.T, typ reflect.Type) reflect.Value {
	t.Helper()
	switch typ.Kind() {
	case reflect.Pointer:
		v := reflect.New(typ.Elem())
		v.Elem().Set(nonZero(t, typ.Elem()))
		return v
	case reflect.String:
		return reflect.ValueOf("x").Convert(typ)
	case reflect.Bool:
		return reflect.ValueOf(true)
	case reflect.Int64:
		return reflect.ValueOf(int64(7))
	case reflect.Slice:
		s := reflect.MakeSlice(typ, 1, 1)
		s.Index(0).Set(nonZero(t, typ.Elem()))
		return s
	case reflect.Map:
		m := reflect.MakeMap(typ)
		m.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf(any("v")))
		return m
	case reflect.Struct:
		v := reflect.New(typ).Elem()
		for i := range typ.NumField() {
			if typ.Field(i).Type.Kind() != reflect.Interface {
				v.Field(i).Set(nonZero(t, typ.Field(i).Type))
			} else {
				v.Field(i).Set(reflect.ValueOf("v"))
			}
		}
		return v
	case reflect.Float64:
		return reflect.ValueOf(50.0)
	}
	t.Fatalf("no non-zero value for %s", typ)
	return reflect.Value{}
}
