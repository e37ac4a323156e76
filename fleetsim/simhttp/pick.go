package simhttp

// Pick applies the fault table to a request the simulator makes to itself
// without going over HTTP (Kibana's calls to its own Elasticsearch): it
// returns the first installed fault that hits cluster/listener/method/path,
// charging its Count budget as a real request would. The request is not
// logged; the caller decides how the fault shows (status, reset).
func (r *Recorder) Pick(cluster, listener, method, path string) (Fault, bool) {
	return r.pick(cluster, listener, method, path)
}
