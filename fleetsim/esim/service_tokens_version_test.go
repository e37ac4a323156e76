package esim

import "testing"

// TestServiceTokens_FleetServerRemote_ByVersion: the elastic/fleet-server-remote
// account exists from 8.12.0 (elastic/elasticsearch#100950; FleetServerRemoteSince,
// docs/fleetsim-inferred.md 61). Before it Elasticsearch answers a token create
// with IndexServiceAccountTokenStore.createToken's IllegalArgumentException
// "service account [elastic/fleet-server-remote] does not exist" (400
// illegal_argument_exception), lists the account's tokens without checking it
// (200, count 0: IndexServiceAccountTokenStore.findTokensFor searches by
// username), answers a delete with found: false (deleteToken: false for an
// unknown account) and refuses its bearer tokens (ServiceAccountService
// .authenticateToken: 401 "failed to authenticate service account [..] with
// token name [..]"). elastic/fleet-server is there at every version.
func TestServiceTokens_FleetServerRemote_ByVersion(t *testing.T) {
	tests := []struct {
		version, service string
		want             bool
	}{
		{"8.11.9", "fleet-server-remote", false},
		{"8.11.0", "fleet-server-remote", false},
		{"8.12.0-SNAPSHOT", "fleet-server-remote", true},
		{"8.12.0", "fleet-server-remote", true},
		{"9.1.0", "fleet-server-remote", true},
		{"8.11.9", "fleet-server", true},
	}
	for _, tt := range tests {
		t.Run(tt.version+"/"+tt.service, func(t *testing.T) {
			c := newCluster(t, nil, Config{Version: tt.version})
			base := "/_security/service/elastic/" + tt.service + "/credential"
			r := c.do(t, "POST", base+"/token/t1", nil, superuser)
			if tt.want {
				if r.status != 200 {
					t.Fatalf("create at %s: %d %s", tt.version, r.status, r.raw)
				}
				bearer := "Bearer " + get(r.body, "token", "value").(string)
				if a := c.do(t, "GET", "/_security/_authenticate", nil, bearer); a.status != 200 {
					t.Errorf("authenticate: %d %s", a.status, a.raw)
				}
				return
			}
			typ, reason := errOf(t, r)
			if r.status != 400 || typ != "illegal_argument_exception" || reason != "service account [elastic/"+tt.service+"] does not exist" {
				t.Errorf("create: %d %s %q", r.status, typ, reason)
			}
			list := c.must(t, 200, "GET", base, nil)
			if list["service_account"] != "elastic/"+tt.service || list["count"] != 0.0 {
				t.Errorf("list: %v", list)
			}
			if d := c.do(t, "DELETE", base+"/token/t1", nil, superuser); d.status != 404 || d.body["found"] != false {
				t.Errorf("delete: %d %s", d.status, d.raw)
			}
			// A token as a newer cluster would have minted it.
			bearer := "Bearer " + encodeServiceToken("elastic/"+tt.service, "t1", "0123456789abcdefghijkl")
			a := c.do(t, "GET", "/_security/_authenticate", nil, bearer)
			typ, reason = errOf(t, a)
			if a.status != 401 || typ != "security_exception" || reason != "failed to authenticate service account [elastic/"+tt.service+"] with token name [t1]" {
				t.Errorf("authenticate: %d %s %q", a.status, typ, reason)
			}
		})
	}
}

// TestServiceTokens_ListUnknownAccount_Empty: listing the tokens of an
// account Elasticsearch does not have is not an error (findTokensFor does
// not resolve the account), unlike creating one.
func TestServiceTokens_ListUnknownAccount_Empty(t *testing.T) {
	c := newCluster(t, nil, Config{})
	list := c.must(t, 200, "GET", "/_security/service/elastic/nope/credential", nil)
	if list["service_account"] != "elastic/nope" || list["count"] != 0.0 || len(list["tokens"].(map[string]any)) != 0 {
		t.Errorf("list: %v", list)
	}
}
