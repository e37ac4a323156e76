package reconciler

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/kibana"
)

// required_vars and var_groups, as validatePackagePolicy
// (FLEET/common/services/validate_package_policy.ts) applies them, the same
// rules as fleetsim/package_policies_vars_groups.go:
//
//   - required_vars (package-spec 3.3.2) of an enabled stream (from
//     8.18.0, elastic/kibana#207130) or an enabled input with vars (from
//     9.1.0, #211863; not on 8.19): one group must be met — each of its
//     conditions' vars has a truthy value, === the condition's value when
//     that is truthy. Otherwise Kibana answers, for every group in
//     Object.entries order, "<key>.required_vars.<group>:
//     [{"name":"<var>","invalid":true},…]" with the conditions it does not
//     meet.
//   - var_groups (package-spec 3.6.1, from 9.4.0, #249449, inferred): a
//     package or stream var an option names is validated only when its
//     option is selected in var_group_selections. fleetform sends none, so
//     Kibana checks no such var, and neither does the plan.
//
// A value given as a secret reference is truthy (a reference that reads as
// empty fails resolveAll) and, at plan, meets a condition's value: it is
// compared once apply has read it (package_policies_values_apply.go).

// unmetGroup is a required_vars group and the vars of the conditions it
// does not meet.
type unmetGroup struct {
	name  string
	unmet []string
}

// requiredVarsErrors is validatePackageRequiredVars for a stream or input
// whose vars are defs with the values given (else their defaults): nil
// when there are no groups or one is met.
func requiredVarsErrors(groups kibana.RequiredVars, defs []kibana.PackageVar, given map[string]any) []unmetGroup {
	if len(groups) == 0 {
		return nil
	}
	var out []unmetGroup
	for _, g := range groups {
		u := unmetGroup{name: g.Name}
		for _, c := range g.Vars {
			i := slices.IndexFunc(defs, func(d kibana.PackageVar) bool { return d.Name == c.Name })
			if i < 0 || !conditionMet(c, givenValue(defs[i], given)) {
				u.unmet = append(u.unmet, c.Name)
			}
		}
		if len(u.unmet) == 0 {
			return nil
		}
		out = append(out, u)
	}
	return out
}

// conditionMet: (!condition.value && item.value) || (condition.value &&
// item.value && condition.value === item.value).
func conditionMet(c kibana.RequiredVar, v varValue) bool {
	if _, ok := v.v.(refValue); ok {
		return true // read at apply, then checked
	}
	if !v.present || !jsTruthy(v.v) {
		return false
	}
	return !jsTruthy(c.Value) || sameValueZero(c.Value, v.v)
}

// requiredVarsMessage is a group's unmet conditions as Kibana writes them:
// JSON.stringify'd, or `${value}` of the array before 8.18.
func (r valueRules) requiredVarsMessage(unmet []string) string {
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

// controlledByVarGroup reports whether an option of groups names the var:
// without a selection (fleetform sends none) Kibana does not validate it
// (shouldValidateVar).
func controlledByVarGroup(name string, groups []kibana.VarGroup) bool {
	for _, g := range groups {
		for _, o := range g.Options {
			if slices.Contains(o.Vars, name) {
				return true
			}
		}
	}
	return false
}
