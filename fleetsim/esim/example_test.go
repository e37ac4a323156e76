package esim_test

import (
	"encoding/json"
	"fmt"

	"github.com/fleetform/fleetform/fleetsim/esim"
)

// addrs resolves listener addresses to nodes, as fleetsim does for its clusters.
type addrs map[string]*esim.Node

func (a addrs) NodeByAddress(hostport string) *esim.Node { return a[hostport] }

// Two nodes linked by a remote-cluster seed: the follower replicates the
// leader index lazily, on its next read.
func Example_crossClusterReplication() {
	main := esim.New(esim.Config{ClusterName: "main", License: esim.LicenseEnterprise})
	west := esim.New(esim.Config{ClusterName: "west", License: esim.LicenseEnterprise})
	res := addrs{"127.0.0.1:9200": main, "127.0.0.1:9201": west}
	main.SetResolver(res)
	west.SetResolver(res)

	if _, err := main.IndexDoc("fleet-synced-integrations", "fleet-synced-integrations", json.RawMessage(`{"integrations":[]}`)); err != nil {
		panic(err)
	}
	if _, _, err := west.PutClusterSettings(json.RawMessage(`{"persistent":{"cluster.remote.main.seeds":["127.0.0.1:9200"]}}`)); err != nil {
		panic(err)
	}
	r, err := west.Follow("fleet-synced-integrations-ccr-main", esim.FollowRequest{RemoteCluster: "main", LeaderIndex: "fleet-synced-integrations"}, "")
	if err != nil {
		panic(err)
	}
	fmt.Printf("created=%v started=%v\n", r.FollowIndexCreated, r.IndexFollowingStarted)

	doc, ok := west.GetDoc("fleet-synced-integrations-ccr-main", "fleet-synced-integrations")
	fmt.Println(ok, string(doc.Source))
	// Output:
	// created=true started=false
	// true {"integrations":[]}
}
