package fleetsim

// The Spaces API (spaces/server/routes/api/external): which Kibana spaces
// exist, and who may read them.

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/fleetform/fleetform/fleetsim/esim"
)

// kibanaSpace is a space saved object (the fields fleetsim keeps).
type kibanaSpace struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Attrs       map[string]any `json:"attrs,omitempty"`
	CreatedAt   time.Time      `json:"created_at"`
}

func (s *kibanaSpace) view() map[string]any {
	v := map[string]any{"id": s.ID, "name": s.Name, "disabledFeatures": []any{}}
	for k, val := range s.Attrs {
		v[k] = val
	}
	if s.Description != "" {
		v["description"] = s.Description
	}
	if s.ID == defaultSpace {
		v["_reserved"] = true
	}
	return v
}

// space returns an existing space; the default space always exists.
func (c *Cluster) space(id string) *kibanaSpace {
	if id == defaultSpace {
		return &kibanaSpace{ID: defaultSpace, Name: "Default", Description: "This is your default space!"}
	}
	return c.st.Spaces[id]
}

func spaceRoutes() []*route {
	return []*route{
		{method: "GET", pattern: "/api/spaces/space", priv: privRead, privTag: "spaces", handle: (*Cluster).listSpaces},
		{method: "GET", pattern: "/api/spaces/space/{id}", priv: privRead, privTag: "spaces", handle: (*Cluster).getSpace},
		{method: "POST", pattern: "/api/spaces/space", priv: privWrite, privTag: "spaces", body: createSpaceSchema, handle: (*Cluster).createSpace},
		{method: "GET", pattern: "/api/fleet/settings", priv: privRead, privTag: "fleet-settings-read", handle: (*Cluster).getSettings},
	}
}

var createSpaceSchema = tObject{fields: []field{
	{name: "id", t: tString{}, required: true},
	{name: "name", t: tString{minLen: 1}, required: true},
	{name: "description", t: tString{}},
	{name: "disabledFeatures", t: tArray{elem: tString{}}},
	{name: "initials", t: tString{}},
	{name: "color", t: tString{}},
	{name: "solution", t: tString{}},
	{name: "imageUrl", t: tString{}},
}}

// spaceIDPattern is the space id rule of spaces/server/lib/space_schema.ts
// ("must be lower case, a-z, 0-9, '_', and '-' are allowed").
var spaceIDPattern = regexp.MustCompile(`^[a-z0-9_\-]+$`)

// listSpaces is GET /api/spaces/space: the spaces the caller may log in
// to (the secure spaces client's getAll filters by the login action), a
// bare 403 when none (Boom.forbidden()).
func (c *Cluster) listSpaces(r *kreq) *kresp {
	var items []any
	for _, id := range append([]string{defaultSpace}, sortedKeys(c.st.Spaces)...) {
		if loginAtSpace(r.principal, id) {
			items = append(items, c.space(id).view())
		}
	}
	if items == nil {
		return kerr(http.StatusForbidden, "Forbidden")
	}
	return ok(items)
}

// getSpace is GET /api/spaces/space/{id}. The route disables route
// authorization and lets the spaces client decide
// (spaces/server/routes/api/external/get.ts): the caller needs the login
// action at that space — any Kibana privilege there — else 403
// "Unauthorized to get <id> space" (secure_spaces_client_wrapper.ts get);
// a missing space is then a bare 404 (response.notFound()).
func (c *Cluster) getSpace(r *kreq) *kresp {
	id := r.params["id"]
	if !loginAtSpace(r.principal, id) {
		return kerr(http.StatusForbidden, "Unauthorized to get %s space", id)
	}
	s := c.space(id)
	if s == nil {
		return kerr(http.StatusNotFound, "Not Found")
	}
	return ok(s.view())
}

// loginAtSpace says whether the principal holds any Kibana privilege at
// space (which grants the login action): a superuser, or an application
// privilege on kibana-.kibana with resource "*", "space:*" or "space:<id>".
func loginAtSpace(p esim.Principal, space string) bool {
	if p.Superuser {
		return true
	}
	for _, a := range p.Applications {
		if a.Application != "kibana-.kibana" && a.Application != "*" || len(a.Privileges) == 0 {
			continue
		}
		if slices.ContainsFunc(a.Resources, func(r string) bool { return r == "*" || r == "space:*" || r == "space:"+space }) {
			return true
		}
	}
	return false
}

// createSpace is POST /api/spaces/space (spaces/server/routes/api/external/post.ts).
func (c *Cluster) createSpace(r *kreq) *kresp {
	id := r.body["id"].(string)
	if !spaceIDPattern.MatchString(id) {
		return badRequest("[request body.id]: must be lower case, a-z, 0-9, '_', and '-' are allowed")
	}
	if c.space(id) != nil {
		return kerr(http.StatusConflict, "A space with the identifier %s already exists.", id)
	}
	s := &kibanaSpace{ID: id, Name: r.body["name"].(string), CreatedAt: c.now()}
	if d, ok := r.body["description"].(string); ok {
		s.Description = d
	}
	for _, k := range []string{"disabledFeatures", "initials", "color", "solution", "imageUrl"} {
		if v, ok := r.body[k]; ok {
			if s.Attrs == nil {
				s.Attrs = map[string]any{}
			}
			s.Attrs[k] = v
		}
	}
	if c.st.Spaces == nil {
		c.st.Spaces = map[string]*kibanaSpace{}
	}
	c.st.Spaces[id] = s
	return ok(s.view())
}

// isSpacesRoute says whether a route belongs to the Spaces API, which
// Fleet's privileges do not open: writes need the "all" Kibana privilege,
// reads are authorised by the handlers (loginAtSpace).
func isSpacesRoute(rt *route) bool { return strings.HasPrefix(rt.pattern, "/api/spaces/") }
