// Package kversion decides which Kibana versions have a versioned feature.
//
// Kibana is not released along one line: 8.19 was cut after 9.0 and many
// 9.1 Fleet features were backported to it (a pull request labelled
// v8.19.0 next to v9.1.0, or a backport pull request titled "[8.19] ..."),
// while 9.0.x never got them. A Gate therefore names the first version of
// each release line that has a feature: its last version is where the
// feature came to the newest line (every later line has it too), each
// earlier version is a backport to that version's own major.minor line
// only.
//
// A Gate is written as its versions in ascending order, separated by
// spaces: "9.1.0" (from 9.1.0 on), "8.19.0 9.1.0" (on 8.19.x from 8.19.0,
// never on 9.0.x, from 9.1.0 on). A plain version is a one-line Gate, so
// a version string can be used wherever a Gate is wanted. fleetsim and
// fleetform's reconciler both decide with it, so the simulator and the
// plan agree on what a version has.
package kversion

import (
	"fmt"
	"strconv"
	"strings"
)

// Gate is the first version, per Kibana release line, that has a feature
// (see the package comment for its form).
type Gate string

// Versions are the gate's minimums in the order written: backported lines
// first, the newest line (whose later lines all have the feature) last.
func (g Gate) Versions() []string { return strings.Fields(string(g)) }

// Since is the version the feature came with on the newest line.
func (g Gate) Since() string {
	vs := g.Versions()
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// Has reports whether Kibana version v has the feature: v is at least the
// newest line's minimum, or v is on one of the backported lines at or
// after that line's minimum. A snapshot or pre-release of a version
// ("9.1.0-SNAPSHOT") has that version's features. A version that does not
// parse has none.
func (g Gate) Has(v string) bool {
	core, _, _ := strings.Cut(v, "-")
	cv, ok := parse(core)
	if !ok {
		return false
	}
	vs := g.Versions()
	for i, s := range vs {
		min, ok := parse(s)
		if !ok {
			return false
		}
		if i == len(vs)-1 {
			return compare(cv, min) >= 0
		}
		if cv[0] == min[0] && cv[1] == min[1] {
			return cv[2] >= min[2]
		}
	}
	return false
}

// String names the versions that have the feature, for messages such as
// "needs Kibana 9.1.0, or 8.19.0+ on 8.19": the newest line's minimum,
// then each backported line, newest first.
func (g Gate) String() string {
	vs := g.Versions()
	if len(vs) <= 1 {
		return g.Since()
	}
	parts := []string{vs[len(vs)-1]}
	for i := len(vs) - 2; i >= 0; i-- {
		parts = append(parts, fmt.Sprintf("%s+ on %s", vs[i], line(vs[i])))
	}
	return strings.Join(parts, ", or ")
}

// Validate reports a gate that is not of the documented form: at least one
// version, each major.minor.patch, ascending, at most one per release line.
func (g Gate) Validate() error {
	vs := g.Versions()
	if len(vs) == 0 {
		return fmt.Errorf("gate %q names no version", string(g))
	}
	var prev [3]int
	for i, s := range vs {
		v, ok := parse(s)
		if !ok {
			return fmt.Errorf("gate %q: %q is not major.minor.patch", string(g), s)
		}
		if i > 0 && (v[0] < prev[0] || v[0] == prev[0] && v[1] <= prev[1]) {
			return fmt.Errorf("gate %q: %s is not on a later release line than %s", string(g), s, vs[i-1])
		}
		prev = v
	}
	return nil
}

// line is the major.minor release line of version v.
func line(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// parse reads major.minor.patch (without allocating: gates are checked for
// every declared object).
func parse(s string) ([3]int, bool) {
	var out [3]int
	for i := range out {
		f, rest, found := strings.Cut(s, ".")
		if found != (i < 2) {
			return out, false
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return out, false
		}
		out[i], s = n, rest
	}
	return out, true
}

func compare(a, b [3]int) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
