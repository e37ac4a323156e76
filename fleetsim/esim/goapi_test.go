package esim

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
)

func TestGoAPI_CCRLifecycle(t *testing.T) {
	_, west := linked(t)
	if _, err := west.Follow(followerName, FollowRequest{RemoteCluster: "main", LeaderIndex: "fleet-synced-integrations",
		Settings: json.RawMessage(`{"index.number_of_replicas":0}`), Parameters: map[string]any{"max_read_request_operation_count": 10}}, "1"); err != nil {
		t.Fatal(err)
	}
	idx := get(west.must(t, 200, "GET", follower, nil), followerName, "settings", "index").(map[string]any)
	if idx["number_of_replicas"] != "0" || get(idx, "xpack", "ccr", "following_index") != "true" {
		t.Errorf("follower settings: %v", idx)
	}
	if p := get(west.must(t, 200, "GET", follower+"/_ccr/info", nil), "follower_indices", 0, "parameters", "max_read_request_operation_count"); p != 10.0 {
		t.Errorf("parameters: %v", p)
	}
	var esErr *Error
	if err := west.ResumeFollow(followerName); !errors.As(err, &esErr) || esErr.Type != "resource_already_exists_exception" {
		t.Errorf("ResumeFollow active: %v", err)
	}
	if err := west.PauseFollow(followerName); err != nil {
		t.Fatal(err)
	}
	if fi, _ := west.FollowerStatus(followerName); fi.Status != "paused" {
		t.Errorf("status %q", fi.Status)
	}
	if err := west.Unfollow(followerName); err == nil {
		t.Errorf("Unfollow of an open index succeeded")
	}
	if err := west.ResumeFollow(followerName); err != nil {
		t.Fatal(err)
	}
	if err := west.PauseFollow("missing"); !errors.As(err, &esErr) || esErr.Status != http.StatusNotFound {
		t.Errorf("PauseFollow missing: %v", err)
	}
	if !west.DeleteIndex(followerName) || west.DeleteIndex(followerName) {
		t.Errorf("DeleteIndex must report existence")
	}
	if _, ok := west.FollowerStatus(followerName); ok {
		t.Errorf("deleted follower still reported")
	}
}

func TestGoAPI_UsersAndKeys(t *testing.T) {
	n := New(Config{ClusterName: "c", Version: "9.2.0"})
	if n.Name() != "c" || n.Version() != "9.2.0" {
		t.Errorf("name/version %q %q", n.Name(), n.Version())
	}
	n.AddUser("bob", "pw", "superuser")
	if p, err := n.Authenticate(basic("bob", "pw")); err != nil || !p.Superuser {
		t.Errorf("bob: %+v %v", p, err)
	}
	if !n.DeleteUser("bob") || n.DeleteUser("bob") {
		t.Errorf("DeleteUser must report existence")
	}
	if _, err := n.Authenticate(basic("bob", "pw")); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("deleted user authenticates: %v", err)
	}
	k, err := n.CreateAPIKey(Principal{Username: "elastic"}, APIKeyRequest{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if !n.InvalidateAPIKey(k.ID) || n.InvalidateAPIKey(k.ID) || n.InvalidateAPIKey("nope") {
		t.Errorf("InvalidateAPIKey must report a change")
	}
	if _, err := n.Authenticate("ApiKey " + k.Encoded); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("invalidated key authenticates: %v", err)
	}
	for _, req := range []APIKeyRequest{{}, {Name: "_x"}, {Name: "x", Expiration: "tomorrow"}} {
		if _, err := n.CreateAPIKey(Principal{Username: "elastic"}, req); err == nil {
			t.Errorf("CreateAPIKey(%+v) succeeded", req)
		}
	}
	if _, err := n.CreateAPIKey(Principal{Username: "elastic"}, APIKeyRequest{Name: "dup", ID: k.ID}); err == nil {
		t.Errorf("duplicate key id accepted")
	}
}

func TestErrorBodies_ShapeOfInjectedFaults(t *testing.T) {
	tests := []struct {
		status int
		typ    string
	}{
		{429, "es_rejected_execution_exception"},
		{503, "master_not_discovered_exception"},
		{500, "exception"},
		{401, "security_exception"},
		{403, "security_exception"},
		{404, "resource_not_found_exception"},
		{409, "version_conflict_engine_exception"},
		{400, "illegal_argument_exception"},
	}
	for _, tt := range tests {
		ct, body := FaultResponse(tt.status, "GET", "/x")
		var env struct {
			Error struct {
				Type      string `json:"type"`
				Reason    string `json:"reason"`
				RootCause []struct {
					Type string `json:"type"`
				} `json:"root_cause"`
			} `json:"error"`
			Status int `json:"status"`
		}
		if err := json.Unmarshal(body, &env); err != nil || ct != "application/json" {
			t.Fatalf("%d: %v %s", tt.status, err, ct)
		}
		if env.Status != tt.status || env.Error.Type != tt.typ || len(env.Error.RootCause) != 1 || env.Error.RootCause[0].Type != tt.typ || env.Error.Reason == "" {
			t.Errorf("%d: %s", tt.status, body)
		}
	}
	e := &Error{Status: 404, Type: "index_not_found_exception", Reason: "no such index [x]"}
	if e.Error() != "[404] index_not_found_exception: no such index [x]" {
		t.Errorf("Error() = %q", e.Error())
	}
}

func TestSearch_MatchAndGlobEdgeCases(t *testing.T) {
	c := newCluster(t, nil, Config{})
	for i, src := range []string{`{"title":"Nginx Access Logs"}`, `{"title":"system"}`, `{"title":["a","Logs"]}`} {
		if _, err := c.IndexDoc("t", string(rune('a'+i)), json.RawMessage(src)); err != nil {
			t.Fatal(err)
		}
	}
	got := hitIDs(c.must(t, 200, "POST", "/t/_search", map[string]any{"query": map[string]any{"match": map[string]any{"title": "logs"}}}))
	if len(got) != 2 || got[0] != "a" || got[1] != "c" {
		t.Errorf("match: %v", got)
	}
	for _, tt := range []struct {
		pattern, s string
		want       bool
	}{
		{"a*c", "abc", true}, {"a*c", "abd", false}, {"*", "", true}, {"a*b*c", "aXbYc", true}, {"a*b*c", "aXcYb", false}, {"abc", "abc", true}, {"*-ccr-*", "fleet-ccr-x", true},
	} {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q,%q) = %v", tt.pattern, tt.s, got)
		}
	}
}
