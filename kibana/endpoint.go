package kibana

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/fleetform/fleetform/kibana/tlstrust"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// NewFromEndpoint builds a client from a document's endpoint: it resolves
// the credential references (env or file) now, and trusts ep.CAFile or the
// certificate with ep.CAFingerprint, and scopes Fleet calls to ep.Space.
// Options apply after, so WithHTTPClient replaces the TLS setup.
func NewFromEndpoint(ctx context.Context, ep schema.Endpoint, opts ...Option) (*Client, error) {
	auth, err := ResolveAuth(ctx, ep.Auth)
	if err != nil {
		return nil, fmt.Errorf("kibana %s: %w", ep.URL, err)
	}
	tc, err := tlstrust.Config(ep.CAFile, ep.CAFingerprint)
	if err != nil {
		return nil, fmt.Errorf("kibana %s: %w", ep.URL, err)
	}
	hc := &http.Client{Transport: tlstrust.Transport(tc)}
	return New(ep.URL, auth, append([]Option{WithHTTPClient(hc), WithSpace(ep.Space)}, opts...)...)
}

// ResolveAuth reads the credentials an endpoint's auth refers to.
func ResolveAuth(ctx context.Context, a schema.Auth) (Auth, error) {
	switch {
	case a.APIKey != nil && a.Basic != nil:
		return Auth{}, errors.New("auth: set api_key or basic, not both")
	case a.APIKey != nil:
		v, err := ResolveSecret(ctx, *a.APIKey)
		if err != nil {
			return Auth{}, fmt.Errorf("auth.api_key: %w", err)
		}
		return Auth{APIKey: v}, nil
	case a.Basic != nil:
		v, err := ResolveSecret(ctx, a.Basic.Password)
		if err != nil {
			return Auth{}, fmt.Errorf("auth.basic.password: %w", err)
		}
		return Auth{Username: a.Basic.Username, Password: v}, nil
	}
	return Auth{}, nil
}

// ResolveSecret reads an env or file secret reference; it forwards to
// schema.SecretRef.Resolve (a generate reference is an error wrapping
// schema.ErrGenerated: the caller mints such values).
func ResolveSecret(ctx context.Context, r schema.SecretRef) (secret.Value, error) {
	return r.Resolve(ctx)
}
