// Package fleetform holds the JSON Schema of the desired-state document, so that
// packages below the module root (which cannot embed ../ files) can load it.
package fleetform

import _ "embed"

// SchemaJSON is fleet.schema.json, the JSON Schema (2020-12) of fleetform's
// desired-state YAML documents.
//
//go:embed fleet.schema.json
var SchemaJSON []byte
