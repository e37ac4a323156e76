package kibana

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// NamedPolicy is an agent or integration policy as a name check needs it.
// SpaceIDs are the spaces Kibana answers for it (space_ids of an agent
// policy, spaceIds of an integration policy); nil when not answered.
type NamedPolicy struct {
	ID, Name string
	SpaceIDs []string
}

// namesPerQuery bounds the names one kuery carries (the URL's length).
const namesPerQuery = 20

// PolicyNamesInSpace lists, in Kibana space space, the agent policies named
// one of agentNames and the integration policies named one of
// integrationNames: GET /s/{space}/api/fleet/agent_policies and
// /package_policies with a kuery on the name (fleet-agent-policies.name,
// fleet-package-policies.name: the types of a space-aware Fleet, whose
// service rewrites either prefix), up to 20 names a request. Only exact
// name matches are kept (Kibana's agent policy list falls back to a free
// text search on a kuery it cannot run). A space the credentials may not
// read answers 403; the error says so.
func (c *Client) PolicyNamesInSpace(ctx context.Context, space string, agentNames, integrationNames []string) (agents, integrations []NamedPolicy, err error) {
	in := *c
	WithSpace(space)(&in)
	for chunk := range slices.Chunk(sortedUnique(agentNames), namesPerQuery) {
		ps, err := in.ListAgentPolicies(ctx, ListOptions{Kuery: nameKuery("fleet-agent-policies", chunk)})
		if err != nil {
			return nil, nil, fmt.Errorf("space %s: %w", space, err)
		}
		for _, p := range ps {
			if slices.Contains(chunk, p.Name) {
				agents = append(agents, NamedPolicy{ID: p.ID, Name: p.Name, SpaceIDs: anyStrings(p.Raw["space_ids"])})
			}
		}
	}
	for chunk := range slices.Chunk(sortedUnique(integrationNames), namesPerQuery) {
		// Decoded here for spaceIds, which IntegrationPolicy does not keep.
		q := url.Values{"perPage": {strconv.Itoa(maxPackagePolicyPage)}, "kuery": {nameKuery("fleet-package-policies", chunk)}}
		ps, err := listPagedDecoded(ctx, &in, "/api/fleet/package_policies", q, func(p namedJSON) string { return p.ID }, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("space %s: %w", space, err)
		}
		for _, p := range ps {
			if slices.Contains(chunk, p.Name) {
				integrations = append(integrations, NamedPolicy{ID: p.ID, Name: p.Name, SpaceIDs: p.SpaceIDs})
			}
		}
	}
	return agents, integrations, nil
}

// namedJSON is what a name check reads of a listed integration policy:
// spaceIds is its saved object's namespaces, answered once Fleet is
// space-aware (mapPackagePolicySavedObjectToPackagePolicy,
// server/services/package_policies/utils.ts), "?" for a space the
// credentials may not read.
type namedJSON struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	SpaceIDs []string `json:"spaceIds"`
}

// ListSpaceIDs lists the ids of the Kibana spaces the credentials may see
// (GET /api/spaces/space: the secure spaces client keeps those where the
// caller holds any Kibana privilege, a bare 403 when none), sorted. A
// space where they hold none is not listed.
func (c *Client) ListSpaceIDs(ctx context.Context) ([]string, error) {
	var spaces []struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/spaces/space", noSpace: true}, &spaces); err != nil {
		return nil, fmt.Errorf("list kibana spaces: %w", err)
	}
	ids := make([]string, len(spaces))
	for i, s := range spaces {
		ids[i] = s.ID
	}
	return sortedUnique(ids), nil
}

// nameKuery is `<typ>.name:"a" or <typ>.name:"b"`, each value quoted as
// KQL reads a quoted string (a backslash and a double quote escaped).
func nameKuery(typ string, names []string) string {
	terms := make([]string, len(names))
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	for i, n := range names {
		terms[i] = typ + `.name:"` + esc.Replace(n) + `"`
	}
	return strings.Join(terms, " or ")
}

func sortedUnique(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func anyStrings(v any) []string {
	l, ok := v.([]any)
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
