package esim

import (
	"encoding/json"
	"fmt"
)

// snapshotFormat versions the Snapshot encoding.
const snapshotFormat = 1

type snapshot struct {
	Format int    `json:"format"`
	State  *state `json:"state"`
}

// Snapshot returns the node's whole state as JSON: users, service tokens and
// API keys (as salted hashes, never their secrets), settings, indices with
// their documents, CCR metadata. Fleet secret values are documents of
// .fleet-secrets and so are included, as ES persists them.
func (n *Node) Snapshot() json.RawMessage {
	n.mu.Lock()
	defer n.mu.Unlock()
	b, err := json.Marshal(snapshot{Format: snapshotFormat, State: n.st})
	if err != nil {
		panic("esim: marshal snapshot: " + err.Error())
	}
	return b
}

// Restore replaces the node's state with a Snapshot.
func (n *Node) Restore(data json.RawMessage) error {
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("esim: restore: %w", err)
	}
	if s.Format != snapshotFormat || s.State == nil {
		return fmt.Errorf("esim: restore: unsupported snapshot format %d", s.Format)
	}
	st := s.State
	for _, m := range []*map[string]any{&st.Persistent, &st.Transient} {
		if *m == nil {
			*m = map[string]any{}
		}
		for k, v := range *m {
			// JSON turns []string into []any; settings keep lists as []string.
			if l, ok := v.([]any); ok {
				(*m)[k] = settingString(l)
			}
		}
	}
	if st.Users == nil {
		st.Users = map[string]*user{}
	}
	if st.ServiceTokens == nil {
		st.ServiceTokens = map[string]*serviceToken{}
	}
	if st.APIKeys == nil {
		st.APIKeys = map[string]*apiKey{}
	}
	if st.Indices == nil {
		st.Indices = map[string]*index{}
	}
	for name, ix := range st.Indices {
		if ix == nil || ix.Name != name {
			return fmt.Errorf("esim: restore: index entry %q is inconsistent", name)
		}
		if ix.Docs == nil {
			ix.Docs = map[string]*storedDoc{}
		}
		for id, d := range ix.Docs {
			if d == nil || json.Unmarshal(d.Source, &d.src) != nil {
				return fmt.Errorf("esim: restore: document %s/%s has no valid source", name, id)
			}
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.st = st
	return nil
}
