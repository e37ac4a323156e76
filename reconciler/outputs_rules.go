package reconciler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"gopkg.in/yaml.v3"
)

// Kibana's rules for outputs that the plan mirrors: the default and default
// monitoring output (x-pack/platform/plugins/shared/fleet/server/services/
// output.ts), the agent policies pinned when the default moves, and
// preconfigured outputs' allow_edit.

// defaultRules applies Kibana's default-output rules to an existing
// output's field diffs (fleet-api.md §2.10, traps 11 and 33). It drops an
// is_default(_monitoring): false that another output's is_default: true will
// flip anyway, and returns reasons to block what Kibana would refuse.
func (r *Reconciler) defaultRules(fields []plan.FieldDiff, id, wantDefault, wantDefaultMon, haveDefault, haveDefaultMon string, outputs map[string]map[string]any) ([]plan.FieldDiff, []string) {
	var blocked []string
	out := fields[:0]
	for _, f := range fields {
		var want, have, flag string
		switch f.Path {
		case "is_default":
			want, have, flag = wantDefault, haveDefault, "is_default"
		case "is_default_monitoring":
			want, have, flag = wantDefaultMon, haveDefaultMon, "is_default_monitoring"
		default:
			out = append(out, f)
			continue
		}
		switch {
		case f.After == false && have == id && want != "" && want != id:
			// The new default's own change flips this one in the same request.
			continue
		case f.After == false && have == id:
			blocked = append(blocked, fmt.Sprintf("output %s is the current %s output and Kibana refuses %s: false (Default output %s cannot be set to is_default=false or is_default_monitoring=false manually. Make another output the default first.); declare %s: true on another output to move it (never by unsetting the old one)", id, flagNoun(flag), flag, id, flag))
		case f.After == true && have != "" && have != id:
			old := outputs[have]
			if isTrue(old["is_preconfigured"]) && !slices.Contains(stringList(old["allow_edit"]), flag) {
				blocked = append(blocked, fmt.Sprintf("the current %s output %s is preconfigured in kibana.yml without %s in allow_edit, so Kibana cannot move the default away from it (Preconfigured output %s %s cannot be updated outside of kibana config file.)", flagNoun(flag), have, flag, have, flag))
			} else {
				f.Note = "replaces " + have
			}
		}
		out = append(out, f)
	}
	return out, blocked
}

// notePinning adds to an is_default: true change of a non-elasticsearch
// output the agent policies Kibana pins to the previous default in the same
// request (fleet-api.md §2.5 step 8, §2.8 step 5, trap 12): Fleet Server and
// agentless policies that follow the default get data_output_id = the old
// default. (Synthetics policies are pinned too; the plan does not read
// package policies to find them.)
func notePinning(fields []plan.FieldDiff, o *schema.Output, haveDefault string, policies map[string]kibana.AgentPolicy) {
	if o.Type == "elasticsearch" || haveDefault == "" || haveDefault == o.ID {
		return
	}
	for i := range fields {
		if fields[i].Path != "is_default" || fields[i].After != true {
			continue
		}
		var pinned []string
		for _, id := range sortedKeys(policies) {
			p := policies[id]
			if (p.HasFleetServer || p.SupportsAgentless) && (p.DataOutputID == nil || *p.DataOutputID == "") {
				pinned = append(pinned, id)
			}
		}
		if len(pinned) > 0 {
			fields[i].Note = strings.TrimPrefix(fields[i].Note+"; Kibana pins data_output_id of agent policies "+strings.Join(pinned, ", ")+" to "+haveDefault, "; ")
		}
	}
}

func flagNoun(flag string) string {
	if flag == "is_default_monitoring" {
		return "default monitoring"
	}
	return "default"
}

// preconfiguredBlock explains which changed keys of a preconfigured output
// are outside its allow_edit, or returns "" when all are allowed.
func preconfiguredBlock(id string, have map[string]any, fields []plan.FieldDiff) string {
	allowed := stringList(have["allow_edit"])
	var bad []string
	for _, k := range topKeys(fields) {
		if !slices.Contains(allowed, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return fmt.Sprintf("output %s is preconfigured in kibana.yml and %s cannot be updated outside of kibana config file (allow_edit: [%s]); change kibana.yml instead",
		id, strings.Join(bad, ", "), strings.Join(allowed, ", "))
}

// shipperRefusal returns why Kibana would drop the shipper the plan sends
// for output o, or "". Kibana's output create and update null a shipper
// sent with no config_yaml or with one whose shipper is unset or has
// enabled: false (server/services/output.ts: "Remove the shipper data if
// the shipper is not enabled from the yaml config"). The body carries the
// declared config_yaml, else, on update, the observed one
// (keepClearedFields). Such a shipper would show as a change in every plan
// and never apply, so the plan blocks it. A Kibana before shipper is left
// to blockUnsupported, which names the version.
func shipperRefusal(c *computed, o *schema.Output, have map[string]any, sendsAll bool, fields []plan.FieldDiff) string {
	if o.Shipper == nil || !sendsAll && !slices.Contains(topKeys(fields), "shipper") {
		return ""
	}
	if v := c.obs.kibanaVersion; v != "" && !kibanaAtLeast(v, featOutputShipper.since) {
		return ""
	}
	cy, _ := have["config_yaml"].(string)
	if o.ConfigYAML != nil {
		cy = *o.ConfigYAML
	}
	if shipperEnabled(cy) {
		return ""
	}
	return fmt.Sprintf("output %s declares shipper, which Kibana drops unless config_yaml enables the shipper (Remove the shipper data if the shipper is not enabled from the yaml config); add a shipper section to config_yaml (e.g. shipper: {enabled: true}) or remove shipper from the declaration", o.ID)
}

// shipperEnabled mirrors Kibana's test of config_yaml: its shipper key is
// set to a truthy value other than an object with enabled: false.
func shipperEnabled(configYAML string) bool {
	var cfg map[string]any
	if configYAML == "" || yaml.Unmarshal([]byte(configYAML), &cfg) != nil {
		return false
	}
	switch sh := cfg["shipper"].(type) {
	case nil:
		return false
	case bool:
		return sh
	case string:
		return sh != ""
	case int:
		return sh != 0
	case float64:
		return sh != 0
	case map[string]any:
		return sh["enabled"] != false
	}
	return true
}
