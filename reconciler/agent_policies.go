package reconciler

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Agent policies (kind "agent_policy"): the fields fleetform manages, the
// rules Kibana applies to them (x-pack/platform/plugins/shared/fleet/
// server/services/agent_policy.ts) and their request bodies.

// agentPoliciesAPI is what the agent policy kind calls on Kibana.
type agentPoliciesAPI interface {
	ListAgentPolicies(ctx context.Context, opts kibana.ListOptions) ([]kibana.AgentPolicy, error)
	GetAgentPolicy(ctx context.Context, id string) (kibana.AgentPolicy, error)
	CreateAgentPolicy(ctx context.Context, body map[string]any) (kibana.AgentPolicy, error)
	UpdateAgentPolicy(ctx context.Context, id string, body map[string]any) (kibana.AgentPolicy, error)
	DeleteAgentPolicy(ctx context.Context, id string) error
}

// policyStep is an agent policy's change.
type policyStep struct {
	*step
	pol     *schema.AgentPolicy
	polWant map[string]any
	polHave *kibana.AgentPolicy
}

type agentPolicyKind struct{}

func (agentPolicyKind) name() string                                      { return plan.KindAgentPolicy }
func (agentPolicyKind) observed(*schema.Document, func(string) bool) bool { return true }

func (agentPolicyKind) declared(doc *schema.Document) []string {
	ids := make([]string, len(doc.AgentPolicies))
	for i, p := range doc.AgentPolicies {
		ids[i] = p.ID
	}
	return ids
}

// observe lists every agent policy (paged by the client).
func (agentPolicyKind) observe(ctx context.Context, r *Reconciler) (func(*observation), error) {
	list, err := r.cfg.Fleet.ListAgentPolicies(ctx, kibana.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list agent policies: %w", err)
	}
	return func(obs *observation) {
		obs.policies = make(map[string]kibana.AgentPolicy, len(list))
		for _, p := range list {
			obs.policies[p.ID] = p
		}
	}, nil
}

// references: an agent policy refers to its outputs, Fleet Server host and
// download source.
func (agentPolicyKind) references(doc *schema.Document, id string) []ref {
	for _, p := range doc.AgentPolicies {
		if p.ID != id {
			continue
		}
		var out []ref
		for _, o := range []*string{p.DataOutputID, p.MonitoringOutputID} {
			if o != nil {
				out = append(out, ref{plan.KindOutput, *o})
			}
		}
		if p.FleetServerHostID != nil {
			out = append(out, ref{kindFleetServerHost, *p.FleetServerHostID})
		}
		if p.DownloadSourceID != nil {
			out = append(out, ref{kindDownloadSource, *p.DownloadSourceID})
		}
		return out
	}
	return nil
}

func (agentPolicyKind) secrets(*schema.Document) []declaredSecret { return nil }

// apply sends an agent policy's create, update or delete.
func (agentPolicyKind) apply(ctx context.Context, r *Reconciler, st *step, _ *secretCache) error {
	s := st.data.(*policyStep)
	switch st.change.Action {
	case plan.Create:
		return r.createPolicy(ctx, s)
	case plan.Update:
		_, err := r.cfg.Fleet.UpdateAgentPolicy(ctx, st.change.ID, policyUpdateBody(s))
		return err
	default:
		return r.cfg.Fleet.DeleteAgentPolicy(ctx, st.change.ID)
	}
}

// record: a declared policy that existed or was created, in its desired
// state; adopt: true is recorded as adopted (never deleted).
func (agentPolicyKind) record(_ context.Context, r *Reconciler, rc *recordCtx) ([]Record, error) {
	var out []Record
	for _, p := range rc.doc.AgentPolicies {
		key := plan.Key(r.cfg.Cluster, plan.KindAgentPolicy, p.ID)
		_, existed := rc.c.obs.policies[p.ID]
		s := rc.c.steps[key]
		created := s != nil && s.change.Action == plan.Create && rc.applied(key)
		if !(existed || created) || !rc.ok(key) {
			continue
		}
		out = append(out, policyRecord(r, p))
	}
	return out, nil
}

// gone: deleted, vanished, or adopted (fleetform never owned its existence).
func (agentPolicyKind) gone(rc *recordCtx, rec Record) bool {
	_, there := rc.c.obs.policies[rec.ID]
	return !there || rc.applied(plan.Key(rec.Cluster, rec.Kind, rec.ID)) || rec.Adopted
}

func (agentPolicyKind) adopt(r *Reconciler, doc *schema.Document, obs *observation) []Record {
	var out []Record
	for _, p := range doc.AgentPolicies {
		if _, exists := obs.policies[p.ID]; exists {
			out = append(out, policyRecord(r, p))
		}
	}
	return out
}

func policyRecord(r *Reconciler, p schema.AgentPolicy) Record {
	return Record{Cluster: r.cfg.Cluster, Kind: plan.KindAgentPolicy, ID: p.ID, Adopted: p.Adopt, DesiredHash: desiredHash(policyFields(p), nil)}
}

// policyOptional are the agent policy fields fleetform manages only when
// the document declares them (schema.AgentPolicy; Kibana's
// AgentPolicyBaseSchema in server/types/models/agent_policy.ts).
var policyOptional = []string{
	"advanced_settings", "agent_features", "agentless", "download_source_id", "global_data_tags",
	"inactivity_timeout", "is_managed", "is_protected", "keep_monitoring_alive", "monitoring_diagnostics",
	"monitoring_enabled", "monitoring_http", "monitoring_pprof_enabled", "overrides", "required_versions",
	"space_ids", "supports_agentless", "unenroll_timeout",
}

// policyCreateOnly are fields Kibana reads only when it creates a policy:
// sent on create, never compared afterwards.
var policyCreateOnly = []string{"has_fleet_server", "is_default", "is_default_fleet_server"}

func policyFields(p schema.AgentPolicy) map[string]any {
	m := map[string]any{
		"data_output_id":       derefOrNil(p.DataOutputID),
		"monitoring_output_id": derefOrNil(p.MonitoringOutputID),
	}
	if p.FleetServerHostID != nil {
		m["fleet_server_host_id"] = *p.FleetServerHostID
	}
	if p.Adopt {
		return m
	}
	m["name"] = p.Name
	m["namespace"] = p.Namespace
	if p.Description != nil {
		m["description"] = *p.Description
	}
	declared := declaredOptional(p)
	for _, k := range policyOptional {
		if v, ok := declared[k]; ok {
			m[k] = v
		}
	}
	return m
}

// declaredOptional is p as JSON values (canonicalMap), or nil when p
// declares nothing beyond the fields policyFields reads itself: most
// policies, which then cost no marshal round trip on every plan.
func declaredOptional(p schema.AgentPolicy) map[string]any {
	rest := p
	rest.ID, rest.Name, rest.Namespace, rest.Adopt = "", "", "", false
	rest.Description, rest.DataOutputID, rest.MonitoringOutputID, rest.FleetServerHostID = nil, nil, nil, nil
	if reflect.ValueOf(rest).IsZero() {
		return nil
	}
	return canonicalMap(p)
}

func observedPolicyFields(p kibana.AgentPolicy) map[string]any {
	m := map[string]any{
		"name":                 p.Name,
		"namespace":            p.Namespace,
		"description":          derefOrNil(p.Description),
		"data_output_id":       derefOrNil(p.DataOutputID),
		"monitoring_output_id": derefOrNil(p.MonitoringOutputID),
		"fleet_server_host_id": derefOrNil(p.FleetServerHostID),
	}
	for _, k := range policyOptional {
		if v, ok := p.Raw[k]; ok {
			m[k] = v
		}
	}
	return m
}

// plan diffs the declared agent policies' managed fields and blocks what
// Kibana would refuse: outputs a Fleet Server or agentless policy cannot
// take, managed policies, per-policy outputs below platinum.
func (agentPolicyKind) plan(_ context.Context, r *Reconciler, doc *schema.Document, c *computed, _ *secretCache) {
	for i := range doc.AgentPolicies {
		p := &doc.AgentPolicies[i]
		s := &policyStep{
			step:    &step{change: &plan.Change{Cluster: r.cfg.Cluster, Kind: plan.KindAgentPolicy, ID: p.ID, Name: p.Name}},
			pol:     p,
			polWant: policyFields(*p),
		}
		s.data = s
		have, exists := c.obs.policies[p.ID]
		_, hasRec := c.obs.records[s.change.Key()]
		if why := c.foreignBlock(s.change.Key(), "agent policy "+p.ID); why != "" {
			s.change.Action, s.change.Reason = plan.Blocked, why
			if exists {
				s.polHave = &have
			}
			c.add(s.step)
			continue
		}
		switch {
		case !exists && p.Adopt:
			s.change.Action = plan.Blocked
			s.change.Reason = fmt.Sprintf("agent policy %s is declared with adopt: true but does not exist in Fleet; adopt never creates a policy", p.ID)
			for _, k := range sortedKeys(s.polWant) {
				s.change.Fields = append(s.change.Fields, plan.FieldDiff{Path: k, After: s.polWant[k]})
			}
		case !exists:
			s.change.Action = plan.Create
			for _, k := range sortedKeys(s.polWant) {
				if s.polWant[k] != nil {
					s.change.Fields = append(s.change.Fields, plan.FieldDiff{Path: k, After: s.polWant[k]})
				}
			}
			if why := r.policyOutputLicense(c, p.ID, s.polWant, nil); why != "" {
				s.change.Action, s.change.Reason = plan.Blocked, why
			} else if why := r.requiredVersionsRefusal(c, p.ID, s.polWant, nil, nil); why != "" {
				s.change.Action, s.change.Reason = plan.Blocked, why // agent_policies_required_versions.go
			}
		default:
			s.polHave = &have
			if s.change.Name == "" {
				s.change.Name = have.Name
			}
			s.change.Fields = diffManaged("", s.polWant, observedPolicyFields(have))
			s.change.Fields = c.spaceIDsField(p.ID, s.change.Fields, have.Raw) // spaces.go
			pinned := r.restrictedDataOutput(doc, c, have, s.polWant)
			switch {
			case len(s.change.Fields) > 0 && pinned != "":
				s.change.Action = plan.Blocked
				s.change.Reason = pinned
			case len(s.change.Fields) > 0 && have.IsManaged:
				s.change.Action = plan.Blocked
				s.change.Reason = fmt.Sprintf("agent policy %s is managed by an external orchestration solution (is_managed); fleetform does not force changes onto it", p.ID)
			case len(s.change.Fields) > 0 && r.policyOutputLicense(c, p.ID, s.polWant, &have) != "":
				s.change.Action = plan.Blocked
				s.change.Reason = r.policyOutputLicense(c, p.ID, s.polWant, &have)
			case len(s.change.Fields) > 0 && r.requiredVersionsRefusal(c, p.ID, s.polWant, &have, s.change.Fields) != "":
				s.change.Action = plan.Blocked
				s.change.Reason = r.requiredVersionsRefusal(c, p.ID, s.polWant, &have, s.change.Fields)
			case len(s.change.Fields) > 0:
				s.change.Action = plan.Update
			case !hasRec:
				s.change.Action = plan.NoOp
				s.change.Reason = "exists and matches; apply records it as owned by fleetform"
				if p.Adopt {
					s.change.Reason = "adopted: fleetform manages its output fields only, which already match"
				}
			default:
				continue
			}
		}
		c.add(s.step)
	}
	r.blockUnsupported(c)
}

// prune deletes an owned agent policy no longer declared, unless Kibana
// would refuse (agentPolicyDeleteRefusal, agent_policies_prune.go).
func (agentPolicyKind) prune(_ *Reconciler, _ *schema.Document, c *computed, rec Record, _ bool) *step {
	have, ok := c.obs.policies[rec.ID]
	if !ok {
		return nil
	}
	s := pruneStep(rec, have.Name)
	s.data = &policyStep{step: s, polHave: &have}
	if why := agentPolicyDeleteRefusal(c.obs, have); why != "" {
		s.change.Action, s.change.Reason = plan.Blocked, "owned and no longer declared, but "+why
	}
	return s
}

// policyOutputLicense returns why Kibana would refuse the per-policy
// outputs of agent policy id below a platinum licence (trap 15), or "":
// Kibana checks on create and when the output fields change, and exempts
// policies that are managed and preconfigured, run Fleet Server or have a
// fleet_server or synthetics integration.
func (r *Reconciler) policyOutputLicense(c *computed, id string, want map[string]any, have *kibana.AgentPolicy) string {
	if c.obs.license == "" || !needsPolicyOutputLicense(want, have) {
		return ""
	}
	if have != nil && c.obs.policyHasPackage(id, exemptPackages...) {
		return ""
	}
	why := PolicyOutputLicenseProblem(r.cfg.Cluster, c.obs.license, []string{id})
	if why == "" {
		return ""
	}
	var set []string
	for _, k := range []string{"data_output_id", "monitoring_output_id"} {
		if v, _ := want[k].(string); v != "" {
			set = append(set, k+": "+v)
		}
	}
	return why + "; it sets " + strings.Join(set, ", ") + " (Fleet Server and Synthetics policies are exempt)"
}

// restrictedDataOutput explains why a Fleet Server or agentless policy
// cannot take the data output it would get, or returns "". Such policies
// accept only elasticsearch outputs; when a remote_elasticsearch output
// becomes the default, Kibana pins them to the previous default (trap 12),
// and asking for "the default" again would be refused.
func (r *Reconciler) restrictedDataOutput(doc *schema.Document, c *computed, have kibana.AgentPolicy, want map[string]any) string {
	if !have.HasFleetServer && !have.SupportsAgentless {
		return ""
	}
	wantID, _ := want["data_output_id"].(string)
	effective := wantID
	if effective == "" {
		for _, o := range doc.Outputs {
			if o.IsDefault != nil && *o.IsDefault {
				effective = o.ID
			}
		}
	}
	if effective == "" {
		for id, o := range c.obs.outputs {
			if isTrue(o["is_default"]) {
				effective = id
			}
		}
	}
	typ := ""
	if o, ok := doc.Output(effective); ok {
		typ = o.Type
	} else if o, ok := c.obs.outputs[effective]; ok {
		typ, _ = o["type"].(string)
	}
	if typ == "" || typ == "elasticsearch" {
		return ""
	}
	how := "data_output_id " + wantID
	if wantID == "" {
		how = "the default output " + effective
	}
	return fmt.Sprintf("agent policy %s runs Fleet Server or agentless integrations, which only accept elasticsearch outputs, but %s is %s (Kibana would refuse: Output of type %q is not usable with policy %q); declare data_output_id: <an elasticsearch output> for it",
		have.ID, how, typ, typ, have.Name)
}

// createPolicy creates an agent policy with the same existence check.
func (r *Reconciler) createPolicy(ctx context.Context, s *policyStep) error {
	body := map[string]any{"id": s.pol.ID}
	for k, v := range s.polWant {
		if v != nil {
			body[k] = v
		}
	}
	if !s.pol.Adopt {
		m := canonicalMap(*s.pol)
		for _, k := range policyCreateOnly {
			if v, ok := m[k]; ok {
				body[k] = v
			}
		}
	}
	return r.createChecked(ctx, "agent policy "+s.pol.ID,
		func(ctx context.Context) error { _, err := r.cfg.Fleet.GetAgentPolicy(ctx, s.pol.ID); return err },
		func(ctx context.Context) error { _, err := r.cfg.Fleet.CreateAgentPolicy(ctx, body); return err })
}

// policyUpdateBody is the agent policy PUT body: name and namespace (Kibana
// requires them), the observed inactivity_timeout (an omitted one is reset to
// 1209600, trap 2) and the changed fields. Never a read-only field.
func policyUpdateBody(s *policyStep) map[string]any {
	have := s.polHave
	body := map[string]any{"name": have.Name, "namespace": have.Namespace}
	if have.InactivityTimeout != nil {
		body["inactivity_timeout"] = *have.InactivityTimeout
	}
	for _, top := range topKeys(s.change.Fields) {
		// An object field (advanced_settings, agentless, monitoring_http,
		// …) goes whole, its undeclared keys as observed.
		body[top] = mergeObjects(have.Raw[top], s.polWant[top])
	}
	// Kibana validates the outputs, and the platinum licence of per-policy
	// outputs (trap 15), on every PUT whose data_output_id or
	// monitoring_output_id is not the stored value, and an omitted one is
	// not. Stored ones (a string, or null after a clear) are repeated, so a
	// change of name or description alone is not refused.
	for _, k := range []string{"data_output_id", "monitoring_output_id"} {
		if _, changed := body[k]; changed {
			continue
		}
		if v, stored := have.Raw[k]; stored {
			body[k] = v
		}
	}
	return body
}
