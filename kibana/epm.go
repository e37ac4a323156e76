package kibana

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// PackageRef names a package and version.
type PackageRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// PackagePolicy is an integration policy: a package attached to one or more
// agent policies. OutputID is nil when it follows its agent policy's output.
type PackagePolicy struct {
	ID        string
	Name      string
	PolicyID  string   // the first agent policy (Kibana's legacy policy_id)
	PolicyIDs []string // every agent policy it is attached to
	Package   PackageRef
	OutputID  *string
	Agents    int // agents on its agent policies (withAgentCount)
	Raw       map[string]any
}

// UnmarshalJSON fills the typed fields and Raw from Kibana's JSON.
func (p *PackagePolicy) UnmarshalJSON(b []byte) error {
	var typed struct {
		ID        string     `json:"id"`
		Name      string     `json:"name"`
		PolicyID  *string    `json:"policy_id"`
		PolicyIDs []string   `json:"policy_ids"`
		Package   PackageRef `json:"package"`
		OutputID  *string    `json:"output_id"`
		Agents    int        `json:"agents"`
	}
	if err := json.Unmarshal(b, &typed); err != nil {
		return err
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*p = PackagePolicy{ID: typed.ID, Name: typed.Name, PolicyIDs: typed.PolicyIDs, Package: typed.Package,
		OutputID: typed.OutputID, Agents: typed.Agents, Raw: raw}
	if typed.PolicyID != nil {
		p.PolicyID = *typed.PolicyID
	}
	if p.PolicyID == "" && len(p.PolicyIDs) > 0 {
		p.PolicyID = p.PolicyIDs[0]
	}
	if len(p.PolicyIDs) == 0 && p.PolicyID != "" {
		p.PolicyIDs = []string{p.PolicyID}
	}
	return nil
}

const packagePolicyPage = 1000

// ListPackagePolicies returns every package policy with its agent count,
// paged by 1000.
func (c *Client) ListPackagePolicies(ctx context.Context) ([]PackagePolicy, error) {
	q := url.Values{"perPage": {strconv.Itoa(packagePolicyPage)}, "withAgentCount": {"true"}}
	return listPaged(ctx, c, "/api/fleet/package_policies", q, func(p PackagePolicy) string { return p.ID })
}

// InstalledPackage is an entry of GET /api/fleet/epm/packages/installed.
type InstalledPackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Status  string `json:"status"` // installed, installing, install_failed
}

const installedPage = 100

// ListInstalledPackages returns every installed package, following Kibana's
// searchAfter cursor 100 at a time (Kibana's default page is 15). Kibana
// omits packages without index templates here (trap 17): use ListPackages to
// see content-only packages.
func (c *Client) ListInstalledPackages(ctx context.Context) ([]InstalledPackage, error) {
	var out []InstalledPackage
	seen := map[string]bool{}
	var after []string
	for page := 1; ; page++ {
		q := url.Values{"perPage": {strconv.Itoa(installedPage)}}
		for _, v := range after {
			q.Add("searchAfter", v)
		}
		var resp struct {
			Items       []InstalledPackage `json:"items"`
			Total       int                `json:"total"`
			SearchAfter []json.RawMessage  `json:"searchAfter"`
		}
		if err := c.do(ctx, request{method: http.MethodGet, path: "/api/fleet/epm/packages/installed", query: q}, &resp); err != nil {
			return nil, fmt.Errorf("list page %d: %w", page, err)
		}
		for _, p := range resp.Items {
			if !seen[p.Name] {
				seen[p.Name] = true
				out = append(out, p)
			}
		}
		// Kibana may cap the page below perPage, so only the total (or an
		// empty page, or a missing cursor) ends the walk.
		if len(resp.Items) == 0 || len(resp.SearchAfter) == 0 || len(out) >= resp.Total {
			return out, nil
		}
		next, err := cursorValues(resp.SearchAfter)
		if err != nil {
			return nil, fmt.Errorf("GET /api/fleet/epm/packages/installed: searchAfter: %w", err)
		}
		if slices.Equal(next, after) {
			return nil, fmt.Errorf("GET /api/fleet/epm/packages/installed: searchAfter cursor did not advance after %d of %d packages", len(out), resp.Total)
		}
		after = next
	}
}

// cursorValues turns a searchAfter cursor into query values: strings as
// they are, numbers exactly as Kibana wrote them (no float reformatting).
func cursorValues(raw []json.RawMessage) ([]string, error) {
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			out = append(out, s)
			continue
		}
		var n json.Number
		if err := json.Unmarshal(r, &n); err != nil {
			return nil, fmt.Errorf("unexpected cursor value %s", r)
		}
		out = append(out, n.String())
	}
	return out, nil
}

// Package is an entry of GET /api/fleet/epm/packages: a package the registry
// offers or that is installed. Version is the newest version Kibana knows;
// InstalledVersion and InstallStatus are set when it is installed.
type Package struct {
	Name             string
	Version          string
	Status           string // installed, not_installed, installing, install_failed
	InstalledVersion string
	InstallStatus    string
}

// UnmarshalJSON reads Kibana's PackageListItem.
func (p *Package) UnmarshalJSON(b []byte) error {
	var item struct {
		Name             string `json:"name"`
		Version          string `json:"version"`
		Status           string `json:"status"`
		InstallationInfo *struct {
			Version       string `json:"version"`
			InstallStatus string `json:"install_status"`
		} `json:"installationInfo"`
		SavedObject *struct {
			Attributes struct {
				Version       string `json:"version"`
				InstallStatus string `json:"install_status"`
			} `json:"attributes"`
		} `json:"savedObject"`
	}
	if err := json.Unmarshal(b, &item); err != nil {
		return err
	}
	*p = Package{Name: item.Name, Version: item.Version, Status: item.Status}
	switch {
	case item.InstallationInfo != nil:
		p.InstalledVersion, p.InstallStatus = item.InstallationInfo.Version, item.InstallationInfo.InstallStatus
	case item.SavedObject != nil: // older Kibana
		p.InstalledVersion, p.InstallStatus = item.SavedObject.Attributes.Version, item.SavedObject.Attributes.InstallStatus
	}
	return nil
}

// ListPackages returns GET /api/fleet/epm/packages (one call, no paging):
// every package Kibana knows with its install state, including installed
// content-only packages that ListInstalledPackages omits.
func (c *Client) ListPackages(ctx context.Context) ([]Package, error) {
	var resp itemsResponse[Package]
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/fleet/epm/packages"}, &resp); err != nil {
		return nil, err
	}
	return resp.Items, nil
}

func packagePath(name, version string) string {
	p := "/api/fleet/epm/packages/" + url.PathEscape(name)
	if version != "" {
		p += "/" + url.PathEscape(version)
	}
	return p
}

// InstallPackage installs name at version ("" for the latest). force
// reinstalls or installs an older version; for install Kibana reads it from
// the body {"force": true} (its install route has no force query parameter
// and refuses unknown ones). Installing a version that is already installed
// succeeds, so the call is retried like an idempotent one.
func (c *Client) InstallPackage(ctx context.Context, name, version string, force bool) error {
	r := request{method: http.MethodPost, path: packagePath(name, version), body: map[string]any{"force": force}, safe: true}
	return c.do(ctx, r, nil)
}

// UninstallPackage removes name at version (current Kibana needs the
// version that is installed). Without force Kibana deletes package policies
// that have no agents and refuses (400) when any has agents (trap 18);
// force is sent as the query parameter ?force=true.
func (c *Client) UninstallPackage(ctx context.Context, name, version string, force bool) error {
	r := request{method: http.MethodDelete, path: packagePath(name, version),
		// a lost answer to an earlier try: Kibana now says it is not installed
		doneOnRetry: func(e *APIError) bool {
			return e.Status == http.StatusBadRequest && e.Message == name+" is not installed"
		}}
	if force {
		r.query = url.Values{"force": {"true"}}
	}
	return c.do(ctx, r, nil)
}
