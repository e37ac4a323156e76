package elastic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// errUnknownProduct is go-elasticsearch's product-check error, kept word
// for word: a 2xx answer without "X-Elastic-Product: Elasticsearch" comes
// from something that is not Elasticsearch (a proxy page, Kibana's port).
var errUnknownProduct = errors.New("the client noticed that the server is not Elasticsearch and we do not support this unknown product")

// transport sends esapi requests through elastic-transport-go and performs
// the product check go-elasticsearch's root client does. fleetform uses
// only the esapi request types: importing the root package links its ~860
// generated typedapi packages into the binary.
type transport struct {
	tp *elastictransport.Client
	// checked is set after the first 2xx answer that passed the product
	// check (go-elasticsearch checks until one passes, then trusts the node).
	checked atomic.Bool
}

var _ esapi.Transport = (*transport)(nil)

func newTransport(u *url.URL, auth Auth, rt http.RoundTripper) (*transport, error) {
	opts := []elastictransport.Option{
		elastictransport.WithURLs(u),
		elastictransport.WithTransport(rt),
		elastictransport.WithUserAgent("fleetform"),
		// kibana/retry is the retry policy; the library's own is off.
		elastictransport.WithDisableRetry(),
	}
	if !auth.APIKey.IsZero() {
		// The library would send "APIKey"; send the documented scheme name.
		// A request's own Authorization header (AuthenticateAs) wins.
		opts = append(opts, elastictransport.WithHeader(http.Header{"Authorization": {"ApiKey " + auth.APIKey.Reveal()}}))
	} else if auth.Username != "" || !auth.Password.IsZero() {
		opts = append(opts, elastictransport.WithBasicAuth(auth.Username, auth.Password.Reveal()))
	}
	tp, err := elastictransport.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch transport: %w", err)
	}
	return &transport{tp: tp}, nil
}

// Perform implements esapi.Transport.
func (t *transport) Perform(req *http.Request) (*http.Response, error) {
	res, err := t.tp.Perform(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 && !t.checked.Load() {
		if res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
			res.Body.Close()
			return nil, errUnknownProduct
		}
		t.checked.Store(true)
	}
	return res, nil
}

// raw sends a body-less request the esapi types get wrong, through the same
// transport (auth, product check).
func (c *Client) raw(ctx context.Context, method, path string) (*esapi.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, path, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.es.Perform(req)
	if err != nil {
		return nil, err
	}
	return &esapi.Response{StatusCode: res.StatusCode, Header: res.Header, Body: res.Body}, nil
}
