package schema

import (
	"fmt"
	"slices"
	"strings"
)

// PackagePolicy is an integration policy (Kibana's package policy) in
// Kibana's simplified format — the one kibana.yml preconfiguration
// (SimplifiedPackagePolicyPreconfiguredSchema) and the ?format=simplified
// API use: inputs keyed "<policy_template>-<input type>", streams keyed by
// data stream. PolicyIDs shares it across agent policies; OutputID sends its
// data to another output than its agent policies' (per-integration routing);
// output_id: null clears it (Kibana's update takes null and stores it), while
// an absent output_id leaves Kibana's value alone.
// With Adopt set, fleetform manages the declared fields of an existing
// integration policy and never creates or deletes it.
type PackagePolicy struct {
	ID                               string                        `json:"id"`
	Name                             string                        `json:"name,omitempty"` // required unless adopt
	Description                      *string                       `json:"description,omitempty"`
	Namespace                        string                        `json:"namespace,omitempty"` // empty: the agent policy's
	Package                          *PackagePolicyPackage         `json:"package,omitempty"`   // required unless adopt
	PolicyIDs                        []string                      `json:"policy_ids,omitempty"`
	OutputID                         Nullable[string]              `json:"output_id,omitzero"` // absent: unmanaged; null: cleared (the agent policy's data output)
	Vars                             Vars                          `json:"vars,omitempty"`
	Inputs                           map[string]PackagePolicyInput `json:"inputs,omitempty"`
	SupportsAgentless                *bool                         `json:"supports_agentless,omitempty"`
	AdditionalDatastreamsPermissions []string                      `json:"additional_datastreams_permissions,omitempty"`
	Adopt                            bool                          `json:"adopt,omitempty"`
}

// PackagePolicyPackage names the integration package and its version.
type PackagePolicyPackage struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"` // empty: the installed version
}

// PackagePolicyInput is one input of the simplified format.
type PackagePolicyInput struct {
	Enabled *bool                          `json:"enabled,omitempty"` // Kibana's default: true
	Vars    Vars                           `json:"vars,omitempty"`
	Streams map[string]PackagePolicyStream `json:"streams,omitempty"`
}

// PackagePolicyStream is one stream (data stream) of an input.
type PackagePolicyStream struct {
	Enabled *bool `json:"enabled,omitempty"` // Kibana's default: true
	Vars    Vars  `json:"vars,omitempty"`
}

// Vars are simplified-format variables (Kibana's SimplifiedVarsSchema): a
// value is null, a boolean, a string, a number, a list of strings or of
// numbers — or, for a variable the package marks secret: true, a secret
// reference ({env: NAME} or {file: PATH}), which is the only mapping a
// variable may hold.
type Vars map[string]any

// SecretRefs returns the variables holding a secret reference, by name.
func (v Vars) SecretRefs() map[string]*SecretRef {
	out := map[string]*SecretRef{}
	for name, val := range v {
		m, ok := val.(map[string]any)
		if !ok {
			continue
		}
		r := &SecretRef{}
		if s, ok := m["env"].(string); ok {
			r.Env = s
		}
		if s, ok := m["file"].(string); ok {
			r.File = s
		}
		if b, ok := m["generate"].(bool); ok {
			r.Generate = b
		}
		out[name] = r
	}
	return out
}

// SyntheticsPackageMessage is Kibana's refusal of the synthetics package in
// preconfiguration (xpack.fleet.config.disableSynthetics, preconfiguration.ts).
const SyntheticsPackageMessage = "Synthetics package is not supported via kibana.yml config. Please use Synthetics App to create monitors in private locations. https://www.elastic.co/guide/en/observability/current/synthetics-private-location.html"

// adoptedPackagePolicyFields cannot be declared on an adopted integration
// policy: they identify what Kibana would create.
var adoptedPackagePolicyFields = []string{"package"}

func (c *checker) packagePolicies(doc *Document) {
	agentPolicies := map[string]bool{}
	for _, ap := range doc.AgentPolicies {
		agentPolicies[ap.ID] = true
	}
	outputs := map[string]bool{}
	for _, o := range doc.Outputs {
		outputs[o.ID] = true
	}
	for _, id := range WellKnownOutputIDs {
		outputs[id] = true
	}
	installed := map[string]int{} // package name -> index in packages
	for i, pkg := range doc.Packages {
		if _, dup := installed[pkg.Name]; !dup {
			installed[pkg.Name] = i
		}
	}
	ids := map[string]int{}
	names := map[string]int{}
	for i := range doc.PackagePolicies {
		pp := &doc.PackagePolicies[i]
		p := fmt.Sprintf("/package_policies/%d", i)
		if j, dup := ids[pp.ID]; dup && pp.ID != "" {
			c.at(p+"/id", "duplicate integration policy id %q (also at %s)", pp.ID, c.where(fmt.Sprintf("/package_policies/%d/id", j)))
		} else {
			ids[pp.ID] = i
		}
		c.kibanaID(p+"/id", pp.ID)
		if pp.Name != "" {
			// Kibana: "An integration policy with the name … already exists".
			if j, dup := names[pp.Name]; dup {
				c.at(p+"/name", "duplicate integration policy name %q (also at %s); Kibana requires unique names", pp.Name, c.where(fmt.Sprintf("/package_policies/%d/name", j)))
			} else {
				names[pp.Name] = i
			}
		}
		if pp.Adopt {
			for _, k := range adoptedPackagePolicyFields {
				if c.has(p + "/" + k) {
					c.at(p+"/"+k, "%s must be omitted with adopt: true (fleetform never creates an adopted integration policy)", k)
				}
			}
		}
		if pp.Package != nil && pp.Package.Name == "synthetics" {
			c.at(p+"/package/name", "%s", SyntheticsPackageMessage)
		}
		if pkg := pp.Package; pkg != nil && pkg.Version != "" {
			// Fleet installs one version of a package (its
			// epm-packages saved object is named after the package):
			// a policy on another version than the one packages pins
			// makes the two fight over it.
			if j, ok := installed[pkg.Name]; ok && doc.Packages[j].Version != "latest" && doc.Packages[j].Version != pkg.Version {
				c.at(p+"/package/version", "%s %s differs from the version packages installs (%s %s at %s): Fleet has one version of a package installed; make them agree",
					pkg.Name, pkg.Version, pkg.Name, doc.Packages[j].Version, c.where(fmt.Sprintf("/packages/%d/version", j)))
			}
		}
		c.clearTextSecretVars(p+"/vars", pp.Vars)
		for _, name := range sortedNames(pp.Inputs) {
			in := pp.Inputs[name]
			ip := p + "/inputs/" + escapePointerToken(name)
			c.clearTextSecretVars(ip+"/vars", in.Vars)
			for _, sname := range sortedNames(in.Streams) {
				c.clearTextSecretVars(ip+"/streams/"+escapePointerToken(sname)+"/vars", in.Streams[sname].Vars)
			}
		}
		seen := map[string]bool{}
		for j, id := range pp.PolicyIDs {
			ip := fmt.Sprintf("%s/policy_ids/%d", p, j)
			if seen[id] {
				c.at(ip, "agent policy %q is listed twice", id)
			}
			seen[id] = true
			if !agentPolicies[id] && !c.cannotTell("agent_policies") {
				c.at(ip, "agent policy %q is not declared in agent_policies (declare it, or adopt it with adopt: true)%s", id, didYouMean(id, agentPolicies))
			}
		}
		if id, ok := pp.OutputID.Get(); ok && !outputs[id] && !c.cannotTell("outputs") {
			c.at(p+"/output_id", "output %q is not declared in outputs (nor a Kibana well-known output such as %s)%s", id, DefaultOutputID, didYouMean(id, outputs))
		}
		for _, name := range sortedNames(pp.Inputs) {
			in := pp.Inputs[name]
			ip := p + "/inputs/" + escapePointerToken(name)
			if !strings.Contains(name, "-") {
				c.at(ip, "input %q: simplified inputs are keyed <policy_template>-<input type> (e.g. nginx-logfile)", name)
			}
			for _, sname := range sortedNames(in.Streams) {
				if !strings.Contains(sname, ".") {
					c.at(ip+"/streams/"+escapePointerToken(sname), "stream %q: streams are keyed by data stream, <package>.<data stream> (e.g. nginx.access)", sname)
				}
			}
		}
	}
}

// ClearTextSecretMessage is the message for a variable whose name says it
// holds a secret, written in clear text. The value is never repeated.
const ClearTextSecretMessage = "the name of this variable says it holds a secret, and it is written in clear text, so it would be in Git and in every plan: give it as {env: NAME} or {file: PATH} (fleetform sends the value only to Kibana, which keeps a variable the package marks secret: true in .fleet-secrets)"

// clearTextSecretVars refuses clear-text values of variables whose name
// says they are secret. The package (which fleetform does not read
// offline) marks such variables secret: true; the names are those of
// Elastic's integrations (password, api_key, client_secret,
// secret_access_key, access_token, …). Empty values are left alone.
func (c *checker) clearTextSecretVars(p string, vars Vars) {
	for _, name := range sortedNames(vars) {
		if !SecretVarName(name) {
			continue
		}
		switch v := vars[name].(type) {
		case string:
			if v == "" {
				continue
			}
		case []any:
			if len(v) == 0 {
				continue
			}
		default:
			continue // null, a boolean, a number or a reference
		}
		c.at(p+"/"+escapePointerToken(name), "%s", ClearTextSecretMessage)
	}
}

// SecretVarName reports whether a variable's name says it holds a secret
// (its last word is password, passwd, secret, token or apikey, or it ends in
// api_key, secret_key, secret_access_key or private_key). validate refuses
// a clear-text value for such a variable; import writes one as a reference.
func SecretVarName(name string) bool {
	n := strings.ToLower(name)
	parts := strings.FieldsFunc(n, func(r rune) bool { return r == '_' || r == '.' || r == '-' })
	if len(parts) == 0 {
		return false
	}
	switch parts[len(parts)-1] {
	case "password", "passwd", "secret", "token", "apikey":
		return true
	}
	for _, suffix := range []string{"api_key", "secret_key", "secret_access_key", "private_key"} {
		if strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// kibanaID follows Kibana's validateFleetSavedObjectId for ids fleetform sends.
func (c *checker) kibanaID(p, id string) {
	if id != "" && (strings.Contains(id, "..") || slices.Contains([]string{"__proto__", "constructor", "prototype"}, id)) {
		c.at(p, "%s", kibanaIDMessage)
	}
}

// varSecretFields lists the secret references among a package policy's vars.
func varSecretFields(p string, v Vars) []struct {
	ptr string
	ref *SecretRef
} {
	var out []struct {
		ptr string
		ref *SecretRef
	}
	refs := v.SecretRefs()
	for _, name := range sortedNames(refs) {
		out = append(out, struct {
			ptr string
			ref *SecretRef
		}{p + "/" + escapePointerToken(name), refs[name]})
	}
	return out
}
