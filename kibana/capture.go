package kibana

import (
	"net/http"
	"sync/atomic"
)

// transportWrap, when set, wraps the transport of every Client built
// afterwards. Only tests set it (internal/contract records every request
// fleetform sends to check it against Kibana's OpenAPI contract).
var transportWrap atomic.Pointer[func(http.RoundTripper) http.RoundTripper]

// SetTransportWrapper makes every Client built from now on send its requests
// through wrap(transport); nil removes it. It is meant for tests that must
// see the requests of clients that fleetform builds itself (from a
// document's endpoints); production code never calls it.
func SetTransportWrapper(wrap func(http.RoundTripper) http.RoundTripper) {
	if wrap == nil {
		transportWrap.Store(nil)
		return
	}
	transportWrap.Store(&wrap)
}

// wrapTransport applies the wrapper, if any, to a copy of hc.
func wrapTransport(hc *http.Client) *http.Client {
	w := transportWrap.Load()
	if w == nil {
		return hc
	}
	cp := *hc
	next := cp.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	cp.Transport = (*w)(next)
	return &cp
}
