package esim

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestFleetSecrets_PostGetDelete_StoredInHiddenFleetSecretsIndex(t *testing.T) {
	c := newCluster(t, nil, Config{})
	created := c.must(t, 201, "POST", "/_fleet/secret", map[string]any{"value": "s3cr3t-token"})
	id, _ := created["id"].(string)
	if id == "" {
		t.Fatalf("post: %v", created)
	}
	got := c.must(t, 200, "GET", "/_fleet/secret/"+id, nil)
	if got["id"] != id || got["value"] != "s3cr3t-token" {
		t.Errorf("get: %v", got)
	}
	if v, ok := c.GetFleetSecret(id); !ok || v != "s3cr3t-token" {
		t.Errorf("GetFleetSecret = %q, %v", v, ok)
	}
	if names := c.ResolveIndices("*", false); len(names) != 0 {
		t.Errorf(".fleet-secrets must be hidden, * resolved %v", names)
	}
	if names := c.ResolveIndices(".fleet-secrets", false); len(names) != 1 {
		t.Errorf(".fleet-secrets by name: %v", names)
	}
	if del := c.must(t, 200, "DELETE", "/_fleet/secret/"+id, nil); del["deleted"] != true {
		t.Errorf("delete: %v", del)
	}
	for _, method := range []string{"GET", "DELETE"} {
		r := c.do(t, method, "/_fleet/secret/"+id, nil, superuser)
		if typ, reason := errOf(t, r); r.status != 404 || typ != "resource_not_found_exception" || reason != "No secret with id ["+id+"]" {
			t.Errorf("%s deleted secret: %d %s %q", method, r.status, typ, reason)
		}
	}
	goID := c.CreateFleetSecret("other")
	if ids := c.FleetSecretIDs(); len(ids) != 1 || ids[0] != goID {
		t.Errorf("FleetSecretIDs = %v", ids)
	}
	if !c.DeleteFleetSecret(goID) || c.DeleteFleetSecret(goID) {
		t.Errorf("DeleteFleetSecret must report existence")
	}
}

func TestFleetSecrets_BadBodies_400(t *testing.T) {
	c := newCluster(t, nil, Config{})
	for _, tt := range []struct {
		name string
		body any
		typ  string
	}{
		{"no body", nil, "parse_exception"},
		{"missing value", map[string]any{}, "action_request_validation_exception"},
		{"unknown field", map[string]any{"value": "x", "extra": 1}, "x_content_parse_exception"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(t, "POST", "/_fleet/secret", tt.body, superuser)
			if typ, _ := errOf(t, r); r.status != 400 || typ != tt.typ {
				t.Errorf("got %d %s", r.status, r.raw)
			}
		})
	}
}

func TestFleetSecrets_APIKeyWithoutPrivilege_403(t *testing.T) {
	c := newCluster(t, nil, Config{})
	key := c.must(t, 200, "POST", "/_security/api_key", map[string]any{"name": "reader", "role_descriptors": map[string]any{
		"r": map[string]any{"indices": []any{map[string]any{"names": []string{"logs-*"}, "privileges": []string{"read"}}}},
	}})
	r := c.do(t, "POST", "/_fleet/secret", map[string]any{"value": "x"}, "ApiKey "+key["encoded"].(string))
	if typ, reason := errOf(t, r); r.status != 403 || typ != "security_exception" || !strings.HasPrefix(reason, "action [cluster:admin/fleet/secrets/post] is unauthorized for API key id [") {
		t.Errorf("got %d %s %q", r.status, typ, reason)
	}
	if r := c.do(t, "GET", "/logs-x/_search?ignore_unavailable=true", nil, "ApiKey "+key["encoded"].(string)); r.status != 200 {
		t.Errorf("read on granted index pattern: %d %s", r.status, r.raw)
	}
}

func TestSnapshot_RestoreKeepsStateAndCredentialsWork(t *testing.T) {
	res := &resolver{}
	c := newCluster(t, res, Config{ClusterName: "main", License: "platinum"})
	c.AddUser("bob", "bobs-password", "viewer")
	tok, err := c.CreateServiceToken("elastic", "fleet-server-remote", "t1")
	if err != nil {
		t.Fatal(err)
	}
	key := c.must(t, 200, "POST", "/_security/api_key", map[string]any{"name": "k"})
	secretID := c.CreateFleetSecret("fleet-secret-value")
	c.must(t, 201, "PUT", "/idx/_doc/1", map[string]any{"a": 1})
	c.must(t, 200, "PUT", "/idx/_doc/1", map[string]any{"a": 2})
	c.must(t, 200, "PUT", "/_cluster/settings", map[string]any{"persistent": map[string]any{"cluster.remote.x.seeds": []string{"h:1", "h:2"}}})
	snap := c.Snapshot()
	for _, secret := range []string{"bobs-password", "changeme", tok.Value, key["api_key"].(string), key["encoded"].(string)} {
		if bytes.Contains(snap, []byte(secret)) {
			t.Errorf("snapshot holds a credential in clear text: %q", secret)
		}
	}
	if !json.Valid(snap) {
		t.Fatal("snapshot is not JSON")
	}

	restored := newCluster(t, res, Config{ClusterName: "main"})
	if err := restored.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if restored.License() != "platinum" || restored.UUID() != c.UUID() {
		t.Errorf("licence/uuid not restored")
	}
	for _, auth := range []string{basic("bob", "bobs-password"), "Bearer " + tok.Value, "ApiKey " + key["encoded"].(string)} {
		if _, err := restored.Authenticate(auth); err != nil {
			t.Errorf("credential lost in restore: %v", err)
		}
	}
	if v, ok := restored.GetFleetSecret(secretID); !ok || v != "fleet-secret-value" {
		t.Errorf("fleet secret: %q %v", v, ok)
	}
	doc := restored.must(t, 200, "GET", "/idx/_doc/1", nil)
	if doc["_seq_no"] != 1.0 || doc["_version"] != 2.0 || get(doc, "_source", "a") != 2.0 {
		t.Errorf("doc: %v", doc)
	}
	if hits := hitIDs(restored.must(t, 200, "POST", "/idx/_search", map[string]any{"query": map[string]any{"term": map[string]any{"a": 2}}})); len(hits) != 1 {
		t.Errorf("search after restore: %v", hits)
	}
	if next := restored.must(t, 200, "PUT", "/idx/_doc/1", map[string]any{"a": 3}); next["_seq_no"] != 2.0 {
		t.Errorf("seq_no continues after restore: %v", next)
	}
	p, _ := restored.ClusterSettings()
	if seeds, ok := p["cluster.remote.x.seeds"].([]string); !ok || len(seeds) != 2 {
		t.Errorf("settings: %#v", p)
	}
	if err := restored.Restore(json.RawMessage(`{"format":99}`)); err == nil {
		t.Errorf("unknown format accepted")
	}
	if err := restored.Restore(json.RawMessage(`not json`)); err == nil {
		t.Errorf("garbage accepted")
	}
	restored.Reset()
	if restored.IndexExists("idx") {
		t.Errorf("Reset kept indices")
	}
	if _, err := restored.Authenticate(superuser); err != nil {
		t.Errorf("Reset must bring back elastic/changeme: %v", err)
	}
}
