package remote

import (
	"errors"
	"strings"
	"testing"
)

func TestPreflight(t *testing.T) {
	base := func() PreflightInput {
		return PreflightInput{
			Output: "remote-west", Remote: "west", SyncIntegrations: true, SyncVia: SyncViaCCR,
			MainLicense: "enterprise", RemoteLicense: "enterprise",
			OutputHosts:     []string{"https://ES.west.example"},
			RemoteESOutputs: map[string][]string{"fleet-default-output": {"https://es.west.example:443"}},
		}
	}
	tests := []struct {
		name   string
		modify func(*PreflightInput)
		want   []string // "cluster check substring", in order
	}{
		{name: "clean", modify: func(*PreflightInput) {}},
		{name: "main licence too low for ccr", modify: func(in *PreflightInput) { in.MainLicense = "platinum" },
			want: []string{`main license Remote sync integrations require at least an Enterprise license. (main licence is "platinum"`}},
		{name: "remote licence too low for ccr", modify: func(in *PreflightInput) { in.RemoteLicense = "basic" },
			want: []string{`west license Remote sync integrations require at least an Enterprise license. (west licence is "basic"`}},
		{name: "trial counts as enterprise", modify: func(in *PreflightInput) { in.RemoteLicense = "trial" }},
		{name: "direct mode needs no licence and no host match", modify: func(in *PreflightInput) {
			in.SyncVia, in.MainLicense, in.RemoteLicense = SyncViaDirect, "basic", "basic"
			in.RemoteESOutputs = nil
			in.Followers = []string{"fleet-synced-integrations-ccr-other"}
		}},
		{name: "sync off needs nothing", modify: func(in *PreflightInput) {
			in.SyncIntegrations, in.MainLicense = false, "basic"
			in.RemoteESOutputs = nil
		}},
		{name: "another follower", modify: func(in *PreflightInput) { in.Followers = []string{"fleet-synced-integrations-ccr-other"} },
			want: []string{"west followers Not supported to sync multiple indices with prefix fleet-synced-integrations-ccr-* (the remote already has fleet-synced-integrations-ccr-other"}},
		{name: "host mismatch", modify: func(in *PreflightInput) {
			in.RemoteESOutputs = map[string][]string{"fleet-default-output": {"https://es-west.internal:9200"}}
		}, want: []string{"west hosts no elasticsearch output on the remote has one of the output's hosts [https://es.west.example:443] (remote outputs: fleet-default-output [https://es-west.internal:9200])"}},
		{name: "host match only after normalisation (port, case)", modify: func(in *PreflightInput) {
			in.OutputHosts = []string{"https://ES.WEST.example:443/"}
			in.RemoteESOutputs = map[string][]string{"a": {"http://x:80"}, "b": {"https://es.west.EXAMPLE"}}
		}},
		{name: "no remote es output at all", modify: func(in *PreflightInput) { in.RemoteESOutputs = nil },
			want: []string{"west hosts no elasticsearch output on the remote has one of the output's hosts [https://es.west.example:443] (remote outputs: none)"}},
		{name: "kibana unreachable", modify: func(in *PreflightInput) {
			in.Kibana = &Probe{URL: "https://kb.west:5601", Err: errors.New("connection refused")}
		}, want: []string{"west kibana kibana_url https://kb.west:5601 is unreachable: connection refused"}},
		{name: "kibana key rejected", modify: func(in *PreflightInput) { in.Kibana = &Probe{URL: "https://kb.west:5601", Status: 401} },
			want: []string{"west kibana kibana_api_key does not authenticate against https://kb.west:5601 (401)"}},
		{name: "kibana key lacks privileges", modify: func(in *PreflightInput) { in.Kibana = &Probe{URL: "https://kb.west:5601", Status: 403} },
			want: []string{"west kibana kibana_api_key lacks feature_fleet.read + feature_fleetv2.read on kibana-.kibana (https://kb.west:5601 answered 403)"}},
		{name: "kibana ok", modify: func(in *PreflightInput) { in.Kibana = &Probe{URL: "https://kb.west:5601", Status: 200} }},
		{name: "service token rejected", modify: func(in *PreflightInput) { in.ServiceToken = &Probe{URL: "https://es.west:9200", Status: 401} },
			want: []string{"west service-token the service token does not authenticate against https://es.west:9200 (401)"}},
		{name: "everything wrong, sorted", modify: func(in *PreflightInput) {
			in.MainLicense, in.RemoteLicense = "gold", "gold"
			in.Followers = []string{"fleet-synced-integrations-ccr-x"}
			in.ServiceToken = &Probe{URL: "u", Status: 401}
		}, want: []string{"main license", "west followers", "west license", "west service-token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.modify(&in)
			got := Preflight(in)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				s := got[i].Cluster + " " + got[i].Check + " " + got[i].Message
				if !strings.HasPrefix(s, w) {
					t.Errorf("problem %d = %q, want prefix %q", i, s, w)
				}
				if got[i].Output != "remote-west" {
					t.Errorf("problem %d output = %q", i, got[i].Output)
				}
			}
		})
	}
}

func TestPolicyOutputPreflight(t *testing.T) {
	if got := PolicyOutputPreflight("gold", nil); got != nil {
		t.Errorf("no per-policy outputs: got %v", got)
	}
	if got := PolicyOutputPreflight("platinum", []string{"p"}); got != nil {
		t.Errorf("platinum: got %v", got)
	}
	got := PolicyOutputPreflight("gold", []string{"b", "a"})
	want := `main: per-policy-output-license: Invalid licence to set per policy output, you need platinum licence (main licence is "gold"; agent policies: a, b)`
	if len(got) != 1 || got[0].String() != want {
		t.Errorf("got %v, want %s", got, want)
	}
}
