package reconciler

import (
	"reflect"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/plan"
)

// diffDeclared is diffManaged("", desired, observed) — only the keys
// desired declares, objects recursively, everything else as a whole,
// absent and null the same — without building the dotted path of every
// key it visits: the path is joined only for a field that differs (a plan
// of 4,000 integration policies visits ~10 keys of each and finds no
// difference). TestDiffDeclared holds it to diffManaged.
func diffDeclared(desired, observed map[string]any) []plan.FieldDiff {
	var path [8]string
	return diffDeclaredAt(path[:0], desired, observed, nil)
}

func diffDeclaredAt(path []string, desired, observed map[string]any, out []plan.FieldDiff) []plan.FieldDiff {
	var buf [8]string
	keys := buf[:0]
	for k := range desired {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		dv, ov := desired[k], observed[k]
		dm, dIsMap := dv.(map[string]any)
		om, oIsMap := ov.(map[string]any)
		if dIsMap && (oIsMap || ov == nil) {
			out = diffDeclaredAt(append(path, k), dm, om, out)
			continue
		}
		if !reflect.DeepEqual(dv, ov) {
			out = append(out, plan.FieldDiff{Path: strings.Join(append(path, k), "."), Before: ov, After: dv})
		}
	}
	return out
}
