package fleetsim

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// required_vars and var_groups, as validatePackagePolicy
// (FLEET/common/services/validate_package_policy.ts) applies them; the
// versions are in package_policies_vars_policy.go.

// unmetGroup is one required_vars group with the conditions it does not
// meet: Kibana's [{name, invalid: true}, …].
type unmetGroup struct {
	name  string
	unmet []string
}

// requiredVarsErrors is validatePackageRequiredVars for a stream or input
// whose vars record is rec: nil when it has no groups, no vars or is off,
// or when one group is met (each condition's var has a truthy value,
// === the condition's value when that is truthy); else every group with
// its unmet conditions, in Object.entries order.
func requiredVarsErrors(rec map[string]any, enabled bool, groups []requiredVarGroup) []unmetGroup {
	if len(groups) == 0 || rec == nil || !enabled {
		return nil
	}
	var out []unmetGroup
	met := false
	for _, g := range jsEntryOrder(groups) {
		u := unmetGroup{name: g.Name}
		for _, c := range g.Vars {
			e, _ := rec[c.Name].(map[string]any)
			v := e["value"]
			if e != nil && (!jsTruthy(c.Value) && jsTruthy(v) || jsTruthy(c.Value) && jsTruthy(v) && strictEqual(c.Value, v)) {
				continue
			}
			u.unmet = append(u.unmet, c.Name)
		}
		met = met || len(u.unmet) == 0
		out = append(out, u)
	}
	if met {
		return nil
	}
	return out
}

// requiredVarsLines writes each group of errs under prefix: the group's
// array JSON.stringify'd, or `${value}` of it before 8.18.
func (r varRules) requiredVarsLines(prefix string, errs []unmetGroup) []string {
	var lines []string
	for _, g := range errs { // a group without unmet conditions is met: errs is nil then
		lines = append(lines, prefix+"."+g.name+": "+r.requiredVarsMessage(g.unmet))
	}
	return lines
}

func (r varRules) requiredVarsMessage(unmet []string) string {
	if !r.jsonMessages {
		return strings.TrimSuffix(strings.Repeat("[object Object],", len(unmet)), ",")
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, n := range unmet {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(n)
		b.WriteString(`{"name":`)
		b.Write(name)
		b.WriteString(`,"invalid":true}`)
	}
	b.WriteByte(']')
	return b.String()
}

// strictEqual is === of two decoded JSON values (arrays and objects are
// compared by reference: never equal).
func strictEqual(a, b any) bool { return sameValueZero(a, b) }

// jsEntryOrder is Object.entries' order of an object's keys: array-index
// keys ("0", "1", … canonical, below 2^32-1) first in ascending order, then
// the others in their order.
func jsEntryOrder(groups []requiredVarGroup) []requiredVarGroup {
	index := func(k string) (uint64, bool) {
		n, err := strconv.ParseUint(k, 10, 32)
		return n, err == nil && n < 1<<32-1 && strconv.FormatUint(n, 10) == k
	}
	out := slices.Clone(groups)
	slices.SortStableFunc(out, func(a, b requiredVarGroup) int {
		ai, aok := index(a.Name)
		bi, bok := index(b.Name)
		switch {
		case aok && bok:
			return int(int64(ai) - int64(bi))
		case aok:
			return -1
		case bok:
			return 1
		}
		return 0
	})
	return out
}

// shouldValidateVar: a var no var_group names is validated; one that some
// option names only when that option is its group's selection.
func shouldValidateVar(name string, groups []varGroup, selections map[string]string) bool {
	controlled := false
	for _, g := range groups {
		for _, o := range g.Options {
			controlled = controlled || slices.Contains(o.Vars, name)
		}
	}
	if !controlled {
		return true
	}
	for _, g := range groups {
		if o := selectedOption(g, selections); o != nil && slices.Contains(o.Vars, name) {
			return true
		}
	}
	return false
}

// isVarRequiredByVarGroup: the var is in the selected option of a
// required group.
func isVarRequiredByVarGroup(name string, groups []varGroup, selections map[string]string) bool {
	for _, g := range groups {
		if !g.Required {
			continue
		}
		if o := selectedOption(g, selections); o != nil && slices.Contains(o.Vars, name) {
			return true
		}
	}
	return false
}

func selectedOption(g varGroup, selections map[string]string) *varGroupOption {
	sel := selections[g.Name]
	if sel == "" {
		return nil
	}
	for i := range g.Options {
		if g.Options[i].Name == sel {
			return &g.Options[i]
		}
	}
	return nil
}
