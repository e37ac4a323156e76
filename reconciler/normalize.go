package reconciler

import (
	"encoding/json"
	"net/url"
	"reflect"
	"sort"
	"strings"

	"github.com/fleetform/fleetform/plan"
)

// NormalizeHost returns host the way Kibana stores an elasticsearch or
// remote_elasticsearch host (fleet-api.md §2.6, trap 1): scheme, lower-case
// hostname, an explicit port (80 for http, 443 for https) and the path
// unless it is "/". A host that does not parse is returned unchanged.
func NormalizeHost(host string) string {
	u, err := url.Parse(host)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return host
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	hostname := strings.ToLower(u.Hostname())
	if strings.Contains(hostname, ":") {
		hostname = "[" + hostname + "]"
	}
	path := u.EscapedPath()
	if path == "/" {
		path = ""
	}
	return u.Scheme + "://" + hostname + ":" + port + path
}

// hostsNormalized reports whether Kibana normalizes the hosts of an output type.
func hostsNormalized(outputType string) bool {
	return outputType == "elasticsearch" || outputType == "remote_elasticsearch"
}

// canonical returns v with JSON's types (map[string]any, []any, float64,
// string, bool, nil), so values from Go structs and from HTTP compare equal.
func canonical(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}

// canonicalMap is canonical for objects; nil for anything else.
func canonicalMap(v any) map[string]any {
	m, _ := canonical(v).(map[string]any)
	return m
}

// diffManaged compares only the keys desired declares: objects recursively
// (an undeclared sub-key is not managed either), everything else as a
// whole. Absent and null observed values are the same. prefix is the dotted
// path of desired.
func diffManaged(prefix string, desired, observed map[string]any) []plan.FieldDiff {
	var out []plan.FieldDiff
	keys := make([]string, 0, len(desired))
	for k := range desired {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		dv := desired[k]
		ov := observed[k]
		dm, dIsMap := dv.(map[string]any)
		om, oIsMap := ov.(map[string]any)
		if dIsMap && (oIsMap || ov == nil) {
			out = append(out, diffManaged(path, dm, om)...)
			continue
		}
		if !reflect.DeepEqual(dv, ov) {
			out = append(out, plan.FieldDiff{Path: path, Before: ov, After: dv})
		}
	}
	return out
}

// topKeys returns the distinct first path elements of fields, sorted.
func topKeys(fields []plan.FieldDiff) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range fields {
		k, _, _ := strings.Cut(f.Path, ".")
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
