package remote

import (
	"errors"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/esim"
	"github.com/fleetform/fleetform/reconciler"
)

// TestTwoCluster_UnresolvableSecretWritesNothing is issue 10 item 5 for a
// two-cluster apply: an unreadable reference of a main-cluster output used
// to stop the main apply only after the remote link, tokens and follower
// were written. The references are read before the first write, on any
// cluster.
func TestTwoCluster_UnresolvableSecretWritesNothing(t *testing.T) {
	body := ccrBody + `
  - id: ls
    name: ls
    type: logstash
    hosts: ["ls.example:5044"]
    secrets:
      ssl:
        key: {env: FF_TEST_UNSET_LS_KEY}
`
	body = strings.Replace(body, "packages:\n  - {name: nginx, version: 2.0.0}\n", "", 1)
	body = strings.Replace(body, "outputs:", "packages:\n  - {name: nginx, version: 2.0.0}\noutputs:", 1)
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, body)
	tc := env.connect(t, ConnectOptions{})
	env.sim.ClearRequests()
	_, err := tc.Apply(t.Context(), env.doc, nil, applyOpts())
	if !errors.Is(err, reconciler.ErrSecretsUnresolved) || !strings.Contains(err.Error(), "output ls: secrets.ssl.key: resolve secret: env:FF_TEST_UNSET_LS_KEY") {
		t.Fatalf("err = %v, want ErrSecretsUnresolved naming output ls", err)
	}
	for _, r := range env.sim.Requests() {
		if !esim.ReadOnly(r.Method, r.Path) && !strings.HasPrefix(r.Path, "/_sim") {
			t.Errorf("write before the secret check: %s %s %s", r.Listener, r.Method, r.Path)
		}
	}
}
