package fleetsim

import (
	"net/http"
	"slices"
	"strconv"
)

func (c *Cluster) createServiceToken(r *kreq) *kresp {
	remote := false
	if r.body != nil {
		remote, _ = r.body["remote"].(bool)
	}
	service := "fleet-server"
	if remote {
		service = "fleet-server-remote"
	}
	name := "token-" + strconv.FormatInt(c.now().UnixMilli(), 10)
	for i := 1; slices.Contains(c.node.ServiceTokenNames("elastic", service), name); i++ {
		name = "token-" + strconv.FormatInt(c.now().UnixMilli()+int64(i), 10)
	}
	tok, err := c.node.CreateServiceToken("elastic", service, name)
	if err != nil {
		return kerr(http.StatusInternalServerError, "%s", err.Error())
	}
	return ok(map[string]any{"name": tok.Name, "value": tok.Value})
}
