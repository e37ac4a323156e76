package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/kibana/tlstrust"
	"github.com/fleetform/fleetform/schema"
)

// When a command that talks to the clusters fails, fleetform does not
// print the chain of errors the failure went through (five lines for one
// wrong password). It checks each endpoint the configuration declares —
// can the secret be read, does something listen, is it Kibana (or
// Elasticsearch) at all, are the credentials accepted — and prints one
// message per cause: the cluster, the endpoint and its URL, the line of the
// configuration that declares it, what is wrong and what to do. When every
// endpoint answers as it should, the original error is printed as it is.

// endpointRef is one endpoint of the configuration.
type endpointRef struct {
	cluster string // main, or the remote's name
	service string // Kibana or Elasticsearch
	ep      schema.Endpoint
	path    []string // where it is declared (configLocation)
}

// endpoints lists the endpoints doc declares, main first.
func endpoints(doc *schema.Document) []endpointRef {
	out := []endpointRef{
		{"main", "Kibana", doc.Clusters.Main.Kibana, []string{"clusters", "main", "kibana"}},
		{"main", "Elasticsearch", doc.Clusters.Main.Elasticsearch, []string{"clusters", "main", "elasticsearch"}},
	}
	for _, r := range doc.Clusters.Remotes {
		sel := "name=" + r.Name
		if r.Kibana != nil {
			out = append(out, endpointRef{r.Name, "Kibana", *r.Kibana, []string{"clusters", "remotes", sel, "kibana"}})
		}
		out = append(out, endpointRef{r.Name, "Elasticsearch", r.Elasticsearch, []string{"clusters", "remotes", sel, "elasticsearch"}})
	}
	return out
}

// endpointProblem is what is wrong with one endpoint.
type endpointProblem struct {
	ref  endpointRef
	at   string // file:line of the endpoint (or of the field to fix)
	what string // what is wrong
	hint string // what to do
	key  string // the cause, for grouping endpoints with the same one
}

func (p endpointProblem) String() string {
	where := fmt.Sprintf("cluster %s: %s %s", p.ref.cluster, p.ref.service, redactURL(p.ref.ep.URL))
	if p.at != "" {
		where += " (" + p.at + ")"
	}
	return where + ": " + p.what + "\n  hint: " + p.hint
}

// probeTimeout bounds each endpoint check.
var probeTimeout = 10 * time.Second

// diagnosedError is a command's error replaced by what the endpoint checks
// found; it unwraps to the original, so exit codes keep their meaning.
type diagnosedError struct {
	msg   string
	cause error
}

func (e *diagnosedError) Error() string { return e.msg }
func (e *diagnosedError) Unwrap() error { return e.cause }

// diagnose returns err, or — when err is a runtime failure and a check of
// the endpoints of the configuration in dir finds the cause — an error that
// says that cause once per endpoint.
func diagnose(ctx context.Context, dir string, err error) error {
	var issues schema.Issues
	var de *diagnosedError
	if err == nil || errors.Is(err, errChanges) || errors.Is(err, errReported) || errors.As(err, &issues) || errors.As(err, &de) || ctx.Err() != nil {
		return err
	}
	doc, lerr := loadConfig(ctx, dir)
	if lerr != nil {
		return err
	}
	var problems []endpointProblem
	for _, ref := range endpoints(doc) {
		if p := probe(ctx, dir, ref); p != nil {
			problems = append(problems, *p)
		}
	}
	if len(problems) == 0 {
		if forbidden(err) {
			return &diagnosedError{msg: err.Error() + "\n  hint: " + forbiddenHint, cause: err}
		}
		return err
	}
	// One cause, one message: endpoints of a cluster that fail for the same
	// reason (one password for both) are named together.
	var lines []string
	for i := 0; i < len(problems); i++ {
		p := problems[i]
		if i+1 < len(problems) && problems[i+1].ref.cluster == p.ref.cluster && problems[i+1].key == p.key && p.key != "" {
			q := problems[i+1]
			at := func(x endpointProblem) string {
				if x.at == "" {
					return ""
				}
				return " (" + x.at + ")"
			}
			hint := p.hint
			if strings.HasPrefix(p.key, "refused:") {
				hint = fmt.Sprintf("start %s and %s, or fix the urls (Kibana listens on port 5601 by default, Elasticsearch on 9200)", p.ref.service, q.ref.service)
			}
			lines = append(lines, fmt.Sprintf("cluster %s: %s %s%s and %s %s%s: %s\n  hint: %s", p.ref.cluster,
				p.ref.service, redactURL(p.ref.ep.URL), at(p), q.ref.service, redactURL(q.ref.ep.URL), at(q), p.what, hint))
			i++
			continue
		}
		lines = append(lines, p.String())
	}
	return &diagnosedError{msg: strings.Join(lines, "\n"), cause: err}
}

// forbiddenHint follows a 403 from a route the probe does not reach: the
// endpoint answers and the credentials authenticate, but a privilege of a
// Fleet or Elasticsearch route is missing (Kibana's and Elasticsearch's
// 403 messages name it).
const forbiddenHint = "the credentials authenticate but lack a privilege this command needs (the 403s above name it); " +
	"docs/plan-credentials.md lists what a plan needs, docs/security.md what apply needs"

// forbidden reports whether any error in err's tree is Kibana's or
// Elasticsearch's 403.
func forbidden(err error) bool {
	switch e := err.(type) {
	case nil:
		return false
	case *kibana.APIError:
		if e.Status == http.StatusForbidden {
			return true
		}
	case *elastic.Error:
		if e.Status == http.StatusForbidden {
			return true
		}
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if forbidden(e) {
				return true
			}
		}
	case interface{ Unwrap() error }:
		return forbidden(u.Unwrap())
	}
	return false
}

// probe checks one endpoint: its credentials can be read, it answers, it is
// the service it should be, and it accepts the credentials.
func probe(ctx context.Context, dir string, ref endpointRef) *endpointProblem {
	at := configLocation(dir, ref.path...)
	p := &endpointProblem{ref: ref, at: at}
	auth, err := kibana.ResolveAuth(ctx, ref.ep.Auth)
	if err != nil {
		p.key = "secret:" + err.Error()
		p.what = "its credentials cannot be read: " + secretCause(err)
		if loc, field := secretLocation(dir, ref); loc != "" {
			p.at = loc
			p.hint = secretHint(ref.ep.Auth, field)
		} else {
			p.hint = secretHint(ref.ep.Auth, "")
		}
		return p
	}
	tc, err := tlstrust.Config(ref.ep.CAFile, ref.ep.CAFingerprint)
	if err != nil {
		p.what = "its TLS settings cannot be used: " + err.Error()
		p.hint = "fix ca_file or ca_fingerprint of this endpoint"
		return p
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	route := "/"
	if ref.service == "Kibana" {
		route = "/api/status"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(ref.ep.URL, "/")+route, nil)
	if err != nil {
		p.what = "its url cannot be used: " + err.Error()
		p.hint = "set url to the " + ref.service + " address, e.g. " + defaultURL(ref.service)
		return p
	}
	switch {
	case auth.APIKey.Reveal() != "":
		req.Header.Set("Authorization", "ApiKey "+auth.APIKey.Reveal())
	case auth.Username != "":
		req.SetBasicAuth(auth.Username, auth.Password.Reveal())
	}
	hc := &http.Client{Transport: tlstrust.Transport(tc), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		return transportProblem(p, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	other := otherService(ref.service, resp.Header, body)
	switch {
	case other != "":
		p.key = "wrong-service"
		p.what = fmt.Sprintf("%s answers there, not %s", other, ref.service)
		p.hint = fmt.Sprintf("the url points at %s; set it to %s's address (%s listens on port %s by default)",
			other, ref.service, ref.service, defaultPort(ref.service))
	case resp.StatusCode == http.StatusUnauthorized:
		p.key = "401"
		p.what = "the credentials were rejected (401 Unauthorized)"
		p.hint = credentialsHint(ref.ep.Auth)
	case resp.StatusCode == http.StatusForbidden:
		p.key = "403"
		p.what = "the user may not read " + route + " (403 Forbidden)"
		p.hint = "give the user of this endpoint the privileges fleetform needs (see docs/security.md)"
	case resp.StatusCode >= 500:
		p.key = "5xx"
		p.what = fmt.Sprintf("it is not ready (%d %s)", resp.StatusCode, http.StatusText(resp.StatusCode))
		p.hint = "wait until " + ref.service + " is up, or retry with apply --wait"
	default:
		return nil
	}
	return p
}

// transportProblem says why a request got no answer.
func transportProblem(p *endpointProblem, err error) *endpointProblem {
	host := hostOf(p.ref.ep.URL)
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		p.key = "refused:" + host
		p.what = "connection refused: nothing listens at " + host
		p.hint = fmt.Sprintf("start %s, or fix the url (%s listens on port %s by default)", p.ref.service, p.ref.service, defaultPort(p.ref.service))
	case errors.As(err, &unknownCA):
		p.key = "tls-ca"
		p.what = "its TLS certificate is signed by an unknown authority"
		p.hint = "set ca_file (the CA's PEM file) or ca_fingerprint (its SHA-256) on this endpoint"
	case errors.As(err, &hostErr):
		p.what = "its TLS certificate is not valid for " + host
		p.hint = "use the host name the certificate names in the url"
	case errors.As(err, &dnsErr):
		p.what = "the host name does not resolve: " + dnsErr.Name
		p.hint = "fix the host in the url"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		p.what = fmt.Sprintf("no answer from %s within %s", host, probeTimeout)
		p.hint = "check the address and that no firewall drops the connection"
	default:
		p.what = "no answer: " + stripQuery(err.Error())
		p.hint = "check the url and that " + p.ref.service + " runs"
	}
	return p
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// otherService names the service that answered when it is not the one
// expected: Elasticsearch says so in X-Elastic-Product (7.14+) and in its
// "no handler found" error or its banner; Kibana sets kbn-name.
func otherService(want string, h http.Header, body []byte) string {
	isES := h.Get("X-Elastic-Product") == "Elasticsearch" || strings.Contains(string(body), "no handler found for uri") ||
		strings.Contains(string(body), `"tagline"`)
	isKibana := h.Get("Kbn-Name") != "" || h.Get("Kbn-License-Sig") != ""
	if !isKibana {
		var st struct {
			Version struct {
				BuildFlavor string `json:"build_flavor"`
			} `json:"version"`
			Status json.RawMessage `json:"status"`
		}
		isKibana = json.Unmarshal(body, &st) == nil && len(st.Status) > 0 && st.Version.BuildFlavor != ""
	}
	switch {
	case want == "Kibana" && isES && !isKibana:
		return "Elasticsearch"
	case want == "Elasticsearch" && isKibana && !isES:
		return "Kibana"
	}
	return ""
}

func defaultPort(service string) string {
	if service == "Kibana" {
		return "5601"
	}
	return "9200"
}

func defaultURL(service string) string {
	if service == "Kibana" {
		return "https://kibana.example:5601"
	}
	return "https://es.example:9200"
}

// credentialsHint says which credentials to check, naming the secret
// reference (never its value).
func credentialsHint(a schema.Auth) string {
	switch {
	case a.APIKey != nil:
		return "check the API key (" + a.APIKey.Describe() + "): it may be wrong, expired or revoked"
	case a.Basic != nil:
		return fmt.Sprintf("check the password of user %q (%s)", a.Basic.Username, a.Basic.Password.Describe())
	}
	return "this endpoint needs auth: set auth.basic (username and password reference) or auth.api_key"
}

// secretLocation is the line of the secret reference an endpoint's auth
// uses, and its field.
func secretLocation(dir string, ref endpointRef) (string, string) {
	for _, field := range [][]string{{"auth", "basic", "password"}, {"auth", "api_key"}} {
		if loc := configLocation(dir, append(append([]string{}, ref.path...), field...)...); loc != "" {
			return loc, strings.Join(field, ".")
		}
	}
	return "", ""
}

func secretHint(a schema.Auth, field string) string {
	var r *schema.SecretRef
	switch {
	case a.Basic != nil:
		r = &a.Basic.Password
	case a.APIKey != nil:
		r = a.APIKey
	}
	switch {
	case r != nil && r.Env != "":
		return fmt.Sprintf("export %s with the %s before running fleetform (or point %s at another reference)", r.Env, secretNoun(a), cmpOrStr(field, "the reference"))
	case r != nil && r.File != "":
		return fmt.Sprintf("write the %s to %s (or point %s at another file)", secretNoun(a), r.File, cmpOrStr(field, "the reference"))
	}
	return "fix the secret reference of this endpoint"
}

func secretNoun(a schema.Auth) string {
	if a.APIKey != nil {
		return "API key"
	}
	return "password of user " + fmt.Sprintf("%q", a.Basic.Username)
}

func cmpOrStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// secretCause is the reason a secret could not be read, without the
// reference's description repeated.
func secretCause(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// hostOf is the host:port of a URL (the scheme's default port added).
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return u.Host + ":443"
	}
	return u.Host + ":80"
}

// redactURL is a URL without user info or query string.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
