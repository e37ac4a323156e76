package reconciler

// Plan warnings from Elastic's documentation of the remote Elasticsearch
// output (https://www.elastic.co/docs/reference/fleet/remote-elasticsearch-output,
// "Limitations"; the 8.x page fleet-settings-remote-elasticsearch.asciidoc
// in elastic/ingest-docs, known issue 3939 of the 8.12 release notes):
//
//   - "Using Elastic Defend is currently not supported when a remote
//     Elasticsearch output is configured for an agent" — a bug makes Elastic
//     Defend response actions stop working when an agent's output is a
//     remote Elasticsearch output;
//   - "Using a remote Elasticsearch output with a target cluster that has
//     traffic filters enabled is not currently supported."

import (
	"fmt"
	"slices"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
)

// RemoteOutputDocs is the page the warnings cite.
const RemoteOutputDocs = "https://www.elastic.co/docs/reference/fleet/remote-elasticsearch-output"

// DefendPackage is Elastic Defend's package name.
const DefendPackage = "endpoint"

// ipRoute is one integration policy in one agent policy, and the output
// its data goes to.
type ipRoute struct {
	AgentPolicy, AgentPolicyName string
	Integration, Package         string
	OutputID                     string
	How                          string // "output_id", "data_output_id" or "default"
}

// integrationRoutes lists, for the state the plan leads to, where each
// integration policy's data goes in each of its agent policies: the
// integration's output_id, else the agent policy's data_output_id, else the
// default output (getDataOutputForAgentPolicy and the per-integration
// output of FLEET/server/services/agent_policies/full_agent_policy.ts).
// Declared objects are taken as declared, the rest as observed.
func integrationRoutes(doc *schema.Document, obs *observation, ipo *ipObservation) []ipRoute {
	type ip struct {
		id, pkg  string
		policies []string
		output   string
	}
	byID := map[string]ip{}
	for id, have := range ipo.policies {
		byID[id] = ip{id, have.Package.Name, have.PolicyIDs, derefOr(have.OutputID)}
	}
	for _, p := range doc.PackagePolicies {
		cur, exists := byID[p.ID]
		if !exists && p.Adopt {
			continue // never created
		}
		cur.id = p.ID
		if p.Package != nil {
			cur.pkg = p.Package.Name
		}
		if p.PolicyIDs != nil {
			cur.policies = p.PolicyIDs
		}
		if p.OutputID.Set { // null: back on the agent policy's output
			cur.output, _ = p.OutputID.Get()
		}
		byID[p.ID] = cur
	}
	defaultOutput := ""
	for id, o := range obs.outputs {
		if isTrue(o["is_default"]) {
			defaultOutput = id
		}
	}
	for _, o := range doc.Outputs {
		if o.IsDefault != nil && *o.IsDefault {
			defaultOutput = o.ID
		}
	}
	declared := make(map[string]*schema.AgentPolicy, len(doc.AgentPolicies))
	for i := range doc.AgentPolicies {
		declared[doc.AgentPolicies[i].ID] = &doc.AgentPolicies[i]
	}
	var out []ipRoute
	for _, id := range sortedKeys(byID) {
		p := byID[id]
		for _, apID := range p.policies {
			r := ipRoute{AgentPolicy: apID, Integration: id, Package: p.pkg, OutputID: p.output, How: "output_id"}
			if have, ok := obs.policies[apID]; ok {
				r.AgentPolicyName = have.Name
			}
			ap := declared[apID]
			if r.OutputID == "" {
				r.OutputID, r.How = agentPolicyDataOutput(ap, obs.policies, apID), "data_output_id"
			}
			if r.OutputID == "" {
				r.OutputID, r.How = defaultOutput, "default"
			}
			if ap != nil && ap.Name != "" {
				r.AgentPolicyName = ap.Name
			}
			out = append(out, r)
		}
	}
	return out
}

// agentPolicyDataOutput is agent policy id's data_output_id: declared
// (where fleetform manages it: every declared policy, ap), else observed.
func agentPolicyDataOutput(ap *schema.AgentPolicy, observed map[string]kibana.AgentPolicy, id string) string {
	if ap != nil {
		return derefOr(ap.DataOutputID)
	}
	if have, ok := observed[id]; ok {
		return derefOr(have.DataOutputID)
	}
	return ""
}

// defendRemoteWarnings warns, once per agent policy and integration, when
// an Elastic Defend integration's data goes to a remote_elasticsearch
// output.
func (r *Reconciler) defendRemoteWarnings(doc *schema.Document, obs *observation, ipo *ipObservation) []string {
	if !anyRemoteOutput(doc, obs) {
		return nil
	}
	var out []string
	for _, rt := range integrationRoutes(doc, obs, ipo) {
		if rt.Package != DefendPackage || r.outputType(doc, obs, rt.OutputID) != "remote_elasticsearch" {
			continue
		}
		how := map[string]string{
			"output_id":      "its output_id",
			"data_output_id": "the agent policy's data_output_id",
			"default":        "the default output",
		}[rt.How]
		name := ""
		if rt.AgentPolicyName != "" {
			name = fmt.Sprintf(" (%q)", rt.AgentPolicyName)
		}
		w := fmt.Sprintf("agent policy %s%s holds the Elastic Defend integration %s, whose data goes to the remote_elasticsearch output %s (%s): "+
			"Elastic documents that Elastic Defend is not supported when a remote Elasticsearch output is configured for an agent — its response actions stop working — "+
			"and that a remote Elasticsearch output to a cluster with traffic filters enabled is not supported (%s)",
			rt.AgentPolicy, name, rt.Integration, rt.OutputID, how, RemoteOutputDocs)
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// anyRemoteOutput reports whether a remote_elasticsearch output is declared
// or exists.
func anyRemoteOutput(doc *schema.Document, obs *observation) bool {
	for _, o := range doc.Outputs {
		if o.Type == "remote_elasticsearch" {
			return true
		}
	}
	for _, o := range obs.outputs {
		if o["type"] == "remote_elasticsearch" {
			return true
		}
	}
	return false
}
