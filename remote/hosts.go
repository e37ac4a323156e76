package remote

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// NormalizeHost returns host as Kibana stores an elasticsearch or
// remote_elasticsearch output host (normalizeHostsForAgents): scheme, a
// lower-case hostname, an always explicit port (80 for http, 443 for https)
// and the path unless it is "/". Query, fragment and user info are dropped.
func NormalizeHost(host string) (string, error) {
	u, err := url.Parse(host)
	if err != nil {
		return "", fmt.Errorf("host %q: %w", host, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("host %q: expected URI with scheme [http|https]", host)
	}
	name := strings.ToLower(u.Hostname())
	if name == "" {
		return "", fmt.Errorf("host %q: no hostname", host)
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	path := u.EscapedPath()
	if path == "/" {
		path = ""
	}
	return u.Scheme + "://" + net.JoinHostPort(name, port) + path, nil
}

// NormalizeHosts normalizes every host; the first error is returned with
// the hosts that did normalize.
func NormalizeHosts(hosts []string) ([]string, error) {
	out := make([]string, 0, len(hosts))
	var first error
	for _, h := range hosts {
		n, err := NormalizeHost(h)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		out = append(out, n)
	}
	return out, first
}

// hostsIntersect reports whether any normalized host of a equals one of b,
// the string equality Kibana's remote-side sync task applies.
func hostsIntersect(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}
