package elastic

import (
	"context"
	"fmt"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/kibana/tlstrust"
	"github.com/fleetform/fleetform/schema"
)

// NewFromEndpoint builds a client from a document's endpoint: it resolves
// the credential references (env or file) now, and trusts ep.CAFile or the
// certificate with ep.CAFingerprint (the fingerprint Elasticsearch prints on
// first start). Options apply after, so WithTransport replaces the TLS setup.
func NewFromEndpoint(ctx context.Context, ep schema.Endpoint, opts ...Option) (*Client, error) {
	ka, err := kibana.ResolveAuth(ctx, ep.Auth)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch %s: %w", ep.URL, err)
	}
	tc, err := tlstrust.Config(ep.CAFile, ep.CAFingerprint)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch %s: %w", ep.URL, err)
	}
	auth := Auth{APIKey: ka.APIKey, Username: ka.Username, Password: ka.Password}
	return New(ep.URL, auth, append([]Option{WithTransport(tlstrust.Transport(tc))}, opts...)...)
}
