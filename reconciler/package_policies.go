package reconciler

// Integration policies (Kibana's package policies) in Kibana's simplified
// format (FLEET/common/services/simplified_package_policy_helper.ts in
// elastic/kibana): the declared fields, normalised the way Kibana answers
// GET /api/fleet/package_policies?format=simplified; the diff of only the
// declared keys (Kibana lists every input, stream and var with its value);
// secret vars as references; and the create and update bodies.

import (
	"maps"
	"slices"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// KindIntegrationPolicy is the plan and inventory kind of an integration
// policy (the document's package_policies).
const KindIntegrationPolicy = "package_policy"

// ipVar locates one var of an integration policy: a package var (Input
// ""), an input var (Stream "") or a stream var.
type ipVar struct {
	Input, Stream, Name string
}

// Path is the var's path in plans and inventory records:
// vars.NAME, inputs.INPUT.vars.NAME or inputs.INPUT.streams.STREAM.vars.NAME.
func (v ipVar) Path() string {
	switch {
	case v.Input == "":
		return "vars." + v.Name
	case v.Stream == "":
		return "inputs." + v.Input + ".vars." + v.Name
	}
	return "inputs." + v.Input + ".streams." + v.Stream + ".vars." + v.Name
}

// varsAt returns the vars map at v's level in a simplified-format body or
// answer, creating the levels when create is set (nil otherwise when absent).
func (v ipVar) varsAt(m map[string]any, create bool) map[string]any {
	level := m
	if v.Input != "" {
		level = child(child(level, "inputs", create), v.Input, create)
		if v.Stream != "" {
			level = child(child(level, "streams", create), v.Stream, create)
		}
	}
	return child(level, "vars", create)
}

func child(m map[string]any, k string, create bool) map[string]any {
	if m == nil {
		return nil
	}
	c, ok := m[k].(map[string]any)
	if !ok && create {
		c = map[string]any{}
		m[k] = c
	}
	return c
}

// ipSecretVar is a declared secret var: its place and its reference.
type ipSecretVar struct {
	ipVar
	Ref schema.SecretRef
}

// spec is the var as the output secret machinery sees it: stored by Kibana
// in .fleet-secrets when the package marks it secret: true.
func (s ipSecretVar) spec() secretSpec {
	return secretSpec{Path: s.Path(), Ref: s.Ref, Stored: true, PlainPath: s.Path()}
}

// integrationPolicySecrets lists the secret references among p's vars, in
// path order.
func integrationPolicySecrets(p schema.PackagePolicy) []ipSecretVar {
	var out []ipSecretVar
	add := func(at ipVar, vars schema.Vars) {
		refs := vars.SecretRefs()
		for _, name := range sortedKeys(refs) {
			v := at
			v.Name = name
			out = append(out, ipSecretVar{ipVar: v, Ref: *refs[name]})
		}
	}
	add(ipVar{}, p.Vars)
	for _, in := range sortedKeys(p.Inputs) {
		add(ipVar{Input: in}, p.Inputs[in].Vars)
		for _, st := range sortedKeys(p.Inputs[in].Streams) {
			add(ipVar{Input: in, Stream: st}, p.Inputs[in].Streams[st].Vars)
		}
	}
	return out
}

// plainVars is vars without its secret references, canonical.
func plainVars(v schema.Vars) map[string]any {
	out := map[string]any{}
	for k, val := range v {
		if _, isRef := val.(map[string]any); !isRef {
			out[k] = canonicalVar(val)
		}
	}
	return out
}

// integrationPolicyFields returns the Kibana fields p declares, without its
// secret vars, the way Kibana's simplified answer holds them. policy_ids is
// sorted (the plan compares it as a set). An adopted policy manages only
// what it declares: package is never declared with adopt.
func integrationPolicyFields(p schema.PackagePolicy) map[string]any {
	m := map[string]any{}
	if p.Name != "" {
		m["name"] = p.Name
	}
	if p.Description != nil {
		m["description"] = *p.Description
	}
	if p.Namespace != "" {
		m["namespace"] = p.Namespace
	}
	if p.Package != nil && p.Package.Version != "" && p.Package.Version != "latest" {
		m["package"] = map[string]any{"version": p.Package.Version}
	}
	if p.PolicyIDs != nil {
		sorted := p.PolicyIDs
		if !slices.IsSorted(sorted) {
			sorted = slices.Sorted(slices.Values(sorted))
		}
		ids := make([]any, len(sorted))
		for i, id := range sorted {
			ids[i] = id
		}
		m["policy_ids"] = ids
	}
	if p.OutputID.Set {
		m["output_id"] = derefOrNil(p.OutputID.Ptr()) // null clears it
	}
	if p.SupportsAgentless != nil {
		m["supports_agentless"] = *p.SupportsAgentless
	}
	if p.AdditionalDatastreamsPermissions != nil {
		m["additional_datastreams_permissions"] = canonical(p.AdditionalDatastreamsPermissions)
	}
	if vars := plainVars(p.Vars); len(vars) > 0 {
		m["vars"] = vars
	}
	if len(p.Inputs) > 0 {
		inputs := map[string]any{}
		for name, in := range p.Inputs {
			im := map[string]any{}
			if in.Enabled != nil {
				im["enabled"] = *in.Enabled
			}
			if vars := plainVars(in.Vars); len(vars) > 0 {
				im["vars"] = vars
			}
			if len(in.Streams) > 0 {
				streams := map[string]any{}
				for sname, st := range in.Streams {
					sm := map[string]any{}
					if st.Enabled != nil {
						sm["enabled"] = *st.Enabled
					}
					if vars := plainVars(st.Vars); len(vars) > 0 {
						sm["vars"] = vars
					}
					streams[sname] = sm
				}
				im["streams"] = streams
			}
			inputs[name] = im
		}
		m["inputs"] = inputs
	}
	return m
}

// observedIntegrationPolicyFields is have as integrationPolicyFields shapes
// the declaration: the simplified answer's fields as JSON values, policy_ids
// sorted, every input. An error is an input Kibana answered that does not
// read as the simplified format.
func observedIntegrationPolicyFields(have kibana.IntegrationPolicy) (map[string]any, error) {
	return observedFieldsOf(have, nil)
}

// observedFieldsOf is observedIntegrationPolicyFields with only the
// top-level keys, inputs and streams declared in want (all with want nil):
// what a diff of the declared keys reads. A listed policy's inputs are decoded here, and only those (a plan
// of 4,000 policies would otherwise spend most of its time decoding inputs
// nobody declares).
func observedFieldsOf(have kibana.IntegrationPolicy, want map[string]any) (map[string]any, error) {
	wantInputs, _ := want["inputs"].(map[string]any)
	declared := func(k string) bool {
		_, ok := want[k]
		return want == nil || ok
	}
	// Where have's value equals want's, m holds want's (the diff reads
	// values only): no boxing or list per policy of a plan of thousands.
	m := make(map[string]any, len(want))
	if declared("name") {
		m["name"] = wantOr(want, "name", have.Name)
	}
	if declared("description") {
		m["description"] = nil
		if have.Description != nil {
			m["description"] = wantOr(want, "description", *have.Description)
		}
	}
	if declared("namespace") {
		m["namespace"] = wantOr(want, "namespace", have.Namespace)
	}
	if declared("package") {
		wp, _ := want["package"].(map[string]any)
		if v, ok := wp["version"].(string); ok && len(wp) == 1 && v == have.Package.Version {
			m["package"] = wp // only the version declared, and equal
		} else {
			m["package"] = map[string]any{"name": have.Package.Name, "version": have.Package.Version}
		}
	}
	if declared("policy_ids") {
		if w, ok := want["policy_ids"].([]any); ok && sameSortedIDs(w, have.PolicyIDs) {
			m["policy_ids"] = w
		} else {
			ids := make([]any, 0, len(have.PolicyIDs))
			for _, id := range slices.Sorted(slices.Values(have.PolicyIDs)) {
				ids = append(ids, id)
			}
			m["policy_ids"] = ids
		}
	}
	if declared("output_id") {
		m["output_id"] = nil
		if have.OutputID != nil {
			m["output_id"] = wantOr(want, "output_id", *have.OutputID)
		}
	}
	if declared("supports_agentless") {
		// Kibana answers supports_agentless only when true.
		m["supports_agentless"] = have.Raw["supports_agentless"] == true
	}
	if declared("additional_datastreams_permissions") {
		m["additional_datastreams_permissions"] = have.Raw["additional_datastreams_permissions"]
	}
	if declared("vars") {
		vars, err := have.PackageVars()
		if err != nil {
			return nil, err
		}
		if vars != nil {
			m["vars"] = vars
		}
	}
	if !declared("inputs") {
		return m, nil
	}
	var names []string
	if want == nil {
		names = have.InputNames()
	} else {
		for _, name := range sortedKeys(wantInputs) {
			if wantInputs[name] != nil {
				names = append(names, name)
			}
		}
	}
	inputs := map[string]any{}
	for _, name := range names {
		var in kibana.SimplifiedInput
		var there bool
		var err error
		if want == nil {
			in, there, err = have.Input(name)
		} else {
			// Only the declared vars and streams are decoded (and the
			// rest checked: an answer that does not read is an error).
			wantIn, _ := wantInputs[name].(map[string]any)
			_, wantVars := wantIn["vars"]
			wantStreams, _ := wantIn["streams"].(map[string]any)
			in, there, err = have.InputPart(name, wantVars, func(s string) bool { _, ok := wantStreams[s]; return ok })
		}
		if err != nil {
			return nil, err
		}
		if !there {
			continue
		}
		im := map[string]any{}
		if in.Enabled != nil {
			im["enabled"] = *in.Enabled
		}
		if in.Vars != nil {
			im["vars"] = in.Vars
		}
		if in.Streams != nil {
			streams := make(map[string]any, len(in.Streams))
			for sname, st := range in.Streams {
				sm := map[string]any{}
				if st.Enabled != nil {
					sm["enabled"] = *st.Enabled
				}
				if st.Vars != nil {
					sm["vars"] = st.Vars
				}
				streams[sname] = sm
			}
			im["streams"] = streams
		}
		inputs[name] = im
	}
	m["inputs"] = inputs
	return m, nil
}

// wantOr is want[k] when it is the string s (already boxed), else s.
func wantOr(want map[string]any, k, s string) any {
	if w, ok := want[k].(string); ok && w == s {
		return want[k]
	}
	return s
}

// sameSortedIDs reports whether ids, sorted, are the strings of want (a
// sorted list, as integrationPolicyFields makes it); false when ids is not
// sorted (the caller sorts a copy).
func sameSortedIDs(want []any, ids []string) bool {
	if len(want) != len(ids) || !slices.IsSorted(ids) {
		return false
	}
	for i, id := range ids {
		if w, ok := want[i].(string); !ok || w != id {
			return false
		}
	}
	return true
}

// diffIntegrationPolicy compares the declared keys of want with have: Kibana
// answers with every input, stream and var of the package, so an
// undeclared one is not managed. Secret vars are not among want's keys
// (they are compared by hash, secretNeed).
func diffIntegrationPolicy(want map[string]any, have kibana.IntegrationPolicy) ([]plan.FieldDiff, error) {
	observed, err := observedFieldsOf(have, want)
	if err != nil {
		return nil, err
	}
	return diffDeclared(want, observed), nil
}

// observedVarSecret reads a secret var from an observed policy: a Fleet
// secret reference {"isSecretRef": true, "id": …}, or a clear-text value
// when Kibana's secret storage is off.
func observedVarSecret(have kibana.IntegrationPolicy, v ipVar) (observedSecret, error) {
	var vars map[string]any
	if v.Input == "" {
		pv, err := have.PackageVars()
		if err != nil {
			return observedSecret{}, err
		}
		vars = pv
	} else {
		in, _, err := have.Input(v.Input)
		if err != nil {
			return observedSecret{}, err
		}
		vars = in.Vars
		if v.Stream != "" {
			vars = in.Streams[v.Stream].Vars
		}
	}
	switch val := vars[v.Name].(type) {
	case map[string]any:
		if id, _ := val["id"].(string); id != "" && val["isSecretRef"] == true {
			return observedSecret{ID: id, Ref: val}, nil
		}
	case string:
		if val != "" {
			return observedSecret{Plain: secret.New(val)}, nil
		}
	}
	return observedSecret{}, nil
}

// ipBodyInput is what a create or update body needs beyond the declaration.
type ipBodyInput struct {
	want    *schema.PackagePolicy
	fields  map[string]any            // integrationPolicyFields(*want)
	have    *kibana.IntegrationPolicy // nil on create
	version string                    // package version to send
	values  map[string]secret.Value   // by var path: secret values to send
	keep    map[string]observedSecret // by var path: stored secrets sent back as their reference
}

// integrationPolicyCreateBody is the simplified POST body: id, name,
// package {name, version}, every declared field and input, and the secret
// vars' values (Kibana stores those the package marks secret: true in
// .fleet-secrets).
func integrationPolicyCreateBody(in ipBodyInput) map[string]any {
	body := deepCopyJSON(in.fields).(map[string]any)
	if body["output_id"] == nil {
		delete(body, "output_id") // null at create is Kibana's default: none
	}
	body["id"] = in.want.ID
	body["package"] = map[string]any{"name": in.want.Package.Name, "version": in.version}
	setSecretVars(body, in)
	return body
}

// integrationPolicyUpdateBody is the simplified PUT body. Kibana rebuilds a
// simplified PUT from the package's defaults plus the body
// (updatePackagePolicyHandler, simplifiedPackagePolicytoNewPackagePolicy),
// so the body carries every input and var as observed — undeclared ones
// keep their values — with the declared ones over them, and every stored
// secret var as its {"isSecretRef": true, "id": …} reference unless a new
// value replaces it. When the package version changes, only the declared
// inputs and vars are sent (the new version's may differ). package is
// required with simplified inputs ("Package is required").
func integrationPolicyUpdateBody(in ipBodyInput) (map[string]any, error) {
	have := in.have
	body := map[string]any{
		"name":      have.Name,
		"namespace": have.Namespace,
		"package":   map[string]any{"name": have.Package.Name, "version": in.version},
	}
	if in.version == have.Package.Version {
		observed, err := observedIntegrationPolicyFields(*have)
		if err != nil {
			return nil, err
		}
		for _, k := range []string{"inputs", "vars"} {
			if m, _ := observed[k].(map[string]any); len(m) > 0 {
				body[k] = deepCopyJSON(m)
			}
		}
	}
	for k, v := range in.fields {
		switch {
		case k == "package":
			continue
		case k == "output_id" && v == nil && have.OutputID == nil:
			// Nothing to clear: null is sent only to clear an output, so a
			// Kibana without per-integration outputs never sees the key.
			continue
		case k == "inputs" || k == "vars":
			body[k] = mergeObjects(body[k], v)
		default:
			body[k] = deepCopyJSON(v)
		}
	}
	setSecretVars(body, in)
	return body, nil
}

// setSecretVars puts the declared secret vars into body: a value to write,
// or the stored reference to keep.
func setSecretVars(body map[string]any, in ipBodyInput) {
	for _, sv := range integrationPolicySecrets(*in.want) {
		path := sv.Path()
		if v, ok := in.values[path]; ok {
			sv.varsAt(body, true)[sv.Name] = v.Reveal()
			continue
		}
		if k, ok := in.keep[path]; ok {
			if k.Ref != nil {
				sv.varsAt(body, true)[sv.Name] = maps.Clone(k.Ref.(map[string]any))
			} else if !k.Plain.IsZero() {
				sv.varsAt(body, true)[sv.Name] = k.Plain.Reveal()
			}
		}
	}
}

func deepCopyJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopyJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopyJSON(e)
		}
		return out
	}
	return v
}

// policyIDsOfFields returns the declared policy_ids (nil when undeclared).
func policyIDsOfFields(fields map[string]any) []string {
	l, ok := fields["policy_ids"].([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// ipName is what a plan shows as the policy's name.
func ipName(p schema.PackagePolicy, have *kibana.IntegrationPolicy) string {
	if p.Name != "" || have == nil {
		return p.Name
	}
	return have.Name
}
