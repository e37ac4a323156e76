package contract

import (
	"fmt"
	"sync"
)

// ExtractMajor is the Kibana major the extract documents (oas_docs/output/
// kibana.yaml of a 9.x commit, extended for what 9.1+ accepts: extend).
// A request fleetform sends to an older Kibana is shaped for that version
// (without the keys it lacks, reconciler.versionLacks), so the 9.x schema
// is not its contract: fleetsim's version-gated schemas check it instead.
const ExtractMajor = 9

var (
	olderMu    sync.Mutex
	olderHosts = map[string]bool{}
)

// KibanaVersion records the version of the Kibana at host (host:port, as
// Request.Host) until it is called again for host ("" forgets it): the
// requests sent to it meanwhile, when its major is below ExtractMajor, are
// marked Older and Check leaves them out. A test that runs fleetsim at
// older versions records them, and forgets them when it ends (a later
// test may listen on the same port).
func KibanaVersion(host, version string) {
	var major int
	if _, err := fmt.Sscanf(version, "%d.", &major); err != nil {
		major = ExtractMajor
	}
	olderMu.Lock()
	defer olderMu.Unlock()
	if major < ExtractMajor {
		olderHosts[host] = true
	} else {
		delete(olderHosts, host)
	}
}

// older reports whether host serves a Kibana older than the extract.
func older(host string) bool {
	olderMu.Lock()
	defer olderMu.Unlock()
	return olderHosts[host]
}
