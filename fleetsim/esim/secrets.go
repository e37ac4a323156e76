package esim

import (
	"encoding/json"
	"net/http"
)

// fleetSecretsIndex is the system index ES's Fleet plugin keeps secrets in.
const fleetSecretsIndex = ".fleet-secrets"

// CreateFleetSecret stores a value in .fleet-secrets (POST /_fleet/secret)
// and returns its id.
func (n *Node) CreateFleetSecret(value string) string {
	src, err := json.Marshal(map[string]string{"value": value})
	if err != nil {
		panic("esim: marshal secret: " + err.Error())
	}
	n.ensureSecretsIndex()
	d, _, e := n.writeDoc(fleetSecretsIndex, "", src, WriteOptions{OpType: "create"})
	if e != nil {
		panic("esim: store secret: " + e.Error())
	}
	return d.ID
}

func (n *Node) ensureSecretsIndex() {
	n.mu.Lock()
	_, ok := n.st.Indices[fleetSecretsIndex]
	n.mu.Unlock()
	if ok {
		return
	}
	// Lost races surface as resource_already_exists_exception, which is fine.
	_ = n.CreateIndex(fleetSecretsIndex, json.RawMessage(`{"settings":{"index.hidden":true}}`))
}

// GetFleetSecret returns a secret's value (GET /_fleet/secret/{id}).
func (n *Node) GetFleetSecret(id string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ix := n.st.Indices[fleetSecretsIndex]
	if ix == nil || ix.Docs[id] == nil {
		return "", false
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(ix.Docs[id].Source, &v); err != nil {
		return "", false
	}
	return v.Value, true
}

// DeleteFleetSecret deletes a secret and reports whether it existed.
func (n *Node) DeleteFleetSecret(id string) bool {
	_, e := n.deleteDoc(fleetSecretsIndex, id, WriteOptions{})
	return e == nil
}

// FleetSecretIDs lists the ids of all stored secrets (for leak and orphan checks).
func (n *Node) FleetSecretIDs() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	ix := n.st.Indices[fleetSecretsIndex]
	if ix == nil {
		return nil
	}
	return sortedKeys(ix.Docs)
}

func errNoSecret(id string) *Error {
	return newErr(http.StatusNotFound, "resource_not_found_exception", "No secret with id [%s]", id)
}
