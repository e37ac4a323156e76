package importer

import (
	"context"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
)

// policyKeys are the agent policy fields the document can declare: the
// json names of schema.AgentPolicy less fleetform's own adopt.
var policyKeys = func() []string {
	var keys []string
	t := reflect.TypeFor[schema.AgentPolicy]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" && name != "adopt" {
			keys = append(keys, name)
		}
	}
	return keys
}()

var policyLeadKeys = []string{"id", "name", "namespace", "description", "data_output_id", "monitoring_output_id"}

// policyDefaults are the values Kibana gives an agent policy field the
// request leaves out (types/models/agent_policy.ts: inactivity_timeout
// defaults to 1209600 seconds; the flags default to false).
var policyDefaults = map[string]any{
	"inactivity_timeout": 1209600.0, "is_default": false, "is_default_fleet_server": false,
	"has_fleet_server": false, "is_protected": false, "keep_monitoring_alive": false,
	"supports_agentless": false, "space_ids": []any{"default"},
}

func exportAgentPolicies(ctx context.Context, f Fleet, b *builder) error {
	pols, err := f.ListAgentPolicies(ctx, kibana.ListOptions{})
	if err != nil {
		return err
	}
	sort.Slice(pols, func(i, j int) bool { return pols[i].ID < pols[j].ID })
	for _, p := range pols {
		if !b.wanted(p.ID) {
			continue
		}
		switch {
		case p.IsPreconfigured:
			b.skip(p.ID, "preconfigured in kibana.yml (xpack.fleet.agentPolicies); manage it there")
			continue
		case p.IsManaged:
			b.skip(p.ID, "managed by Kibana (is_managed: true): Fleet refuses edits to it")
			continue
		}
		b.add(Object{ID: p.ID, Name: p.Name, Raw: p.Raw}, exportPolicy(p))
	}
	return nil
}

func exportPolicy(p kibana.AgentPolicy) entry {
	var e entry
	lead := map[string]bool{}
	for _, k := range policyLeadKeys {
		lead[k] = true
	}
	var rest []string
	for _, k := range policyKeys {
		if !lead[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range append(append([]string{}, policyLeadKeys...), rest...) {
		v := prune(p.Raw[k])
		if v == nil {
			continue
		}
		if d, ok := policyDefaults[k]; ok && reflect.DeepEqual(d, v) {
			continue
		}
		if k == "space_ids" && hidesSpaces(v) {
			// Kibana answers "?" for each space the caller cannot read
			// (the security plugin's saved_objects_security_extension.ts getRedactedSpaces): the full list is unknown,
			// and declaring the readable part would move the policy out of
			// the others. Leave space_ids unmanaged.
			e.comment = joinComment(e.comment, "space_ids left out: Kibana shows \"?\" for spaces these credentials cannot read, so the full list is unknown; declaring part of it would move the policy out of the others")
			continue
		}
		e.set(k, v)
	}
	return e
}

// hidesSpaces reports whether a policy's space_ids hold "?", Kibana's stand-in
// for a space the caller cannot read.
func hidesSpaces(v any) bool {
	ids, _ := v.([]any)
	return slices.Contains(ids, any("?"))
}
