package remote

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/schema"
)

func ptr[T any](v T) *T { return &v }

func TestDesired(t *testing.T) {
	west := schema.Remote{Name: "west", MainLink: &schema.MainLink{Alias: "main", Mode: "proxy", ProxyAddress: "es.main:9400"}}
	out := schema.Output{
		ID: "remote-west", Name: "Remote West", Type: "remote_elasticsearch", Remote: "west",
		Hosts:            []string{"https://ES.West.example"},
		Secrets:          &schema.OutputSecrets{ServiceToken: &schema.SecretRef{Generate: true}},
		KibanaAPIKey:     &schema.SecretRef{Generate: true},
		SyncIntegrations: ptr(true),
	}
	got, problems := Desired(out, west)
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	want := Objects{
		Output: "remote-west", OutputName: "Remote West", Remote: "west", SyncVia: SyncViaCCR,
		ServiceToken: &TokenSpec{Prefix: "fleetform-remote-west-"},
		KibanaAPIKey: &APIKeySpec{Prefix: "fleetform-remote-west-kibana-"},
		Link: &LinkSpec{Alias: "main", Settings: map[string]any{
			"cluster.remote.main.mode": "proxy", "cluster.remote.main.proxy_address": "es.main:9400",
			"cluster.remote.main.server_name": nil, "cluster.remote.main.seeds": nil,
		}},
		Follower: &FollowerSpec{Index: "fleet-synced-integrations-ccr-remote-west", RemoteCluster: "main", LeaderIndex: "fleet-synced-integrations"},
		ESOutput: &ESOutputSpec{ID: "fleetform-sync-remote-west", Name: "Remote West (fleetform sync target)",
			Hosts: []string{"https://es.west.example:443"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if n := got.ServiceToken.Name(2); n != "fleetform-remote-west-2" {
		t.Errorf("token name = %q", n)
	}
	rd := got.KibanaAPIKey.RoleDescriptors()["fleetform_remote_sync_status"]
	if len(rd.Applications) != 1 || len(rd.Cluster) != 0 || len(rd.Indices) != 0 {
		t.Fatalf("role descriptor = %+v; want one application privilege and nothing in Elasticsearch", rd)
	}
	app := rd.Applications[0]
	if d := cmp.Diff(elastic.ApplicationPrivilege{Application: "kibana-.kibana", Privileges: []string{"feature_fleet.read", "feature_fleetv2.read"},
		Resources: []string{"*"}}, app); d != "" {
		t.Errorf("key application privileges (-want +got):\n%s", d)
	}
}

func TestDesired_Variants(t *testing.T) {
	tests := []struct {
		name    string
		out     schema.Output
		remote  schema.Remote
		check   func(t *testing.T, o Objects)
		problem string
	}{
		{
			name:   "direct sync has no ccr objects",
			out:    schema.Output{ID: "o", Name: "o", SyncIntegrations: ptr(true), SyncVia: "direct", Hosts: []string{"https://x"}},
			remote: schema.Remote{Name: "r"},
			check: func(t *testing.T, o Objects) {
				if o.SyncVia != SyncViaDirect || o.Link != nil || o.Follower != nil || o.ESOutput != nil {
					t.Errorf("got %+v", o)
				}
			},
		},
		{
			name:   "sync off: only credentials",
			out:    schema.Output{ID: "o", ServiceToken: &schema.SecretRef{Generate: true}},
			remote: schema.Remote{Name: "r"},
			check: func(t *testing.T, o Objects) {
				if o.SyncVia != "" || o.ServiceToken == nil || !o.ServiceToken.Plain || o.KibanaAPIKey != nil {
					t.Errorf("got %+v", o)
				}
			},
		},
		{
			name:   "env token is not generated",
			out:    schema.Output{ID: "o", Secrets: &schema.OutputSecrets{ServiceToken: &schema.SecretRef{Env: "T"}}},
			remote: schema.Remote{Name: "r"},
			check: func(t *testing.T, o Objects) {
				if o.ServiceToken != nil {
					t.Errorf("got %+v", o.ServiceToken)
				}
			},
		},
		{
			name: "sniff link removes proxy keys",
			out:  schema.Output{ID: "o", Name: "O", SyncIntegrations: ptr(true), Hosts: []string{"https://x"}},
			remote: schema.Remote{Name: "r", MainLink: &schema.MainLink{Alias: "m", Mode: "sniff",
				Seeds: []string{"es.main:9300"}}},
			check: func(t *testing.T, o Objects) {
				want := map[string]any{"cluster.remote.m.mode": "sniff", "cluster.remote.m.seeds": []string{"es.main:9300"},
					"cluster.remote.m.proxy_address": nil, "cluster.remote.m.server_name": nil}
				if d := cmp.Diff(want, o.Link.Settings); d != "" {
					t.Errorf("(-want +got):\n%s", d)
				}
			},
		},
		{
			name:    "ccr without main_link",
			out:     schema.Output{ID: "o", Name: "O", SyncIntegrations: ptr(true), Hosts: []string{"https://x"}},
			remote:  schema.Remote{Name: "r"},
			problem: "r: output o: main-link: sync_via: ccr needs clusters.remotes[r].main_link",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, ps := Desired(tt.out, tt.remote)
			if tt.problem != "" {
				if len(ps) != 1 || !strings.HasPrefix(ps[0].String(), tt.problem) {
					t.Fatalf("problems %v, want %q", ps, tt.problem)
				}
				return
			}
			if len(ps) != 0 {
				t.Fatalf("problems: %v", ps)
			}
			tt.check(t, o)
		})
	}
}

func TestFollowerIndexName(t *testing.T) {
	for in, want := range map[string]string{
		"remote-west":      "fleet-synced-integrations-ccr-remote-west",
		"Remote West":      "fleet-synced-integrations-ccr-remote-west",
		`a/b\c*d?e"f<g>h|`: "fleet-synced-integrations-ccr-a-b-c-d-e-f-g-h-",
	} {
		if got := FollowerIndexName(in); got != want {
			t.Errorf("FollowerIndexName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLinkDiff(t *testing.T) {
	spec := LinkSpec{Alias: "m", Settings: map[string]any{
		"cluster.remote.m.mode": "proxy", "cluster.remote.m.proxy_address": "a:9400", "cluster.remote.m.seeds": nil}}
	if d := LinkDiff(spec, map[string]any{"cluster.remote.m.mode": "proxy", "cluster.remote.m.proxy_address": "a:9400"}); d != nil {
		t.Errorf("in sync: got %v", d)
	}
	got := LinkDiff(spec, map[string]any{"cluster.remote.m.seeds": []any{"a:9300"}})
	want := map[string]any{"cluster.remote.m.mode": "proxy", "cluster.remote.m.proxy_address": "a:9400", "cluster.remote.m.seeds": nil}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestDecideFollower(t *testing.T) {
	spec := FollowerSpec{Index: "fleet-synced-integrations-ccr-w", RemoteCluster: "main", LeaderIndex: LeaderIndex}
	active := FollowerObserved{Exists: true, Follower: true, RemoteCluster: "main", LeaderIndex: LeaderIndex, Status: "active"}
	tests := []struct {
		name  string
		have  FollowerObserved
		owned bool
		want  FollowerStep
	}{
		{"missing", FollowerObserved{}, false, FollowerCreate},
		{"healthy", active, true, FollowerOK},
		{"paused", func() FollowerObserved { h := active; h.Status = "paused"; return h }(), true, FollowerResume},
		{"operations no longer available", func() FollowerObserved {
			h := active
			h.FatalError = "Operations are no longer available for replicating. Existing retention leases [...]"
			return h
		}(), false, FollowerRecreate},
		{"other fatal error is reported, not recreated", func() FollowerObserved { h := active; h.FatalError = "disk full"; return h }(), true, FollowerOK},
		{"plain index not ours", FollowerObserved{Exists: true}, false, FollowerBlocked},
		{"plain index ours", FollowerObserved{Exists: true}, true, FollowerRecreate},
		{"wrong leader, ours", func() FollowerObserved { h := active; h.RemoteCluster = "old"; return h }(), true, FollowerRecreate},
		{"wrong leader, not ours", func() FollowerObserved { h := active; h.RemoteCluster = "old"; return h }(), false, FollowerBlocked},
	}
	for _, tt := range tests {
		if got, why := DecideFollower(spec, tt.have, tt.owned); got != tt.want {
			t.Errorf("%s: got %q (%s), want %q", tt.name, got, why, tt.want)
		}
	}
}
