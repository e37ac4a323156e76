package importer

import (
	"strings"

	"github.com/fleetform/fleetform/plan"
)

// The reference import writes for a secret. Import never reads a secret's
// value; it writes where the value is to come from:
//
//   - the reference the state index records for the secret, when fleetform
//     owns the object (Options.Recorded): the repository is then what
//     fleetform last applied, and the first plan compares the secret as
//     before instead of saying "reference changed";
//   - otherwise a new environment variable (EnvName), for the operator to
//     fill in.

// recordedRef is the reference the state index records for the secret at
// path of object id of the builder's kind, as a document value, and its
// EnvVar (Reused set). ok is false when nothing usable is recorded; a
// recorded generate counts only where generateOK (only outputs with
// remote: may declare it).
func (b *builder) recordedRef(id, path string, generateOK bool) (ref map[string]any, ev EnvVar, ok bool) {
	desc := b.opts.Recorded[plan.Key(b.opts.Cluster, b.kind, id)][path]
	switch {
	case strings.HasPrefix(desc, "env:") && len(desc) > len("env:"):
		name := strings.TrimPrefix(desc, "env:")
		return map[string]any{"env": name}, EnvVar{Name: name, Path: path, Ref: desc, Reused: true}, true
	case strings.HasPrefix(desc, "file:") && len(desc) > len("file:"):
		return map[string]any{"file": strings.TrimPrefix(desc, "file:")}, EnvVar{Path: path, Ref: desc, Reused: true}, true
	case desc == "generate" && generateOK:
		return map[string]any{"generate": true}, EnvVar{Path: path, Ref: desc, Reused: true}, true
	}
	return nil, EnvVar{}, false
}

// newRef is a reference to a new environment variable for the secret at
// path of object id of the builder's kind.
func (b *builder) newRef(id, path string) (map[string]any, EnvVar) {
	name := EnvName(b.kind, id, path)
	return map[string]any{"env": name}, EnvVar{Name: name, Path: path, Ref: "env:" + name}
}

// secretRef is the recorded reference of the secret when there is one,
// else a new one.
func (b *builder) secretRef(id, path string) (map[string]any, EnvVar) {
	if ref, ev, ok := b.recordedRef(id, path, false); ok {
		return ref, ev
	}
	return b.newRef(id, path)
}
