package esim

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/elastic/go-elasticsearch/v8"
)

// TestGoElasticsearchClient_SpeaksToTheSimulator drives the node with the
// official Go client fleetform uses, so product checks, paths and
// parameters are what a real client sends.
func TestGoElasticsearchClient_SpeaksToTheSimulator(t *testing.T) {
	c := newCluster(t, nil, Config{ClusterName: "main", License: "enterprise"})
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{c.srv.URL}, Username: "elastic", Password: "changeme"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	read := func(t *testing.T, body io.ReadCloser) map[string]any {
		t.Helper()
		defer body.Close()
		var m map[string]any
		if err := json.NewDecoder(body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}

	info, err := es.Info(es.Info.WithContext(ctx))
	if err != nil || info.IsError() {
		t.Fatalf("Info: %v %v", err, info)
	}
	if b := read(t, info.Body); b["cluster_name"] != "main" {
		t.Errorf("info: %v", b)
	}

	res, err := es.Index("fleetform-state", strings.NewReader(`{"kind":"output"}`), es.Index.WithDocumentID("o1"), es.Index.WithRefresh("wait_for"))
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("Index: %v %v", err, res)
	}
	created := read(t, res.Body)
	seq := int(created["_seq_no"].(float64))

	res, err = es.Index("fleetform-state", strings.NewReader(`{"kind":"output","v":2}`), es.Index.WithDocumentID("o1"),
		es.Index.WithIfSeqNo(seq+1), es.Index.WithIfPrimaryTerm(1))
	if err != nil || res.StatusCode != 409 {
		t.Fatalf("conditional index with stale seq_no: %v %v", err, res)
	}
	if b := read(t, res.Body); get(b, "error", "type") != "version_conflict_engine_exception" {
		t.Errorf("409 body: %v", b)
	}

	res, err = es.Get("fleetform-state", "o1")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("Get: %v %v", err, res)
	}
	if b := read(t, res.Body); get(b, "_source", "kind") != "output" {
		t.Errorf("get: %v", b)
	}

	res, err = es.Search(es.Search.WithIndex("fleetform-state"), es.Search.WithBody(strings.NewReader(`{"query":{"term":{"kind":"output"}},"size":100}`)),
		es.Search.WithSeqNoPrimaryTerm(true))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("Search: %v %v", err, res)
	}
	if b := read(t, res.Body); get(b, "hits", "total", "value") != 1.0 || get(b, "hits", "hits", 0, "_seq_no") != float64(seq) {
		t.Errorf("search: %v", b)
	}

	res, err = es.Security.CreateServiceToken("elastic", "fleet-server-remote", es.Security.CreateServiceToken.WithName("fleetform-west"))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("CreateServiceToken: %v %v", err, res)
	}
	token := get(read(t, res.Body), "token", "value").(string)
	tokenClient, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{c.srv.URL}, ServiceToken: token})
	if err != nil {
		t.Fatal(err)
	}
	res, err = tokenClient.Security.Authenticate()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("Authenticate with service token: %v %v", err, res)
	}
	if b := read(t, res.Body); b["username"] != "elastic/fleet-server-remote" {
		t.Errorf("authenticate: %v", b)
	}

	res, err = es.Security.CreateAPIKey(strings.NewReader(`{"name":"k","role_descriptors":{}}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("CreateAPIKey: %v %v", err, res)
	}
	encoded := read(t, res.Body)["encoded"].(string)
	keyClient, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{c.srv.URL}, APIKey: encoded})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := keyClient.Cluster.GetSettings(); err != nil || res.StatusCode != 200 {
		t.Errorf("GetSettings with API key: %v %v", err, res)
	}

	res, err = es.Cluster.PutSettings(strings.NewReader(`{"persistent":{"cluster.remote.main.mode":"proxy","cluster.remote.main.proxy_address":"127.0.0.1:9400"}}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("PutSettings: %v %v", err, res)
	}
	res, err = es.Cluster.RemoteInfo()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("RemoteInfo: %v %v", err, res)
	}
	if b := read(t, res.Body); get(b, "main", "mode") != "proxy" {
		t.Errorf("remote info: %v", b)
	}
}
