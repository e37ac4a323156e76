package schema

import (
	"bytes"
	"encoding/json"
)

// Nullable is a field with three states, for a Kibana field whose update
// schema takes null (schema.oneOf([schema.literal(null), …]) or
// schema.nullable): absent — not declared, so not managed; null — declared
// cleared (Kibana stores null); or a value. A *T cannot tell the first two
// apart once decoded.
//
// In JSON and YAML the field is tagged `json:"name,omitzero"`: an absent
// field stays absent when written, null is written as null. Decoding goes
// through the JSON data model (yamljson.go), so a YAML null and a JSON null
// decode alike, and fleet.schema.json reports a value of the wrong type at
// its line before decoding.
type Nullable[T comparable] struct {
	Value T    // the value when Set and not Null
	Set   bool // declared (null or a value)
	Null  bool // declared null
}

// Some is a Nullable holding v.
func Some[T comparable](v T) Nullable[T] { return Nullable[T]{Value: v, Set: true} }

// Null is a Nullable declared null.
func Null[T comparable]() Nullable[T] { return Nullable[T]{Set: true, Null: true} }

// IsZero reports absence (omitzero leaves an absent field out).
func (n Nullable[T]) IsZero() bool { return !n.Set }

// IsNull reports a field declared null.
func (n Nullable[T]) IsNull() bool { return n.Set && n.Null }

// Get returns the value and whether there is one (not absent, not null).
func (n Nullable[T]) Get() (T, bool) { return n.Value, n.Set && !n.Null }

// Ptr is the value as a pointer: nil when absent or null.
func (n Nullable[T]) Ptr() *T {
	if v, ok := n.Get(); ok {
		return &v
	}
	return nil
}

// UnmarshalJSON reads null as declared null and anything else as the value.
// encoding/json calls it for a present key only, so a missing key stays
// absent.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*n = Null[T]()
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = Some(v)
	return nil
}

// MarshalJSON writes null or the value (an absent field is left out by
// omitzero; written anyway, it is null).
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if v, ok := n.Get(); ok {
		return json.Marshal(v)
	}
	return []byte("null"), nil
}
